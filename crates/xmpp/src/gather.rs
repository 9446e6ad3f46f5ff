//! Writes gathered into one: the stream header and the features that
//! follow it leave in one write, so one TLS record and one segment
//! instead of two.
//!
//! tokio-xmpp flushes the stream header on its own before it writes the
//! features, and over TLS every flush is a record of its own: sealed,
//! framed and written with a system call each, on both ends. A sign-in
//! sends two headers with their features (three over STARTTLS), so this
//! takes two or three of its dozen records away (BENCHMARKS.md §7, "Sign-ins
//! per second"). While gathering, this transport keeps what is written
//! and lets flushes pass; the first flush after gathering writes it all.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Turns gathering on and off; shared with the transport.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gather(Arc<AtomicBool>);

impl Gather {
    /// Keeps what is written from now on, flushes or not, until
    /// [`Gather::stop`].
    pub(crate) fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// The next flush writes what was kept, with whatever comes before it.
    pub(crate) fn stop(&self) {
        self.0.store(false, Ordering::Relaxed);
    }

    fn on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// `inner`, keeping writes while [`Gather`] says so.
pub(crate) struct Gathered<Io> {
    inner: Io,
    gather: Gather,
    kept: Vec<u8>,
    /// How much of `kept` is written already.
    written: usize,
}

impl<Io> Gathered<Io> {
    /// Wraps `inner`; `gather` turns gathering on and off.
    pub(crate) fn new(inner: Io, gather: Gather) -> Self {
        Self { inner, gather, kept: Vec::new(), written: 0 }
    }

    /// The wrapped transport.
    pub(crate) fn into_inner(self) -> Io {
        self.inner
    }
}

impl<Io: AsyncWrite + Unpin> Gathered<Io> {
    /// Writes what was kept.
    fn poll_write_kept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.kept.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.kept[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.kept.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
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
        // Behind what was kept, in order, until the next flush.
        if this.gather.on() || !this.kept.is_empty() {
            this.kept.extend_from_slice(buf);
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.gather.on() {
            return Poll::Ready(Ok(()));
        }
        ready!(this.poll_write_kept(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_kept(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt as _;

    use super::*;

    /// Each write that reaches the transport, as the TLS layer would
    /// see it: one record each.
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

    #[tokio::test]
    async fn what_is_flushed_while_gathering_leaves_with_the_next_flush() {
        let gather = Gather::default();
        let mut io = Gathered::new(Records::default(), gather.clone());
        gather.start();
        io.write_all(b"<stream:stream>").await.unwrap();
        io.flush().await.unwrap();
        assert!(io.inner.0.is_empty(), "nothing leaves while gathering");
        gather.stop();
        io.write_all(b"<stream:features/>").await.unwrap();
        io.flush().await.unwrap();
        assert_eq!(io.inner.0, [b"<stream:stream><stream:features/>".to_vec()]);
        // Not gathering: each write goes as it comes.
        io.write_all(b"<iq/>").await.unwrap();
        assert_eq!(io.inner.0.len(), 2);
    }

    #[tokio::test]
    async fn a_shutdown_writes_what_was_kept_first() {
        let gather = Gather::default();
        let mut io = Gathered::new(Records::default(), gather.clone());
        gather.start();
        io.write_all(b"<stream:error/>").await.unwrap();
        gather.stop();
        io.shutdown().await.unwrap();
        assert_eq!(io.inner.0, [b"<stream:error/>".to_vec()]);
    }
}
