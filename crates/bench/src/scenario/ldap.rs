//! `ldap`: Simul on a real slapd (the tests' fixture, simul-testkit) with
//! N extra people. It measures the start-up with the whole name cache
//! loaded (paged searches), the server's memory per cached person, the
//! latency of password logins (a search and a bind as the user each) and
//! of "add contact" searches (answered from the cache).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use simul_testkit::{ROOT_DN, ROOT_PASSWORD, SUFFIX, Slapd, crowd_dn, crowd_ldif};

use crate::Common;
use crate::server::{Server, mib};
use crate::stats::{Latencies, ms};
use crate::tokens::Minter;

/// Logins a client address may make per minute (the server's limit).
const LOGINS_PER_ADDRESS: usize = 30;

/// Options of `ldap`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Extra people in the directory, one run each.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    people: Vec<usize>,
    /// Password logins measured per run (the server allows 30 a minute
    /// from one address).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=30))]
    logins: u32,
    /// Directory searches measured per run.
    #[arg(long, default_value_t = 200)]
    searches: u32,
}

/// Runs the scenario.
pub async fn run(common: &Common, args: &Args) -> anyhow::Result<Value> {
    let mut runs = Vec::new();
    let mut memory: Vec<(usize, u64)> = Vec::new();
    for &people in &args.people {
        let (result, rss) = one(common, args, people).await?;
        runs.push(result);
        memory.push((people, rss));
    }
    // The slope between the smallest and the largest directory.
    let per_person = match (memory.first(), memory.last()) {
        (Some((few, small)), Some((many, large))) if many > few => {
            Some((large.saturating_sub(*small) as f64 * 1024.0) / (many - few) as f64)
        }
        _ => None,
    };
    Ok(json!({
        "scenario": "ldap",
        "runs": runs,
        "bytes_per_cached_person": per_person.map(|b| b.round()),
    }))
}

async fn one(common: &Common, args: &Args, people: usize) -> anyhow::Result<(Value, u64)> {
    let started = Instant::now();
    let slapd = tokio::task::block_in_place(|| Slapd::start_with(&crowd_ldif(people)));
    eprintln!("ldap: slapd with {people} extra people ready in {:.1?}", started.elapsed());
    let scratch = common.scratch()?;
    let config = scratch.data().with_extension("toml");
    write_config(&config, &slapd.url())?;
    let server =
        Server::start_configured(&common.simul, &scratch.data(), &scratch.log(0), Some(&config))
            .await?;
    let startup = server.startup;
    common.settle().await;
    let memory = server.memory()?;
    // The heap: what the cache takes, without shared libraries.
    let rss = memory.anon_kib;

    let http = reqwest::Client::new();
    let logins = login_latencies(&http, &server, args.logins as usize, people).await?;
    let minter = Minter::from_data_dir(&scratch.data())?;
    let token = minter.mint(&crowd_dn(0));
    let searches = search_latencies(&http, &server, &token, args.searches).await?;
    server.stop().await?;
    eprintln!("ldap: {people} people done");
    Ok((
        json!({
            "people": people + simul_testkit::FIXTURE_PEOPLE,
            "startup_ms_with_cache_loaded": ms(startup),
            "memory": memory.to_json(),
            "anon_mib": mib(rss),
            "login": logins.to_json(),
            "directory_search": searches.to_json(),
        }),
        rss,
    ))
}

/// A configuration for the fixture slapd at `url` (and its bind password file).
pub(crate) fn write_config(file: &Path, url: &str) -> anyhow::Result<()> {
    let password = file.with_extension("pw");
    std::fs::write(&password, format!("{ROOT_PASSWORD}\n"))?;
    let text = format!(
        "[directory]\nkind = \"ldap\"\n\n[directory.ldap]\nhosts = [\"{url}\"]\n\
         bind_dn = \"{ROOT_DN}\"\nbind_password_file = \"{}\"\nbase_dn = \"{SUFFIX}\"\n",
        password.display()
    );
    std::fs::write(file, text).with_context(|| format!("cannot write {}", file.display()))
}

async fn login_latencies(
    http: &reqwest::Client,
    server: &Server,
    count: usize,
    people: usize,
) -> anyhow::Result<Latencies> {
    let mut samples = Vec::new();
    for n in 0..count.min(LOGINS_PER_ADDRESS) {
        // Spread over the directory, each person once (10 a minute per account).
        let i = n * people.max(1) / count.max(1);
        let body =
            json!({"user": format!("person{i:06}"), "password": format!("person{i:06}-secret")});
        let started = Instant::now();
        let answer = http.post(server.url("/api/v1/login")).json(&body).send().await?;
        if !answer.status().is_success() {
            bail!("login of person{i:06} answered {}", answer.status());
        }
        samples.push(started.elapsed());
    }
    Latencies::of(&mut samples).context("no logins measured")
}

async fn search_latencies(
    http: &reqwest::Client,
    server: &Server,
    token: &str,
    count: u32,
) -> anyhow::Result<Latencies> {
    let mut samples: Vec<Duration> = Vec::new();
    for n in 0..count {
        let url = server.url(&format!("/api/v1/directory/search?q=person{:03}", n % 1000));
        let started = Instant::now();
        let answer = http.get(url).bearer_auth(token).send().await?;
        if !answer.status().is_success() {
            bail!("directory search answered {}", answer.status());
        }
        answer.bytes().await?;
        samples.push(started.elapsed());
    }
    Latencies::of(&mut samples).context("no searches measured")
}
