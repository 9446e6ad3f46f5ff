//! Tsung (the Debian package `tsung`, an Erlang load generator of its
//! own) as a second, independent client of the servers under comparison,
//! so that the ratios do not rest only on simul-bench's XMPP client.
//!
//! One run writes a configuration and a users file into a directory,
//! runs `tsung start` as a child (bounded in time), and reads what Tsung
//! wrote (see [`results`] for why those files). What its figures mean:
//!
//! - `login`: Tsung's `login` transaction, from before the TCP connect to
//!   the answer to the resource binding (TCP, TLS, stream, SASL PLAIN,
//!   restart, bind); `connect` is the TCP connect alone (with the TLS
//!   handshake over direct TLS); `starttls` from `<starttls/>` to the
//!   end of the handshake; `roster` the roster request's answer. Times are
//!   Tsung's, on the same two cores as the server: Tsung's own scheduling
//!   is in every figure.
//! - `messages.latency`: from the send to the receipt of a chat message
//!   between two Tsung sessions (Tsung stamps the body), to a random
//!   online session. Tsung reads one stamp per packet it receives, so when
//!   two messages arrive in one packet only one is timed: `recorded` may
//!   be lower than `sent` without any loss.
//! - `errors`: Tsung's `error_*` counters by kind, and `match`, a SASL
//!   `<failure` (the session is then aborted).
//! - `memory` (idle hold): the server's RSS read every half second while
//!   every session is open, minus its RSS before; per session is that
//!   difference divided by the open sessions (TCP connections established
//!   on the server's port, read from `/proc/net/tcp`).
//! - `tsung.cpu_seconds`: the CPU time Tsung used (its Erlang VM, with
//!   its start and stop), taken from the children's times of this process.
//!
//! Tsung's sockets are given `TCP_NODELAY` (it leaves Nagle's algorithm
//! on, which put 40 ms delayed ACKs into its sign-in times).
//!
//! Tsung needs an Erlang port mapper: each run starts its own `epmd` on a
//! free loopback port and stops it (Tsung's own would stay, on
//! 0.0.0.0:4369), and kills Tsung's process group when it ends, so that no
//! Erlang VM is left behind.

mod config;
mod results;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use serde_json::{Value, json};

use super::Contender;
use super::population::Population;
use super::running::Running;
use super::xmpp_client::Transport;
use crate::Common;
use crate::server::{Memory, children_cpu, cpu_percent};

/// What Tsung runs against one server.
#[derive(Debug, Clone)]
pub enum TsungScenario {
    /// `sessions` sessions sign in (one user each), fetch their roster,
    /// send their initial presence and stay idle together for `hold`.
    IdleHold {
        /// Sessions, at most the population's users.
        sessions: usize,
        /// How long all of them stay open together (at least 5 s).
        hold: Duration,
    },
    /// `users` sessions sign in as in `IdleHold`; then each sends
    /// `messages_per_user` chat messages, one every `interval`, each to a
    /// random session online.
    Messages {
        /// Sessions, at most the population's users.
        users: usize,
        /// Messages each session sends.
        messages_per_user: u32,
        /// Pause between two messages of one session.
        interval: Duration,
    },
}

impl TsungScenario {
    /// The sessions it opens.
    fn sessions(&self) -> usize {
        match self {
            Self::IdleHold { sessions, .. } => *sessions,
            Self::Messages { users, .. } => *users,
        }
    }

    /// Its name in the results.
    fn name(&self) -> &'static str {
        match self {
            Self::IdleHold { .. } => "idle-hold",
            Self::Messages { .. } => "messages",
        }
    }
}

/// Sessions of the messages scenario, at most (the population's first).
const MESSAGE_USERS: usize = 200;
/// Messages each of them sends, one every [`MESSAGE_INTERVAL`].
const MESSAGES_PER_USER: u32 = 20;
/// Pause between two messages of one session.
const MESSAGE_INTERVAL: Duration = Duration::from_millis(500);

