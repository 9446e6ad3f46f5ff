//! The XMPP front door (RFC 6120 and 6121): any standard XMPP client
//! signs in to the community as `user@DOMAIN` and shares its users,
//! contacts, statuses and conversations with the other doors.
//!
//! Like every door it only translates: stanzas become calls of the
//! community service ([`simul_service::Service`]), and the service's
//! events become stanzas. The XML stream is tokio-xmpp's responder up
//! to binding, then the session's own reader on the same parser (rxml:
//! no DTDs, entities or processing instructions), which gives its buffer
//! back between elements (`session::link`); the stanzas are
//! xmpp-parsers' types.

pub mod archive;
mod binding;
mod budget;
mod caps;
mod connection;
pub mod depth;
pub mod elements;
mod gather;
pub mod jid;
mod large;
mod muc;
mod negotiation;
mod presence;
mod read_error;
mod register;
mod resume;
mod roster;
pub mod sasl;
mod session;
mod unoffered;
mod vcard;

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use simul_core::UserId;
use simul_service::certificates::LiveCertificate;
use simul_service::{ConnectionGate, FileUrls, Service};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_xmpp::jid::BareJid;

/// How long a client has from connecting to a bound resource.
pub const NEGOTIATION_TIMEOUT: Duration = Duration::from_secs(30);

/// What every connection of the door shares.
pub struct Door {
    /// The XMPP domain, `server.domain`: user `alice` is `alice@DOMAIN`.
    domain: String,
    /// TLS after STARTTLS, and direct TLS (with ALPN `xmpp-client`).
    starttls: Arc<rustls::ServerConfig>,
    direct_tls: Arc<rustls::ServerConfig>,
    /// How long a user's n-way chats wait for them after their last
    /// session ends.
    grace: Duration,
    /// Silence after which the server pings a client, and again after
    /// which a client that did not answer is disconnected.
    keepalive: Duration,
    /// The JID of each user met so far: stringprep on every presence a
    /// session passes on would cost more than the rest of the fan-out.
    /// At most one entry per user of the community.
    jids: RwLock<HashMap<UserId, Option<BareJid>>>,
    /// How long a session with stream resumption (XEP-0198) waits for
    /// its client after the connection broke; zero: no resumption.
    resume_timeout: Duration,
    /// The sessions a new connection may resume.
    resumable: Arc<resume::Registry>,
    /// Whether clients may make accounts (XEP-0077, `[xmpp] registration`).
    registration: bool,
    /// Who may run the administration commands (XEP-0133, `[xmpp] admins`).
    admins: Vec<String>,
    /// The certificate served, for its `tls-server-end-point` channel binding.
    server_end_point: Option<Arc<LiveCertificate>>,
    /// Where the web door serves files: uploads (XEP-0363) are offered
    /// only with it.
    file_urls: Option<FileUrls>,
    /// Besides loopback, the proxies whose connections a cleartext
    /// listener takes (`server.trusted_proxies`).
    proxies: Vec<ipnet::IpNet>,
}

impl Door {
    /// The door of `domain`, with the deployment's certificate in `tls`
    /// (its ALPN protocols are replaced by XMPP's). A session whose
    /// connection broke may be resumed for `resume_timeout` (none: zero).
    pub fn new(
        domain: &str,
        tls: &rustls::ServerConfig,
        grace: Duration,
        keepalive: Duration,
        resume_timeout: Duration,
    ) -> Self {
        let with_alpn = |protocols: Vec<Vec<u8>>| {
            let mut config = tls.clone();
            config.alpn_protocols = protocols;
            Arc::new(config)
        };
        Self {
            domain: domain.to_ascii_lowercase(),
            // Clients that start TLS in the stream send no ALPN.
            starttls: with_alpn(Vec::new()),
            direct_tls: with_alpn(vec![b"xmpp-client".to_vec()]),
            grace,
            keepalive,
            jids: RwLock::default(),
            resume_timeout,
            resumable: Arc::default(),
            registration: false,
            admins: Vec::new(),
            server_end_point: None,
            file_urls: None,
            proxies: Vec::new(),
        }
    }

