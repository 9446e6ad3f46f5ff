//! The XMPP front door's parsing on arbitrary bytes.
//!
//! The first input byte picks a mode (modulo 4), the rest is its input:
//!
//! - 0: what a client sends after its stream header, through the XML
//!   stream the door negotiates on (tokio-xmpp's responder on rxml, with
//!   the door's stream elements): reading never panics and ends (after a hard
//!   error the stream is dropped, as the door does: rxml repeats it for
//!   ever); every iq payload goes through the typed parsers the door
//!   uses (roster, bind, discovery, archive queries: a page is never
//!   larger than the door's cap; registration and its forms, ad-hoc
//!   commands' forms, HTTP upload slot requests) and every roster item's
//!   JID through the door's JID mapping; every message body through the
//!   door's recognition of file links.
//! - 1: SASL messages: the bytes as PLAIN (`sasl::plain` never panics, and
//!   what it accepts has a non-empty name and password without NUL), as a
//!   SCRAM first message and, split at the first NUL, as a first and a
//!   final one checked against fixed credentials (never panics, never
//!   verifies a made-up proof), on a channel without binding, one that
//!   offers `tls-exporter` and one a -PLUS mechanism binds to (either type).
//! - 2: a user id (lossy UTF-8): the user a JID made of it names makes
//!   the same JID again (ids come back case-folded and normalised).
//! - 3: what a client sends once bound, through the bound session's reader
//!   (`simul_xmpp::elements`): it never panics, ends, takes every byte it
//!   is given, and reads the same elements whether the bytes come at once
//!   or cut in two (where the next input byte says; an error that ends the
//!   stream may differ in its detail, not its kind), the parser's buffer
//!   given back between the two pieces as it is while a client is silent;
//!   iq payloads and bodies then go through the door's parsers as in 0.

#![no_main]

use futures_util::StreamExt as _;
use libfuzzer_sys::fuzz_target;
use simul_service::{ScramCredentials, ScramHash};
use simul_xmpp::jid::{jid_of, user_of};
use simul_xmpp::sasl::Channel;
use tokio::io::AsyncWriteExt as _;
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::Jid;
use tokio_xmpp::parsers::bind::BindQuery;
use tokio_xmpp::parsers::data_forms::DataForm;
use tokio_xmpp::parsers::disco::{DiscoInfoQuery, DiscoItemsQuery};
use tokio_xmpp::parsers::http_upload::SlotRequest;
use tokio_xmpp::parsers::ibr::{FormQuery, LegacyQuery};
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::mam::Query as MamQuery;
use tokio_xmpp::parsers::message::Message;
use tokio_xmpp::parsers::ns;
use tokio_xmpp::parsers::roster::Roster;
use tokio_xmpp::parsers::stream_features::StreamFeatures;
use tokio_xmpp::xmlstream::{
    FallibleStreamElement, ReadError, StreamHeader, Timeouts, XmppStreamElement, accept_stream,
};

const HEADER: &str = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' \
     xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => stream(rest),
        1 => plain(rest),
        2 => user_id(rest),
        _ => bound(rest),
    }
});

fn stream(bytes: &[u8]) {
    // The door's nesting limit follows every byte before the parser does.
    let _ = simul_xmpp::depth::Depth::default().feed(bytes);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let (client, server) = tokio::io::duplex(1 << 20);
        let (_, mut writer) = tokio::io::split(client);
        writer.write_all(HEADER.as_bytes()).await.unwrap();
        writer.write_all(bytes).await.unwrap();
        drop(writer);
        let io = tokio::io::BufStream::new(server);
        let Ok(accepted) = accept_stream(io, ns::DEFAULT_NS, Timeouts::tight()).await else {
            return;
        };
        let Ok(pending) = accepted.send_header(StreamHeader::default()).await else { return };
        let Ok(mut xml) =
            pending.send_features::<FallibleStreamElement>(&StreamFeatures::default()).await
        else {
            return;
        };
        while let Some(item) = xml.next().await {
            match item {
                Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Iq(iq)))) => {
                    iq_payload(iq)
                }
                Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Message(m)))) => {
                    message_bodies(&m)
                }
                Ok(_) | Err(ReadError::ParseError(_)) => {}
                Err(ReadError::SoftTimeout) => {}
                Err(ReadError::HardError(_) | ReadError::StreamFooterReceived) => break,
            }
        }
    });
}

