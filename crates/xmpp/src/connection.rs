//! One client connection: negotiation within [`NEGOTIATION_TIMEOUT`],
//! then the bound session, or its hand-over to the session it resumes.

use std::net::SocketAddr;
use std::sync::Arc;

use simul_service::{ConnectionTicket, Service};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_xmpp::xmlstream::Timeouts;

use crate::negotiation::{Negotiated, negotiate};
use crate::{Door, NEGOTIATION_TIMEOUT, Transport};

/// Runs one connection (holding `ticket` at the gate) to its end, or to
/// the session it resumed, which holds it from then on.
pub(crate) async fn run(
    tcp: TcpStream,
    peer: SocketAddr,
    ticket: ConnectionTicket,
    service: Arc<Service>,
    door: Arc<Door>,
    transport: Transport,
    stopped: watch::Receiver<bool>,
) {
    // Silence for `keepalive` gets a ping; as long again without an
    // answer ends the connection (a half-open one too).
    let timeouts = Timeouts { read_timeout: door.keepalive, response_timeout: door.keepalive };
    // Boxed, so that its state (the TLS handshake, SASL) is freed once
    // the session starts instead of sizing the connection's task for its
    // whole life.
    let negotiated = Box::pin(negotiate(tcp, peer, ticket, &service, &door, transport, timeouts));
    match tokio::time::timeout(NEGOTIATION_TIMEOUT, negotiated).await {
        // A task of its own: this one's state (what it was started with,
        // the negotiation's outcome) would otherwise be kept under the
        // session's for its whole life.
        Ok(Ok(Negotiated::Bound(bound))) => {
            tokio::spawn(crate::session::run(bound, peer, service, door, stopped));
        }
        Ok(Ok(Negotiated::Resumed)) => {
            tracing::debug!(client = %peer.ip(), "XMPP: connection handed to the session it resumes");
        }
        Ok(Err(_)) => {}
        Err(_) => tracing::debug!(client = %peer.ip(), "XMPP: negotiation timed out"),
    }
}
