//! `presence`: fan-out latency of a status change to every watcher.
//!
//! N sessions (users `bench-000000`…) each watch the first `--busy` users.
//! Each round one busy user sets `away` with a message naming the round
//! (`PUT /api/v1/me/status`, bearer token, its session is open), and the
//! latency of each watcher is the time from just before that request to
//! the arrival of the `status` event naming the round on its socket. Every
//! session watches, the busy users included, so each round fans out to N.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use super::{Fresh, check_fds};
use crate::Common;
use crate::client::{Session, connect_all, next_text, send};
use crate::server::{cpu_percent, own_cpu};
use crate::stats::{Latencies, median, ms};

/// Options of `presence`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Session counts to measure, each on a freshly started server.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    sessions: Vec<usize>,
    /// Users every session watches; they take turns changing status.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    busy: u16,
    /// Measured rounds (one status change each).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    rounds: u32,
    /// Rounds run first and not counted.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=1_000))]
    warmup_rounds: u32,
    /// Pause between rounds.
    #[arg(long, value_name = "MS", default_value_t = 200)]
    pause_ms: u64,
    /// Longest wait for every watcher to hear a round's change.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    round_timeout_ms: u64,
}

/// The marker in the status message that names the round.
const ROUND_TAG: &str = "bench-round-";

/// Runs the scenario.
pub async fn run(common: &Common, args: &Args, nofile: u64) -> anyhow::Result<Value> {
    let mut results = Vec::new();
    for &count in &args.sessions {
        ensure!(count > usize::from(args.busy), "--sessions must exceed --busy");
        check_fds(count, nofile)?;
        results.push(measure(common, args, count).await?);
    }
    Ok(json!({
        "scenario": "presence",
        "busy_users": args.busy,
        "rounds": args.rounds,
        "warmup_rounds": args.warmup_rounds,
        "runs": results,
    }))
}

async fn measure(common: &Common, args: &Args, count: usize) -> anyhow::Result<Value> {
    let mut fresh = Fresh::start(common, count).await?;
    let (sessions, took) =
        connect_all(fresh.server.port(), &fresh.tokens, common.connect_concurrency).await?;
    eprintln!("presence: {count} sessions open in {took:.1?}");

    let busy = Arc::new(fresh.users[..usize::from(args.busy)].to_vec());
    let (ready_tx, mut ready_rx) = mpsc::channel(count);
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut watchers = JoinSet::new();
    for session in sessions {
        let watcher =
            watcher(session, busy.clone(), ready_tx.clone(), seen_tx.clone(), stop_rx.clone());
        watchers.spawn(watcher);
    }
    drop((ready_tx, seen_tx));
    for _ in 0..count {
        let ready = tokio::time::timeout(Duration::from_secs(60), ready_rx.recv())
            .await
            .context("watch lists not set up within 60 s")?
            .context("a watcher ended")?;
        ready?;
    }
    common.settle().await;
    let memory = fresh.server.memory()?;

    let http = reqwest::Client::new();
    let url = fresh.server.url("/api/v1/me/status");
    let mut samples = Vec::new();
    let mut round_p99s = Vec::new();
    let mut put_times = Vec::new();
    let mut missing = 0;
    // Wall and CPU time of the counted rounds only, from just before each
    // change until its last event (pauses and warm-up left out).
    let (mut measured_wall, mut server_cpu, mut bench_cpu) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for round in 0..args.warmup_rounds + args.rounds {
        let counted = round >= args.warmup_rounds;
        let who = round as usize % busy.len();
        let status = json!({"status": "away", "message": format!("{ROUND_TAG}{round}")});
        let cpu_before = (fresh.server.cpu()?, own_cpu()?);
        let started = Instant::now();
        let response = http.put(&url).bearer_auth(&fresh.tokens[who]).json(&status).send().await?;
        let put_time = started.elapsed();
        ensure!(response.status().is_success(), "PUT status: {}", response.status());
        let deadline =
            tokio::time::Instant::from_std(started) + Duration::from_millis(args.round_timeout_ms);
        let mut this_round = Vec::with_capacity(count);
        while this_round.len() < count {
            match tokio::time::timeout_at(deadline, seen_rx.recv()).await {
                Ok(Some((seen_round, at))) if seen_round == round => {
                    this_round.push(at - started);
                }
                Ok(Some(_)) => {} // a late event of an earlier round
                Ok(None) => bail!("every watcher ended"),
                Err(_) => break,
            }
        }
        if counted {
            measured_wall += started.elapsed();
            server_cpu += fresh.server.cpu()?.saturating_sub(cpu_before.0);
            bench_cpu += own_cpu()?.saturating_sub(cpu_before.1);
            missing += count - this_round.len();
            put_times.push(put_time);
            if let Some(summary) = Latencies::of(&mut this_round) {
                round_p99s.push(ms(summary.p99));
            }
            samples.extend(this_round);
        }
        fresh.server.check_alive()?;
        tokio::time::sleep(Duration::from_millis(args.pause_ms)).await;
    }

    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while watchers.join_next().await.is_some() {}
    })
    .await;
    watchers.abort_all();
    let log_lines = fresh.server.log_lines();
    fresh.server.stop().await?;

    let latency = Latencies::of(&mut samples).context("no watcher heard any change")?;
    Ok(json!({
        "sessions": count,
        "fan_out_per_round": count,
        "latency": latency.to_json(),
        "median_of_round_p99_ms": median(&round_p99s),
        "worst_round_p99_ms": round_p99s.iter().copied().reduce(f64::max),
        "missing_events": missing,
        "put_status_ms": Latencies::of(&mut put_times).map(Latencies::to_json),
        "rss_with_watches": memory.to_json(),
        "cpu_percent_of_one_core_while_fanning_out": {
            "server": cpu_percent(server_cpu, measured_wall),
            "bench": cpu_percent(bench_cpu, measured_wall),
        },
        "server_log_lines": log_lines,
    }))
}

