//! The elements of a bound session's stream, from its bytes: what
//! tokio-xmpp's `XmlStream` reads, with a parser that gives its buffer
//! back between elements. Public for the fuzz target.
//!
//! Why not tokio-xmpp's stream: memory at rest. rxml's lexer reserves
//! room for its longest token (8 KiB by default) as soon as it reads one,
//! and tokio-xmpp keeps its parser for the stream's whole life with no
//! way to give that room back: it was the largest part of an idle session
//! (BENCHMARKS.md §7). While the client is silent ([`Elements::rest`]),
//! the parser goes altogether when it stands between two elements (its
//! namespace context, another KiB), and gives its buffer back anywhere
//! else but inside an element; bytes that come make a new one, which
//! stands just where the old one stood.
//!
//! What is read is what tokio-xmpp's stream reads: whitespace between
//! elements is skipped (keepalives), any other text there ends the
//! stream, and every element becomes a [`FallibleStreamElement`] through
//! the same xso builder, with the same errors.

use std::io;

use tokio_xmpp::xmlstream::{FallibleStreamElement, ReadError};
use xso::exports::rxml::error::EndOrError;
use xso::exports::rxml::xml_lang::XmlLangStack;
use xso::exports::rxml::{self, Event, Parse as _};
use xso::{FromEventsBuilder as _, FromXml};

/// What the parser is given first, so that it stands where a client's
/// stream stands after its header: inside `<stream:stream>`, with the
/// stream's namespaces in scope (`jabber:client` by default, `stream:`
/// for the stream's own elements).
const ROOT: &[u8] = b"<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams'>";

/// What a read gives: an element (or a malformed one's stanza error), or
/// why the stream cannot go on.
pub type Read = Result<FallibleStreamElement, ReadError>;

/// Builds an element, or the stanza error of a malformed one.
type Builder = <Result<FallibleStreamElement, xso::error::Error> as FromXml>::Builder;

/// Reads a stream's elements from its bytes, as they come.
pub struct Elements {
    /// The parser and what it is in the middle of; none while the client
    /// is silent between two elements ([`Elements::rest`]).
    reading: Option<Box<Reading>>,
    /// The footer came, or the stream failed: nothing more is read.
    ended: bool,
}

/// A parser inside the stream's root element, and what it has read.
struct Reading {
    parser: rxml::Parser,
    /// `xml:lang` in effect, for the builders.
    languages: XmlLangStack,
    /// The element being read (boxed: the builder of every element type
    /// at once is large).
    building: Option<Box<Builder>>,
    /// Nothing was given to the parser since the last whole element: it
    /// stands where a new one would, and can go.
    between_elements: bool,
}

impl Default for Elements {
    fn default() -> Self {
        Self::new()
    }
}

impl Elements {
    /// A reader inside the stream's root element, after its header. The
    /// header's `xml:lang` is not known here (tokio-xmpp, which read it,
    /// does not hand it on): a body without `xml:lang` is read as
    /// unmarked, and unmarked bodies are the ones sessions read first.
    pub fn new() -> Self {
        Self { reading: None, ended: false }
    }

    /// Reads from the head of `bytes` (advanced past what it read) until
    /// an element is complete or the stream ends: that, or none when the
    /// bytes ran out first. `at_eof`: nothing will follow them.
    pub fn read(&mut self, bytes: &mut &[u8], at_eof: bool) -> Option<Read> {
        if self.ended || (self.reading.is_none() && bytes.is_empty() && !at_eof) {
            return None;
        }
        let reading = self.reading.get_or_insert_with(|| Box::new(Reading::new()));
        let read = reading.read(bytes, at_eof)?;
        if let Err(ReadError::HardError(_) | ReadError::StreamFooterReceived) = read {
            self.end();
        }
        Some(read)
    }

    /// The stream failed with `error` (the parser's, or the connection's):
    /// that is what is read, then nothing.
    pub fn fail(&mut self, error: io::Error) -> Read {
        self.end();
        Err(ReadError::HardError(error))
    }

    fn end(&mut self) {
        self.ended = true;
        self.reading = None;
    }

    /// Whether an element is half read.
    pub fn inside_element(&self) -> bool {
        self.reading.as_ref().is_some_and(|reading| reading.building.is_some())
    }

