//! `sessions`: memory per logged-in idle session, WebSocket or Sametime
//! VP (`--door vp`), (RSS with N sessions − RSS before them) / N.
//!
//! The headline figure is against the idle server. A second figure is
//! against a baseline read after a few warm-up sessions opened and closed,
//! which leaves out what the first sessions initialise once (database
//! connections, lazily built tables) but counts memory the allocator kept
//! from the warm-up sessions as if it were the new sessions' own.

use serde_json::{Value, json};

use std::time::Duration;

use super::{Door, Fresh, check_fds};
use crate::Common;
use crate::peer::{Peer, close_all, open_all};
use crate::server::{KernelMemory, Memory};

/// Options of `sessions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Session counts to measure, each on a freshly started server.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    sessions: Vec<usize>,
    /// Sessions opened and closed before the baseline reading.
    #[arg(long, default_value_t = 10)]
    warmup: usize,
    /// The door the sessions use (`web` or `vp`).
    #[arg(long, value_enum, default_value_t = Door::Web)]
    door: Door,
    /// Users each VP session watches (the first ones), as a Sametime
    /// client watches its buddy list.
    #[arg(long, value_name = "USERS", default_value_t = 0)]
    watch: usize,
}

/// Runs the scenario.
pub async fn run(common: &Common, args: &Args, nofile: u64) -> anyhow::Result<Value> {
    let mut results = Vec::new();
    for &count in &args.sessions {
        check_fds(count.max(args.warmup), nofile)?;
        results.push(measure(common, args, count).await?);
    }
    let door = args.door.name();
    Ok(json!({ "scenario": "sessions", "door": door, "watch": args.watch, "runs": results }))
}

async fn measure(common: &Common, args: &Args, count: usize) -> anyhow::Result<Value> {
    let (warmup, door) = (args.warmup, args.door);
    let mut fresh = Fresh::start_for(common, count + warmup, door, &[]).await?;
    common.settle().await;
    let idle = fresh.server.memory()?;

    let (warm, _) = open_all(&fresh, door, common, count..count + warmup).await?;
    close_all(warm).await;
    common.settle().await;
    let baseline = fresh.server.memory()?;
    let kernel_before = KernelMemory::now()?;

    let (mut sessions, took) = open_all(&fresh, door, common, 0..count).await?;
    eprintln!("sessions: {count} {} sessions open in {took:.1?}", door.name());
    if args.watch > 0 {
        let watched = &fresh.users[..args.watch.min(count)];
        for session in &mut sessions {
            if let Peer::Vp(session) = session {
                session.watch(watched, Duration::from_secs(30)).await?;
            }
        }
        eprintln!("sessions: each VP session watches {} users", watched.len());
    }
    common.settle().await;
    fresh.server.check_alive()?;
    let loaded = fresh.server.memory()?;
    let kernel = KernelMemory::now()?;

    close_all(sessions).await;
    common.settle().await;
    let after = fresh.server.memory()?;
    let log_lines = fresh.server.log_lines();
    fresh.server.stop().await?;

    let per_session = |before: &Memory, f: fn(&Memory) -> u64| {
        kib_per(f(&loaded).saturating_sub(f(before)), count)
    };
    Ok(json!({
        "sessions": count,
        "door": door.name(),
        "connect_seconds": (took.as_secs_f64() * 100.0).round() / 100.0,
        "connects_per_second": (count as f64 / took.as_secs_f64()).round(),
        "idle": idle.to_json(),
        "baseline_after_warmup": baseline.to_json(),
        "with_sessions": loaded.to_json(),
        "after_closing_them": after.to_json(),
        "per_session_rss_kib": per_session(&idle, |m| m.rss_kib),
        "per_session_anon_kib": per_session(&idle, |m| m.anon_kib),
        "per_session_rss_kib_after_warmup": per_session(&baseline, |m| m.rss_kib),
        // Machine-wide, both ends of each loopback connection, and
        // whatever else ran meanwhile: an upper bound.
        "kernel_per_session_kib": {
            "slab": kib_per(kernel.slab_kib.saturating_sub(kernel_before.slab_kib), count),
            "tcp_buffers": kib_per(kernel.tcp_buffers_kib.saturating_sub(kernel_before.tcp_buffers_kib), count),
        },
        "server_log_lines": log_lines,
    }))
}

/// `kib` shared among `count`, two decimals.
fn kib_per(kib: u64, count: usize) -> f64 {
    (kib as f64 / count.max(1) as f64 * 100.0).round() / 100.0
}