/// Tsung's idle hold (every user, for `hold`) and its messages
/// ([`MESSAGE_USERS`] × [`MESSAGES_PER_USER`]) against `contender`, each
/// on a fresh start, over STARTTLS (which every server takes with PLAIN),
/// archiving as `args` say; Tsung's files go to
/// `OUT/tsung/SERVER-SCENARIO` (replaced).
pub async fn against(
    common: &Common,
    contender: Contender,
    population: &Population,
    hold: Duration,
    args: &super::Args,
) -> anyhow::Result<Value> {
    let scenarios = [
        TsungScenario::IdleHold { sessions: population.users, hold },
        TsungScenario::Messages {
            users: population.users.min(MESSAGE_USERS),
            messages_per_user: MESSAGES_PER_USER,
            interval: MESSAGE_INTERVAL,
        },
    ];
    let mut runs = Vec::new();
    for scenario in &scenarios {
        let scratch = common.scratch()?;
        let running =
            contender.start(common, scratch.path(), population, 0, args.others_archive()).await?;
        let dir = args.out.join("tsung").join(format!("{}-{}", running.name, scenario.name()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot replace {}", dir.display()))?;
        }
        let result = run(&running, population, scenario, Transport::Starttls, &dir).await;
        running.stop().await?;
        runs.push(result?);
    }
    Ok(Value::Array(runs))
}

/// Shortest hold: the memory is read while every session is open.
const MIN_HOLD: Duration = Duration::from_secs(5);
/// Tsung's own start and stop beyond its sessions: the VM, a warm-up
/// second, and the statistics it writes every 10 s, the last after the
/// last session.
const TSUNG_OVERHEAD: Duration = Duration::from_secs(60);
/// How often the server's memory and connections are read.
const SAMPLE_EVERY: Duration = Duration::from_millis(500);
/// Longest wait for the port mapper to listen.
const EPMD_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs Tsung against `running` (a server already started with
/// `population`) with `scenario` over `transport`, working in `dir`
/// (created; it must not hold an earlier run); returns Tsung's figures.
pub async fn run(
    running: &Running,
    population: &Population,
    scenario: &TsungScenario,
    transport: Transport,
    dir: &Path,
) -> anyhow::Result<Value> {
    // Tsung runs in a directory of its own: the paths it is given are
    // absolute.
    let dir = &std::path::absolute(dir)?;
    let sessions = scenario.sessions();
    ensure!(
        (2..=population.users).contains(&sessions),
        "Tsung needs 2 to {} sessions (the population's users), not {sessions}",
        population.users
    );
    if let TsungScenario::IdleHold { hold, .. } = scenario {
        ensure!(*hold >= MIN_HOLD, "hold for at least {MIN_HOLD:?}");
    }
    let endpoint = &running.endpoint;
    let port = match transport {
        Transport::Cleartext => endpoint
            .cleartext
            .with_context(|| format!("{} takes no SASL PLAIN without TLS", running.name))?
            .port(),
        Transport::Starttls => endpoint.starttls.port(),
        Transport::DirectTls => endpoint.direct_tls.port(),
    };
    let log_dir = dir.join("tsung-log");
    ensure!(!log_dir.exists(), "{} holds an earlier run: use a new directory", dir.display());
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;

    // The secrets (Simul's tokens) are credentials: owner-only file.
    let users_csv = dir.join("users.csv");
    let users = (0..sessions).map(|i| (Population::name(i), endpoint.secrets.of(i)));
    write_private(&users_csv, &config::users_csv(users)?)?;
    let target =
        config::Target { domain: &endpoint.domain, port, transport, users_csv: &users_csv };
    let xml_path = dir.join("tsung.xml");
    std::fs::write(&xml_path, config::xml(scenario, &target))?;

    let epmd = Epmd::start(dir).await?;
    let before = running.memory()?;
    let cpu_before = children_cpu()?;
    let limit = config::duration(scenario).mul_f64(1.5) + TSUNG_OVERHEAD;
    let started = Instant::now();
    let readings = run_tsung(&xml_path, &log_dir, &epmd, limit, running, port).await;
    let wall = started.elapsed();
    let cpu = children_cpu()?.saturating_sub(cpu_before);
    drop(epmd);
    let readings = readings?;

    let run_dir = only_subdirectory(&log_dir)?;
    let log = std::fs::read_to_string(run_dir.join("tsung.log"))
        .with_context(|| format!("Tsung wrote no tsung.log in {}", run_dir.display()))?;
    let fullstats =
        std::fs::read_to_string(run_dir.join("tsung-fullstats.log")).unwrap_or_default();
    let counters = results::counters(&log);
    let samples = results::samples(&fullstats);
    let distribution = |name: &str| {
        samples
            .get(name)
            .and_then(|values| results::latencies(values))
            .map_or(Value::Null, |latencies| latencies.to_json())
    };
    let count = |name: &str| samples.get(name).map_or(0, Vec::len);
    let errors: BTreeMap<&String, &u64> = counters
        .iter()
        .filter(|(name, _)| name.starts_with("error_") || name.starts_with("match"))
        .collect();

    let mut report = json!({
        "generator": "tsung",
        "version": tsung_version().await,
        "server": running.name,
        "scenario": scenario.name(),
        "transport": transport.name(),
        "sessions": sessions,
        "arrivals_per_second": config::ARRIVALS_PER_SECOND,
        "sessions_started": counters.get("users_count"),
        "sessions_ended": counters.get("finish_users_count"),
        "signed_in": count("tr_login"),
        "login": distribution("tr_login"),
        "connect": distribution("connect"),
        "starttls": distribution("xmpp_starttls"),
        "roster": distribution("tr_roster"),
        "errors": errors,
        "tsung": {
            "cpu_seconds": (cpu.as_secs_f64() * 100.0).round() / 100.0,
            "wall_seconds": (wall.as_secs_f64() * 100.0).round() / 100.0,
            "cpu_percent": cpu_percent(cpu, wall),
            "log_dir": run_dir,
        },
    });
    match scenario {
        TsungScenario::IdleHold { hold, .. } => {
            report["hold_seconds"] = json!(hold.as_secs_f64());
            report["memory"] = memory_during_hold(before, &readings);
        }
        TsungScenario::Messages { messages_per_user, interval, .. } => {
            report["messages"] = json!({
                "per_session": messages_per_user,
                "interval_ms": interval.as_millis(),
                "sent": count("tr_chat"),
                "recorded": count("xmpp_msg_latency"),
                "latency": distribution("xmpp_msg_latency"),
            });
        }
    }
    Ok(report)
}

/// One reading taken while Tsung runs.
#[derive(Debug, Clone, Copy)]
struct Reading {
    /// TCP connections established on the server's port.
    connections: usize,
    /// The server's memory.
    memory: Memory,
}

/// Runs `tsung start` until it exits, reading the server every
/// [`SAMPLE_EVERY`]; kills it (its whole process group) after `limit`.
async fn run_tsung(
    xml: &Path,
    log_dir: &Path,
    epmd: &Epmd,
    limit: Duration,
    running: &Running,
    port: u16,
) -> anyhow::Result<Vec<Reading>> {
    let dir = xml.parent().context("the configuration has no directory")?;
    let output = std::fs::File::create(dir.join("tsung.out"))?;
    let mut command = tokio::process::Command::new("tsung");
    command
        // -n: no web dashboard (port 8091); -i: a node name of its own.
        .args(["-n", "-i", &std::process::id().to_string(), "-f"])
        .arg(xml)
        .arg("-l")
        .arg(log_dir)
        .arg("start")
        .current_dir(dir)
        .env("ERL_EPMD_PORT", epmd.port.to_string())
        // Tsung leaves Nagle's algorithm on: a step written in two
        // segments (a TLS handshake's end, then the stream header) waits
        // for the server's delayed ACK, 40 ms, which measures the two
        // kernels rather than the server.
        .env("ERL_AFLAGS", "-kernel inet_default_connect_options [{nodelay,true}]")
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        .process_group(0);
    let child = command.spawn().context("cannot run tsung (apt-get install tsung)")?;
    let mut group = Group::new(child);
    let deadline = Instant::now() + limit;
    let mut readings = Vec::new();
    loop {
        tokio::select! {
            status = group.child.wait() => {
                let status = status?;
                ensure!(status.success(), "tsung exited with {status}: see {}", dir.join("tsung.out").display());
                return Ok(readings);
            }
            () = tokio::time::sleep(SAMPLE_EVERY) => {
                if Instant::now() > deadline {
                    bail!("tsung ran longer than {limit:?}: killed; see {}", log_dir.display());
                }
                if let Ok(memory) = running.memory() {
                    readings.push(Reading { connections: established(port), memory });
                }
            }
        }
    }
}

/// The memory while every session was open: the median of the readings
/// with the most connections (within 1 %).
fn memory_during_hold(before: Memory, readings: &[Reading]) -> Value {
    let most = readings.iter().map(|r| r.connections).max().unwrap_or(0);
    let mut held: Vec<u64> = readings
        .iter()
        .filter(|r| most > 0 && r.connections >= most - most / 100)
        .map(|r| r.memory.rss_kib)
        .collect();
    held.sort_unstable();
    let Some(rss) = crate::stats::percentile(&held, 0.5) else {
        return json!({ "before": before.to_json(), "connections": 0 });
    };
    let per_session = rss.saturating_sub(before.rss_kib) as f64 / most as f64;
    json!({
        "before": before.to_json(),
        "rss_during_hold_mib": crate::server::mib(rss),
        "peak_hwm_mib": crate::server::mib(readings.iter().map(|r| r.memory.hwm_kib).max().unwrap_or(0)),
        "connections": most,
        "readings": held.len(),
        "per_session_kib": (per_session * 10.0).round() / 10.0,
    })
}

/// TCP connections in state ESTABLISHED whose local port is `port`, on
/// IPv4 (the servers listen on 127.0.0.1): the server's side of them.
fn established(port: u16) -> usize {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else { return 0 };
    let local = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let mut fields = line.split_whitespace().skip(1);
            let address = fields.next().unwrap_or_default();
            let state = fields.nth(1).unwrap_or_default();
            address.ends_with(&local) && state == "01"
        })
        .count()
}

