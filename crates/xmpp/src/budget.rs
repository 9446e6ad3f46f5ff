//! A limit on the bytes of one stanza. The XML parser buffers an element
//! until it ends, so without one a client could send a single stanza of
//! gigabytes; this reader fails once more than the budget has been read
//! since the session last took a complete element. It also follows how
//! deeply the XML nests (`crate::depth`) and fails past that limit.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};

use crate::depth::Depth;

/// Most bytes one stanza (or the stream header) may take.
pub(crate) const MAX_STANZA_BYTES: usize = 256 * 1024;

/// The bytes read since the last complete element; shared between the
/// reader and the session that resets it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Spent(Arc<AtomicUsize>);

impl Spent {
    /// A complete element was taken: the next one starts from zero.
    pub(crate) fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// Why a read failed past a limit: a stream error of its own
/// (`policy-violation`, not `not-well-formed`), so it is told apart from
/// XML errors.
#[derive(Debug)]
pub(crate) enum OverLimit {
    /// A stanza over [`MAX_STANZA_BYTES`].
    Bytes,
    /// Elements nested deeper than [`crate::depth::MAX_DEPTH`].
    Depth,
}

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bytes => write!(f, "a stanza over {MAX_STANZA_BYTES} bytes"),
            Self::Depth => write!(f, "XML nested over {} elements deep", crate::depth::MAX_DEPTH),
        }
    }
}

impl std::error::Error for OverLimit {}

/// Whether a read failed because a limit was passed.
pub(crate) fn is_over_limit(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<OverLimit>())
}

/// `inner`, failing reads once [`MAX_STANZA_BYTES`] are spent or the
/// XML nests deeper than [`crate::depth::MAX_DEPTH`].
pub(crate) struct Budgeted<Io> {
    inner: Io,
    spent: Spent,
    depth: Depth,
    /// Bytes at the head of `inner`'s buffer the depth scanner has seen
    /// (a buffer is offered again until it is consumed).
    scanned: usize,
}

impl<Io> Budgeted<Io> {
    /// Wraps `inner`; `spent` is reset by whoever takes elements.
    pub(crate) fn new(inner: Io, spent: Spent) -> Self {
        Self { inner, spent, depth: Depth::default(), scanned: 0 }
    }

    /// The wrapped transport.
    pub(crate) fn into_inner(self) -> Io {
        self.inner
    }

    /// The wrapped transport, borrowed.
    pub(crate) fn get_ref(&self) -> &Io {
        &self.inner
    }
}

impl<Io: AsyncBufRead + Unpin> AsyncRead for Budgeted<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Through this reader's own buffer, so both limits apply.
        let available = match Pin::new(&mut *this).poll_fill_buf(cx) {
            Poll::Ready(Ok(available)) => available,
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            Poll::Pending => return Poll::Pending,
        };
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        Pin::new(this).consume(n);
        Poll::Ready(Ok(()))
    }
}

impl<Io: AsyncBufRead + Unpin> AsyncBufRead for Budgeted<Io> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let Self { inner, spent, depth, scanned } = self.get_mut();
        if spent.0.load(Ordering::Relaxed) > MAX_STANZA_BYTES {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, OverLimit::Bytes)));
        }
        let available = match Pin::new(inner).poll_fill_buf(cx) {
            Poll::Ready(Ok(available)) => available,
            other => return other,
        };
        if depth.feed(available.get(*scanned..).unwrap_or_default()).is_err() {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, OverLimit::Depth)));
        }
        *scanned = available.len();
        Poll::Ready(Ok(available))
    }

    fn consume(self: Pin<&mut Self>, amount: usize) {
        let this = self.get_mut();
        this.scanned = this.scanned.saturating_sub(amount);
        this.spent.0.fetch_add(amount, Ordering::Relaxed);
        Pin::new(&mut this.inner).consume(amount);
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Budgeted<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
