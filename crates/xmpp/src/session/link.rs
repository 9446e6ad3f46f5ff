//! A bound session's connection to its client: the XML stream after
//! binding (or resumption), read ([`crate::elements`]) and written
//! ([`crate::large`]) here rather than by tokio-xmpp's `XmlStream`, which
//! negotiation uses up to that point and which is dropped then, with its
//! parser's buffer, encoder and send buffer (BENCHMARKS.md §7).
//!
//! The change of hands happens right after a whole element (the bind
//! request, or `<resume/>`), where rxml has consumed that element's bytes
//! and no more: anything the client sent after it waits in the
//! transport's read buffer and is read here.
//!
//! Silence is met as tokio-xmpp's stream meets it, with its two timeouts
//! both set to the door's keepalive: a ping is asked for after one, the
//! connection ends after the second.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use simul_service::ConnectionTicket;
use tokio::io::{AsyncBufRead, AsyncWriteExt as _};
use tokio::time::{Instant, Sleep};
use tokio_xmpp::xmlstream::ReadError;
use xso::AsXml;

use crate::elements::{Elements, Read};
use crate::gather::Gather;
use crate::negotiation::{Secure, Stream};

/// What closes the stream from our side (RFC 6120 §4.4).
const FOOTER: &[u8] = b"</stream:stream>";

/// A bound session's connection: its stream and its place at the
/// connection gate, given back with the socket.
pub(super) struct Link {
    io: Secure,
    /// What was read of the stream. It lives here, not in a future, so
    /// that a read the session loop gives up (another branch of its
    /// `select!` was ready first) loses nothing.
    elements: Elements,
    silence: Silence,
    _ticket: ConnectionTicket,
}

impl Link {
    /// Takes over `stream` after a whole element (binding, resumption):
    /// silence for `keepalive` asks for a ping, as long again ends it.
    ///
    /// Boxed, as it lives for the whole session: inline, its few KiB
    /// (the TLS connection, the parser) were kept in more than one slot
    /// of the session's future (a local keeps its slot after it is moved
    /// on); measured, the session's task grew from 2.9 to 8.6 KiB.
    ///
    /// # Panics
    ///
    /// If `stream` is in the middle of an element or failed to write;
    /// negotiation hands it over only after a whole element was read and
    /// every answer was written.
    pub(super) fn new(
        stream: Box<Stream>,
        ticket: ConnectionTicket,
        keepalive: Duration,
    ) -> Box<Self> {
        Box::new(Self {
            io: stream.into_inner(),
            elements: Elements::new(),
            silence: Silence::new(keepalive),
            _ticket: ticket,
        })
    }

    /// The next element from the client; none once the stream ended.
    /// Safe to give up: what was read of an element is kept.
    pub(super) async fn next(&mut self) -> Option<Read> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Read>> {
        loop {
            if self.elements.ended() {
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.io).poll_fill_buf(cx) {
                Poll::Ready(Ok(bytes)) => {
                    self.silence.heard();
                    let mut rest = bytes;
                    let read = self.elements.read(&mut rest, bytes.is_empty());
                    let used = bytes.len() - rest.len();
                    Pin::new(&mut self.io).consume(used);
                    match read {
                        Some(read) => return Poll::Ready(Some(read)),
                        None => continue,
                    }
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Some(self.elements.fail(error))),
                Poll::Pending => {}
            }
            // Nothing more came. The parser may still hold an event it can
            // give without more bytes (text it does not gather).
            if let Some(read) = self.elements.read(&mut &[][..], false) {
                return Poll::Ready(Some(read));
            }
            // All that came is read: the parser (between elements) or its
            // buffer goes until bytes come.
            self.elements.rest();
            match ready!(self.silence.poll(cx)) {
                Quiet::AskForPing if !self.elements.inside_element() => {
                    return Poll::Ready(Some(Err(ReadError::SoftTimeout)));
                }
                Quiet::AskForPing | Quiet::Gone => {
                    let error = io::Error::new(
                        io::ErrorKind::TimedOut,
                        "read and response timeouts elapsed",
                    );
                    return Poll::Ready(Some(self.elements.fail(error)));
                }
                Quiet::Waiting => {}
            }
        }
    }

