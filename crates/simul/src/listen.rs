//! The accept loops of the web listeners, with what a server facing the
//! whole network needs: a request's headers must arrive within a time
//! limit (which also ends idle keep-alive connections), a TLS handshake
//! too, and open connections are capped per client address and in all,
//! below the process's open-files limit, so that a few thousand sockets
//! that never finish a request cannot keep everyone else out.
//!
//! Connections speak HTTP/1.1 (WebSocket upgrades included) or HTTP/2
//! (`hyper_util`'s auto builder), over TCP or TLS (`tokio-rustls`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tower::Service as _;

/// How long open connections get to finish after the stop signal.
const GRACE: Duration = Duration::from_secs(10);
/// At most one log line about refused connections this often.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);
/// Open files kept for everything but client connections (the database,
/// LDAP, key files, listeners).
const RESERVED_FILES: u64 = 256;

/// The limits on connections (`[server]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time for a request's headers to arrive, and for an idle keep-alive
    /// connection to send its next request.
    pub header_timeout: Duration,
    /// Time for a TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// Open connections from one client address.
    pub per_address: usize,
    /// Open connections in all (every listener together).
    pub total: usize,
}

/// Raises the soft open-files limit to the hard one and says what they
/// are; the total connection cap must stay below it.
pub fn raise_open_files_limit() -> std::io::Result<(u64, u64)> {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
    let raised = if soft < hard { rlimit::increase_nofile_limit(hard)? } else { soft };
    Ok((raised, hard))
}

/// The most connections `open_files` leaves room for.
pub fn connections_for(open_files: u64) -> usize {
    usize::try_from(open_files.saturating_sub(RESERVED_FILES).max(16)).unwrap_or(usize::MAX)
}

/// Who may connect: counts open connections per address and in all.
#[derive(Debug)]
pub struct Gate {
    limits: ConnectionLimits,
    /// Reverse proxies: they hold everyone's connections, so only the
    /// total applies to them.
    proxies: Vec<ipnet::IpNet>,
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
    /// Refusals not yet logged, and when the last log line was written.
    unlogged: u64,
    last_logged: Option<Instant>,
}

/// An admitted connection's place; given back when dropped.
#[derive(Debug)]
struct Ticket {
    gate: Arc<Gate>,
    address: IpAddr,
}

/// Why a connection was refused (the `reason` of the metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    PerAddress,
    Total,
}

impl Gate {
    /// A gate with these limits; `proxies` are exempt from the one per address.
    pub fn new(limits: ConnectionLimits, proxies: Vec<ipnet::IpNet>) -> Arc<Self> {
        Arc::new(Self { limits, proxies, state: Mutex::new(GateState::default()) })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, GateState> {
        // Counters only: a panic elsewhere leaves them usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The gate as the other doors ask it (`simul_service::ConnectionGate`):
    /// one count with the HTTP listeners'.
    pub fn for_doors(self: &Arc<Self>) -> simul_service::ConnectionGate {
        let gate = Arc::clone(self);
        Arc::new(move |address| {
            let ticket = gate.admit(address).ok()?;
            Some(Box::new(ticket) as simul_service::ConnectionTicket)
        })
    }

    fn admit(self: &Arc<Self>, address: IpAddr) -> Result<Ticket, Refusal> {
        let mut state = self.state();
        let from_address = state.by_address.get(&address).copied().unwrap_or(0);
        let refusal = if state.total >= self.limits.total {
            Some(Refusal::Total)
        } else if from_address >= self.limits.per_address
            && !self.proxies.iter().any(|proxy| proxy.contains(&address))
        {
            Some(Refusal::PerAddress)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            state.unlogged += 1;
            let due = state.last_logged.is_none_or(|at| at.elapsed() >= REFUSAL_LOG_EVERY);
            if due {
                let (n, total) = (state.unlogged, state.total);
                tracing::warn!(
                    peer = %address, open = total, refused = n,
                    "connection refused: {} (server.max_connections_per_address = {}, \
                     server.max_connections = {})",
                    match refusal {
                        Refusal::PerAddress => "too many from this address",
                        Refusal::Total => "too many in all",
                    },
                    self.limits.per_address,
                    self.limits.total,
                );
                state.unlogged = 0;
                state.last_logged = Some(Instant::now());
            }
            let reason = match refusal {
                Refusal::PerAddress => "per_address",
                Refusal::Total => "total",
            };
            metrics::counter!("simul_connections_refused_total", "reason" => reason).increment(1);
            return Err(refusal);
        }
        state.total += 1;
        *state.by_address.entry(address).or_insert(0) += 1;
        metrics::gauge!("simul_connections").set(state.total as f64);
        Ok(Ticket { gate: Arc::clone(self), address })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.gate.state();
        state.total = state.total.saturating_sub(1);
        if let Some(n) = state.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                state.by_address.remove(&self.address);
            }
        }
        metrics::gauge!("simul_connections").set(state.total as f64);
    }
}

