//! One client connection: negotiation within [`NEGOTIATION_TIMEOUT`],
//! then the bound session.

use std::net::SocketAddr;
use std::sync::Arc;

use simul_service::Service;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_xmpp::xmlstream::Timeouts;

use crate::negotiation::negotiate;
use crate::{Door, NEGOTIATION_TIMEOUT, Transport};

/// Runs one connection to its end.
pub(crate) async fn run(
    tcp: TcpStream,
    peer: SocketAddr,
    service: Arc<Service>,
    door: Arc<Door>,
    transport: Transport,
    stopped: watch::Receiver<bool>,
) {
    // Silence for `keepalive` gets a ping; as long again without an
    // answer ends the connection (a half-open one too).
    let timeouts = Timeouts { read_timeout: door.keepalive, response_timeout: door.keepalive };
    let negotiated = negotiate(tcp, peer, &service, &door, transport, timeouts);
    match tokio::time::timeout(NEGOTIATION_TIMEOUT, negotiated).await {
        Ok(Ok(bound)) => crate::session::run(bound, peer, &service, &door, stopped).await,
        Ok(Err(_)) => {}
        Err(_) => tracing::debug!(client = %peer.ip(), "XMPP: negotiation timed out"),
    }
}
