//! What the two servers of Debian's packages (Prosody, ejabberd) share
//! when they are started for a comparison: their version, free ports, one
//! kind of certificate, and the start in the foreground up to the first
//! user's sign-in.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

pub use crate::server::free_ports;

use super::population::Population;
use super::running::{Endpoint, Foreground, Secrets};
use super::xmpp_client::{Session, Tls, Transport};

/// Longest wait for one sign-in without TLS while the server starts.
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

/// Writes a fresh CA and a server certificate it signs for `localhost`
/// and 127.0.0.1 into `dir` (`ca.pem`, `server.pem`, `server-key.pem`:
/// the same kind of key, ECDSA P-256, for every server); the CA's PEM.
pub fn certificates(dir: &Path) -> anyhow::Result<Vec<u8>> {
    simul_testkit::write_certificates(dir);
    std::fs::read(dir.join("ca.pem")).context("cannot read the CA certificate")
}

/// The XMPP domain of the users of both servers.
pub const DOMAIN: &str = "localhost";

/// How both servers are reached: their STARTTLS port (which also takes
/// PLAIN without TLS) and direct-TLS port on 127.0.0.1, certificates
/// that `ca_pem` verifies, and the population's one password.
pub fn endpoint(
    [starttls, direct_tls]: [u16; 2],
    ca_pem: Vec<u8>,
    population: &Population,
) -> Endpoint {
    let loopback = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    Endpoint {
        domain: DOMAIN.to_owned(),
        starttls: loopback(starttls),
        direct_tls: loopback(direct_tls),
        // Allowed on the STARTTLS port by the instance's settings.
        cleartext: Some(loopback(starttls)),
        ca_pem,
        secrets: Secrets::Password(population.password.clone()),
    }
}

/// Runs `command` (the server, in the foreground, its output to
/// `dir/console.log`) and waits, at most `within`, until it serves
/// `endpoint` as it should ([`await_sign_in`]); the process, killed if the
/// wait fails.
pub async fn launch(
    mut command: Command,
    dir: &Path,
    endpoint: &Endpoint,
    population: &Population,
    log: &Path,
    within: Duration,
) -> anyhow::Result<Foreground> {
    let program = command.get_program().to_string_lossy().into_owned();
    let console = std::fs::File::create(dir.join("console.log"))?;
    let child = command
        .stdin(Stdio::null())
        .stdout(console.try_clone()?)
        .stderr(console)
        .spawn()
        .with_context(|| format!("cannot run {program}"))?;
    let mut process = Foreground(child);
    await_sign_in(&mut process.0, endpoint, population, within, log).await?;
    Ok(process)
}

/// Waits until the population's first user can sign in without TLS (both
/// servers are configured to take PLAIN there), for at most `within`,
/// then signs in once more with STARTTLS and checks its contact list (a
/// server may serve while its TLS is broken, or without the contacts it
/// was given); fails early, with the tail of `log`, if `child` exits.
pub async fn await_sign_in(
    child: &mut Child,
    endpoint: &Endpoint,
    population: &Population,
    within: Duration,
    log: &Path,
) -> anyhow::Result<()> {
    let tls = Tls::new(&endpoint.ca_pem)?;
    let user = Population::name(0);
    let sign_in = |transport| {
        let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
        Session::sign_in(endpoint, &tls, transport, localhost, &user, endpoint.secrets.of(0))
    };
    let deadline = Instant::now() + within;
    loop {
        let tried = tokio::time::timeout(STEP_TIMEOUT, sign_in(Transport::Cleartext)).await;
        if let Ok(Ok(session)) = tried {
            session.writer.close().await;
            let session = sign_in(Transport::Starttls)
                .await
                .with_context(|| format!("no sign-in with STARTTLS:\n{}", log_tail(log)))?;
            session.writer.close().await;
            let expected = population.contacts(0).count();
            anyhow::ensure!(
                session.roster_items == expected,
                "{user} has {} contacts instead of {expected}:\n{}",
                session.roster_items,
                log_tail(log)
            );
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("the server exited ({status}):\n{}", log_tail(log));
        }
        if Instant::now() > deadline {
            let why = match tried {
                Ok(Err(e)) => format!("{e:#}"),
                _ => format!("no answer in {STEP_TIMEOUT:?}"),
            };
            bail!("no sign-in within {within:?} ({why}):\n{}", log_tail(log));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The last lines of a log file.
pub fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