    /// Appends `element` to what the next flush sends; returns how many
    /// bytes now wait.
    pub(super) fn write<T: AsXml>(&mut self, element: &T) -> io::Result<usize> {
        let (encoded, waiting) =
            transport(&self.io).append(|bytes| crate::large::encode(element, bytes));
        encoded.map(|()| waiting)
    }

    /// Sends what was written.
    pub(super) async fn flush(&mut self) -> io::Result<()> {
        self.io.flush().await
    }

    /// Closes the stream (its footer, then the connection).
    pub(super) async fn shutdown(&mut self) -> io::Result<()> {
        transport(&self.io).append(|bytes| bytes.extend_from_slice(FOOTER));
        self.flush().await?;
        self.io.shutdown().await
    }
}

/// Where what is written waits for the flush.
fn transport(io: &Secure) -> &Gather {
    io.get_ref().get_ref().gather()
}

/// How long the client has been silent, in the two steps of tokio-xmpp's
/// `Timeouts` with both set to the keepalive: a ping is asked for after
/// one, half of one more passes quietly, the connection ends after the
/// other half (and every second after that, until the session stops).
struct Silence {
    keepalive: Duration,
    next: Quiet,
    deadline: Pin<Box<Sleep>>,
}

/// What a stretch of silence has come to.
#[derive(Clone, Copy)]
enum Quiet {
    AskForPing,
    Waiting,
    Gone,
}

impl Silence {
    fn new(keepalive: Duration) -> Self {
        Self {
            keepalive,
            next: Quiet::AskForPing,
            deadline: Box::pin(tokio::time::sleep(keepalive)),
        }
    }