/// Tsung's child process, the leader of its own process group; the whole
/// group (the shell, the Erlang VM and its helpers) is killed when this
/// is dropped.
struct Group {
    child: tokio::process::Child,
    leader: Option<rustix::process::Pid>,
}

impl Group {
    fn new(child: tokio::process::Child) -> Self {
        let leader = child.id().and_then(|id| rustix::process::Pid::from_raw(id.try_into().ok()?));
        Self { child, leader }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(leader) = self.leader {
            // ESRCH once every process of the group has gone.
            let _ = rustix::process::kill_process_group(leader, rustix::process::Signal::KILL);
        }
    }
}

/// An Erlang port mapper of this run's own, on 127.0.0.1 and a free port,
/// killed when dropped.
struct Epmd {
    port: u16,
    _child: tokio::process::Child,
}

impl Epmd {
    async fn start(dir: &Path) -> anyhow::Result<Self> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port();
        let child = tokio::process::Command::new("epmd")
            .args(["-port", &port.to_string(), "-address", "127.0.0.1"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("cannot run epmd (it comes with Erlang, a dependency of tsung)")?;
        let epmd = Self { port, _child: child };
        let started = Instant::now();
        // Tsung's VM would start one of its own if this one did not
        // answer yet, and leave it running.
        while tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await.is_err() {
            ensure!(started.elapsed() < EPMD_TIMEOUT, "epmd did not listen on port {port}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(epmd)
    }
}

/// The directory Tsung made for its run in `log_dir` (`YYYYMMDD-HHMM`).
fn only_subdirectory(log_dir: &Path) -> anyhow::Result<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(log_dir)
        .with_context(|| format!("Tsung made no log directory {}", log_dir.display()))?
    {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            found.push(entry.path());
        }
    }
    match &found[..] {
        [one] => Ok(one.clone()),
        _ => bail!("{} holds {} runs, not one", log_dir.display(), found.len()),
    }
}

/// `tsung -v`'s version, or `unknown`.
async fn tsung_version() -> String {
    let output = tokio::process::Command::new("tsung").arg("-v").output().await;
    output
        .ok()
        .and_then(|out| {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.trim().strip_prefix("Tsung version ").map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Writes `text` to a new file only its owner may read.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(connections: usize, rss_kib: u64) -> Reading {
        Reading { connections, memory: Memory { rss_kib, hwm_kib: rss_kib, anon_kib: 0 } }
    }

    #[test]
    fn memory_is_read_while_the_most_sessions_are_open() {
        let before = Memory { rss_kib: 10_000, hwm_kib: 10_000, anon_kib: 0 };
        let readings = [
            reading(100, 20_000),
            reading(1000, 30_000),
            reading(995, 31_000),
            reading(1000, 32_000),
            reading(500, 90_000),
        ];
        let memory = memory_during_hold(before, &readings);
        assert_eq!(memory["connections"], 1000);
        assert_eq!(memory["readings"], 3);
        assert_eq!(memory["per_session_kib"], 21.0);
    }

    #[test]
    fn no_connection_gives_no_figure() {
        let before = Memory { rss_kib: 10_000, hwm_kib: 10_000, anon_kib: 0 };
        let memory = memory_during_hold(before, &[reading(0, 20_000)]);
        assert!(memory.get("per_session_kib").is_none());
    }
}
