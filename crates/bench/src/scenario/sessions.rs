//! `sessions`: memory per logged-in idle WebSocket session,
//! (RSS with N sessions − RSS before them) / N.
//!
//! The headline figure is against the idle server. A second figure is
//! against a baseline read after a few warm-up sessions opened and closed,
//! which leaves out what the first sessions initialise once (database
//! connections, lazily built tables) but counts memory the allocator kept
//! from the warm-up sessions as if it were the new sessions' own.

use serde_json::{Value, json};

use super::{Fresh, check_fds};
use crate::Common;
use crate::client::{close_all, connect_all};
use crate::server::Memory;

/// Options of `sessions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Session counts to measure, each on a freshly started server.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    sessions: Vec<usize>,
    /// Sessions opened and closed before the baseline reading.
    #[arg(long, default_value_t = 10)]
    warmup: usize,
}

/// Runs the scenario.
pub async fn run(common: &Common, args: &Args, nofile: u64) -> anyhow::Result<Value> {
    let mut results = Vec::new();
    for &count in &args.sessions {
        check_fds(count.max(args.warmup), nofile)?;
        results.push(measure(common, count, args.warmup).await?);
    }
    Ok(json!({ "scenario": "sessions", "runs": results }))
}

async fn measure(common: &Common, count: usize, warmup: usize) -> anyhow::Result<Value> {
    let mut fresh = Fresh::start(common, count + warmup).await?;
    let port = fresh.server.port();
    common.settle().await;
    let idle = fresh.server.memory()?;

    let (warm, _) = connect_all(port, &fresh.tokens[count..], common.connect_concurrency).await?;
    close_all(warm).await;
    common.settle().await;
    let baseline = fresh.server.memory()?;

    let (sessions, took) =
        connect_all(port, &fresh.tokens[..count], common.connect_concurrency).await?;
    eprintln!("sessions: {count} open in {took:.1?}");
    common.settle().await;
    fresh.server.check_alive()?;
    let loaded = fresh.server.memory()?;

    close_all(sessions).await;
    common.settle().await;
    let after = fresh.server.memory()?;
    let log_lines = fresh.server.log_lines();
    fresh.server.stop().await?;

    let per_session = |before: &Memory, f: fn(&Memory) -> u64| {
        let grown = f(&loaded).saturating_sub(f(before)) as f64;
        (grown / count.max(1) as f64 * 100.0).round() / 100.0
    };
    Ok(json!({
        "sessions": count,
        "connect_seconds": (took.as_secs_f64() * 100.0).round() / 100.0,
        "connects_per_second": (count as f64 / took.as_secs_f64()).round(),
        "idle": idle.to_json(),
        "baseline_after_warmup": baseline.to_json(),
        "with_sessions": loaded.to_json(),
        "after_closing_them": after.to_json(),
        "per_session_rss_kib": per_session(&idle, |m| m.rss_kib),
        "per_session_anon_kib": per_session(&idle, |m| m.anon_kib),
        "per_session_rss_kib_after_warmup": per_session(&baseline, |m| m.rss_kib),
        "server_log_lines": log_lines,
    }))
}
