//! Gathers what the XML stream writes until it flushes, so that several
//! elements written in a row leave as one TLS record and one system call.
//!
//! tokio-xmpp hands each stanza to the transport as soon as it is encoded
//! (its sink writes before it takes the next one), and rustls seals every
//! write into a record of its own and sends it at once. Two places write
//! several elements in a row:
//!
//! - a session delivering a burst (a presence from each of many contacts,
//!   the stanzas a resumed session had not acknowledged, an archive page)
//!   appends them all ([`Gather::append`]), then flushes once (see
//!   `Session::flush`);
//! - negotiation answers each stream header with our header and the
//!   features, but tokio-xmpp flushes the header on its own before it
//!   writes the features: while [`Gather`] is on, flushes wait, so the
//!   two leave together (twice a sign-in, three times over STARTTLS;
//!   BENCHMARKS.md §7, "Sign-ins per second").
//!
//! Nothing is held past a flush that is let through, and the buffer is
//! given back then, so an idle session keeps no memory here.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Most bytes held before they go on without waiting for the flush: one
/// TLS record's worth of plaintext (RFC 8446 §5.1), so a large burst is
/// still written in full records and its memory stays bounded.
pub(crate) const MAX_GATHERED: usize = 16 * 1024;

/// Holds flushes back while on, and takes the bytes of stanzas encoded
/// past the XML stream; shared with the transport.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gather(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    on: AtomicBool,
    /// Bytes for the next flush, after everything written before them.
    passed: Mutex<Vec<u8>>,
}

impl Gather {
    /// Flushes wait from now on, until [`Gather::stop`].
    pub(crate) fn start(&self) {
        self.0.on.store(true, Ordering::Relaxed);
    }

    /// The next flush writes what was held, with whatever comes before it.
    pub(crate) fn stop(&self) {
        self.0.on.store(false, Ordering::Relaxed);
    }

    /// Runs `write` on the bytes that go to the client at the next flush,
    /// after whatever the transport was given before: a bound session's
    /// stanzas ([`crate::large`]), so that no buffer keeps the size of the
    /// largest stanza for the session's life. Returns what `write` did and how many bytes now wait.
    pub(crate) fn append<R>(&self, write: impl FnOnce(&mut Vec<u8>) -> R) -> (R, usize) {
        let mut passed = self.0.passed.lock().unwrap_or_else(PoisonError::into_inner);
        let done = write(&mut passed);
        (done, passed.len())
    }

    fn on(&self) -> bool {
        self.0.on.load(Ordering::Relaxed)
    }