    /// Whether nothing more will be read.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// For while the client is silent: between two elements the parser
    /// goes (a new one, made when bytes come, stands just where it stood);
    /// otherwise it gives its buffer back, unless an element is half read.
    pub fn rest(&mut self) {
        let Some(reading) = &mut self.reading else { return };
        if reading.between_elements {
            self.reading = None;
        } else if reading.building.is_none() {
            reading.parser.release_temporaries();
        }
    }
}

impl Reading {
    /// A parser just inside the root element.
    fn new() -> Self {
        let mut parser = rxml::Parser::default();
        let mut languages = XmlLangStack::new();
        let mut root = ROOT;
        // The root's start tag is one event, from a fixed text.
        while let Ok(Some(event)) = parser.parse(&mut root, false) {
            languages.handle_event(&event);
        }
        debug_assert!(root.is_empty(), "the root element was read whole");
        Self { parser, languages, building: None, between_elements: true }
    }

    fn read(&mut self, bytes: &mut &[u8], at_eof: bool) -> Option<Read> {
        loop {
            // Whitespace before an element is skipped, not gathered (a
            // client's keepalives would pile up); inside one it is text.
            self.parser.set_text_buffering(self.building.is_some());
            self.between_elements &= bytes.is_empty();
            let event = match self.parser.parse(bytes, at_eof) {
                Ok(Some(event)) => event,
                Ok(None) => {
                    let ended = "the stream ended without its footer";
                    let error = io::Error::new(io::ErrorKind::InvalidData, ended);
                    return Some(Err(ReadError::HardError(error)));
                }
                Err(EndOrError::NeedMoreData) => return None,
                Err(EndOrError::Error(error)) => {
                    let error = io::Error::new(io::ErrorKind::InvalidData, error);
                    return Some(Err(ReadError::HardError(error)));
                }
            };
            self.languages.handle_event(&event);
            match self.take(event) {
                Ok(None) => continue,
                Ok(Some(read)) => return Some(read),
                Err(error) => return Some(Err(ReadError::HardError(error))),
            }
        }
    }

    /// One event: the element it completes, if any.
    fn take(&mut self, event: Event) -> io::Result<Option<Read>> {
        let context = xso::Context::empty().with_language(self.languages.current());
        let Some(builder) = &mut self.building else {
            return match event {
                Event::Text(_, text) if xso::is_xml_whitespace(text.as_bytes()) => Ok(None),
                Event::Text(..) => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "non-whitespace text content before XSO",
                )),
                Event::StartElement(_, name, attributes) => {
                    let builder = <Result<FallibleStreamElement, xso::error::Error>>::from_events(
                        name, attributes, &context,
                    )
                    .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
                    self.building = Some(Box::new(builder));
                    Ok(None)
                }
                Event::EndElement(_) => Ok(Some(Err(ReadError::StreamFooterReceived))),
                // Only a document's first event: this parser starts
                // inside the root, so it never reads one.
                Event::XmlDeclaration(..) => Ok(None),
            };
        };
        let built = builder
            .feed(event, &context)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        let Some(built) = built else { return Ok(None) };
        self.building = None;
        // The element's last byte was its last token's: the parser
        // stands where a new one would.
        self.between_elements = true;
        Ok(Some(built.map_err(ReadError::ParseError)))
    }
}

#[cfg(test)]
mod tests {
    use tokio_xmpp::Stanza;
    use tokio_xmpp::xmlstream::{FallibleStreamElement, ReadError, XmppStreamElement};

    use super::{Elements, Read};

