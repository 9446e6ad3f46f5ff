//! What `vp-logins` and `xmpp-logins` share: one kind of login repeated,
//! so many at a time, for at most so long, and its rate, latency and CPU.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::ensure;
use futures_util::StreamExt as _;
use serde_json::{Value, json};

use crate::server::{cpu_of, cpu_percent, own_cpu};
use crate::stats::Latencies;

/// How many logins of one kind, how many at once, for how long at most.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Logins to make.
    pub count: usize,
    /// Logins under way at once.
    pub concurrency: usize,
    /// No login starts after this.
    pub max: Duration,
}

/// Runs `login(i)` for i in 0..`plan.count` against the server of process
/// `server` (whose CPU time is measured); each login
/// returns its latency (and logs out after measuring it). `scenario` and
/// `name` label the progress lines and the result.
pub async fn measure<F, Fut>(
    scenario: &str,
    name: &str,
    server: u32,
    plan: Plan,
    login: F,
) -> anyhow::Result<Value>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<Duration>>,
{
    let Plan { count, concurrency, max } = plan;
    ensure!(concurrency > 0, "the concurrency must be at least 1");
    eprintln!("{scenario}: {count} logins by {name}, {concurrency} at a time");
    let started = Instant::now();
    let deadline = started + max;
    let (server_cpu, bench_cpu) = (cpu_of(server)?, own_cpu()?);
    let login = &login;
    let logins = (0..count).map(move |i| async move {
        if Instant::now() > deadline {
            return None;
        }
        Some(login(i).await.map_err(|error| format!("{error:#}")))
    });
    let outcomes: Vec<_> = futures_util::stream::iter(logins)
        .buffer_unordered(concurrency)
        .filter_map(|outcome| async move { outcome })
        .collect()
        .await;
    let wall = started.elapsed();
    let server_cpu = cpu_of(server)? - server_cpu;
    let bench_cpu = own_cpu()? - bench_cpu;
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(took) => latencies.push(took),
            Err(error) => failures.push(error),
        }
    }
    let done = latencies.len();
    eprintln!("{scenario}: {done} by {name} in {wall:.1?}, {} failed", failures.len());
    Ok(json!({
        "login": name,
        "logins": done,
        "seconds": (wall.as_secs_f64() * 100.0).round() / 100.0,
        "logins_per_second": (done as f64 / wall.as_secs_f64()).round(),
        "latency": Latencies::of(&mut latencies).map(Latencies::to_json),
        "failures": failures.len(),
        "first_failure": failures.first(),
        "concurrency": concurrency,
        "cpu_percent_of_one_core": {
            "server": cpu_percent(server_cpu, wall),
            "bench": cpu_percent(bench_cpu, wall),
        },
    }))
}
