//! The read side of a client connection: a buffer that holds memory
//! only while it holds bytes, and two limits.
//!
//! The buffer: the XML parser takes bytes from a buffer (`AsyncBufRead`),
//! and tokio's `BufReader` keeps its buffer for the connection's life:
//! 1 KiB of every idle session (BENCHMARKS.md §7), for bytes that are
//! read and parsed in a moment. Here each read lands on the stack, and
//! only what arrived is kept on the heap until the parser has taken it;
//! then it is freed. A silent client costs nothing here.
//!
//! The limits: the XML parser buffers an element until it ends, so
//! without one a client could send a single stanza of gigabytes; reads
//! fail once more than the budget has been read since the session last
//! took a complete element. They also follow how deeply the XML nests
//! (`crate::depth`) and fail past that limit.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};

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

/// Most bytes taken from the connection at a time; the parser asks again
/// as it needs (a large stanza still arrives whole).
const READ_BYTES: usize = 4096;

/// `inner`, read through a buffer that is freed whenever it is empty,
/// failing reads once [`MAX_STANZA_BYTES`] are spent or the XML nests
/// deeper than [`crate::depth::MAX_DEPTH`].
pub(crate) struct Budgeted<Io> {
    inner: Io,
    spent: Spent,
    depth: Depth,
    /// What was read and not taken yet: `bytes[taken..]`.
    bytes: Vec<u8>,
    taken: usize,
}

impl<Io> Budgeted<Io> {
    /// Wraps `inner`; `spent` is reset by whoever takes elements.
    pub(crate) fn new(inner: Io, spent: Spent) -> Self {
        Self { inner, spent, depth: Depth::default(), bytes: Vec::new(), taken: 0 }
    }

    /// The wrapped transport; what was read and not taken is dropped
    /// (after STARTTLS's `<proceed/>`, nothing may come before TLS).
    pub(crate) fn into_inner(self) -> Io {
        self.inner
    }

    /// The wrapped transport, borrowed.
    pub(crate) fn get_ref(&self) -> &Io {
        &self.inner
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Budgeted<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Through this reader's own buffer, so both limits apply.
        let available = ready!(Pin::new(&mut *this).poll_fill_buf(cx))?;
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        Pin::new(this).consume(n);
        Poll::Ready(Ok(()))
    }
}

impl<Io: AsyncRead + Unpin> AsyncBufRead for Budgeted<Io> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.spent.0.load(Ordering::Relaxed) > MAX_STANZA_BYTES {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, OverLimit::Bytes)));
        }
        if this.taken == this.bytes.len() {
            // Uninitialised: a session polls here each time its loop
            // turns (every batch of presences it delivers), mostly to
            // find nothing.
            let mut landing = [MaybeUninit::<u8>::uninit(); READ_BYTES];
            let mut read = ReadBuf::uninit(&mut landing);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            // Nothing read is the end of the stream, as `BufReader` says it.
            if this.depth.feed(read.filled()).is_err() {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    OverLimit::Depth,
                )));
            }
            this.bytes = read.filled().to_vec();
            this.taken = 0;
        }
        Poll::Ready(Ok(&this.bytes[this.taken..]))
    }

    fn consume(self: Pin<&mut Self>, amount: usize) {
        let this = self.get_mut();
        let amount = amount.min(this.bytes.len() - this.taken);
        this.spent.0.fetch_add(amount, Ordering::Relaxed);
        this.taken += amount;
        if this.taken == this.bytes.len() {
            this.bytes = Vec::new();
            this.taken = 0;
        }
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

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};

    use super::{Budgeted, Spent};

    /// Bytes come in order across reads and partial takes; the buffer is
    /// freed once all is taken; the end of the stream reads empty.
    #[tokio::test]
    async fn bytes_come_in_order_and_the_buffer_is_freed_once_taken() {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let spent = Spent::default();
        let mut reader = Budgeted::new(server, spent.clone());
        let sent: Vec<u8> = (0..10_000u32).map(|n| b"<a>x</a>"[n as usize % 8]).collect();
        client.write_all(&sent).await.unwrap();
        drop(client);

        let mut read = Vec::new();
        loop {
            let available = reader.fill_buf().await.unwrap();
            if available.is_empty() {
                break;
            }
            assert!(available.len() <= super::READ_BYTES);
            // Half of it at a time, so that a buffer is taken in parts.
            let take = available.len().div_ceil(2);
            read.extend_from_slice(&available[..take]);
            reader.consume(take);
        }
        assert_eq!(read, sent);
        assert_eq!(reader.bytes.capacity(), 0, "nothing held once all is taken");
        assert_eq!(spent.0.load(std::sync::atomic::Ordering::Relaxed), sent.len());
        let mut rest = Vec::new();
        assert_eq!(reader.into_inner().read_to_end(&mut rest).await.unwrap(), 0);
    }
}
