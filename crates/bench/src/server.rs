//! A `simul serve` child process on loopback: start, health check, memory
//! and CPU readings from `/proc`, stop.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use simul_testkit::XmppTransport;

/// The flood and connection limits, lifted (see `simul serve`'s `[server]`
/// keys), and the minted tokens' users let in though the embedded realm
/// does not hold them.
const UNLIMITED: &[(&str, &str)] = &[
    ("SIMUL_DIRECTORY__ACCEPT_UNKNOWN_SSO_USERS", "true"),
    ("SIMUL_SERVER__MAX_CONNECTIONS_PER_ADDRESS", "100000000"),
    ("SIMUL_SERVER__COMMANDS_PER_SECOND", "100000000"),
    ("SIMUL_SERVER__COMMAND_BURST", "100000000"),
    ("SIMUL_SERVER__MESSAGES_PER_MINUTE", "100000000"),
    ("SIMUL_SERVER__MESSAGE_BURST", "100000000"),
    ("SIMUL_SERVER__MAX_SESSIONS_PER_USER", "100000000"),
    // Only invalid tokens count, but attempts under way hold a place:
    // the default (60) caps the token logins in flight per address.
    ("SIMUL_SERVER__INVALID_TOKENS_PER_MINUTE", "100000000"),
];

/// Longest wait for `GET /healthz` to answer 200 after the spawn.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait for the server to exit after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between two health checks while the server starts.
const POLL_INTERVAL: Duration = Duration::from_millis(1);

/// A running `simul serve`, killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    port: u16,
    /// The VP door's port (127.0.0.1), when it listens.
    vp_port: Option<u16>,
    /// The XMPP door's ports (127.0.0.1; STARTTLS, direct TLS,
    /// cleartext), when it listens.
    xmpp_ports: Option<[u16; 3]>,
    log: PathBuf,
    /// Time from the spawn to the first `GET /healthz` answered 200.
    pub startup: Duration,
}

/// What `simul serve` is started with: the binary, its data directory,
/// its log, `--config`, and environment variables (settings).
struct Launch<'a> {
    simul: &'a Path,
    data: &'a Path,
    log: &'a Path,
    config: Option<&'a Path>,
    env: &'a [(&'a str, &'a str)],
}

impl Server {
    /// Starts `simul serve` on a free loopback port with the data
    /// directory `data` (created by the server if missing) and waits until
    /// `GET /healthz` answers 200. Its stdout is discarded; its stderr
    /// (the log, level `warn`) goes to `log`.
    pub async fn start(simul: &Path, data: &Path, log: &Path) -> anyhow::Result<Self> {
        Self::start_configured(simul, data, log, None).await
    }

    /// The same with `--config FILE`.
    pub async fn start_configured(
        simul: &Path,
        data: &Path,
        log: &Path,
        config: Option<&Path>,
    ) -> anyhow::Result<Self> {
        // A load generator is one address sending what no person sends:
        // lift the limits that protect a server from such a client.
        Self::start_with(simul, data, log, config, UNLIMITED).await
    }

    /// The same as [`Server::start`] with the Sametime VP door listening
    /// too, on another free loopback port.
    pub async fn start_with_vp(simul: &Path, data: &Path, log: &Path) -> anyhow::Result<Self> {
        let [http, vp_port] = free_ports()?;
        let listen = format!("127.0.0.1:{vp_port}");
        let mut env = UNLIMITED.to_vec();
        env.push(("SIMUL_VP__LISTEN", &listen));
        let launch = Launch { simul, data, log, config: None, env: &env };
        let mut server = Self::start_on(http, launch).await?;
        server.vp_port = Some(vp_port);
        Ok(server)
    }

