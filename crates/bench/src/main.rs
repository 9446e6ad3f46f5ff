//! `simul-bench`: a load generator for `simul serve`, over loopback only.
//!
//! It starts the release build of `simul serve` itself (on a fresh data
//! directory under the system's temporary directory, port chosen free on
//! 127.0.0.1), mints LtpaToken2 tokens with the keys the server generated
//! (`ltpa.keys` and `ltpa.password` in the data directory), so sessions
//! need no password login and the users need not exist, and opens
//! WebSocket sessions on `/api/v1/events` with `Authorization: Bearer`,
//! or Sametime VP sessions on the VP door (`--door vp`: the server is
//! started with `SIMUL_VP__LISTEN` on another free port; the client is
//! made of `simul_vp`, the door's own protocol layer, and logs in with
//! the token as auth type 1, from 127.0.0.1…127.0.0.N, `--vp-sources`).
//! Every loop is bounded in count and in time; the server is stopped
//! (SIGTERM, then SIGKILL) when a scenario ends or fails.
//!
//! Scenarios (one subcommand each; `simul-bench help SCENARIO` lists the
//! options):
//!
//! - `startup`: spawn-to-`GET /healthz`-200 time and idle memory (`VmRSS`,
//!   `VmHWM` from `/proc/PID/status`) on a fresh and on an existing data
//!   directory;
//! - `sessions`: memory per idle logged-in session, WebSocket or VP
//!   (`--door vp`, `--watch N` users each),
//!   (RSS with N sessions − RSS before them) / N, and the kernel's socket
//!   memory per session;
//! - `presence`: every session watches a few "busy" users; one of them
//!   changes status (`PUT /api/v1/me/status`) each round, and the time
//!   until each watcher has the `status` event is recorded;
//! - `im`: pairs of sessions exchange 1:1 messages (`{"type":"im"}`, or
//!   text on VP IM channels), one in flight per pair, for a fixed time:
//!   messages per second delivered and the latency from send to receipt;
//!   `--door vp` pairs two VP sessions, `--door mixed` a web and a VP one;
//! - `vp-logins`: VP logins per second and their latency: by token (auth
//!   type 1, and pasted into the password field, RC2/128) and by password
//!   (RC2/128, argon2id) of users added with `simul user add`;
//! - `xmpp-logins`: XMPP sign-ins per second and their latency (connect,
//!   TLS, stream, SASL, bind): PLAIN with a token and with a password,
//!   SCRAM-SHA-256, over direct TLS and STARTTLS; `--door xmpp` gives
//!   `sessions` and `im` XMPP sessions (PLAIN with the token, initial
//!   presence sent), over `--xmpp-transport direct|starttls`;
//! - `ldap`: a real slapd (simul-testkit) with N extra people: start-up
//!   with the name cache loaded, memory per cached person, login (search
//!   and bind) and directory-search latency;
//! - `console`: every page of the administration console (its own route
//!   list), as a signed-in administrator, on an embedded directory of
//!   50,000 people and a long audit log: latency per page;
//! - `compare`: Simul, Prosody and ejabberd side by side (`scripts/bench-compare`
//!   installs and starts them): the same XMPP client and scenarios against
//!   each, from a fresh start with the same users and contact lists (idle
//!   hold with and without TLS, login storm, presence storm, 1:1 messages at
//!   rising offered loads), then Simul's WebSocket and VP doors at the same
//!   size; a JSON file, a Markdown table with the ratios, a gnuplot plot;
//! - `chaos`: the fault suite of RELIABILITY.md (`scripts/chaos`), with the
//!   server's limits as configured rather than lifted: it fails when a
//!   legitimate user is kept out or an acknowledged message is lost.
//!
//! Reproduce the figures of BENCHMARKS.md from the repository root:
//!
//! ```sh
//! cargo build --release -p simul -p simul-bench
//! ./target/release/simul-bench startup --runs 5
//! ./target/release/simul-bench sessions --sessions 1000,10000
//! ./target/release/simul-bench presence --sessions 1000,10000
//! ./target/release/simul-bench im --sessions 1000,10000
//! ./target/release/simul-bench im --sessions 1000,10000 --active-pairs 50
//! ./target/release/simul-bench ldap --people 1000,10000,50000
//! ./target/release/simul-bench console --people 50000
//! ./target/release/simul-bench sessions --door vp --sessions 1000,10000,19000
//! ./target/release/simul-bench sessions --door vp --sessions 10000 --watch 10
//! ./target/release/simul-bench vp-logins
//! ./target/release/simul-bench vp-logins --concurrency 64 --password-concurrency 8 --password-logins 200
//! ./target/release/simul-bench im --door vp --sessions 1000,10000
//! ./target/release/simul-bench im --door vp --sessions 1000,10000 --active-pairs 50
//! ./target/release/simul-bench im --door mixed --sessions 1000,10000
//! ./target/release/simul-bench im --door mixed --sessions 1000,10000 --active-pairs 50
//! ./target/release/simul-bench sessions --door xmpp --sessions 1000,10000
//! ./target/release/simul-bench sessions --door xmpp --xmpp-transport starttls --sessions 10000
//! ./target/release/simul-bench xmpp-logins
//! ./target/release/simul-bench im --door xmpp --sessions 1000,10000
//! ./target/release/simul-bench im --door xmpp --sessions 1000,10000 --active-pairs 50
//! ```
//!
//! The benchmark and the server share the machine's cores: on a small
//! machine the client's work is part of every latency it reports. It
//! raises its file-descriptor limit (soft and, with `CAP_SYS_RESOURCE`,
//! hard) to 1,048,576 or as far as the hard limit allows; the server
//! inherits it. Each session is a socket in each process, so the limit
//! caps the sessions of a run; beyond some 28,000 VP sessions, give
//! `--vp-sources` more than one address per 28,000 (the ephemeral ports
//! of one source address towards the door's one port).

