//! What the two servers of Debian's packages (Prosody, ejabberd) share
//! when they are started for a comparison: their version, free ports, one
//! kind of certificate, and the wait until a user can sign in.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use simul_testkit::{RawXmpp, XmppTransport};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::population::Population;

/// Longest wait for one step of a sign-in without TLS.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// The version of a Debian package, as `dpkg-query` tells it: asking the
/// server itself may start it (`prosody --version` does).
pub fn version(package: &str) -> anyhow::Result<String> {
    let out = std::process::Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", package])
        .output()
        .context("cannot run dpkg-query")?;
    anyhow::ensure!(
        out.status.success() && !out.stdout.is_empty(),
        "{package} is not installed (apt-get install {package})"
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `N` distinct free TCP ports on 127.0.0.1.
pub fn free_ports<const N: usize>() -> anyhow::Result<[u16; N]> {
    // Held together while chosen, so that the kernel gives distinct ones.
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<Result<_, _>>()
        .context("cannot find a free port")?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

/// Writes a fresh CA and a server certificate it signs for `localhost`
/// and 127.0.0.1 into `dir` (`ca.pem`, `server.pem`, `server-key.pem`:
/// the same kind of key, ECDSA P-256, for every server); the CA's PEM.
pub fn certificates(dir: &Path) -> anyhow::Result<Vec<u8>> {
    simul_testkit::write_certificates(dir);
    std::fs::read(dir.join("ca.pem")).context("cannot read the CA certificate")
}

/// The address of a port on 127.0.0.1.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Waits until the population's first user can sign in over the STARTTLS
/// port without TLS (both servers are configured to take PLAIN there), for
/// at most `within`, then signs in once more with STARTTLS and `ca_pem`
/// and checks its contact list (a server may serve while its TLS is
/// broken, or without the contacts it was given); fails early, with the
/// tail of `log`, if `child` exits.
pub async fn await_sign_in(
    child: &mut Child,
    address: SocketAddr,
    ca_pem: &[u8],
    population: &Population,
    within: Duration,
    log: &Path,
) -> anyhow::Result<()> {
    let (user, password) = (Population::name(0), population.password.as_str());
    let deadline = Instant::now() + within;
    loop {
        let tried = sign_in_cleartext(address, &user, password).await;
        if tried.is_ok() {
            let contacts = contacts_with_tls(address, ca_pem, &user, password)
                .await
                .with_context(|| format!("no sign-in with STARTTLS:\n{}", log_tail(log)))?;
            let expected = population.contacts(0).count();
            anyhow::ensure!(
                contacts == expected,
                "{user} has {contacts} contacts instead of {expected}:\n{}",
                log_tail(log)
            );
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("the server exited ({status}):\n{}", log_tail(log));
        }
        if Instant::now() > deadline {
            let why = tried.err().map(|e| format!("{e:#}")).unwrap_or_default();
            bail!("no sign-in within {within:?} ({why}):\n{}", log_tail(log));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signs `user` in at `address` with PLAIN after STARTTLS, trusting
/// `ca_pem`; how many contacts its roster has.
pub async fn contacts_with_tls(
    address: SocketAddr,
    ca_pem: &[u8],
    user: &str,
    password: &str,
) -> anyhow::Result<usize> {
    let mut raw = RawXmpp::connect(address, XmppTransport::StartTls, ca_pem).await?;
    raw.open_stream("localhost").await?;
    raw.authenticate_plain(user, password).await?;
    raw.bind().await?;
    let roster =
        raw.request("<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>").await?;
    anyhow::ensure!(
        roster.contains("type='result'") || roster.contains("type=\"result\""),
        "no roster: {roster}"
    );
    Ok(roster.matches("<item ").count())
}

/// Signs `user` in at `address` with SASL PLAIN without TLS, on a stream
/// to `localhost`, and closes the stream; an error says what failed (no
/// connection, no PLAIN offered, the server's refusal).
pub async fn sign_in_cleartext(
    address: SocketAddr,
    user: &str,
    password: &str,
) -> anyhow::Result<()> {
    let mut tcp = TcpStream::connect(address).await?;
    let mut read = Vec::new();
    tcp.write_all(simul_testkit::stream_header("<?xml version='1.0'?>", "localhost").as_bytes())
        .await?;
    let features = read_until(&mut tcp, &mut read, &["</stream:features>"]).await?;
    anyhow::ensure!(features.contains(">PLAIN<"), "PLAIN is not offered without TLS: {features}");
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
    let auth = format!(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{credentials}</auth>"
    );
    tcp.write_all(auth.as_bytes()).await?;
    read.clear();
    let answer = read_until(&mut tcp, &mut read, &["<success", "</failure>", "<failure/>"]).await?;
    // A polite close; the answer is what counts.
    let _ = tcp.write_all(b"</stream:stream>").await;
    anyhow::ensure!(answer.contains("<success"), "PLAIN refused: {answer}");
    Ok(())
}

/// Reads into `read` until it holds one of `needles`; the text read.
async fn read_until(
    tcp: &mut TcpStream,
    read: &mut Vec<u8>,
    needles: &[&str],
) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
    let mut chunk = [0; 4096];
    loop {
        let text = String::from_utf8_lossy(read);
        if needles.iter().any(|needle| text.contains(needle)) {
            return Ok(text.into_owned());
        }
        let n = tokio::time::timeout_at(deadline, tcp.read(&mut chunk))
            .await
            .with_context(|| format!("no answer in {STEP_TIMEOUT:?}: {text}"))??;
        anyhow::ensure!(n > 0, "the server closed the stream: {text}");
        read.extend_from_slice(&chunk[..n]);
    }
}

/// The last lines of a log file.
pub fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
