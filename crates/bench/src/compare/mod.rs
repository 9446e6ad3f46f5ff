//! `compare`: Simul, Prosody and ejabberd side by side on this machine, in
//! one run, each from a fresh start with the same users, contact lists
//! and settings, driven by the same XMPP scenarios; the figures and their
//! ratios go to a JSON file, a Markdown table and a plot.
//!
//! For each server, in turn: an idle hold per transport (a fresh start
//! each, so that no scenario's garbage counts in another's memory), then
//! on one more fresh start the login storm, the presence storm and the 1:1
//! messages at rising offered loads. Simul's own WebSocket and VP doors
//! then run the existing `sessions`, `presence` and `im` scenarios at the
//! same size, so the three doors can be compared with each other.

pub mod ejabberd;
pub mod fleet;
pub mod packaged;
pub mod population;
pub mod prosody;
pub mod report;
pub mod running;
pub mod scenarios;
pub mod simul;
pub mod stanzas;
pub mod tsung;
pub mod xmpp_client;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::Common;
use fleet::{Fleet, Plan};
use population::Population;
use running::Running;
use scenarios::Step;
use xmpp_client::{Tls, Transport};

/// Options of `compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The servers to compare, in this order.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "simul,prosody,ejabberd")]
    servers: Vec<Contender>,
    /// Users (`user1`…), every one signed in for the idle hold and the
    /// storms.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    users: usize,
    /// Contacts per user (mutual, ring neighbours).
    #[arg(long, value_name = "R", default_value_t = 20)]
    roster: usize,
    /// Fraction of users online during the login storm.
    #[arg(long, value_name = "F", default_value_t = 0.5)]
    online: f64,
    /// Sign-ins in the login storm.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    logins: usize,
    /// Simul users with a password (the others sign in by token), for a
    /// login storm by password as well.
    #[arg(long, value_name = "N", default_value_t = 50)]
    password_users: usize,
    /// Status changes a second, one step each.
    #[arg(long, value_name = "RATES", value_delimiter = ',', default_value = "100,500,1000,2000")]
    presence_rates: Vec<u32>,
    /// 1:1 messages a second, one step each, until a server falls behind.
    #[arg(
        long,
        value_name = "RATES",
        value_delimiter = ',',
        default_value = "500,1000,2000,5000,10000,20000"
    )]
    message_rates: Vec<u32>,
    /// How long each step of offered load lasts.
    #[arg(long, value_name = "S", default_value_t = 10)]
    step_seconds: u64,
    /// Sign-ins under way at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    concurrency: usize,
    /// Loopback source addresses (127.0.0.2…) sessions spread over.
    #[arg(long, value_name = "N", default_value_t = 4)]
    sources: u8,
    /// Where the results go (compare.json, compare.md, latency.png).
    #[arg(long, value_name = "DIR", default_value = "bench-results")]
    out: PathBuf,
    /// Skip Simul's own WebSocket and VP doors.
    #[arg(long)]
    no_doors: bool,
    /// Also run Tsung (Debian `tsung`) against each server: an idle hold
    /// of every user for this many seconds, and 1:1 messages.
    #[arg(long, value_name = "S")]
    tsung: Option<u64>,
    /// Prosody and ejabberd keep no archive, their lightest setting
    /// (Simul still keeps its history). By default they archive every
    /// 1:1 message with mod_mam on SQLite, as Simul does: the same work
    /// for each message.
    #[arg(long)]
    no_archive: bool,
}

impl Args {
    /// Whether Prosody and ejabberd archive 1:1 messages as Simul does
    /// (all but `--no-archive`).
    fn others_archive(&self) -> bool {
        !self.no_archive
    }
}

/// A server under comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Contender {
    /// `simul serve` (the `--simul` binary).
    Simul,
    /// Debian's Prosody.
    Prosody,
    /// Debian's ejabberd.
    Ejabberd,
}

impl Contender {
    /// Starts it fresh under `dir` with `population`; Simul's first
    /// `password_users` also get the password (the others sign in by
    /// token), which costs an argon2id hash each to set up. `archive`:
    /// Prosody and ejabberd archive 1:1 messages (Simul always does).
    async fn start(
        self,
        common: &Common,
        dir: &std::path::Path,
        population: &Population,
        password_users: usize,
        archive: bool,
    ) -> anyhow::Result<Running> {
        match self {
            Self::Simul => simul::start(common, dir, population, password_users).await,
            Self::Prosody => prosody::start(dir, population, archive).await,
            Self::Ejabberd => ejabberd::start(dir, population, archive).await,
        }
    }
}

/// Longest wait for a server that fell behind to deliver what it owes.
const DRAIN_AT_MOST: Duration = Duration::from_secs(120);

/// The password of every user of the comparison.
const PASSWORD: &str = crate::scenario::PASSWORD;