/// One session: watches the busy users, says when their initial statuses
/// arrived, then reports the round and arrival time of each status event
/// until told to stop.
async fn watcher(
    mut session: Session,
    busy: Arc<Vec<String>>,
    ready: mpsc::Sender<anyhow::Result<()>>,
    seen: mpsc::UnboundedSender<(u32, Instant)>,
    mut stop: watch::Receiver<bool>,
) {
    let setup = async {
        send(&mut session, &json!({"type": "watch", "users": *busy})).await?;
        let mut statuses = 0;
        while statuses < busy.len() {
            let text = next_text(&mut session, Duration::from_secs(30)).await?;
            if text.contains(r#""type":"status""#) {
                statuses += 1;
            }
        }
        anyhow::Ok(())
    };
    let setup = setup.await;
    let failed = setup.is_err();
    let _ = ready.send(setup).await;
    if failed {
        return;
    }
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            message = session.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let at = Instant::now();
                    if let Some(round) = round_of(&text) {
                        let _ = seen.send((round, at));
                    }
                }
                Some(Ok(_)) => {}
                _ => break,
            },
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), session.close(None)).await;
}

/// The round a `status` event's message names, if it is one of ours.
fn round_of(text: &str) -> Option<u32> {
    if !text.contains(r#""type":"status""#) {
        return None;
    }
    let rest = &text[text.find(ROUND_TAG)? + ROUND_TAG.len()..];
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::round_of;

    #[test]
    fn rounds_are_read_from_status_events_only() {
        let event = r#"{"idle":false,"message":"bench-round-17","status":"away","type":"status","user":"bench-000003"}"#;
        assert_eq!(round_of(event), Some(17));
        assert_eq!(round_of(r#"{"type":"im","text":"bench-round-17"}"#), None);
        assert_eq!(round_of(r#"{"type":"status","message":""}"#), None);
    }
}
