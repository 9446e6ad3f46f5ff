//! A bound session's stanzas, encoded without a send buffer of their own.
//!
//! tokio-xmpp encodes every stanza into one send buffer per stream, and
//! the buffer keeps the capacity of the largest stanza it ever held for
//! the rest of the session: a roster of 200 contacts, sent once at
//! sign-in, left some 19 KiB in every idle session, and one of 800 would
//! leave 80 (BENCHMARKS.md §7, "What grows with the contact list").
//! A message of 200 KiB would leave that much. Neither the buffer nor
//! its size is ours to set, so once the session is bound (and tokio-xmpp's
//! stream is dropped, `session::link`) its stanzas are encoded here, with
//! the stream's encoder settings, straight into the door's transport's
//! buffer ([`crate::gather::Gather::append`]), which writes them at the
//! next flush and frees them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io;

use tokio_xmpp::parsers::ns;
use xso::exports::rxml::writer::{Encoder, SimpleNamespaces, TrackNamespace as _};
use xso::exports::rxml::xml_ncname;
use xso::{AsXml, Item};

thread_local! {
    /// The encoder of every bound session's stanzas on this thread.
    /// Between two stanzas an encoder holds only the namespaces in scope,
    /// the stream's, which are the same on every stream: so sessions need
    /// no encoder of their own (one held 1 KiB, BENCHMARKS.md §7).
    static ENCODER: RefCell<Encoder<SimpleNamespaces>> = RefCell::new(inside_stream());
}

/// An encoder inside a stream's root element, whose namespaces
/// (`jabber:client` by default, `stream:`) are not declared again. (The
/// header's bytes themselves went out when the stream started.)
fn inside_stream() -> Encoder<SimpleNamespaces> {
    let mut encoder = Encoder::<SimpleNamespaces>::new();
    let namespaces = encoder.ns_tracker_mut();
    namespaces.declare_fixed(Some(xml_ncname!("stream")), ns::STREAM.into());
    namespaces.declare_fixed(None, ns::DEFAULT_NS.into());
    let root = Item::ElementHeadStart(ns::STREAM.into(), Cow::Borrowed(xml_ncname!("stream")));
    let mut header = Vec::new();
    for item in [root, Item::ElementHeadEnd] {
        // Only a fixed, valid start tag: nothing to fail.
        let _ = encoder.encode(item.as_rxml_item(), &mut header);
    }
    encoder
}

/// Appends `stanza` to `bytes` as a bound stream carries it; on an error
/// (an element that cannot be written), `bytes` is left as it was, so
/// that no half stanza reaches the client.
pub(crate) fn encode<T: AsXml>(stanza: &T, bytes: &mut Vec<u8>) -> io::Result<()> {
    ENCODER.with_borrow_mut(|encoder| {
        let before = bytes.len();
        let encoded = encode_with(encoder, stanza, bytes);
        if encoded.is_err() {
            bytes.truncate(before);
            // It stopped inside the element.
            *encoder = inside_stream();
        }
        encoded
    })
}

fn encode_with<T: AsXml>(
    encoder: &mut Encoder<SimpleNamespaces>,
    stanza: &T,
    bytes: &mut Vec<u8>,
) -> io::Result<()> {
    for item in stanza.as_xml_iter().map_err(io::Error::other)? {
        let item = item.map_err(io::Error::other)?;
        encoder.encode(item.as_rxml_item(), bytes).map_err(io::Error::other)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tokio_xmpp::jid::BareJid;
    use tokio_xmpp::minidom::Element;
    use tokio_xmpp::parsers::iq::Iq;
    use tokio_xmpp::parsers::roster::{Group, Item, Roster, Subscription};

    /// A large roster result is written without the stream's namespaces
    /// declared again, escaped, and reads back, inside a stream's root
    /// element, as the same iq.
    #[test]
    fn a_roster_result_reads_back_inside_the_stream() {
        let items = (0..200)
            .map(|n| Item {
                jid: BareJid::new(&format!("user{n}@example.org")).unwrap(),
                name: Some(format!("User <{n}> & 'co'")),
                subscription: Subscription::Both,
                ask: Default::default(),
                groups: vec![Group(format!("Team {}", n % 7))],
                approved: None,
            })
            .collect();
        let iq = Iq::from_result("r1", Some(Roster { ver: None, items }));

        let mut bytes = Vec::new();
        super::encode(&iq, &mut bytes).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("<iq "), "{text}");
        assert!(!text.contains("jabber:client"), "the stream's namespace again: {text}");
        assert!(text.len() > 10_000, "a large stanza: {} bytes", text.len());

        let stream = format!(
            "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>{text}</stream:stream>"
        );
        let root: Element = stream.parse().unwrap();
        let child = root.children().next().expect("the iq").clone();
        let read = Iq::try_from(child).unwrap();
        assert_eq!(read, iq);
    }

    /// A stanza that cannot be written (a character XML forbids) leaves
    /// nothing behind, and the next one is written as if it had not been
    /// tried.
    #[test]
    fn a_stanza_that_cannot_be_written_leaves_nothing_behind() {
        use tokio_xmpp::parsers::message::Message;

        let mut bytes = b"<presence/>".to_vec();
        let mut bad = Message::chat(None);
        bad.bodies.insert(Default::default(), "a \u{0} in it".to_owned());
        assert!(super::encode(&bad, &mut bytes).is_err());
        assert_eq!(bytes, b"<presence/>");
        let mut good = Message::chat(None);
        good.bodies.insert(Default::default(), "fine".to_owned());
        super::encode(&good, &mut bytes).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "<presence/><message type='chat'><body>fine</body></message>"
        );
    }
}