/// Runs the comparison and writes its report.
pub async fn run(common: &Common, args: &Args, nofile: u64) -> anyhow::Result<Value> {
    crate::scenario::check_fds(args.users, nofile)?;
    let population = Population::new(args.users, args.roster, PASSWORD);
    let multi = &MultiProgress::new();
    let overall = multi.add(ProgressBar::new((args.servers.len() * 4) as u64)).with_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")?
            .progress_chars("=> "),
    );
    let mut servers = Vec::new();
    for &contender in &args.servers {
        servers.push(compare_one(common, args, contender, &population, multi, &overall).await?);
    }
    let doors = if args.no_doors || !args.servers.contains(&Contender::Simul) {
        Value::Null
    } else {
        overall.set_message("Simul's three doors");
        simul_doors(common, args, nofile).await?
    };
    overall.finish_with_message("done");
    let results = json!({
        "scenario": "compare",
        "population": { "users": population.users, "roster": population.roster },
        "online_fraction": args.online,
        "every_server_archives": args.others_archive(),
        "step_seconds": args.step_seconds,
        "servers": servers,
        "simul_doors": doors,
    });
    report::write(&args.out, &results).await?;
    Ok(results)
}

/// Every scenario against one server.
async fn compare_one(
    common: &Common,
    args: &Args,
    contender: Contender,
    population: &Population,
    multi: &MultiProgress,
    overall: &ProgressBar,
) -> anyhow::Result<Value> {
    let name = format!("{contender:?}").to_lowercase();
    let mut idle = Vec::new();
    let mut first = None;
    for transport in [Transport::Cleartext, Transport::DirectTls] {
        overall.set_message(format!("{name}: idle hold, {}", transport.name()));
        let scratch = common.scratch()?;
        let running =
            contender.start(common, scratch.path(), population, 0, args.others_archive()).await?;
        if transport == Transport::Cleartext && running.endpoint.cleartext.is_none() {
            idle.push(
                json!({ "transport": transport.name(), "skipped": "no sign-in without TLS" }),
            );
        } else {
            let tls = Tls::new(&running.endpoint.ca_pem)?;
            let plan = plan(args, population, &running, &tls, transport);
            let progress = bar(multi, population.users as u64, "signed in");
            idle.push(scenarios::idle_hold(&plan, population.users, &progress).await?);
            progress.finish_and_clear();
        }
        first.get_or_insert_with(|| describe(&running));
        running.stop().await?;
        overall.inc(1);
    }

    overall.set_message(format!("{name}: login storm"));
    let scratch = common.scratch()?;
    let mut running = contender
        .start(common, scratch.path(), population, args.password_users, args.others_archive())
        .await?;
    let tls = Tls::new(&running.endpoint.ca_pem)?;
    let transport = Transport::DirectTls;
    let mut storms = vec![storm(args, population, &running, &tls, transport, multi).await?];
    if contender == Contender::Simul && args.password_users > 0 {
        let by_password = running::Secrets::Password(population.password.clone());
        let tokens = std::mem::replace(&mut running.endpoint.secrets, by_password);
        let mut passwords = population.clone();
        passwords.users = args.password_users.min(population.users);
        let mut plan = plan(args, population, &running, &tls, transport);
        // Simul takes at most 10 password attempts per account at once
        // (a guard against guessing): keep under it. Not `users × 8`:
        // sign-ins that end out of order start the next ones by index,
        // so one account's share of those in flight drifts past it (a CI
        // run saw one of 40 sign-ins over two accounts refused so). Ten
        // in all cannot.
        plan.concurrency = plan.concurrency.min(10);
        let progress = bar(multi, 0, "online");
        let storm =
            scenarios::login_storm(&plan, &passwords, 0.0, args.logins.min(1000), &progress)
                .await?;
        storms.push(storm);
        running.endpoint.secrets = tokens;
    }
    if running.endpoint.cleartext.is_some() {
        // The same storm without TLS, as behind a proxy that ends TLS:
        // what a sign-in costs without the two handshakes (the server's
        // and the client's, which share the machine).
        let cleartext = Transport::Cleartext;
        storms.push(storm(args, population, &running, &tls, cleartext, multi).await?);
    }
    running.check_alive()?;
    overall.inc(1);

    overall.set_message(format!("{name}: presence and messages"));
    let plan = plan(args, population, &running, &tls, transport);
    let progress = bar(multi, population.users as u64, "signed in");
    let mut fleet = Fleet::open(&plan, 0..population.users, &progress).await?;
    progress.finish_and_clear();
    let step_length = Duration::from_secs(args.step_seconds);
    let mut phase = 0;
    let mut presence = Vec::new();
    for &rate in &args.presence_rates {
        overall.set_message(format!("{name}: {rate} status changes/s"));
        let watch = scenarios::CpuWatch::start(running.pid())?;
        let step = scenarios::presence_storm(
            &mut fleet,
            population,
            Step { rate, duration: step_length },
            phase,
        )
        .await?;
        let behind = scenarios::behind(&step, "changes");
        presence.push((phase, step, watch.percent()?));
        phase += 1;
        if behind {
            break; // Saturated: higher rates only add a queue.
        }
    }
    // What a server still owes from the last step must not slow the
    // messages down (a server that fell behind drains for up to 2 min).
    if let Some((last, step, _)) = presence.last() {
        let expected = step["expected"].as_u64().unwrap_or(0);
        scenarios::drain(&fleet, *last, expected, DRAIN_AT_MOST).await;
    }
    overall.inc(1);
    let mut messages = Vec::new();
    for &rate in &args.message_rates {
        overall.set_message(format!("{name}: {rate} messages/s"));
        let watch = scenarios::CpuWatch::start(running.pid())?;
        let domain = running.endpoint.domain.clone();
        let step =
            scenarios::messages(&mut fleet, Step { rate, duration: step_length }, phase, &domain)
                .await?;
        let behind = scenarios::behind(&step, "messages");
        messages.push((phase, step, watch.percent()?));
        phase += 1;
        if behind {
            break; // Saturated: higher loads only add a queue.
        }
    }
    running.check_alive()?;
    let mut heard = fleet.close().await;
    let seconds = step_length.as_secs_f64();
    let with_outcome = |(phase, step, cpu): (u32, Value, Value), heard: &mut fleet::Heard| {
        let expected = step["expected"].as_u64().unwrap_or(0);
        json!({ "step": step, "outcome": scenarios::outcome(heard, phase, expected, seconds), "cpu_percent_of_one_core": cpu })
    };
    let presence: Vec<Value> = presence.into_iter().map(|s| with_outcome(s, &mut heard)).collect();
    let messages: Vec<Value> = messages.into_iter().map(|s| with_outcome(s, &mut heard)).collect();
    let archive = running.archive.clone();
    running.stop().await?;
    // Read once it stopped: everything it acknowledged is in the files.
    let archived = match archive {
        Some(archive) => archive.measure().await?,
        None => Value::Null,
    };
    overall.inc(1);
    let tsung = match args.tsung {
        Some(hold) => {
            overall.set_message(format!("{name}: Tsung"));
            let hold = Duration::from_secs(hold);
            // The second generator's failure is reported, not allowed to
            // throw away the figures of the first.
            tsung::against(common, contender, population, hold, args)
                .await
                .unwrap_or_else(|error| json!({ "error": format!("{error:#}") }))
        }
        None => Value::Null,
    };
    Ok(json!({
        "server": first.unwrap_or_default(),
        "tsung": tsung,
        "idle_hold": idle,
        "login_storm": storms,
        "presence_storm": presence,
        "messages": messages,
        "archived": archived,
        "errors_bounced": heard.errors,
        "reader_failure": heard.failure,
    }))
}

