//! The scenarios, one module each, and what they share.

pub mod chaos;
pub mod console;
pub mod im;
pub mod ldap;
pub mod logins;
pub mod presence;
pub mod sessions;
pub mod startup;
pub mod vp_logins;
pub mod xmpp_logins;

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::server::Server;
use crate::tokens::{Minter, user_names};
use crate::{Common, Scratch};

/// Descriptors the benchmark keeps for itself besides the sessions.
const SPARE_FDS: u64 = 256;

/// Fails early when `sessions` sockets would not fit the descriptor limit.
pub fn check_fds(sessions: usize, nofile: u64) -> anyhow::Result<()> {
    if sessions as u64 + SPARE_FDS > nofile {
        bail!(
            "{sessions} sessions need about {} open files, the limit is {nofile}: \
             raise the hard limit (`ulimit -Hn`, as root with CAP_SYS_RESOURCE)",
            sessions as u64 + SPARE_FDS
        );
    }
    Ok(())
}

/// Which front door a scenario's sessions use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Door {
    /// WebSockets on `/api/v1/events`.
    Web,
    /// The Sametime VP door (`simul serve --vp`).
    Vp,
    /// Every other session on each: pairs of a web and a VP session.
    Mixed,
    /// The XMPP door (`[xmpp] listen`, `listen_tls`), over the transport
    /// `--xmpp-transport` names.
    Xmpp,
}

impl Door {
    /// Whether session number `index` is a VP session.
    pub fn is_vp(self, index: usize) -> bool {
        match self {
            Self::Web => false,
            Self::Vp => true,
            Self::Mixed => index % 2 == 1,
            Self::Xmpp => false,
        }
    }

    /// Its name in the results.
    pub fn name(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Vp => "vp",
            Self::Mixed => "web-vp",
            Self::Xmpp => "xmpp",
        }
    }
}

/// A server started on a fresh data directory, with tokens for `count`
/// users `bench-000000`… minted with its keys.
pub struct Fresh {
    /// The deployment's directory, held so that it is removed only when
    /// this is dropped.
    _scratch: Scratch,
    /// The running server.
    pub server: Server,
    /// The user names.
    pub users: Vec<String>,
    /// One LtpaToken2 per user, in the same order.
    pub tokens: Vec<String>,
    /// The server's TLS certificate (PEM), which XMPP sessions trust.
    pub certificate: Vec<u8>,
}

impl Fresh {
    /// Starts the server (web door only) and mints the tokens.
    pub async fn start(common: &Common, count: usize) -> anyhow::Result<Self> {
        Self::start_for(common, count, Door::Web, &[]).await
    }

    /// Starts the server with the doors `door` needs, after adding
    /// `password_users` to the embedded realm (password [`PASSWORD`]),
    /// and mints the tokens.
    pub async fn start_for(
        common: &Common,
        count: usize,
        door: Door,
        password_users: &[String],
    ) -> anyhow::Result<Self> {
        let scratch = common.scratch()?;
        let data = scratch.data();
        if !password_users.is_empty() {
            eprintln!(
                "adding {} users with passwords (argon2, one at a time)",
                password_users.len()
            );
            tokio::task::block_in_place(|| {
                add_users(&common.simul, &data, password_users, PASSWORD)
            })?;
        }
        let server = match door {
            Door::Web => Server::start(&common.simul, &data, &scratch.log(0)).await?,
            Door::Vp | Door::Mixed => {
                Server::start_with_vp(&common.simul, &data, &scratch.log(0)).await?
            }
            Door::Xmpp => Server::start_with_xmpp(&common.simul, &data, &scratch.log(0)).await?,
        };
        let certificate = std::fs::read(data.join("tls-certificate.pem")).unwrap_or_default();
        let minter = Minter::from_data_dir(&data)?;
        let users = user_names(count);
        let tokens = tokio::task::block_in_place(|| minter.mint_all(&users));
        Ok(Self { _scratch: scratch, server, users, tokens, certificate })
    }
}

/// The password of the users the bench adds to the embedded realm.
pub const PASSWORD: &str = "long enough";

/// Adds `users` to the embedded realm of the data directory `data` with
/// `simul user add` and `password`, as an administrator would; the server
/// may run or not.
pub fn add_users(
    simul: &Path,
    data: &Path,
    users: &[impl AsRef<str>],
    password: &str,
) -> anyhow::Result<()> {
    // Beside the data directory, which `simul user add` creates.
    let password_file = data.with_file_name("bench-password");
    std::fs::write(&password_file, format!("{password}\n"))?;
    for user in users.iter().map(AsRef::as_ref) {
        let out = std::process::Command::new(simul)
            .args(["user", "add", user, "--password-file"])
            .arg(&password_file)
            .arg("--data")
            .arg(data)
            .output()
            .with_context(|| format!("cannot run {}", simul.display()))?;
        if !out.status.success() {
            bail!("simul user add {user}: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
    }
    Ok(())
}