/// Serves `app` on `listener` until `stopped`, then gives open
/// connections [`GRACE`] to finish. With `tls`, every connection starts
/// with a TLS handshake.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: axum::Router,
    gate: Arc<Gate>,
    stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(gate.limits.header_timeout);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(gate.limits.header_timeout);
    let builder = Arc::new(builder);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let stop = signalled(stopped.clone());
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most likely: wait for some to close.
                    tracing::warn!(%error, "cannot accept connections");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Ok(ticket) = gate.admit(peer.ip()) else {
            refuse(tcp, tls.is_none());
            continue;
        };
        // Events are small writes: Nagle's algorithm would hold them back
        // behind the client's delayed ACKs.
        let _ = tcp.set_nodelay(true);
        let service = match make_service.call(peer).await {
            Ok(service) => TowerToHyperService::new(service),
            Err(never) => match never {},
        };
        let (builder, watcher, tls) = (Arc::clone(&builder), graceful.watcher(), tls.clone());
        let (handshake_timeout, header_timeout) =
            (gate.limits.tls_handshake_timeout, gate.limits.header_timeout);
        let stopped = stopped.clone();
        tokio::spawn(async move {
            let _ticket = ticket;
            // Before its first request a connection has nothing to finish:
            // a stop closes it at once instead of waiting out the grace.
            match tls {
                None => {
                    // hyper waits for the first bytes (to tell HTTP/1 from
                    // HTTP/2) without a limit: a client that connects and
                    // says nothing gets the header timeout too.
                    let mut first = [0u8; 1];
                    let first_bytes = tokio::time::timeout(header_timeout, tcp.peek(&mut first));
                    match unless_stopped(first_bytes, stopped).await {
                        Some(Ok(_)) => {
                            connection(&builder, watcher, TokioIo::new(tcp), service).await;
                        }
                        Some(Err(_)) => {
                            tracing::debug!(%peer, "no request within the header timeout");
                        }
                        None => {}
                    }
                }
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(handshake_timeout, acceptor.accept(tcp));
                    match unless_stopped(handshake, stopped).await {
                        Some(Ok(Ok(stream))) => {
                            connection(&builder, watcher, TokioIo::new(stream), service).await;
                        }
                        Some(Ok(Err(error))) => {
                            tracing::debug!(%peer, %error, "TLS handshake failed");
                        }
                        Some(Err(_)) => tracing::debug!(%peer, "TLS handshake timed out"),
                        None => {}
                    }
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(GRACE) => tracing::info!("connections still open after {GRACE:?}: closed"),
    }
    Ok(())
}

/// What `work` gives, or `None` if the stop signal comes first.
async fn unless_stopped<T>(
    work: impl std::future::Future<Output = T>,
    stopped: watch::Receiver<bool>,
) -> Option<T> {
    tokio::select! {
        done = work => Some(done),
        () = signalled(stopped) => None,
    }
}

/// Resolves once the stop signal was given (or its sender is gone).
async fn signalled(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Serves one connection until it ends or the shutdown asks it to.
async fn connection<I, S>(
    builder: &auto::Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    io: TokioIo<I>,
    service: TowerToHyperService<S>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let served = watcher.watch(builder.serve_connection_with_upgrades(io, service).into_owned());
    if let Err(error) = served.await {
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// Tells a refused plain-HTTP client why, if its socket takes the words at
/// once, and closes. (A TLS client cannot read a plain answer: it is closed.)
fn refuse(tcp: tokio::net::TcpStream, plain_http: bool) {
    if plain_http {
        let _ = tcp.try_write(
            b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 10\r\n\
              Content-Type: text/plain\r\nContent-Length: 29\r\n\r\ntoo many connections; retry\r\n",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_address: usize, total: usize) -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(1),
            tls_handshake_timeout: Duration::from_secs(1),
            per_address,
            total,
        }
    }

    #[test]
    fn the_gate_counts_per_address_and_in_all() {
        let gate = Gate::new(limits(2, 3), vec!["192.0.2.9/32".parse().unwrap()]);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = gate.admit(a).unwrap();
        let _second = gate.admit(a).unwrap();
        assert_eq!(gate.admit(a).unwrap_err(), Refusal::PerAddress);
        let _third = gate.admit(b).unwrap();
        assert_eq!(gate.admit(b).unwrap_err(), Refusal::Total);
        drop(first);
        assert!(gate.admit(a).is_ok(), "a closed connection gives its place back");
        let proxied = Gate::new(limits(1, 3), vec!["192.0.2.9/32".parse().unwrap()]);
        let proxy: IpAddr = "192.0.2.9".parse().unwrap();
        let _held: Vec<_> = (0..3).map(|_| proxied.admit(proxy).unwrap()).collect();
        assert_eq!(proxied.admit(proxy).unwrap_err(), Refusal::Total, "a proxy has the total only");
    }

    #[test]
    fn connections_stay_below_the_open_files_limit() {
        assert_eq!(connections_for(1024), 768);
        assert_eq!(connections_for(100), 16);
        assert_eq!(connections_for(1_048_576), 1_048_320);
    }
}