/// The login storm of `args` against `running` over `transport`, with
/// its users' own secrets.
async fn storm(
    args: &Args,
    population: &Population,
    running: &Running,
    tls: &Tls,
    transport: Transport,
    multi: &MultiProgress,
) -> anyhow::Result<Value> {
    let plan = plan(args, population, running, tls, transport);
    let progress = bar(multi, (population.users as f64 * args.online) as u64, "online");
    let storm = scenarios::login_storm(&plan, population, args.online, args.logins, &progress);
    let result = storm.await;
    progress.finish_and_clear();
    result
}

/// The sessions' plan against `running`.
fn plan<'a>(
    args: &Args,
    population: &Population,
    running: &'a Running,
    tls: &'a Tls,
    transport: Transport,
) -> Plan<'a> {
    let (concurrency, sources, roster) = (args.concurrency, args.sources, population.roster);
    Plan { running, tls, transport, concurrency, sources, roster }
}

/// What the report says of a server: name, version, settings.
fn describe(running: &Running) -> Value {
    json!({ "name": running.name, "version": running.version, "settings": running.settings })
}

/// A progress bar below the overall one for `length` sessions.
fn bar(progress: &MultiProgress, length: u64, what: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(&format!("  [{{bar:30}}] {{pos}}/{{len}} {what}"))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    progress.add(ProgressBar::new(length).with_style(style))
}

/// Simul's three doors in the existing `sessions` and `im` scenarios
/// (idle memory; closed-loop 1:1 messages for a step's length) at the
/// same size, and the web
/// door's `presence` (fan-out of a status change to every session).
async fn simul_doors(common: &Common, args: &Args, nofile: u64) -> anyhow::Result<Value> {
    use crate::scenario::{im, presence, sessions};
    let (count, seconds) = (args.users.to_string(), args.step_seconds.to_string());
    let mut doors = serde_json::Map::new();
    for door in ["web", "vp", "xmpp"] {
        let argv = |scenario| [scenario, "--sessions", &count, "--door", door];
        let timed = [&argv("im")[..], &["--seconds", &seconds]].concat();
        let (memory, messages) =
            (crate::parse_args(&argv("sessions"))?, crate::parse_args(&timed)?);
        let memory = sessions::run(common, &memory, nofile)
            .await
            .with_context(|| format!("sessions on the {door} door"))?;
        let messages = im::run(common, &messages, nofile)
            .await
            .with_context(|| format!("im on the {door} door"))?;
        doors.insert(door.to_owned(), json!({ "sessions": memory, "im": messages }));
    }
    let fan_out = crate::parse_args(&["presence", "--sessions", &count])?;
    let presence = presence::run(common, &fan_out, nofile).await?;
    doors.insert("web_presence".to_owned(), presence);
    Ok(Value::Object(doors))
}