mod client;
mod compare;
mod peer;
mod scenario;
mod server;
mod stats;
mod tokens;
mod vp;
mod xmpp;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

/// Load generator for `simul serve` over loopback: start-up, idle memory,
/// memory per WebSocket or Sametime VP session, presence fan-out latency,
/// 1:1 message throughput, VP logins.
#[derive(Debug, Parser)]
#[command(name = "simul-bench", version, long_about = None, after_help = AFTER_HELP)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    scenario: Scenario,
}

/// Shown after the options of `--help`.
const AFTER_HELP: &str = "\
It starts target/release/simul itself on a fresh temporary data directory,
listening on 127.0.0.1 only, and mints LtpaToken2 tokens with the keys that
server generated. The figures of BENCHMARKS.md come from:

  cargo build --release -p simul -p simul-bench
  ./target/release/simul-bench startup --runs 5
  ./target/release/simul-bench sessions --sessions 1000,10000
  ./target/release/simul-bench presence --sessions 1000,10000
  ./target/release/simul-bench im --sessions 1000,10000
  ./target/release/simul-bench im --sessions 1000,10000 --active-pairs 50
  ./target/release/simul-bench ldap --people 1000,10000,50000
  ./target/release/simul-bench console --people 50000
  ./target/release/simul-bench sessions --door vp --sessions 1000,10000,19000
  ./target/release/simul-bench sessions --door vp --sessions 10000 --watch 10
  ./target/release/simul-bench vp-logins
  ./target/release/simul-bench vp-logins --concurrency 64 --password-concurrency 8 --password-logins 200
  ./target/release/simul-bench im --door vp --sessions 1000,10000
  ./target/release/simul-bench im --door vp --sessions 1000,10000 --active-pairs 50
  ./target/release/simul-bench im --door mixed --sessions 1000,10000
  ./target/release/simul-bench im --door mixed --sessions 1000,10000 --active-pairs 50
  ./target/release/simul-bench sessions --door xmpp --sessions 1000,10000
  ./target/release/simul-bench sessions --door xmpp --xmpp-transport starttls --sessions 10000
  ./target/release/simul-bench xmpp-logins
  ./target/release/simul-bench im --door xmpp --sessions 1000,10000
  ./target/release/simul-bench im --door xmpp --sessions 1000,10000 --active-pairs 50

The benchmark and the server share the machine's CPUs.";

/// What to measure.
#[derive(Debug, Subcommand)]
enum Scenario {
    /// Start-up time and idle memory, fresh and existing data directory.
    Startup(scenario::startup::Args),
    /// Memory per idle logged-in session, WebSocket or Sametime VP.
    Sessions(scenario::sessions::Args),
    /// Presence fan-out latency to every watcher.
    Presence(scenario::presence::Args),
    /// 1:1 instant-message throughput and latency over WebSockets, the
    /// Sametime VP door, or between the two.
    Im(scenario::im::Args),
    /// Sametime VP logins per second and latency, by token and by password.
    VpLogins(scenario::vp_logins::Args),
    /// XMPP sign-ins per second and latency: PLAIN (token, password) and
    /// SCRAM-SHA-256, over direct TLS and STARTTLS.
    XmppLogins(scenario::xmpp_logins::Args),
    /// An LDAP directory (a real slapd): name-cache load, memory per
    /// person, login and search latency.
    Ldap(scenario::ldap::Args),
    /// Every console page as a signed-in administrator, on an embedded
    /// directory of 50,000 people: latency per page.
    Console(scenario::console::Args),
    /// Simul, Prosody and ejabberd side by side: idle hold, login storm,
    /// presence storm, 1:1 messages at rising loads; JSON, Markdown, plot.
    Compare(compare::Args),
    /// The fault suite: slow and idle connections, floods, kill -9 under
    /// load, a full disk, LDAP down; legitimate users must carry on.
    Chaos(scenario::chaos::Args),
}