    fn name(read: Option<Read>) -> String {
        match read {
            Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(stanza)))) => {
                match stanza {
                    Stanza::Iq(_) => "iq",
                    Stanza::Message(_) => "message",
                    Stanza::Presence(_) => "presence",
                }
                .to_owned()
            }
            other => format!("{other:?}"),
        }
    }

    /// Elements come whole however the bytes are cut, one byte at a time
    /// included; whitespace between them is skipped.
    #[test]
    fn elements_come_whole_however_the_bytes_are_cut() {
        let sent = b"<presence/> \n<message to='a@example.org'><body>one\n two</body></message>\
            <iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>";
        let mut at_once = Elements::new();
        let mut bytes = &sent[..];
        let whole: Vec<String> = std::iter::from_fn(|| at_once.read(&mut bytes, false))
            .map(|read| name(Some(read)))
            .collect();
        assert_eq!(whole, ["presence", "message", "iq"]);

        // Resting after every byte: the parser goes between elements,
        // and gives its buffer back anywhere else.
        let mut byte_by_byte = Elements::new();
        let mut read = Vec::new();
        for byte in sent.chunks(1) {
            let mut byte = byte;
            while let Some(element) = byte_by_byte.read(&mut byte, false) {
                read.push(name(Some(element)));
            }
            assert!(byte.is_empty(), "every byte taken");
            byte_by_byte.rest();
        }
        assert_eq!(read, whole);
    }

    /// Resting between two elements lets the parser go; inside one, or
    /// half way through a start tag, it stays.
    #[test]
    fn the_parser_goes_only_between_elements() {
        let mut elements = Elements::new();
        let mut bytes = &b"<presence/><mess"[..];
        assert_eq!(name(elements.read(&mut bytes, false)), "presence");
        elements.rest();
        assert!(elements.reading.is_none(), "what follows is not the parser's yet");
        assert!(elements.read(&mut bytes, false).is_none());
        elements.rest();
        assert!(elements.reading.is_some(), "half a start tag");
        let mut bytes = &b"age><body>hi"[..];
        assert!(elements.read(&mut bytes, false).is_none());
        elements.rest();
        assert!(elements.inside_element() && elements.reading.is_some());
        let mut bytes = &b"</body></message>"[..];
        assert_eq!(name(elements.read(&mut bytes, false)), "message");
        elements.rest();
        assert!(elements.reading.is_none(), "between elements");
        assert!(elements.read(&mut &b""[..], false).is_none());
        assert!(elements.reading.is_none(), "no parser made for nothing");
        let mut bytes = &b" <presence type='unavailable'/>"[..];
        assert_eq!(name(elements.read(&mut bytes, false)), "presence");
    }

    /// A malformed stanza is its stanza error and the stream goes on; an
    /// element that is no stanza, text between elements, XML that is not
    /// well-formed or a cut-off stream end it; so does the footer.
    #[test]
    fn what_ends_the_stream_and_what_does_not() {
        let mut elements = Elements::new();
        let mut bytes = &b"<message type='bogus'><body>x</body></message><presence/>"[..];
        assert!(matches!(
            elements.read(&mut bytes, false),
            Some(Ok(FallibleStreamElement::Err(_)))
        ));
        assert_eq!(name(elements.read(&mut bytes, false)), "presence");

        for (sent, why) in [
            (&b"<unknown xmlns='urn:example'/>"[..], "not a stream element"),
            (b" words ", "non-whitespace text"),
            (b"<presence></message>", "mismatched"),
            (b"<presence><x", "ended without"),
        ] {
            let mut elements = Elements::new();
            let mut bytes = sent;
            let read = elements.read(&mut bytes, true);
            match &read {
                Some(Err(ReadError::HardError(error))) => {
                    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{why}: {error}");
                }
                other => panic!("{why}: {other:?}"),
            }
            assert!(elements.ended() && elements.read(&mut &b"<presence/>"[..], false).is_none());
        }

        let mut bytes = &b"<presence/></stream:stream>"[..];
        let mut elements = Elements::new();
        assert_eq!(name(elements.read(&mut bytes, false)), "presence");
        assert!(matches!(
            elements.read(&mut bytes, false),
            Some(Err(ReadError::StreamFooterReceived))
        ));
        assert!(elements.read(&mut bytes, true).is_none());
    }

    /// `xml:lang` on a stanza is its bodies' language; a body without one
    /// is unmarked.
    #[test]
    fn languages_come_from_the_stanza() {
        let mut elements = Elements::new();
        let mut bytes =
            &b"<message xml:lang='de'><body>hallo</body><body xml:lang='fr'>salut</body></message>\
            <message><body>hi</body></message>"[..];
        let Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Message(german))))) =
            elements.read(&mut bytes, false)
        else {
            panic!("a message")
        };
        assert_eq!(
            german.bodies.keys().map(|lang| lang.0.as_str()).collect::<Vec<_>>(),
            ["de", "fr"]
        );
        let Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Message(plain))))) =
            elements.read(&mut bytes, false)
        else {
            panic!("a message")
        };
        assert_eq!(plain.bodies.keys().map(|lang| lang.0.as_str()).collect::<Vec<_>>(), [""]);
    }
}