    fn take_passed(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.passed.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// `inner`, with what is written held until the next flush that
/// [`Gather`] lets through.
pub(crate) struct Gathered<Io> {
    inner: Io,
    gather: Gather,
    held: Vec<u8>,
    /// How much of `held` is written already.
    written: usize,
}

impl<Io> Gathered<Io> {
    /// Wraps `inner`; `gather` holds flushes back while it is on.
    pub(crate) fn new(inner: Io, gather: Gather) -> Self {
        Self { inner, gather, held: Vec::new(), written: 0 }
    }

    /// What holds its flushes back and passes it bytes.
    pub(crate) fn gather(&self) -> &Gather {
        &self.gather
    }

    /// The wrapped transport, once everything held was flushed (STARTTLS
    /// takes the socket back after `<proceed/>`).
    pub(crate) fn into_inner(self) -> Io {
        debug_assert!(self.held.is_empty(), "flushed before the transport is taken back");
        self.inner
    }
}

impl<Io: AsyncWrite + Unpin> Gathered<Io> {
    /// Takes what was appended past the XML stream ([`Gather::append`]):
    /// it came before whatever the stream writes now.
    fn adopt_appended(&mut self) {
        let appended = self.gather.take_passed();
        if self.held.is_empty() {
            self.held = appended;
        } else {
            self.held.extend_from_slice(&appended);
        }
    }

    /// Writes out everything held and appended, then frees the buffer.
    fn poll_write_held(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.adopt_appended();
        ready!(write_all(Pin::new(&mut self.inner), cx, &self.held, &mut self.written))?;
        self.held = Vec::new();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

/// Writes `bytes[*written..]` to `io`, counting in `written` what went
/// (so a write that waits carries on where it stopped).
pub(crate) fn write_all<Io: AsyncWrite + ?Sized>(
    mut io: Pin<&mut Io>,
    cx: &mut Context<'_>,
    bytes: &[u8],
    written: &mut usize,
) -> Poll<io::Result<()>> {
    while *written < bytes.len() {
        let n = ready!(io.as_mut().poll_write(cx, &bytes[*written..]))?;
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        *written += n;
    }
    Poll::Ready(Ok(()))
}

impl<Io: AsyncRead + Unpin> AsyncRead for Gathered<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Gathered<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.adopt_appended();
        if !this.held.is_empty() && this.held.len() + buf.len() > MAX_GATHERED {
            ready!(this.poll_write_held(cx))?;
        }
        if this.held.is_empty() && buf.len() >= MAX_GATHERED {
            // Nothing to gather it with: straight on.
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        this.held.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.gather.on() {
            return Poll::Ready(Ok(()));
        }
        ready!(this.poll_write_held(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_held(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt as _;

    use super::*;

    /// Each write that reaches the transport, as the TLS layer would see
    /// it: one record each.
    #[derive(Default)]
    struct Records(Vec<Vec<u8>>);

    impl AsyncWrite for Records {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().0.push(buf.to_vec());
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn gathered() -> (Gathered<Records>, Gather) {
        let gather = Gather::default();
        (Gathered::new(Records::default(), gather.clone()), gather)
    }

    #[tokio::test]
    async fn writes_until_a_flush_go_on_as_one() {
        let (mut io, _) = gathered();
        io.write_all(b"<a/>").await.unwrap();
        io.write_all(b"<b/>").await.unwrap();
        assert!(io.inner.0.is_empty(), "nothing before the flush");
        io.flush().await.unwrap();
        assert_eq!(io.inner.0, [b"<a/><b/>".to_vec()]);
        assert_eq!(io.held.capacity(), 0, "the buffer is given back");
        io.write_all(b"<c/>").await.unwrap();
        io.shutdown().await.unwrap();
        assert_eq!(io.inner.0.last().unwrap(), b"<c/>", "a shutdown flushes");
    }

    #[tokio::test]
    async fn a_burst_goes_on_in_bounded_writes_in_order() {
        let (mut io, _) = gathered();
        let stanza = [b'x'; 1000];
        for _ in 0..40 {
            io.write_all(&stanza).await.unwrap();
        }
        io.write_all(&[b'y'; MAX_GATHERED + 1]).await.unwrap();
        io.flush().await.unwrap();
        let writes = &io.inner.0;
        assert!(writes.iter().take(writes.len() - 1).all(|w| w.len() <= MAX_GATHERED));
        let all: Vec<u8> = writes.concat();
        assert_eq!(all.len(), 40_000 + MAX_GATHERED + 1);
        assert!(
            all[..40_000].iter().all(|b| *b == b'x') && all[40_000..].iter().all(|b| *b == b'y')
        );
    }

    #[tokio::test]
    async fn what_is_flushed_while_gathering_leaves_with_the_next_flush() {
        let (mut io, gather) = gathered();
        gather.start();
        io.write_all(b"<stream:stream>").await.unwrap();
        io.flush().await.unwrap();
        assert!(io.inner.0.is_empty(), "nothing leaves while gathering");
        gather.stop();
        io.write_all(b"<stream:features/>").await.unwrap();
        io.flush().await.unwrap();
        assert_eq!(io.inner.0, [b"<stream:stream><stream:features/>".to_vec()]);
    }

    #[tokio::test]
    async fn a_shutdown_writes_what_was_held_first_even_while_gathering() {
        let (mut io, gather) = gathered();
        gather.start();
        io.write_all(b"<stream:error/>").await.unwrap();
        io.shutdown().await.unwrap();
        assert_eq!(io.inner.0, [b"<stream:error/>".to_vec()]);
    }
}
