//! A read buffer that holds memory only while it holds bytes.
//!
//! The XML parser takes bytes from a buffer (`AsyncBufRead`), and tokio's
//! `BufReader` keeps its buffer for the connection's life: 1 KiB of every
//! idle session (BENCHMARKS.md §7), for bytes that are read and parsed in
//! a moment. Here each read lands on the stack, and only what arrived is
//! kept on the heap until the parser has taken it; once it has, the
//! buffer is freed. A silent client costs nothing here.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};

/// Most bytes taken from the connection at a time; the parser asks again
/// as it needs (a large stanza still arrives whole).
const READ_BYTES: usize = 4096;

/// `inner`, read through a buffer that is freed whenever it is empty.
pub(crate) struct ReadBuffer<Io> {
    inner: Io,
    /// What was read and not taken yet: `bytes[taken..]`.
    bytes: Vec<u8>,
    taken: usize,
}

impl<Io> ReadBuffer<Io> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: Io) -> Self {
        Self { inner, bytes: Vec::new(), taken: 0 }
    }

    /// The wrapped transport, borrowed.
    pub(crate) fn get_ref(&self) -> &Io {
        &self.inner
    }

    /// The wrapped transport; what was read and not taken is dropped
    /// (after STARTTLS's `<proceed/>`, nothing may come before TLS).
    pub(crate) fn into_inner(self) -> Io {
        self.inner
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for ReadBuffer<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let available = ready!(Pin::new(&mut *this).poll_fill_buf(cx))?;
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        Pin::new(this).consume(n);
        Poll::Ready(Ok(()))
    }
}

impl<Io: AsyncRead + Unpin> AsyncBufRead for ReadBuffer<Io> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.taken == this.bytes.len() {
            let mut landing = [0; READ_BYTES];
            let mut read = ReadBuf::new(&mut landing);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            // Empty at the end of the stream, as `BufReader` says it.
            this.bytes = read.filled().to_vec();
            this.taken = 0;
        }
        Poll::Ready(Ok(&this.bytes[this.taken..]))
    }

    fn consume(self: Pin<&mut Self>, amount: usize) {
        let this = self.get_mut();
        this.taken = (this.taken + amount).min(this.bytes.len());
        if this.taken == this.bytes.len() {
            this.bytes = Vec::new();
            this.taken = 0;
        }
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for ReadBuffer<Io> {
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

    use super::ReadBuffer;

    /// Bytes come in order across reads and partial takes; the buffer is
    /// empty (freed) once all is taken; the end of the stream reads empty.
    #[tokio::test]
    async fn bytes_come_in_order_and_the_buffer_is_freed_once_taken() {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let mut reader = ReadBuffer::new(server);
        let sent: Vec<u8> = (0..10_000u32).map(|n| (n % 251) as u8).collect();
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
        let mut rest = Vec::new();
        assert_eq!(reader.into_inner().read_to_end(&mut rest).await.unwrap(), 0);
    }
}