fn bound(bytes: &[u8]) {
    let Some((&cut, bytes)) = bytes.split_first() else { return };
    let cut = usize::from(cut) * bytes.len() / 256;
    let at_once = read_bound(&[bytes]);
    let in_two = read_bound(&[&bytes[..cut], &bytes[cut..]]);
    assert_eq!(at_once, in_two, "cut at {cut}");
}

/// What the bound reader makes of `pieces`, one after the other, the
/// stream ending after the last: each read, written out.
fn read_bound(pieces: &[&[u8]]) -> Vec<String> {
    let mut elements = simul_xmpp::elements::Elements::new();
    let mut read = Vec::new();
    for (n, piece) in pieces.iter().enumerate() {
        let at_eof = n + 1 == pieces.len();
        let mut rest = *piece;
        while let Some(item) = elements.read(&mut rest, at_eof) {
            read.push(match &item {
                // Which error ends a stream may depend on where the bytes
                // were cut (rxml checks a character or its UTF-8 first):
                // it ends it all the same.
                Err(ReadError::HardError(error)) => format!("HardError({:?})", error.kind()),
                item => format!("{item:?}"),
            });
            match item {
                Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Iq(iq)))) => {
                    iq_payload(iq)
                }
                Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Message(m)))) => {
                    message_bodies(&m)
                }
                _ => {}
            }
        }
        assert!(rest.is_empty() || elements.ended(), "bytes left unread");
        elements.rest();
    }
    assert!(elements.ended(), "the stream's end is read");
    read
}

fn iq_payload(iq: Iq) {
    let (Iq::Get { payload, .. } | Iq::Set { payload, .. }) = iq else { return };
    if let Ok(roster) = Roster::try_from(payload.clone()) {
        for item in roster.items {
            if let Some(user) = user_of(&Jid::from(item.jid), "localhost") {
                let _ = jid_of(&user, "localhost");
            }
        }
    }
    if let Ok(query) = MamQuery::try_from(payload.clone())
        && let Ok(wanted) = simul_xmpp::archive::wanted(&query, "localhost")
    {
        assert!(wanted.page.limit <= simul_xmpp::archive::MAX_PAGE);
    }
    let _ = BindQuery::try_from(payload.clone());
    let _ = DiscoItemsQuery::try_from(payload.clone());
    let _ = LegacyQuery::try_from(payload.clone());
    let _ = FormQuery::try_from(payload.clone());
    for child in payload.children() {
        let _ = DataForm::try_from(child.clone());
    }
    let _ = SlotRequest::try_from(payload.clone());
    let _ = DiscoInfoQuery::try_from(payload);
}

/// A body that is a file link names a file whose id is in it, in hex.
fn message_bodies(message: &Message) {
    let urls = simul_service::FileUrls::new("http://localhost:8080");
    for body in message.bodies.values() {
        if let Some(file) = urls.file_of(body) {
            assert!(!file.is_empty() && file.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(body.contains(file));
        }
    }
}

fn plain(bytes: &[u8]) {
    if let Ok((name, secret)) = simul_xmpp::sasl::plain(bytes) {
        assert!(!name.is_empty() && !secret.is_empty());
        assert!(!name.contains('\0') && !secret.contains('\0'));
    }
    let (first, last) = match bytes.iter().position(|b| *b == 0) {
        Some(at) => (&bytes[..at], &bytes[at + 1..]),
        None => (bytes, &b""[..]),
    };
    let credentials =
        ScramCredentials::derive(ScramHash::Sha256, "pencil", b"fixed salt", 1).unwrap();
    let exporter = [7; 32];
    for channel in [
        Channel { plus: false, exporter: None, end_point: None },
        Channel { plus: false, exporter: Some(&exporter), end_point: None },
        Channel { plus: true, exporter: Some(&exporter), end_point: Some(&exporter) },
    ] {
        let Ok(start) = simul_xmpp::sasl::scram_first(first, channel) else { continue };
        let server_first = start.server_first(&credentials);
        // The nonce is fresh: a fuzzed proof cannot have been made for it.
        assert!(start.verify(&server_first, &credentials, last).is_err());
    }
}

fn user_id(bytes: &[u8]) {
    let user = String::from_utf8_lossy(bytes);
    if let Some(jid) = jid_of(&user, "localhost") {
        let back = user_of(&Jid::from(jid.clone()), "localhost").expect("a JID of this domain");
        assert_eq!(jid_of(&back, "localhost"), Some(jid), "{user:?}");
    }
}
