//! `console`: every page of the administration console, timed over HTTP
//! as a signed-in administrator, on an embedded directory of N people
//! (50,000 by default: the "every page answers in under 100 ms").
//! The people are written through the store's bulk path before the
//! server starts (no password hashing: they never sign in), the audit log
//! gets entries to page through, and the pages are the console's own
//! route list (every GET route), so a page added later is timed too.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use simul_store::{AuditEntry, NewUser, Store};

use crate::Common;
use crate::scenario::{PASSWORD, add_users};
use crate::server::Server;
use crate::stats::{Latencies, ms};
use crate::tokens::Minter;

/// The administrator the pages are fetched as.
const ADMIN: &str = "bench-admin";

/// What each page answers in at most, as the issue asks.
const TARGET: Duration = Duration::from_millis(100);

/// Options of `console`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// People in the embedded directory.
    #[arg(long, default_value_t = 50_000)]
    people: usize,
    /// Entries in the audit log.
    #[arg(long, default_value_t = 5_000)]
    audit_entries: usize,
    /// Timed requests per page (after 3 untimed ones).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1000))]
    requests: u32,
}

/// The query a page needs to show something (a person, a policy, a search
/// with many hits); other pages are fetched as they are.
fn query_of(path: &str, people: usize) -> String {
    let middle = format!("person-{:06}", people / 2);
    match path {
        "/console/users" => "?q=person-01".into(),
        "/console/user" => format!("?id={middle}"),
        "/console/policy" => "?name=default".into(),
        "/console/audit/export" => "?format=csv".into(),
        _ => String::new(),
    }
}

/// Runs the scenario.
pub async fn run(common: &Common, args: &Args) -> anyhow::Result<Value> {
    let scratch = common.scratch()?;
    let data = scratch.data();
    // The administrator by the command an administrator would use; the
    // data directory and its database come into being with it.
    tokio::task::block_in_place(|| add_users(&common.simul, &data, &[ADMIN], PASSWORD))?;
    let out = std::process::Command::new(&common.simul)
        .args(["user", "admin", ADMIN, "--data"])
        .arg(&data)
        .output()
        .with_context(|| format!("cannot run {}", common.simul.display()))?;
    if !out.status.success() {
        bail!("simul user admin: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    let seeded = Instant::now();
    seed(&data.join("simul.db"), args).await?;
    eprintln!(
        "console: {} people and {} audit entries written in {:.1?}",
        args.people,
        args.audit_entries,
        seeded.elapsed()
    );

    let server = Server::start(&common.simul, &data, &scratch.log(0)).await?;
    let token = Minter::from_data_dir(&data)?.mint(ADMIN);
    let http = reqwest::Client::new();
    let mut pages = Vec::new();
    let mut slowest = Duration::ZERO;
    for (method, path, _) in simul_web::console::routes() {
        if method != reqwest::Method::GET {
            continue;
        }
        let url = server.url(&format!("{path}{}", query_of(path, args.people)));
        let mut samples = Vec::with_capacity(args.requests as usize);
        for round in 0..3 + args.requests {
            let started = Instant::now();
            let response = http
                .get(&url)
                .header(reqwest::header::COOKIE, format!("LtpaToken2={token}"))
                .send()
                .await?;
            let status = response.status();
            let body = response.bytes().await?;
            let took = started.elapsed();
            if !status.is_success() {
                bail!("GET {url}: {status}: {}", String::from_utf8_lossy(&body));
            }
            if round >= 3 {
                samples.push(took);
            }
        }
        let latencies = Latencies::of(&mut samples).context("no samples")?;
        slowest = slowest.max(latencies.p99);
        eprintln!(
            "console: {path} p50 {:.1} ms, p99 {:.1} ms",
            ms(latencies.p50),
            ms(latencies.p99)
        );
        pages.push(json!({ "path": path, "latency": latencies.to_json() }));
    }
    server.stop().await?;
    Ok(json!({
        "scenario": "console",
        "people": args.people,
        "audit_entries": args.audit_entries,
        "pages": pages,
        "slowest_p99_ms": ms(slowest),
        "every_page_under_100ms_p99": slowest < TARGET,
    }))
}

/// Writes the people (one transaction) and the audit log into the
/// deployment's database while no server runs.
async fn seed(database: &std::path::Path, args: &Args) -> anyhow::Result<()> {
    let store = Store::open(database).await?;
    let people: Vec<NewUser> = (0..args.people)
        .map(|i| NewUser {
            id: format!("person-{i:06}"),
            display_name: format!("Person {i:06}"),
            mail: format!("person-{i:06}@example.com"),
            // No password: these people never sign in.
            password_hash: String::new(),
            scram: String::new(),
        })
        .collect();
    store.create_users(&people).await?;
    let now = chrono::Utc::now().timestamp_millis();
    for i in 0..args.audit_entries {
        let entry = AuditEntry {
            at_ms: now - (args.audit_entries - i) as i64 * 1000,
            actor: ADMIN.into(),
            action: if i % 2 == 0 { "disable" } else { "enable" }.into(),
            target: format!("person-{:06}", i % args.people.max(1)),
            origin: "console 127.0.0.1".into(),
        };
        store.record_audit(&entry).await?;
    }
    store.close().await;
    Ok(())
}
