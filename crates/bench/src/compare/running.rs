//! A server under comparison once started: where it listens, how its
//! users sign in, which process to measure, and how to stop it.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use anyhow::Context as _;

use crate::server::{Memory, Server};

/// How a server is reached over XMPP.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The XMPP domain of its users (`user1@DOMAIN`).
    pub domain: String,
    /// The client port with STARTTLS (127.0.0.1).
    pub starttls: SocketAddr,
    /// The client port with TLS from the first byte (XEP-0368).
    pub direct_tls: SocketAddr,
    /// The client port that takes SASL PLAIN without TLS (for the
    /// figures without TLS), if any: servers refuse it by default.
    pub cleartext: Option<SocketAddr>,
    /// The certificate (PEM) that verifies the server's for `localhost`.
    pub ca_pem: Vec<u8>,
    /// What each user signs in with.
    pub secrets: Secrets,
}

/// What users sign in with (SASL PLAIN).
#[derive(Debug, Clone)]
pub enum Secrets {
    /// Everyone's password: the server hashes it at each sign-in.
    Password(String),
    /// One secret per user, by index (Simul: an LtpaToken2 each).
    PerUser(Vec<String>),
}

impl Secrets {
    /// User number `index`'s secret.
    pub fn of(&self, index: usize) -> &str {
        match self {
            Self::Password(password) => password,
            Self::PerUser(secrets) => &secrets[index % secrets.len()],
        }
    }
}

/// The process that owns a running server.
pub enum Owner {
    /// `simul serve`, with its own start and stop.
    Simul(Server),
    /// Another server, run in the foreground: SIGTERM stops it.
    Process(Foreground),
}

/// A server process run in the foreground, killed if it is dropped
/// before it was stopped (a scenario that failed half-way).
pub struct Foreground(pub Child);

impl Drop for Foreground {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A server under comparison, started fresh with a [`Population`].
///
/// [`Population`]: super::population::Population
pub struct Running {
    /// `simul`, `prosody` or `ejabberd`.
    pub name: &'static str,
    /// Its version, as its package or binary tells it.
    pub version: String,
    /// Where and how to sign in.
    pub endpoint: Endpoint,
    /// The settings that matter for a fair comparison, one line each
    /// (listen backlog, logging, hashing, modules), for the report.
    pub settings: Vec<String>,
    /// A command that makes the server return garbage it holds (ejabberd:
    /// a garbage collection of every Erlang process), run before the
    /// second memory reading; none when the server frees as it goes.
    pub collect_garbage: Option<Vec<OsString>>,
    /// What to stop.
    pub owner: Owner,
    /// Where it archives 1:1 messages, if it does.
    pub archive: Option<Archive>,
}

/// Where a server keeps the 1:1 messages it archives: an SQLite database,
/// read once the server has stopped, so that a report says how many
/// messages were kept, not only that archiving was configured.
#[derive(Debug, Clone)]
pub struct Archive {
    /// The database file.
    pub database: PathBuf,
    /// The statement that counts the messages archived (a server that
    /// keeps a copy in each user's archive counts half its rows).
    pub count: &'static str,
}

impl Archive {
    /// The messages it holds, and the size of its files (the database
    /// and what is left of its log) in bytes.
    pub async fn measure(&self) -> anyhow::Result<serde_json::Value> {
        use sqlx::{ConnectOptions as _, Connection as _};
        let mut connection = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&self.database)
            .read_only(true)
            .connect()
            .await
            .with_context(|| format!("cannot open the archive {}", self.database.display()))?;
        let messages: i64 = sqlx::query_scalar(self.count).fetch_one(&mut connection).await?;
        connection.close().await?;
        let bytes: u64 = ["", "-wal"]
            .iter()
            .filter_map(|suffix| {
                let mut path = self.database.clone().into_os_string();
                path.push(suffix);
                std::fs::metadata(path).ok()
            })
            .map(|metadata| metadata.len())
            .sum();
        Ok(serde_json::json!({ "messages": messages, "bytes": bytes }))
    }
}

/// Longest wait for a server to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

impl Running {
    /// The process whose memory and CPU count: the one started (Prosody's
    /// script runs in lua5.4 itself; ejabberd's control script `exec`s
    /// into the Erlang VM).
    pub fn pid(&self) -> u32 {
        match &self.owner {
            Owner::Simul(server) => server.pid(),
            Owner::Process(process) => process.0.id(),
        }
    }

    /// Its memory now.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        Memory::of(self.pid())
    }

    /// Runs [`Running::collect_garbage`], if any; whether it ran.
    pub async fn collect_garbage(&self) -> anyhow::Result<bool> {
        let Some(command) = &self.collect_garbage else { return Ok(false) };
        let (program, args) = command.split_first().context("an empty garbage command")?;
        let status = tokio::process::Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .await
            .with_context(|| format!("cannot run {}", program.to_string_lossy()))?;
        anyhow::ensure!(status.success(), "{} failed: {status}", program.to_string_lossy());
        Ok(true)
    }

    /// Fails when the server has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        match &mut self.owner {
            Owner::Simul(server) => server.check_alive(),
            Owner::Process(process) => match process.0.try_wait()? {
                Some(status) => anyhow::bail!("{} exited with {status}", self.name),
                None => Ok(()),
            },
        }
    }

    /// Stops it: SIGTERM, then SIGKILL after a while.
    pub async fn stop(self) -> anyhow::Result<()> {
        match self.owner {
            Owner::Simul(server) => server.stop().await,
            Owner::Process(mut process) => {
                crate::server::terminate(&mut process.0, self.name, STOP_TIMEOUT).await
            }
        }
    }
}
