//! `startup`: time from spawn to the first `GET /healthz` 200, and idle
//! memory, on a fresh data directory (keys generated, database created,
//! first `admin` hashed) and on an existing one.

use serde_json::{Value, json};

use crate::Common;
use crate::server::{Memory, Server, mib};
use crate::stats::{median, ms};

/// Options of `startup`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Starts of each kind (fresh, existing).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    runs: u32,
}

/// One start: its time and its memory once settled.
struct Start {
    startup_ms: f64,
    memory: Memory,
}

/// Runs the scenario.
pub async fn run(common: &Common, args: &Args) -> anyhow::Result<Value> {
    let mut fresh = Vec::new();
    let mut existing = Vec::new();
    for run in 0..args.runs {
        // A new deployment each time, started once fresh and once again.
        let scratch = common.scratch()?;
        fresh.push(start(common, &scratch, 0).await?);
        existing.push(start(common, &scratch, 1).await?);
        eprintln!("startup: run {} of {} done", run + 1, args.runs);
    }
    Ok(json!({
        "scenario": "startup",
        "runs": args.runs,
        "fresh_data_dir": summary(&fresh),
        "existing_data_dir": summary(&existing),
    }))
}

async fn start(common: &Common, scratch: &crate::Scratch, n: usize) -> anyhow::Result<Start> {
    let server = Server::start(&common.simul, &scratch.data(), &scratch.log(n)).await?;
    let startup_ms = ms(server.startup);
    common.settle().await;
    let memory = server.memory()?;
    server.stop().await?;
    Ok(Start { startup_ms, memory })
}

fn summary(starts: &[Start]) -> Value {
    let times: Vec<f64> = starts.iter().map(|s| s.startup_ms).collect();
    let field =
        |f: fn(&Memory) -> u64| -> Vec<u64> { starts.iter().map(|s| f(&s.memory)).collect() };
    let range = |values: &[u64]| {
        json!({
            "median": median(values).map(mib),
            "min": values.iter().min().copied().map(mib),
            "max": values.iter().max().copied().map(mib),
        })
    };
    json!({
        "startup_ms": {
            "median": median(&times),
            "min": times.iter().copied().reduce(f64::min),
            "max": times.iter().copied().reduce(f64::max),
            "all": times,
        },
        "idle_rss_mib": range(&field(|m| m.rss_kib)),
        "idle_hwm_mib": range(&field(|m| m.hwm_kib)),
        "idle_anon_mib": range(&field(|m| m.anon_kib)),
    })
}
