//! What the tests of the XMPP door share: a server with both XMPP
//! listeners on free ports, signed-in slixmpp clients, raw clients past
//! TLS and SASL, and what a web user beside the XMPP clients watches.

use std::net::SocketAddr;
use std::path::Path;

use serde_json::{Value, json};
use simul_testkit::{RawXmpp, Scripted, XmppClient, XmppTransport};

use super::{Events, Server, next_of_type, next_status};

/// A server with both XMPP listeners on free ports: (STARTTLS, direct TLS).
pub fn xmpp_server(data: &std::path::Path) -> (Server, SocketAddr, SocketAddr) {
    xmpp_server_with(data, &[])
}

/// The same with more environment variables (limits, the log).
pub fn xmpp_server_with(
    data: &std::path::Path,
    env: &[(&str, &str)],
) -> (Server, SocketAddr, SocketAddr) {
    let mut all =
        vec![("SIMUL_XMPP__LISTEN", "127.0.0.1:0"), ("SIMUL_XMPP__LISTEN_TLS", "127.0.0.1:0")];
    all.extend_from_slice(env);
    let server = Server::start_with(data, false, &all);
    let (starttls, direct) = xmpp_addresses(&server);
    (server, starttls, direct)
}

/// Where a server started with both XMPP listeners took them: (STARTTLS,
/// direct TLS). The server says so after the other doors (read theirs
/// first).
pub fn xmpp_addresses(server: &Server) -> (SocketAddr, SocketAddr) {
    let address = |transport: &str| {
        let line = server.log_line(&format!("({transport})"));
        line.split(' ').nth(4).unwrap().parse().unwrap()
    };
    (address("STARTTLS"), address("direct TLS"))
}

/// The next status event of `user`, whatever it says.
pub async fn next_status_of(events: &mut Events, user: &str) -> Value {
    loop {
        let event = next_of_type(events, "status").await;
        if event["user"] == user {
            return event;
        }
    }
}

/// A slixmpp client of `user` (password "long enough"), signed in.
pub fn signed_in(address: SocketAddr, user: &str, transport: XmppTransport) -> XmppClient {
    let mut client =
        XmppClient::start(address, &format!("{user}@localhost"), "long enough", transport);
    client.expect(&format!("SESSION_START {user}@localhost/"));
    client
}

/// A raw client over STARTTLS that trusts the deployment in `data`, TLS
/// up and no stream opened on it yet.
pub async fn raw_tls(address: SocketAddr, data: &Path) -> RawXmpp {
    let certificate = std::fs::read(data.join("tls-certificate.pem")).unwrap();
    RawXmpp::connect(address, XmppTransport::StartTls, &certificate).await.unwrap()
}

/// A raw client over direct TLS (XEP-0368) that trusts the deployment in
/// `data`, its stream open: the client and the features.
pub async fn raw_direct(address: SocketAddr, data: &Path) -> (RawXmpp, String) {
    let certificate = std::fs::read(data.join("tls-certificate.pem")).unwrap();
    let mut raw = RawXmpp::connect(address, XmppTransport::DirectTls, &certificate).await.unwrap();
    let features = raw.open_stream("localhost").await.unwrap();
    (raw, features)
}

/// The same with its stream open (features read).
pub async fn raw_client(address: SocketAddr, data: &Path) -> RawXmpp {
    let mut raw = raw_tls(address, data).await;
    raw.open_stream("localhost").await.unwrap();
    raw
}

/// A raw client signed in as `user` (password "long enough") by PLAIN;
/// the stream is to be opened again.
pub async fn raw_authenticated(address: SocketAddr, data: &Path, user: &str) -> RawXmpp {
    let mut raw = raw_client(address, data).await;
    raw.authenticate_plain(user, "long enough").await.unwrap();
    raw
}

/// The stream error condition in what a server sent before it closed.
pub fn stream_error_in(got: &str) -> Option<&str> {
    let error = got.split("<stream:error>").nth(1)?;
    let condition = error.trim_start().strip_prefix('<')?;
    condition.split([' ', '/', '>']).next()
}

/// What every XMPP client library must do alike with web user `bob`
/// (slixmpp and xmpp.js run it): `alice` goes away with a message and the
/// web sees it; she sees bob, then his do not disturb; messages go both
/// ways, and one to nobody comes back as `item-not-found`.
pub async fn meet_a_web_user(
    alice: &mut Scripted,
    server: &Server,
    bob: &str,
    bob_events: &mut Events,
    greeting: &str,
) {
    alice.send("presence away at lunch");
    let status = next_status(bob_events, "alice", "away").await;
    assert_eq!(status["message"], "at lunch", "{status}");
    alice.expect_matching("PRESENCE bob@localhost ", &["type=available"]);
    let dnd = json!({"status": "dnd", "message": "focus"});
    super::vp::put_json(server, "/api/v1/me/status", bob, &dnd).await;
    alice.expect_matching("PRESENCE bob@localhost ", &["show=dnd", "status=focus"]);

    alice.send(&format!("message bob@localhost {greeting}"));
    let im = next_of_type(bob_events, "im").await;
    assert_eq!((&im["from"], &im["text"]), (&json!("alice"), &json!(greeting)));
    let sent =
        super::post_json(server, "/api/v1/im/alice", bob, &json!({"text": "hi alice"})).await;
    assert_eq!(sent["delivered"], true);
    assert_eq!(alice.expect("MESSAGE "), "MESSAGE bob@localhost hi alice");
    alice.send("message nobody@localhost hello?");
    assert_eq!(alice.expect("MESSAGE_ERROR "), "MESSAGE_ERROR nobody@localhost item-not-found");
}

/// What every XMPP client library must do alike in web user bob's group
/// chat `id` on `topic`, to which `alice` was invited (slixmpp and xmpp.js
/// run it): she enters its room and sees bob, herself (her real JID
/// shown), the line said before she came (delayed) and the subject; then
/// lines go both ways, hers reflected to her as XEP-0045 asks.
pub async fn enter_and_talk_in_a_web_chat(
    alice: &mut Scripted,
    server: &Server,
    bob: &str,
    bob_events: &mut Events,
    id: u64,
    topic: &str,
) {
    let room = format!("chat-{id}@conference.localhost");
    alice.send(&format!("join {room} Alice"));
    alice.expect_matching("OCCUPANT ", &[&room, " bob ", "type=available", "jid=bob@localhost"]);
    alice.expect_matching("OCCUPANT ", &[" alice ", "codes=100,110,210"]);
    assert_eq!(
        alice.expect("GROUPCHAT "),
        format!("GROUPCHAT {room} bob before you came (delayed)")
    );
    assert_eq!(alice.expect("SUBJECT "), format!("SUBJECT {room} {topic}"));
    super::next_members(bob_events, &["alice", "bob"]).await;

    let messages = format!("/api/v1/nway/{id}/messages");
    super::post_json(server, &messages, bob, &json!({"text": "hello alice"})).await;
    assert_eq!(alice.expect("GROUPCHAT "), format!("GROUPCHAT {room} bob hello alice"));
    alice.send(&format!("groupchat {room} hello bob"));
    assert_eq!(alice.expect("GROUPCHAT "), format!("GROUPCHAT {room} alice hello bob"));
    // (Bob's own lines come back to him first.)
    let line = loop {
        let line = next_of_type(bob_events, "nway_message").await;
        if line["from"] == "alice" {
            break line;
        }
    };
    assert_eq!(line["text"], "hello bob");
}