    /// The client sent something.
    fn heard(&mut self) {
        self.next = Quiet::AskForPing;
        self.deadline.as_mut().reset(Instant::now() + self.keepalive);
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Quiet> {
        ready!(self.deadline.as_mut().poll(cx));
        let now = self.next;
        let (next, after) = match now {
            Quiet::AskForPing => (Quiet::Waiting, self.keepalive / 2),
            Quiet::Waiting => (Quiet::Gone, self.keepalive / 2),
            Quiet::Gone => (Quiet::Gone, Duration::from_secs(1)),
        };
        self.next = next;
        self.deadline.as_mut().reset(Instant::now() + after);
        Poll::Ready(now)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::StreamExt as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_util::either::Either;
    use tokio_xmpp::Stanza;
    use tokio_xmpp::parsers::message::Message;
    use tokio_xmpp::parsers::ns;
    use tokio_xmpp::parsers::presence::Presence;
    use tokio_xmpp::parsers::stream_features::StreamFeatures;
    use tokio_xmpp::xmlstream::{
        FallibleStreamElement, ReadError, StreamHeader, Timeouts, XmppStreamElement, accept_stream,
    };

    use super::Link;
    use crate::budget::Spent;
    use crate::gather::Gather;
    use crate::negotiation::secure_io;
    use crate::unoffered::Arm;

    const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0' \
        xml:lang='en'>";
    const BIND: &str =
        "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";
    const KEEPALIVE: Duration = Duration::from_secs(60);

    /// A link taken over, as after binding, right after the first element
    /// of a stream whose client sent `sent` (its header, the bind request,
    /// whatever follows) in one write; and the client's socket.
    async fn after_binding(sent: &str, keepalive: Duration) -> (Box<Link>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        client.write_all(sent.as_bytes()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let io = secure_io(
            Either::Right(server),
            &Spent::default(),
            &Arm::default(),
            &Gather::default(),
        );
        let accepted = accept_stream(io, ns::DEFAULT_NS, Timeouts::tight()).await.unwrap();
        let header = StreamHeader { from: Some("example.org".into()), to: None, id: None };
        let pending = accepted.send_header(header).await.unwrap();
        let mut stream = pending.send_features(&StreamFeatures::default()).await.unwrap();
        let first = stream.next().await;
        assert!(
            matches!(
                first,
                Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Iq(_)))))
            ),
            "the bind request first: {first:?}"
        );
        (Link::new(Box::new(stream), Box::new(()), keepalive), client)
    }

    fn stanza(read: Option<crate::elements::Read>) -> Stanza {
        match read {
            Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(stanza)))) => stanza,
            other => panic!("not a stanza: {other:?}"),
        }
    }

    /// What the client sent with its bind request, before any answer,
    /// is read after the handover, whole and in order; its footer ends
    /// the stream.
    #[tokio::test]
    async fn what_came_with_the_bind_request_is_read_after_the_handover() {
        let message =
            "<message to='b@example.org' type='chat' id='m1'><body>hi &amp; bye</body></message>";
        let sent = format!("{HEADER}{BIND}<presence/>\n {message}");
        let (mut link, mut client) = after_binding(&sent, KEEPALIVE).await;
        assert!(matches!(stanza(link.next().await), Stanza::Presence(Presence { .. })));
        let Stanza::Message(read) = stanza(link.next().await) else { panic!("a message") };
        assert_eq!(read.get_best_body(vec![]).map(|(_, body)| body.as_str()), Some("hi & bye"));
        assert_eq!(read.id.map(|id| id.0), Some("m1".to_owned()));

        client.write_all(b"</stream:stream>").await.unwrap();
        assert!(matches!(link.next().await, Some(Err(ReadError::StreamFooterReceived))));
        assert!(link.next().await.is_none(), "nothing after the footer");
    }

    /// A read given up halfway through an element (the session loop had
    /// something else to do) loses nothing of it.
    #[tokio::test]
    async fn a_read_given_up_halfway_loses_nothing() {
        let (mut link, mut client) = after_binding(&format!("{HEADER}{BIND}"), KEEPALIVE).await;
        client.write_all(b"<message to='b@example.org' type='chat'><body>first ").await.unwrap();
        let wait = Duration::from_millis(100);
        assert!(tokio::time::timeout(wait, link.next()).await.is_err(), "half an element");
        client.write_all(b"half</body></message>").await.unwrap();
        let Stanza::Message(read) = stanza(link.next().await) else { panic!("a message") };
        let body = read.get_best_body(vec![]).map(|(_, body)| body.clone());
        assert_eq!(body.as_deref(), Some("first half"));
    }

    /// Whitespace between elements is a keepalive; other text ends the
    /// stream as not well-formed, and nothing is read after it.
    #[tokio::test]
    async fn whitespace_between_elements_is_skipped_and_text_ends_the_stream() {
        let sent = format!("{HEADER}{BIND} \n\t <presence/> junk <presence/>");
        let (mut link, _client) = after_binding(&sent, KEEPALIVE).await;
        assert!(matches!(stanza(link.next().await), Stanza::Presence(_)));
        match link.next().await {
            Some(Err(ReadError::HardError(error))) => {
                assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{error}");
            }
            other => panic!("text between elements: {other:?}"),
        }
        assert!(link.next().await.is_none());
    }

    /// Silence for a keepalive asks for a ping; as long again ends the
    /// connection; anything the client sends in between starts over.
    #[tokio::test]
    async fn silence_asks_for_a_ping_then_ends_the_connection() {
        let keepalive = Duration::from_millis(300);
        let (mut link, mut client) = after_binding(&format!("{HEADER}{BIND}"), keepalive).await;
        assert!(matches!(link.next().await, Some(Err(ReadError::SoftTimeout))));
        client.write_all(b"<presence/>").await.unwrap();
        assert!(matches!(stanza(link.next().await), Stanza::Presence(_)));
        assert!(
            matches!(link.next().await, Some(Err(ReadError::SoftTimeout))),
            "again from the start"
        );
        match link.next().await {
            Some(Err(ReadError::HardError(error))) => {
                assert_eq!(error.kind(), std::io::ErrorKind::TimedOut, "{error}");
            }
            other => panic!("a second silence: {other:?}"),
        }
    }

    /// What is written goes at the flush, inside the stream (no
    /// namespace declared again); closing sends the footer and hangs up.
    #[tokio::test]
    async fn writes_go_at_the_flush_and_closing_sends_the_footer() {
        let (mut link, mut client) = after_binding(&format!("{HEADER}{BIND}"), KEEPALIVE).await;
        let mut message = Message::chat(None);
        message.bodies.insert(Default::default(), "to you".to_owned());
        link.write(&message).unwrap();
        link.flush().await.unwrap();
        link.shutdown().await.unwrap();
        let mut received = String::new();
        client.read_to_string(&mut received).await.unwrap();
        let (_, after_features) = received.split_once("</stream:features>").expect("the features");
        assert_eq!(
            after_features,
            "<message type='chat'><body>to you</body></message></stream:stream>"
        );
    }
}
