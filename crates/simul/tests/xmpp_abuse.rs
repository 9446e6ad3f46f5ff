//! The XMPP door against clients that break the rules (RFC 6120's stream
//! and stanza errors), spoken to by a raw client (TLS and SASL by hand),
//! while well-behaved clients (slixmpp) carry on undisturbed.

use crate::support;

use std::io;

use simul_testkit::{RawXmpp, XmppTransport, stream_header};
use support::xmpp::{
    raw_authenticated, raw_client, raw_tls, signed_in, stream_error_in, xmpp_server,
};
use support::{Server, deployment};

/// Billion laughs: ten entities, each ten of the one before: 10⁹ "lol"s
/// once expanded.
fn billion_laughs() -> String {
    let mut dtd =
        String::from("<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY lol0 'lol'>");
    for level in 1..10 {
        let refs = format!("&lol{};", level - 1).repeat(10);
        dtd.push_str(&format!("<!ENTITY lol{level} '{refs}'>"));
    }
    dtd + "]>"
}

/// Sends `bytes` and reads until the server closes: the stream error
/// condition it sent (the close was clean: TLS close_notify), or how the
/// connection ended otherwise.
async fn answer_to(raw: &mut RawXmpp, bytes: &[u8]) -> Result<String, io::Error> {
    // The server may close before it has read everything.
    let _ = raw.send(bytes).await;
    let got = raw.read_to_end().await?;
    Ok(stream_error_in(&got).unwrap_or_else(|| panic!("no stream error in {got}")).to_owned())
}

/// A raw client of `user`, signed in and bound.
async fn raw_session(
    server_address: std::net::SocketAddr,
    data: &std::path::Path,
    user: &str,
) -> RawXmpp {
    let mut raw = raw_authenticated(server_address, data, user).await;
    raw.bind().await.unwrap();
    raw
}

