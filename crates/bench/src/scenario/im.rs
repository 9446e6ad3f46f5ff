//! `im`: 1:1 instant messages over WebSockets, over the Sametime VP door
//! (`--door vp`), or between a web and a VP user (`--door mixed`).
//!
//! The N sessions form N/2 pairs. Each active pair keeps one message in
//! flight: one side sends `{"type":"im","to":..,"text":..}`, and when the
//! other side has the `{"type":"im"}` event it answers the same way, for
//! a fixed time. The server stores every message in SQLite (WAL) on the
//! sender's session task before that task reads its next command, so the
//! closed loop measures the store too. A VP session sends on an IM channel
//! it opens to its partner (plain text, spec §6.4); the server opens one
//! to the receiving VP session, which accepts it: both happen on the
//! first message of a pair, in the warm-up. Figures count the measured window
//! only, after a warm-up: messages delivered per second, and the latency
//! from just before the send to the receipt.

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::{Door, Fresh, check_fds};
use crate::Common;
use crate::peer::{Peer, close_all, open_all};
use crate::server::{cpu_percent, own_cpu};
use crate::stats::Latencies;

/// Options of `im`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Session counts to measure (even), each on a freshly started server.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    sessions: Vec<usize>,
    /// Pairs that send (default: all N/2); the others stay connected, idle.
    #[arg(long, value_name = "PAIRS")]
    active_pairs: Option<usize>,
    /// Measured time.
    #[arg(long, value_name = "S", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    seconds: u64,
    /// Time sending before the measurement starts.
    #[arg(long, value_name = "S", default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=60))]
    warmup_seconds: u64,
    /// The doors of the pairs: `web` (both WebSocket), `vp` (both
    /// Sametime VP) or `mixed` (a web and a VP user each).
    #[arg(long, value_enum, default_value_t = Door::Web)]
    door: Door,
}

/// Longest wait for one message to arrive; a pair that waits longer stops.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to look for late error frames once sending stops.
const DRAIN: Duration = Duration::from_millis(300);

/// Runs the scenario.
pub async fn run(common: &Common, args: &Args, nofile: u64) -> anyhow::Result<Value> {
    let mut results = Vec::new();
    for &count in &args.sessions {
        ensure!(count >= 2 && count.is_multiple_of(2), "--sessions must be even and at least 2");
        check_fds(count, nofile)?;
        results.push(measure(common, args, count).await?);
    }
    Ok(json!({
        "scenario": "im",
        "door": args.door.name(),
        "seconds": args.seconds,
        "warmup_seconds": args.warmup_seconds,
        "in_flight_per_pair": 1,
        "runs": results,
    }))
}

/// The window the figures count.
#[derive(Debug, Clone, Copy)]
struct Window {
    from: Instant,
    to: Instant,
}

/// What one pair saw.
#[derive(Debug, Default)]
struct PairResult {
    latencies: Vec<Duration>,
    delivered_in_window: u64,
    sent: u64,
    timeouts: u64,
    errors: u64,
}

async fn measure(common: &Common, args: &Args, count: usize) -> anyhow::Result<Value> {
    let mut fresh = Fresh::start_for(common, count, args.door, &[]).await?;
    let (sessions, took) = open_all(&fresh, args.door, common, 0..count).await?;
    eprintln!("im: {count} {} sessions open in {took:.1?}", args.door.name());
    let active = args.active_pairs.unwrap_or(count / 2).min(count / 2);

    let start = Instant::now();
    let window = Window {
        from: start + Duration::from_secs(args.warmup_seconds),
        to: start + Duration::from_secs(args.warmup_seconds + args.seconds),
    };
    let mut pairs = JoinSet::new();
    let mut idle = Vec::new();
    let mut sessions = sessions.into_iter();
    for (index, users) in fresh.users.chunks_exact(2).enumerate() {
        let (Some(a), Some(b)) = (sessions.next(), sessions.next()) else { break };
        if index < active {
            pairs.spawn(pair(a, b, [users[0].clone(), users[1].clone()], index, window));
        } else {
            idle.extend([a, b]);
        }
    }
    tokio::time::sleep_until(window.from.into()).await;
    let (server_cpu, bench_cpu) = (fresh.server.cpu()?, own_cpu()?);
    tokio::time::sleep_until(window.to.into()).await;
    let server_cpu = fresh.server.cpu()? - server_cpu;
    let bench_cpu = own_cpu()? - bench_cpu;
    let measured = window.to - window.from;

    let mut latencies = Vec::new();
    let mut total = PairResult::default();
    while let Some(result) = pairs.join_next().await {
        let result = result.context("a pair task failed")?;
        latencies.extend(result.latencies);
        total.delivered_in_window += result.delivered_in_window;
        total.sent += result.sent;
        total.timeouts += result.timeouts;
        total.errors += result.errors;
    }
    close_all(idle).await;
    fresh.server.check_alive()?;
    let log_lines = fresh.server.log_lines();
    fresh.server.stop().await?;

    Ok(json!({
        "sessions": count,
        "active_pairs": active,
        "delivered_per_second": (total.delivered_in_window as f64 / measured.as_secs_f64()).round(),
        "latency": Latencies::of(&mut latencies).map(Latencies::to_json),
        "sent_total": total.sent,
        "timeouts": total.timeouts,
        "error_frames": total.errors,
        "cpu_percent_of_one_core": {
            "server": cpu_percent(server_cpu, measured),
            "bench": cpu_percent(bench_cpu, measured),
        },
        "server_log_lines": log_lines,
    }))
}

/// One pair's closed loop until the end of the window.
async fn pair(
    mut a: Peer,
    mut b: Peer,
    users: [String; 2],
    index: usize,
    window: Window,
) -> PairResult {
    let mut result = PairResult::default();
    let mut seq: u64 = 0;
    while Instant::now() < window.to {
        let (from, to, sender, recipient) = if seq.is_multiple_of(2) {
            (&mut a, &mut b, &users[0], &users[1])
        } else {
            (&mut b, &mut a, &users[1], &users[0])
        };
        let text = format!("bench-{index}-{seq}");
        let sent_at = Instant::now();
        if from.send_im(recipient, &text).await.is_err() {
            result.errors += 1;
            break;
        }
        result.sent += 1;
        match to.expect_im(sender, &text, MESSAGE_TIMEOUT).await {
            Ok(errors) => result.errors += errors,
            Err(_) => {
                result.timeouts += 1;
                break;
            }
        }
        let at = Instant::now();
        if at >= window.from && at <= window.to {
            result.delivered_in_window += 1;
            if sent_at >= window.from {
                result.latencies.push(at - sent_at);
            }
        }
        seq += 1;
    }
    // An error answer to the last message would be waiting on its sender.
    for session in [&mut a, &mut b] {
        result.errors += session.late_errors(DRAIN).await;
    }
    close_all(vec![a, b]).await;
    result
}
