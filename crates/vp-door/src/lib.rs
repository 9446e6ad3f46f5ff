//! Simul's Sametime VP front door: the port (1533 by convention) that
//! Meanwhile-based clients such as Pidgin's Sametime plugin connect to.
//! It turns frames (`simul_vp`, the protocol layer) into calls of the
//! community service every door shares (`simul_service`) and the
//! service's events back into frames; nothing else. A user signed in here
//! is the same user, with the same status and sessions, as on the web.
//!
//! Built so far: the handshake, login by password (RC2/40 and RC2/128) or
//! by LTPA token (the token login type, or a token pasted into the
//! password field), the user's own status, awareness (watch lists,
//! snapshots and updates, across doors), 1:1 messages and typing (with
//! users of any door, kept in the history), the buddy list (storage key
//! 0, which is the user's contact list), resolve, conferences (which are
//! the community's n-way chats, shared with web users), and logout.

mod awareness;
mod conference;
mod connection;
mod directory;
mod im;
mod sign_in;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use simul_service::Service;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long a connection may take from connecting to a complete login:
/// a client that connects and says nothing holds nothing for long.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves VP clients on `listener` until `stopped` turns true; open
/// connections are then told the server is closing (Pidgin reconnects
/// later) and end. `grace` is how long a user who went offline keeps
/// their n-way chats.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    grace: Duration,
    mut stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most likely: wait for some to close.
                    tracing::warn!(%error, "VP: cannot accept connections");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = until_stopped(&mut stopped) => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let (service, stopped) = (service.clone(), stopped.clone());
        tokio::spawn(connection::run(stream, peer, service, grace, stopped));
    }
}

/// Resolves once the stop signal was given (or its sender is gone).
async fn until_stopped(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}
