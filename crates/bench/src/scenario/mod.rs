//! The scenarios, one module each, and what they share.

pub mod chaos;
pub mod im;
pub mod ldap;
pub mod presence;
pub mod sessions;
pub mod startup;

use anyhow::bail;

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
             run as root or raise it with `ulimit -n 65536`",
            sessions as u64 + SPARE_FDS
        );
    }
    Ok(())
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
}

impl Fresh {
    /// Starts the server and mints the tokens.
    pub async fn start(common: &Common, count: usize) -> anyhow::Result<Self> {
        let scratch = common.scratch()?;
        let server = Server::start(&common.simul, &scratch.data(), &scratch.log(0)).await?;
        let minter = Minter::from_data_dir(&scratch.data())?;
        let users = user_names(count);
        let tokens = tokio::task::block_in_place(|| minter.mint_all(&users));
        Ok(Self { _scratch: scratch, server, users, tokens })
    }
}