    /// The same as [`Server::start`] with the XMPP door listening too, on
    /// three more free loopback ports (STARTTLS, direct TLS, and the
    /// cleartext listener a local TLS-terminating proxy would use).
    pub async fn start_with_xmpp(simul: &Path, data: &Path, log: &Path) -> anyhow::Result<Self> {
        // Chosen together with the HTTP port: one at a time, the kernel
        // may give the same port twice, and simul serve cannot bind it.
        let [http, ports @ ..] = free_ports::<4>()?;
        let [listen, listen_tls, listen_cleartext] = ports.map(|port| format!("127.0.0.1:{port}"));
        let mut env = UNLIMITED.to_vec();
        env.extend([
            ("SIMUL_XMPP__LISTEN", listen.as_str()),
            ("SIMUL_XMPP__LISTEN_TLS", &listen_tls),
            ("SIMUL_XMPP__LISTEN_CLEARTEXT", &listen_cleartext),
        ]);
        // The bench's XMPP sessions answer no XEP-0199 ping: idle ones
        // would be ended after twice the keepalive.
        env.push(("SIMUL_SERVER__KEEPALIVE_SECONDS", "3600"));
        let launch = Launch { simul, data, log, config: None, env: &env };
        let mut server = Self::start_on(http, launch).await?;
        server.xmpp_ports = Some(ports);
        let direct = ports[1];
        // The door may open after the HTTP listener answered; its
        // certificate is on disk once it does.
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", direct)).await.is_err() {
            if started.elapsed() > START_TIMEOUT {
                bail!("the XMPP door did not listen within {START_TIMEOUT:?}");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        Ok(server)
    }

    /// The same with these environment variables (settings) and the
    /// limits as configured: for the chaos scenario, which tries them.
    pub async fn start_with(
        simul: &Path,
        data: &Path,
        log: &Path,
        config: Option<&Path>,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let [port] = free_ports()?;
        Self::start_on(port, Launch { simul, data, log, config, env }).await
    }

    /// [`Server::start_with`] with its HTTP listener on `port`.
    async fn start_on(port: u16, launch: Launch<'_>) -> anyhow::Result<Self> {
        let Launch { simul, data, log, config, env } = launch;
        let stderr =
            File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let started = Instant::now();
        let child = Command::new(simul)
            // HTTP only: the HTTPS listener has a fixed default port and
            // nothing here measures TLS.
            .args(["serve", "--https", "off", "--http", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .args(
                config
                    .map(|file| [std::ffi::OsStr::new("--config"), file.as_os_str()])
                    .into_iter()
                    .flatten(),
            )
            .env("SIMUL_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .with_context(|| {
                format!("cannot run {} (build it: cargo build --release -p simul)", simul.display())
            })?;
        let mut server = Self {
            child,
            port,
            vp_port: None,
            xmpp_ports: None,
            log: log.to_owned(),
            startup: Duration::ZERO,
        };
        let http = reqwest::Client::new();
        let url = server.url("/healthz");
        loop {
            if let Ok(response) = http.get(&url).send().await
                && response.status() == reqwest::StatusCode::OK
            {
                break;
            }
            if let Some(status) = server.child.try_wait()? {
                bail!("simul serve exited with {status} before answering: see {}", log.display());
            }
            if started.elapsed() > START_TIMEOUT {
                bail!("simul serve did not answer /healthz within {START_TIMEOUT:?}");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        server.startup = started.elapsed();
        Ok(server)
    }

    /// The TCP port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The VP door's address, if it listens.
    pub fn vp_address(&self) -> Option<std::net::SocketAddr> {
        self.vp_port.map(|port| (std::net::Ipv4Addr::LOCALHOST, port).into())
    }

    /// The XMPP door's STARTTLS and direct-TLS addresses, if it listens.
    pub fn xmpp_addresses(&self) -> Option<(std::net::SocketAddr, std::net::SocketAddr)> {
        let [starttls, direct, _] = self.xmpp_ports?;
        let at = |port| (std::net::Ipv4Addr::LOCALHOST, port).into();
        Some((at(starttls), at(direct)))
    }

    /// The XMPP door's cleartext listener (`[xmpp] listen_cleartext`), if
    /// it listens.
    pub fn xmpp_cleartext_address(&self) -> Option<std::net::SocketAddr> {
        let [.., cleartext] = self.xmpp_ports?;
        Some((std::net::Ipv4Addr::LOCALHOST, cleartext).into())
    }

    /// The XMPP door's address for `transport`, if it listens.
    pub fn xmpp_address(&self, transport: XmppTransport) -> Option<std::net::SocketAddr> {
        let (starttls, direct) = self.xmpp_addresses()?;
        Some(if transport == XmppTransport::StartTls { starttls } else { direct })
    }

    /// The URL of a path on the server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its memory now, from `/proc/PID/status`.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        Memory::of(self.pid())
    }

    /// CPU time it has used so far (user + system).
    pub fn cpu(&self) -> anyhow::Result<Duration> {
        cpu_of(self.pid())
    }

    /// Fails, naming the log, if the process has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("simul serve exited with {status}: see {}", self.log.display());
        }
        Ok(())
    }

    /// Warnings and errors the server logged (its stderr so far).
    pub fn log_lines(&self) -> usize {
        std::fs::read_to_string(&self.log).map(|text| text.lines().count()).unwrap_or(0)
    }

    /// Kills it with SIGKILL, as a crash or a power cut would end it.
    pub fn kill_hard(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Stops it with SIGTERM (graceful shutdown, as an operator would),
    /// then SIGKILL if it has not exited within a bounded wait.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        terminate(&mut self.child, "simul serve", STOP_TIMEOUT).await
    }
}

/// Stops `child` with SIGTERM, then SIGKILL if it has not exited within
/// `timeout`; `what` names it in the message that says so.
pub async fn terminate(child: &mut Child, what: &str, timeout: Duration) -> anyhow::Result<()> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id())?)
        .context("the server has no process id")?;
    if child.try_wait()?.is_none() {
        // It may exit between the check and the signal: ignore ESRCH.
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    let deadline = Instant::now() + timeout;
    while child.try_wait()?.is_none() {
        if Instant::now() > deadline {
            eprintln!("{what} ignored SIGTERM for {timeout:?}; killing it");
            child.kill()?;
            child.wait()?;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound, then released for the server).
/// `N` distinct free TCP ports on 127.0.0.1.
pub fn free_ports<const N: usize>() -> anyhow::Result<[u16; N]> {
    // Held together while chosen, so that the kernel gives distinct ones.
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)))
        .collect::<Result<_, _>>()
        .context("cannot find a free port")?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

