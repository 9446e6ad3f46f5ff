//! Takes the empty SASL feature out of the features sent after SASL.
//!
//! xmpp-parsers' `StreamFeatures` always writes `<mechanisms/>`, empty
//! when nothing is offered, and tokio-xmpp sends no other features type.
//! After SASL that reads as SASL offered again, which RFC 6120 §6.4.6
//! forbids, and clients that take it at its word (xmpp.js) try SASL
//! again with no mechanism and give up. While armed, this transport holds
//! what is written until each flush and drops that element from it, once.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::gather::write_all;

/// The element xmpp-parsers writes for an empty set of mechanisms.
const EMPTY_MECHANISMS: &[u8] =
    b"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'></mechanisms>";

/// Arms the filter for the next flush; shared with the transport.
#[derive(Debug, Clone, Default)]
pub(crate) struct Arm(Arc<AtomicBool>);

impl Arm {
    /// What is written from now on loses the next empty `<mechanisms/>`.
    pub(crate) fn arm(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// `inner`, with what is written while armed held and filtered.
pub(crate) struct Unoffered<Io> {
    inner: Io,
    arm: Arm,
    held: Vec<u8>,
    /// How much of `held` (filtered) is written already.
    written: usize,
}

impl<Io> Unoffered<Io> {
    /// Wraps `inner`; `arm` arms it.
    pub(crate) fn new(inner: Io, arm: Arm) -> Self {
        Self { inner, arm, held: Vec::new(), written: 0 }
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

impl<Io: AsyncRead + Unpin> AsyncRead for Unoffered<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Unoffered<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.arm.0.load(Ordering::Relaxed) {
            this.held.extend_from_slice(buf);
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Armed until the element has gone: the stream header before the
        // features may come with a flush of its own.
        let found = this.held.windows(EMPTY_MECHANISMS.len()).position(|w| w == EMPTY_MECHANISMS);
        if let Some(at) = found {
            this.held.drain(at..at + EMPTY_MECHANISMS.len());
            this.arm.0.store(false, Ordering::Relaxed);
        }
        ready!(write_all(Pin::new(&mut this.inner), cx, &this.held, &mut this.written))?;
        // Freed, not cleared: the last features written would stay for
        // the session's life.
        this.held = Vec::new();
        this.written = 0;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
