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
//! the community's n-way chats, shared with web users), files both ways
//! (ended at the server, kept in the history like every file), and logout.

mod awareness;
mod conference;
mod connection;
mod directory;
mod files;
mod im;
mod sign_in;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use simul_service::{ConnectionGate, Service};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long a connection may take from connecting to a complete login:
/// a client that connects and says nothing holds nothing for long.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How the door asks clients to encrypt their password (spec §4.3): the
/// HANDSHAKE_ACK decides it, libmeanwhile follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LoginCipher {
    /// The ACK carries a Diffie-Hellman key (version 0x1e.0x1d): clients
    /// log in with RC2/128 (auth type 4). RC2/40 logins are still
    /// accepted, as the spec requires (§4.5).
    #[default]
    Rc2_128,
    /// The ACK carries no key (version 0x1e.0x18): clients log in with
    /// RC2/40 (auth type 2), whose key travels in the clear with the
    /// password. For old clients and tests only.
    Rc2_40,
}

/// How the door runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How long a user who went offline keeps their n-way chats.
    pub grace: Duration,
    /// The login cipher the handshake asks for.
    pub login_cipher: LoginCipher,
    /// How often the door sends a keepalive byte to a logged-in client
    /// (spec §1.3). A client is never dropped for its own silence
    /// (libmeanwhile sends no keepalives); one that takes nothing the
    /// door sends for two of these (it stopped reading, or its host is
    /// gone and nothing is acknowledged) is dropped.
    pub keepalive: Duration,
    /// Where the web door serves files, up to the file's id
    /// (`https://HOST/api/v1/files/`): the link in the text line of a
    /// file a Sametime client sends.
    pub files_link: Arc<str>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(60),
            login_cipher: LoginCipher::default(),
            keepalive: Duration::from_secs(30),
            files_link: "http://localhost:8080/api/v1/files/".into(),
        }
    }
}

impl Settings {
    /// How long a write may wait for the client to take it, and how long
    /// sent data may stay unacknowledged by its host: two keepalives.
    pub(crate) fn stall_limit(&self) -> Duration {
        self.keepalive.saturating_mul(2).max(Duration::from_millis(100))
    }
}

/// Serves VP clients on `listener` until `stopped` turns true; open
/// connections are then told the server is closing (Pidgin reconnects
/// later) and end.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    settings: Settings,
    gate: ConnectionGate,
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
        // Over the connections one address (or everyone) may hold: closed
        // before a byte is read, as the other doors do.
        let Some(ticket) = gate(peer.ip()) else { continue };
        let _ = stream.set_nodelay(true);
        // Data a vanished host never acknowledges (a keepalive byte at
        // least) fails the connection instead of waiting for TCP's
        // retries, a quarter of an hour (spec §1.3: write failures).
        #[cfg(target_os = "linux")]
        let _ = socket2::SockRef::from(&stream).set_tcp_user_timeout(Some(settings.stall_limit()));
        let (service, settings, stopped) = (service.clone(), settings.clone(), stopped.clone());
        tokio::spawn(async move {
            connection::run(stream, peer, service, settings, stopped).await;
            drop(ticket);
        });
    }
}

/// Resolves once the stop signal was given (or its sender is gone).
async fn until_stopped(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}