/// Options every scenario takes.
#[derive(Debug, Args)]
pub struct Common {
    /// The `simul` binary to start.
    #[arg(long, global = true, value_name = "FILE", default_value = "target/release/simul")]
    pub simul: PathBuf,
    /// Where the temporary data directories go (default: the system's).
    #[arg(long, global = true, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Print the results as JSON instead of `key: value` lines.
    #[arg(long, global = true)]
    pub json: bool,
    /// Pause before each memory reading, so the server is idle again.
    #[arg(long, global = true, value_name = "MS", default_value_t = 2000)]
    pub settle_ms: u64,
    /// WebSocket handshakes in flight at once while sessions open.
    #[arg(long, global = true, value_name = "N", default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Loopback source addresses VP sessions connect from (127.0.0.1,
    /// 127.0.0.2, …): each has some 28,000 ephemeral ports towards the
    /// door's one port.
    #[arg(long, global = true, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=250))]
    pub vp_sources: u8,
    /// How XMPP sessions (`--door xmpp`) start TLS: the door has no
    /// plain-text listener.
    #[arg(long, global = true, value_enum, default_value_t = TlsStart::Direct)]
    pub xmpp_transport: TlsStart,
}

/// How an XMPP session starts TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsStart {
    /// TLS from the first byte (XEP-0368, `[xmpp] listen_tls`).
    Direct,
    /// STARTTLS on the stream (`[xmpp] listen`).
    Starttls,
}

impl From<TlsStart> for simul_testkit::XmppTransport {
    fn from(start: TlsStart) -> Self {
        match start {
            TlsStart::Direct => Self::DirectTls,
            TlsStart::Starttls => Self::StartTls,
        }
    }
}

/// Options of one scenario, parsed from `argv` (the scenario's name
/// first), for a scenario that runs others.
pub fn parse_args<T: Args>(argv: &[&str]) -> anyhow::Result<T> {
    #[derive(Parser)]
    struct Only<T: Args> {
        #[command(flatten)]
        args: T,
    }
    Ok(Only::<T>::try_parse_from(argv)?.args)
}

impl Common {
    /// A new temporary directory for one server's data and log, removed
    /// when dropped.
    pub fn scratch(&self) -> anyhow::Result<Scratch> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("simul-bench-");
        let dir = match &self.work_dir {
            Some(parent) => builder.tempdir_in(parent),
            None => builder.tempdir(),
        }
        .context("cannot create a temporary directory")?;
        Ok(Scratch { dir })
    }

    /// Waits `settle_ms`.
    pub async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(self.settle_ms)).await;
    }
}

/// A temporary directory holding one deployment (`data/`) and the
/// server's logs.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// The directory itself.
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The data directory (`simul serve --data`).
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Where the server's stderr of start number `n` goes.
    pub fn log(&self, n: usize) -> PathBuf {
        self.dir.path().join(format!("serve-{n}.log"))
    }
}

/// File descriptors wanted: N sessions need N sockets on each side, and
/// the VP door is meant for well over 65,535 (the seeds' Community
/// Server's limit). Linux's default `fs.nr_open` is the ceiling.
const NOFILE_WANTED: u64 = 1_048_576;

/// Raises the soft (and if need be, as root, the hard) limit on open files;
/// the limit in force.
fn raise_fd_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let current = getrlimit(Resource::Nofile);
    let hard = current.maximum.unwrap_or(u64::MAX);
    let wanted = Rlimit { current: Some(NOFILE_WANTED), maximum: Some(hard.max(NOFILE_WANTED)) };
    if setrlimit(Resource::Nofile, wanted).is_err() {
        let within = Rlimit { current: Some(hard.min(NOFILE_WANTED)), maximum: current.maximum };
        let _ = setrlimit(Resource::Nofile, within);
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// What the figures were measured on.
pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")?.split_once(':').map(|(_, m)| m.trim().to_owned())
            })
        })
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    json!({
        "cpus": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "cpu": cpu,
        "kernel": kernel.trim(),
        "note": "client and server share these CPUs",
    })
}

/// Prints a JSON value as `dotted.key: value` lines.
fn print_lines(prefix: &str, value: &Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let key = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                print_lines(&key, value);
            }
        }
        Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                print_lines(&format!("{prefix}[{i}]"), value);
            }
        }
        other => println!("{prefix}: {other}"),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let nofile = raise_fd_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("simul-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let common = &cli.common;
    let result = runtime.block_on(async {
        match &cli.scenario {
            Scenario::Startup(args) => scenario::startup::run(common, args).await,
            Scenario::Sessions(args) => scenario::sessions::run(common, args, nofile).await,
            Scenario::Presence(args) => scenario::presence::run(common, args, nofile).await,
            Scenario::Im(args) => scenario::im::run(common, args, nofile).await,
            Scenario::VpLogins(args) => scenario::vp_logins::run(common, args).await,
            Scenario::XmppLogins(args) => scenario::xmpp_logins::run(common, args).await,
            Scenario::Ldap(args) => scenario::ldap::run(common, args).await,
            Scenario::Console(args) => scenario::console::run(common, args).await,
            Scenario::Chaos(args) => scenario::chaos::run(common, args).await,
            Scenario::Compare(args) => compare::run(common, args, nofile).await,
        }
    });
    match result {
        Ok(results) => {
            let report = json!({ "machine": machine(), "results": results });
            if common.json {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            } else {
                print_lines("", &report);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("simul-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