    /// The door, taking connections on a cleartext listener from
    /// `proxies` as well as from loopback.
    pub fn with_trusted_proxies(mut self, proxies: Vec<ipnet::IpNet>) -> Self {
        self.proxies = proxies;
        self
    }

    /// Whether a connection from `peer` may speak XMPP without TLS: only
    /// a TLS-terminating proxy (or a benchmark) on this host or among the
    /// trusted proxies; anyone else could read and forge what crosses it.
    fn takes_cleartext_from(&self, peer: IpAddr) -> bool {
        peer.to_canonical().is_loopback() || self.proxies.iter().any(|net| net.contains(&peer))
    }

    /// The door, letting clients make accounts (XEP-0077) if `registration`.
    pub fn with_registration(mut self, registration: bool) -> Self {
        self.registration = registration;
        self
    }

    /// The door, letting the users `admins` names run the administration
    /// commands (XEP-0133).
    pub fn with_admins(mut self, admins: Vec<String>) -> Self {
        self.admins = admins;
        self
    }

    /// The door, offering HTTP upload (XEP-0363) to the web door at `urls`
    /// and giving each reader of a file their own link there.
    pub fn with_file_urls(mut self, urls: FileUrls) -> Self {
        self.file_urls = Some(urls);
        self
    }

    /// The door, offering SCRAM's -PLUS mechanisms with the
    /// `tls-server-end-point` binding (RFC 5929) of the certificate
    /// `certificate` serves at the time (an import swaps it), on every
    /// connection, TLS 1.2 ones too.
    pub fn with_server_end_point(mut self, certificate: Arc<LiveCertificate>) -> Self {
        self.server_end_point = Some(certificate);
        self
    }

    /// The bare JID of `user` (see [`jid::jid_of`]), made once.
    fn jid(&self, user: &UserId) -> Option<BareJid> {
        let known = self.jids.read().unwrap_or_else(PoisonError::into_inner).get(user).cloned();
        if let Some(jid) = known {
            return jid;
        }
        let jid = jid::jid_of(user.as_str(), &self.domain);
        let mut jids = self.jids.write().unwrap_or_else(PoisonError::into_inner);
        jids.insert(user.clone(), jid.clone());
        jid
    }
}

/// How a listener's clients start TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Plain TCP, then STARTTLS, which the server requires (port 5222).
    StartTls,
    /// TLS from the first byte (XEP-0368, port 5223).
    DirectTls,
    /// No TLS: plain TCP from a TLS-terminating proxy on this host or in
    /// `trusted_proxies`, the only peers such a listener takes.
    Cleartext,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::StartTls => "STARTTLS",
            Self::DirectTls => "direct TLS",
            Self::Cleartext => "cleartext, from proxies only",
        })
    }
}

/// Serves XMPP clients on `listener` until `stopped` turns true; open
/// connections end with a `system-shutdown` stream error then.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    door: Arc<Door>,
    transport: Transport,
    gate: ConnectionGate,
    mut stopped: watch::Receiver<bool>,
) -> io::Result<()> {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: the listener
                // itself is fine; wait a moment rather than spin.
                Err(error) => {
                    tracing::warn!(%error, "XMPP: cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = until_stopped(&mut stopped) => return Ok(()),
        };
        if transport == Transport::Cleartext && !door.takes_cleartext_from(peer.ip()) {
            tracing::warn!(
                client = %peer.ip(),
                "XMPP: a cleartext connection from outside loopback and server.trusted_proxies; \
                 closed (clients use STARTTLS or direct TLS)"
            );
            continue;
        }
        // Over the connections one address (or everyone) may hold: closed
        // before a byte is read, as the other doors do.
        let Some(ticket) = gate(peer.ip()) else { continue };
        // Each stanza is written and flushed on its own: without this a
        // second small write waits for the client's delayed ACK (40 ms),
        // which made a sign-in take 88 ms on loopback (BENCHMARKS.md §7).
        let _ = stream.set_nodelay(true);
        let (service, door, stopped) = (service.clone(), door.clone(), stopped.clone());
        tokio::spawn(connection::run(stream, peer, ticket, service, door, transport, stopped));
    }
}

async fn until_stopped(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}