/// Memory of a process, in KiB, as `/proc/PID/status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Resident set size now (`VmRSS`).
    pub rss_kib: u64,
    /// Peak resident set size (`VmHWM`).
    pub hwm_kib: u64,
    /// Resident anonymous memory, the heap and stacks (`RssAnon`).
    pub anon_kib: u64,
}

impl Memory {
    /// Reads `/proc/PID/status`.
    pub fn of(pid: u32) -> anyhow::Result<Self> {
        let path = format!("/proc/{pid}/status");
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            let line = text
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .with_context(|| format!("{path} has no {name}"))?;
            let kib = line.trim().trim_end_matches("kB").trim();
            kib.parse().with_context(|| format!("{path}: {name} is {line:?}"))
        };
        Ok(Self { rss_kib: field("VmRSS")?, hwm_kib: field("VmHWM")?, anon_kib: field("RssAnon")? })
    }

    /// As JSON, in MiB.
    pub fn to_json(self) -> Value {
        json!({
            "rss_mib": mib(self.rss_kib),
            "hwm_mib": mib(self.hwm_kib),
            "anon_mib": mib(self.anon_kib),
        })
    }
}

/// The kernel's memory that sockets take, machine-wide: not in any
/// process's RSS, and counted twice on loopback (both ends are here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelMemory {
    /// Slab caches (`Slab` of `/proc/meminfo`): sockets, files, inodes.
    pub slab_kib: u64,
    /// TCP buffers (`mem` pages of `TCP` in `/proc/net/sockstat`).
    pub tcp_buffers_kib: u64,
}

impl KernelMemory {
    /// Reads `/proc/meminfo` and `/proc/net/sockstat`.
    pub fn now() -> anyhow::Result<Self> {
        let meminfo = std::fs::read_to_string("/proc/meminfo")?;
        let slab = meminfo
            .lines()
            .find_map(|line| line.strip_prefix("Slab:"))
            .context("no Slab in /proc/meminfo")?;
        let slab_kib = slab.trim().trim_end_matches("kB").trim().parse()?;
        let sockstat = std::fs::read_to_string("/proc/net/sockstat")?;
        let tcp = sockstat
            .lines()
            .find_map(|line| line.strip_prefix("TCP:"))
            .context("no TCP in /proc/net/sockstat")?;
        let fields: Vec<&str> = tcp.split_whitespace().collect();
        let pages: u64 = fields
            .windows(2)
            .find_map(|pair| (pair[0] == "mem").then(|| pair[1].parse().ok())?)
            .unwrap_or(0);
        let page_kib = rustix::param::page_size() as u64 / 1024;
        Ok(Self { slab_kib, tcp_buffers_kib: pages * page_kib })
    }
}

/// KiB as MiB with two decimals.
pub fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 100.0).round() / 100.0
}

/// The CPU time (user + system) process `pid` has used so far.
pub fn cpu_of(pid: u32) -> anyhow::Result<Duration> {
    cpu_time(&format!("/proc/{pid}/stat"))
}

/// CPU time (user + system) from a `/proc/.../stat` file.
fn cpu_time(path: &str) -> anyhow::Result<Duration> {
    stat_cpu(path, 11)
}

/// CPU time (user + system) of the benchmark's children that have exited
/// and been waited for, with that of their own waited-for children.
pub fn children_cpu() -> anyhow::Result<Duration> {
    stat_cpu("/proc/self/stat", 13)
}

/// The sum of the tick counts at `first` and the next field (counted
/// from the state, field 3) of a `/proc/.../stat` file.
fn stat_cpu(path: &str, first: usize) -> anyhow::Result<Duration> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    // Fields after the command name, which is in parentheses and may hold spaces:
    // state is field 3, utime field 14 and stime field 15, cutime and
    // cstime fields 16 and 17.
    let after = text.rsplit_once(')').map(|(_, rest)| rest).context("no command name")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields.get(i).context("short stat line")?.parse()?)
    };
    let total = ticks(first)? + ticks(first + 1)?;
    let per_second = rustix::param::clock_ticks_per_second().max(1);
    Ok(Duration::from_secs_f64(total as f64 / per_second as f64))
}

/// CPU time the benchmark itself has used so far.
pub fn own_cpu() -> anyhow::Result<Duration> {
    cpu_time("/proc/self/stat")
}

/// Percent of one core used by `cpu` over `wall`.
pub fn cpu_percent(cpu: Duration, wall: Duration) -> f64 {
    (cpu.as_secs_f64() / wall.as_secs_f64().max(1e-9) * 1000.0).round() / 10.0
}
