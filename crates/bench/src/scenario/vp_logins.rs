//! `vp-logins`: Sametime VP logins per second and their latency, by LTPA
//! token (auth type 1, and pasted into the password field as stock
//! clients send it) and by password against the embedded realm.
//!
//! Each login is a new connection from one of the `--vp-sources` loopback
//! addresses: connect, HANDSHAKE, HANDSHAKE_ACK, LOGIN, LOGIN_ACK (the
//! latency: from before the connect to the LOGIN_ACK), then a logout.
//! `--concurrency` logins are under way at once. Every login costs the
//! server a Diffie-Hellman key pair (512-bit, spec §4.3) whatever the
//! credential; RC2/128 logins cost it (and the client) a shared key more,
//! and password logins an argon2id verification (19 MiB, 2 passes) on
//! the blocking pool. The server's login limits count failures only, but
//! attempts under way hold a place: at most 10 password attempts per
//! account and 30 per address are under way at once, so password logins
//! spread over `--password-users` users and the source addresses.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};

use super::logins::Plan;
use super::{Door, Fresh, PASSWORD};
use crate::Common;
use crate::server::Server;
use crate::vp::{Credential, VpSession, source_address};

/// Options of `vp-logins`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Logins by token, of each of the two kinds (auth type 1, pasted).
    #[arg(long, value_name = "N", default_value_t = 5000)]
    token_logins: usize,
    /// Logins by password.
    #[arg(long, value_name = "N", default_value_t = 300)]
    password_logins: usize,
    /// Users with a password (added with `simul user add` before the
    /// server starts); the password logins take turns among them.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1000))]
    password_users: u16,
    /// Token logins under way at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    concurrency: usize,
    /// Password logins under way at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    password_concurrency: usize,
    /// Longest time for each kind of login: no login starts after it.
    #[arg(long, value_name = "S", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
    max_seconds: u64,
}

/// Users whose tokens are minted, at most: token logins take turns.
const MAX_TOKEN_USERS: usize = 10_000;

/// One kind of login.
#[derive(Debug, Clone, Copy)]
enum Kind {
    TokenAuthType,
    TokenPasted,
    Password,
}

/// Runs the scenario.
pub async fn run(common: &Common, args: &Args) -> anyhow::Result<Value> {
    let password_users: Vec<String> =
        (0..args.password_users).map(|i| format!("vp-pw-{i:04}")).collect();
    let token_users = args.token_logins.clamp(1, MAX_TOKEN_USERS);
    let mut fresh = Fresh::start_for(common, token_users, Door::Vp, &password_users).await?;
    let mut runs = Vec::new();
    for kind in [Kind::TokenAuthType, Kind::TokenPasted, Kind::Password] {
        runs.push(measure(common, args, &fresh, &password_users, kind).await?);
        fresh.server.check_alive()?;
    }
    let log_lines = fresh.server.log_lines();
    fresh.server.stop().await?;
    Ok(json!({
        "scenario": "vp-logins",
        "concurrency": args.concurrency,
        "password_concurrency": args.password_concurrency,
        "password_users": args.password_users,
        "vp_sources": common.vp_sources,
        "runs": runs,
        "server_log_lines": log_lines,
    }))
}

async fn measure(
    common: &Common,
    args: &Args,
    fresh: &Fresh,
    password_users: &[String],
    kind: Kind,
) -> anyhow::Result<Value> {
    let server: &Server = &fresh.server;
    let address = server.vp_address().context("the VP door is not listening")?;
    let (name, count, concurrency) = match kind {
        Kind::TokenAuthType => ("token (auth type 1)", args.token_logins, args.concurrency),
        Kind::TokenPasted => ("token as password (RC2/128)", args.token_logins, args.concurrency),
        Kind::Password => {
            ("password (RC2/128, argon2)", args.password_logins, args.password_concurrency)
        }
    };
    let plan = Plan { count, concurrency, max: Duration::from_secs(args.max_seconds) };
    super::logins::measure("vp-logins", name, server.pid(), plan, |i| async move {
        let (user, credential) = match kind {
            Kind::TokenAuthType => {
                let n = i % fresh.users.len();
                (&fresh.users[n], Credential::Token(&fresh.tokens[n]))
            }
            Kind::TokenPasted => {
                let n = i % fresh.users.len();
                (&fresh.users[n], Credential::Password(&fresh.tokens[n]))
            }
            Kind::Password => {
                (&password_users[i % password_users.len()], Credential::Password(PASSWORD))
            }
        };
        let source = source_address(i, common.vp_sources);
        let begun = Instant::now();
        let session = VpSession::log_in(address, source, user, credential).await?;
        let took = begun.elapsed();
        session.log_out().await;
        Ok(took)
    })
    .await
}