#[tokio::test(flavor = "multi_thread")]
async fn an_xml_bomb_and_a_10_mb_stanza_get_their_stream_errors_while_two_others_chat() {
    let dir = deployment(&["alice", "bob", "mallory", "trudy"]);
    let data = dir.path().join("data");
    let (server, starttls, direct) = xmpp_server(&data);
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    let mut bob = signed_in(direct, "bob", XmppTransport::DirectTls);
    let memory_before = server.resident_kb();

    // The bomb as the DTD of the stream opened after SASL, as entity
    // references in a stanza, as a DTD in the middle of a session; and a
    // 10 MB stanza (the limit is 256 kB).
    let attack = |user: &'static str, at_restart: bool, bytes: Vec<u8>| {
        let data = data.clone();
        tokio::spawn(async move {
            let mut raw = if at_restart {
                raw_authenticated(starttls, &data, user).await
            } else {
                raw_session(starttls, &data, user).await
            };
            answer_to(&mut raw, &bytes).await
        })
    };
    let bomb_at_restart =
        attack("mallory", true, stream_header(&billion_laughs(), "localhost").into_bytes());
    let entities = attack(
        "mallory",
        false,
        b"<message to='alice@localhost' type='chat'><body>&lol9;</body></message>".to_vec(),
    );
    let dtd_in_session = attack("mallory", false, billion_laughs().into_bytes());
    let mut huge = b"<message to='alice@localhost' type='chat'><body>".to_vec();
    huge.resize(huge.len() + 10 * 1024 * 1024, b'x');
    huge.extend_from_slice(b"</body></message>");
    let huge = attack("trudy", false, huge);

    for i in 0..20 {
        alice.send(&format!("message bob@localhost from alice {i}"));
        bob.send(&format!("message alice@localhost from bob {i}"));
    }
    for i in 0..20 {
        assert_eq!(bob.expect("MESSAGE "), format!("MESSAGE alice@localhost from alice {i}"));
        assert_eq!(alice.expect("MESSAGE "), format!("MESSAGE bob@localhost from bob {i}"));
    }

    // RFC 6120 §4.9.3.18 restricted-xml, §4.9.3.12 policy-violation (a
    // stanza over the size limit), each with a clean close.
    assert_eq!(entities.await.unwrap().unwrap(), "restricted-xml");
    assert_eq!(dtd_in_session.await.unwrap().unwrap(), "restricted-xml");
    assert_eq!(huge.await.unwrap().unwrap(), "policy-violation");
    // A known limit: a stream header that does not parse ends the
    // connection with no stream error at all (tokio-xmpp's accept_stream
    // keeps the transport it failed on, so nothing can be written). The
    // DTD is refused before anything is expanded.
    let closed = bomb_at_restart.await.unwrap().unwrap_err();
    assert_eq!(closed.kind(), io::ErrorKind::UnexpectedEof, "{closed}");
    assert!(closed.to_string().ends_with("</success>"), "nothing after SASL: {closed}");

    // Nothing the attackers sent reached alice; memory stayed bounded (a
    // generous sanity bound, not a measurement).
    alice.send("ping");
    alice.expect("PONG ok");
    assert!(!alice.events().iter().any(|line| line.contains("lol") || line.contains("xxxx")));
    let grown = server.resident_kb().saturating_sub(memory_before);
    assert!(grown < 100 * 1024, "the server grew by {grown} kB");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_broken_rule_of_a_stream_gets_its_stream_error() {
    let dir = deployment(&["alice", "bob"]);
    let data = dir.path().join("data");
    let (server, starttls, _) = xmpp_server(&data);
    let mut bob = signed_in(starttls, "bob", XmppTransport::StartTls);

    // Before SASL: a stanza (§4.9.3.20 not-authorized), another host
    // (§4.9.3.6 host-unknown).
    let mut raw = raw_client(starttls, &data).await;
    let stanza = b"<message to='bob@localhost' type='chat'><body>hi</body></message>";
    assert_eq!(answer_to(&mut raw, stanza).await.unwrap(), "not-authorized");
    let mut raw = raw_tls(starttls, &data).await;
    let header = stream_header("", "elsewhere.org");
    assert_eq!(answer_to(&mut raw, header.as_bytes()).await.unwrap(), "host-unknown");

    // In a session: an element that is no stanza (§4.9.3.22
    // unsupported-stanza-type), a stanza that is not XML (§4.9.3.13
    // not-well-formed).
    let mut raw = raw_session(starttls, &data, "alice").await;
    assert_eq!(answer_to(&mut raw, b"<nonsense/>").await.unwrap(), "unsupported-stanza-type");
    let mut raw = raw_session(starttls, &data, "alice").await;
    let broken = b"<message><body></message>";
    assert_eq!(answer_to(&mut raw, broken).await.unwrap(), "not-well-formed");

    // The server stopping (§4.9.3.17 system-shutdown).
    let mut raw = raw_session(starttls, &data, "alice").await;
    bob.send("ping");
    bob.expect("PONG ok");
    terminate(server);
    assert_eq!(answer_to(&mut raw, b" ").await.unwrap(), "system-shutdown");
    assert_eq!(bob.expect("STREAM_ERROR "), "STREAM_ERROR system-shutdown the server is stopping");
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_the_server_cannot_answer_get_their_stanza_errors() {
    let dir = deployment(&["alice", "bob"]);
    let data = dir.path().join("data");
    let (_server, starttls, _) = xmpp_server(&data);
    let mut raw = raw_session(starttls, &data, "alice").await;
    let ping = "<ping xmlns='urn:xmpp:ping'/>";
    for (request, answer) in [
        ("<iq type='get' id='a'><query xmlns='urn:example:nothing'/></iq>", "service-unavailable"),
        ("<iq type='get' id='b'/>", "bad-request"),
        (
            "<iq type='get' id='d' to='nobody@localhost'><vCard xmlns='vcard-temp'/></iq>",
            "item-not-found",
        ),
        ("<iq type='set' id='e'><vCard xmlns='vcard-temp'/></iq>", "not-allowed"),
    ] {
        raw.send(request.as_bytes()).await.unwrap();
        let got = raw.read_until("</iq>").await.unwrap();
        assert!(
            got.contains("type='error'") && got.contains(&format!("<{answer} ")),
            "{request}: {got}"
        );
    }
    for to in ["nobody@localhost", "someone@elsewhere.org"] {
        let message = format!("<message to='{to}' type='chat' id='m'><body>hi</body></message>");
        raw.send(message.as_bytes()).await.unwrap();
        let got = raw.read_until("</message>").await.unwrap();
        assert!(got.contains(&format!("from='{to}'")) && got.contains("<item-not-found "), "{got}");
    }
    // A known deviation (RFC 6120 §8.2.3 wants exactly one payload, and
    // bad-request for more): xmpp-parsers keeps the first payload of an iq
    // and drops the rest, so the door answers the first.
    let two = format!("<iq type='get' id='f'>{ping}<query xmlns='jabber:iq:roster'/></iq>");
    raw.send(two.as_bytes()).await.unwrap();
    let got = raw.read_until("</iq>").await.unwrap();
    assert!(got.contains("type='result'") && got.contains("id='f'"), "{got}");
}

/// Stops the server (SIGTERM) and waits for it to end.
fn terminate(server: Server) {
    assert!(server.terminate().success());
}
