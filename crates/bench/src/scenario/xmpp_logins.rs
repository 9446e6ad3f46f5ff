//! `xmpp-logins`: XMPP sign-ins per second and their latency, from before
//! the connect to the answer to the resource binding (TLS handshake,
//! stream headers and features, SASL, restart, bind), then the stream is
//! ended. Kinds: PLAIN with an LTPA token as the password (any realm),
//! PLAIN with a password and SCRAM-SHA-256 (users of the embedded realm,
//! added with `simul user add`), over direct TLS (XEP-0368); and the token
//! over STARTTLS, for the cost of the extra round trips; and the token over
//! direct TLS once more with the client resuming TLS sessions from the
//! server's tickets, as clients that reconnect do (`tls_resumed` says how
//! many did). The door has no plain-text listener, so every sign-in pays a
//! TLS handshake.
//!
//! A password sign-in costs the server an argon2id verification (PLAIN)
//! or a PBKDF2 it does not redo (SCRAM: the client computes 4,096
//! HMAC-SHA-256 rounds, the server only checks a proof against stored
//! keys). The login limits hold at most 10 password attempts per account
//! under way at once, so those sign-ins spread over `--password-users`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};
use simul_testkit::{TlsResumption, XmppTransport};

use super::logins::Plan;
use super::{Door, Fresh, PASSWORD};
use crate::Common;
use crate::xmpp::{Sasl, XmppSession};

/// Options of `xmpp-logins`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Sign-ins with a token, over each transport.
    #[arg(long, value_name = "N", default_value_t = 3000)]
    token_logins: usize,
    /// Sign-ins with a password, of each mechanism.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    password_logins: usize,
    /// Users with a password (added before the server starts).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1000))]
    password_users: u16,
    /// Sign-ins under way at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    concurrency: usize,
    /// Longest time for each kind: no sign-in starts after it.
    #[arg(long, value_name = "S", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
    max_seconds: u64,
}

/// Users whose tokens are minted, at most: token sign-ins take turns.
const MAX_TOKEN_USERS: usize = 10_000;

/// One kind of sign-in.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Token(XmppTransport),
    /// Over direct TLS, resuming the TLS session of an earlier sign-in, as
    /// clients that reconnect do.
    TokenResumed,
    PlainPassword,
    ScramSha256,
}

/// Runs the scenario.
pub async fn run(common: &Common, args: &Args) -> anyhow::Result<Value> {
    let password_users: Vec<String> =
        (0..args.password_users).map(|i| format!("xmpp-pw-{i:04}")).collect();
    let token_users = args.token_logins.clamp(1, MAX_TOKEN_USERS);
    let mut fresh = Fresh::start_for(common, token_users, Door::Xmpp, &password_users).await?;
    let mut runs = Vec::new();
    for kind in [
        Kind::Token(XmppTransport::DirectTls),
        Kind::TokenResumed,
        Kind::Token(XmppTransport::StartTls),
        Kind::ScramSha256,
        Kind::PlainPassword,
    ] {
        runs.push(measure(args, &fresh, &password_users, kind).await?);
        fresh.server.check_alive()?;
    }
    let log_lines = fresh.server.log_lines();
    fresh.server.stop().await?;
    Ok(json!({
        "scenario": "xmpp-logins",
        "concurrency": args.concurrency,
        "password_users": args.password_users,
        "runs": runs,
        "server_log_lines": log_lines,
    }))
}

async fn measure(
    args: &Args,
    fresh: &Fresh,
    password_users: &[String],
    kind: Kind,
) -> anyhow::Result<Value> {
    let (name, count, transport) = match kind {
        Kind::Token(XmppTransport::DirectTls) => {
            ("PLAIN, token, direct TLS", args.token_logins, XmppTransport::DirectTls)
        }
        Kind::TokenResumed => {
            ("PLAIN, token, direct TLS resumed", args.token_logins, XmppTransport::DirectTls)
        }
        Kind::Token(XmppTransport::StartTls) => {
            ("PLAIN, token, STARTTLS", args.token_logins, XmppTransport::StartTls)
        }
        Kind::ScramSha256 => {
            ("SCRAM-SHA-256, password, direct TLS", args.password_logins, XmppTransport::DirectTls)
        }
        Kind::PlainPassword => {
            ("PLAIN, password (argon2), direct TLS", args.password_logins, XmppTransport::DirectTls)
        }
    };
    let address = fresh.server.xmpp_address(transport).context("the XMPP door is not listening")?;
    let plan =
        Plan { count, concurrency: args.concurrency, max: Duration::from_secs(args.max_seconds) };
    let resumption =
        if matches!(kind, Kind::TokenResumed) { TlsResumption::On } else { TlsResumption::Off };
    // A client resumes from a ticket it holds: one in flight at the start,
    // or more than the tickets it keeps at a time, makes a full handshake.
    let resumed = &AtomicUsize::new(0);
    let mut run =
        super::logins::measure("xmpp-logins", name, fresh.server.pid(), plan, |i| async move {
            let (user, sasl) = match kind {
                Kind::Token(_) | Kind::TokenResumed => {
                    let n = i % fresh.users.len();
                    (&fresh.users[n], Sasl::Plain(&fresh.tokens[n]))
                }
                Kind::PlainPassword => {
                    (&password_users[i % password_users.len()], Sasl::Plain(PASSWORD))
                }
                Kind::ScramSha256 => {
                    (&password_users[i % password_users.len()], Sasl::ScramSha256(PASSWORD))
                }
            };
            let begun = Instant::now();
            let tls = (transport, resumption);
            let session =
                XmppSession::log_in_with(address, tls, &fresh.certificate, user, sasl).await?;
            let took = begun.elapsed();
            if session.resumed() {
                resumed.fetch_add(1, Ordering::Relaxed);
            }
            session.log_out().await;
            Ok(took)
        })
        .await?;
    run["tls_resumed"] = json!(resumed.load(Ordering::Relaxed));
    Ok(run)
}
