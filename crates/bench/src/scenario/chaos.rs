//! `chaos`: the fault suite (`scripts/chaos`, RELIABILITY.md). It starts
//! the real server and, one after the other: half-sent requests, thousands
//! of idle connections, a WebSocket command flood, a login flood, `kill -9`
//! under message load and a restart, a disk that fills up (a tmpfs mounted
//! for it; root only), and the LDAP server killed and restarted. After
//! each, legitimate users must still sign in, chat and see statuses, and
//! no acknowledged message may be lost. Any failed check ends the run
//! with an error that names it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use super::{PASSWORD, add_users};
use crate::client::{Session, connect, next_text};
use crate::server::Server;
use crate::{Common, Scratch};

/// Options of `simul-bench chaos`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Half-sent requests held open at once.
    #[arg(long, default_value_t = 2_000)]
    slow: usize,
    /// Idle connections opened at once.
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
    /// Seconds of message load before the `kill -9`.
    #[arg(long, default_value_t = 3)]
    load_seconds: u64,
    /// Leave out the full disk (it mounts a tmpfs, which needs root).
    #[arg(long)]
    no_disk: bool,
}

/// Connections opened from one loopback address (below the per-address cap).
const PER_ADDRESS: usize = 500;
/// Most messages sent into a full disk before one must be refused: the
/// write-ahead log's pages already on disk hold a few hundred of 1 kB.
const MOST_INTO_A_FULL_DISK: usize = 2_000;
/// Longest wait for anything the checks expect.
const WAIT: Duration = Duration::from_secs(15);
/// The server's settings for the run: a short header timeout, so the slow
/// and idle connections end within the run.
const SETTINGS: &[(&str, &str)] = &[("SIMUL_SERVER__HEADER_TIMEOUT_SECONDS", "2")];
/// The full disk's server: its messages limits lifted, so that messages
/// are sent until the disk refuses one.
const UNTIL_REFUSED: &[(&str, &str)] = &[
    ("SIMUL_SERVER__MESSAGES_PER_MINUTE", "100000000"),
    ("SIMUL_SERVER__MESSAGE_BURST", "100000000"),
];

/// Runs every step; their figures.
pub async fn run(common: &Common, args: &Args) -> anyhow::Result<Value> {
    let scratch = common.scratch()?;
    add_users(&common.simul, &scratch.data(), &["alice", "bob", "carol", "mallory"], PASSWORD)?;
    let mut server = start(common, &scratch, 0, SETTINGS).await?;
    let mut legit = Legit::sign_in(&server).await?;
    let mut steps = serde_json::Map::new();
    steps.insert("slow_headers".into(), slow_headers(&server, &mut legit, args.slow).await?);
    steps
        .insert("idle_connections".into(), idle_connections(&server, &mut legit, args.idle).await?);
    steps.insert("command_flood".into(), command_flood(&server, &mut legit).await?);
    steps.insert("login_flood".into(), login_flood(&server, &mut legit).await?);
    let (killed, restarted) = kill_under_load(common, &scratch, server, args.load_seconds).await?;
    steps.insert("kill_9".into(), killed);
    server = restarted;
    legit = Legit::sign_in(&server).await?;
    legit.check(&server).await.context("after the restart")?;
    server.stop().await?;
    if !args.no_disk {
        steps.insert("disk_full".into(), disk_full(common).await?);
    }
    steps.insert("ldap_down".into(), ldap_down(common).await?);
    Ok(json!({"scenario": "chaos", "steps": steps}))
}

async fn start(
    common: &Common,
    scratch: &Scratch,
    n: usize,
    env: &[(&str, &str)],
) -> anyhow::Result<Server> {
    Server::start_with(&common.simul, &scratch.data(), &scratch.log(n), None, env).await
}

/// An HTTP client whose connections come from `address`.
fn client_from(address: Ipv4Addr) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().local_address(IpAddr::V4(address)).build()?)
}

/// A password login; the LtpaToken2.
async fn log_in(http: &reqwest::Client, server: &Server, user: &str) -> anyhow::Result<String> {
    let answer = http
        .post(server.url("/api/v1/login"))
        .json(&json!({"user": user, "password": PASSWORD}))
        .send()
        .await?;
    ensure!(answer.status().is_success(), "login of {user} answered {}", answer.status());
    answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix("LtpaToken2=")
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
        .context("no LtpaToken2 cookie")
}

/// The legitimate users: alice watches bob; bob changes status and writes
/// to alice; carol signs in with her password. Each from an address of
/// its own, away from the attackers'.
struct Legit {
    http: reqwest::Client,
    bob: String,
    alice_events: Session,
    _bob_events: Session,
    round: u32,
}

impl Legit {
    async fn sign_in(server: &Server) -> anyhow::Result<Self> {
        let http = client_from(Ipv4Addr::new(127, 0, 9, 1))?;
        let alice = log_in(&http, server, "alice").await?;
        let bob = log_in(&http, server, "bob").await?;
        let mut alice_events = connect(server.port(), &alice).await?;
        let bob_events = connect(server.port(), &bob).await?;
        alice_events
            .send(Message::text(json!({"type": "watch", "users": ["bob"]}).to_string()))
            .await?;
        expect(&mut alice_events, |event| event["type"] == "status" && event["user"] == "bob")
            .await?;
        Ok(Self { http, bob, alice_events, _bob_events: bob_events, round: 0 })
    }

    /// Carol signs in; bob's status change and message reach alice.
    async fn check(&mut self, server: &Server) -> anyhow::Result<()> {
        self.round += 1;
        log_in(&self.http, server, "carol").await.context("a legitimate login")?;
        let status = if self.round.is_multiple_of(2) { "available" } else { "away" };
        let put = self
            .http
            .put(server.url("/api/v1/me/status"))
            .bearer_auth(&self.bob)
            .json(&json!({"status": status, "message": format!("round {}", self.round)}))
            .send()
            .await?;
        ensure!(put.status().is_success(), "a status change answered {}", put.status());
        let message = format!("hello {}", self.round);
        expect(&mut self.alice_events, |e| e["type"] == "status" && e["status"] == status)
            .await
            .context("a status change seen by a watcher")?;
        let sent = self
            .http
            .post(server.url("/api/v1/im/alice"))
            .bearer_auth(&self.bob)
            .json(&json!({"text": message}))
            .send()
            .await?;
        ensure!(sent.status().is_success(), "an instant message answered {}", sent.status());
        expect(&mut self.alice_events, |e| e["type"] == "im" && e["text"] == message.as_str())
            .await
            .context("an instant message delivered")?;
        Ok(())
    }
}

/// Reads events until one matches (at most [`WAIT`]).
async fn expect(session: &mut Session, wanted: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let text = next_text(session, left).await?;
        let event: Value = serde_json::from_str(&text)?;
        if wanted(&event) {
            return Ok(event);
        }
    }
}

/// A TCP connection to the server from `from`.
async fn connect_from(from: Ipv4Addr, server: &Server) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    socket.connect(SocketAddr::from(([127, 0, 0, 1], server.port()))).await
}

/// The `n`-th address of a block of loopback addresses, [`PER_ADDRESS`]
/// connections each.
fn spread(block: u8, n: usize) -> Ipv4Addr {
    let k = n / PER_ADDRESS;
    Ipv4Addr::new(
        127,
        block,
        u8::try_from(k / 250).unwrap_or(0),
        u8::try_from(k % 250 + 1).unwrap_or(1),
    )
}

/// Waits until the server has closed every connection; how long it took.
async fn all_closed(mut connections: Vec<TcpStream>) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let deadline = started + WAIT;
    for connection in &mut connections {
        let mut rest = Vec::new();
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::timeout(left, connection.read_to_end(&mut rest))
            .await
            .context("a connection the server should have closed is still open")?
            .ok();
    }
    Ok(started.elapsed())
}

async fn slow_headers(server: &Server, legit: &mut Legit, count: usize) -> anyhow::Result<Value> {
    let mut slow = Vec::with_capacity(count);
    for n in 0..count {
        let mut connection = connect_from(spread(10, n), server).await?;
        connection.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await?;
        slow.push(connection);
    }
    legit.check(server).await.context("with half-sent requests open")?;
    let closed_in = all_closed(slow).await?;
    legit.check(server).await?;
    Ok(json!({"connections": count, "all_closed_within_s": round(closed_in.as_secs_f64())}))
}

async fn idle_connections(
    server: &Server,
    legit: &mut Legit,
    count: usize,
) -> anyhow::Result<Value> {
    let started = Instant::now();
    let mut idle = Vec::with_capacity(count);
    for n in 0..count {
        idle.push(connect_from(spread(11, n), server).await?);
    }
    let opened_in = started.elapsed();
    let open = open_connections(server).await?;
    legit.check(server).await.context("with thousands of idle connections")?;
    let closed_in = all_closed(idle).await?;
    legit.check(server).await?;
    Ok(json!({
        "connections": count,
        "opened_in_s": round(opened_in.as_secs_f64()),
        "open_at_the_server_then": open,
        "all_closed_within_s": round(closed_in.as_secs_f64()),
    }))
}

/// `simul_connections` from `/metrics`.
async fn open_connections(server: &Server) -> anyhow::Result<f64> {
    let text = reqwest::get(server.url("/metrics")).await?.text().await?;
    text.lines()
        .find_map(|line| line.strip_prefix("simul_connections "))
        .and_then(|n| n.trim().parse().ok())
        .context("no simul_connections in /metrics")
}

async fn command_flood(server: &Server, legit: &mut Legit) -> anyhow::Result<Value> {
    let http = client_from(Ipv4Addr::new(127, 0, 12, 1))?;
    let mallory = log_in(&http, server, "mallory").await?;
    let mut session = connect(server.port(), &mallory).await?;
    let sent = 10_000;
    let flood = (0..sent).map(|n| {
        let im = json!({"type": "im", "to": "alice", "text": format!("spam {n}")});
        Ok(Message::text(im.to_string()))
    });
    // The server may close the socket while the flood is still going out.
    let _ = session.send_all(&mut futures_util::stream::iter(flood)).await;
    let (mut errors, mut ended) = (0, false);
    while let Ok(Some(frame)) = tokio::time::timeout(WAIT, session.next()).await {
        match frame {
            Ok(Message::Text(text)) if text.contains(r#""type":"error""#) => errors += 1,
            Ok(Message::Close(_)) | Err(_) => {
                ended = true;
                break;
            }
            Ok(_) => {}
        }
    }
    ensure!(ended, "the flooding session was not cut off");
    legit.check(server).await.context("after a command flood")?;
    Ok(json!({"commands_sent": sent, "error_events": errors, "cut_off": ended}))
}

async fn login_flood(server: &Server, legit: &mut Legit) -> anyhow::Result<Value> {
    let http = client_from(Ipv4Addr::new(127, 0, 13, 1))?;
    let attempts = 1_000;
    let started = Instant::now();
    let statuses: Vec<u16> = futures_util::stream::iter(0..attempts)
        .map(|n| {
            let request = http
                .post(server.url("/api/v1/login"))
                .json(&json!({"user": format!("guess{n}"), "password": "guess"}))
                .send();
            async move { request.await.map(|r| r.status().as_u16()).unwrap_or(0) }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let refused = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    // 30 at once, then one every 2 s (the limit per address).
    let allowed = 30 + usize::try_from(started.elapsed().as_secs() / 2).unwrap_or(0) + 1;
    ensure!(
        refused <= allowed && limited + refused == attempts,
        "{refused} of {attempts} wrong passwords were checked (at most {allowed} should be)"
    );
    legit.check(server).await.context("during a login flood from another address")?;
    Ok(json!({"attempts": attempts, "checked_401": refused, "limited_429": limited}))
}

/// Messages acknowledged (200) while the server is killed mid-load: every
/// one must be in the database after the restart.
async fn kill_under_load(
    common: &Common,
    scratch: &Scratch,
    server: Server,
    seconds: u64,
) -> anyhow::Result<(Value, Server)> {
    server.stop().await?;
    // Durability, not limits, is tried here: many messages a second.
    let load = [
        SETTINGS[0],
        ("SIMUL_SERVER__MESSAGES_PER_MINUTE", "100000000"),
        ("SIMUL_SERVER__MESSAGE_BURST", "100000000"),
    ];
    let server = start(common, scratch, 1, &load).await?;
    let http = client_from(Ipv4Addr::new(127, 0, 14, 1))?;
    let alice = log_in(&http, &server, "alice").await?;
    let url = server.url("/api/v1/im/bob");
    let stop_at = Instant::now() + Duration::from_secs(seconds);
    let senders: Vec<_> = (0..8)
        .map(|task| {
            let (http, url, alice) = (http.clone(), url.clone(), alice.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for n in 0.. {
                    let text = format!("durable {task}-{n}");
                    let sent =
                        http.post(&url).bearer_auth(&alice).json(&json!({"text": text})).send();
                    match sent.await {
                        Ok(answer) if answer.status().is_success() => acknowledged.push(text),
                        _ => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep_until(stop_at.into()).await;
    server.kill_hard()?;
    let mut acknowledged = Vec::new();
    for sender in senders {
        acknowledged.extend(sender.await?);
    }
    let restarted = start(common, scratch, 2, SETTINGS).await?;
    let kept = stored_texts(&scratch.data().join("simul.db")).await?;
    let lost: Vec<&String> = acknowledged.iter().filter(|t| !kept.contains(*t)).collect();
    ensure!(
        lost.is_empty(),
        "{} acknowledged messages lost after kill -9: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    Ok((
        json!({"acknowledged": acknowledged.len(), "lost": lost.len(), "load_seconds": seconds}),
        restarted,
    ))
}

/// The texts of every 1:1 message in the database, after an integrity check.
async fn stored_texts(database: &Path) -> anyhow::Result<std::collections::HashSet<String>> {
    use sqlx::Connection as _;
    let url = format!("sqlite://{}?mode=ro", database.display());
    let mut connection = sqlx::SqliteConnection::connect(&url).await?;
    let check: String =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut connection).await?;
    ensure!(check == "ok", "integrity check: {check}");
    let texts: Vec<String> =
        sqlx::query_scalar("SELECT text FROM messages").fetch_all(&mut connection).await?;
    Ok(texts.into_iter().collect())
}

/// A deployment on a small tmpfs that is then filled up: writes answer
/// 503 (those that still fit in space SQLite holds are kept, as
/// acknowledged), reads and presence go on, and writes resume when space
/// returns.
async fn disk_full(common: &Common) -> anyhow::Result<Value> {
    let scratch = common.scratch()?;
    let mount = scratch.data().with_file_name("small-disk");
    std::fs::create_dir_all(&mount)?;
    run_tool("mount", &["-t", "tmpfs", "-o", "size=32m", "tmpfs", &mount.display().to_string()])
        .context("mounting a tmpfs for the full-disk step needs root (or give --no-disk)")?;
    let result = disk_full_on(common, &scratch, &mount).await;
    let unmounted = run_tool("umount", &["-l", &mount.display().to_string()]);
    let value = result?;
    unmounted?;
    Ok(value)
}

async fn disk_full_on(common: &Common, scratch: &Scratch, mount: &Path) -> anyhow::Result<Value> {
    let data = mount.join("data");
    add_users(&common.simul, &data, &["alice", "bob", "carol"], PASSWORD)?;
    let server =
        Server::start_with(&common.simul, &data, &scratch.log(0), None, UNTIL_REFUSED).await?;
    let mut legit = Legit::sign_in(&server).await?;
    legit.check(&server).await?;
    let filler = mount.join("filler");
    fill(&filler)?;
    // A message may still be kept in log pages SQLite wrote before (the
    // write-ahead log is reused from its start once copied back): such a
    // message is acknowledged and must be kept. The next that needs new
    // pages must be refused, and not kept.
    let (mut acknowledged, mut refusal) = (Vec::new(), None);
    for n in 0..MOST_INTO_A_FULL_DISK {
        let text = format!("into a full disk {n} {}", "x".repeat(1000));
        let sent = legit
            .http
            .post(server.url("/api/v1/im/alice"))
            .bearer_auth(&legit.bob)
            .json(&json!({ "text": text }))
            .send()
            .await?;
        let status = sent.status().as_u16();
        if status == 200 {
            acknowledged.push(text);
            continue;
        }
        let body: Value = sent.json().await.unwrap_or(Value::Null);
        refusal = Some((status, body, text));
        break;
    }
    let Some((status, body, refused)) = refusal else {
        bail!("{MOST_INTO_A_FULL_DISK} messages of 1 kB into a full disk were all acknowledged");
    };
    ensure!(status == 503, "a write to a full disk answered {status} {body}");
    let said = body["error"].as_str().unwrap_or_default().to_owned();
    ensure!(said.contains("disk is full"), "the 503 says: {said}");
    let me = legit.http.get(server.url("/api/v1/me")).bearer_auth(&legit.bob).send().await?;
    ensure!(me.status().is_success(), "a read with the disk full answered {}", me.status());
    std::fs::remove_file(&filler)?;
    // Space is back: writes resume without a restart.
    legit.check(&server).await.context("once space returned")?;
    server.stop().await?;
    let kept = stored_texts(&data.join("simul.db")).await?;
    ensure!(!kept.contains(&refused), "a refused message was kept");
    let lost = acknowledged.iter().filter(|text| !kept.contains(*text)).count();
    ensure!(lost == 0, "{lost} acknowledged messages were not kept");
    Ok(json!({
        "acknowledged_then_refused_with": status,
        "acknowledged_before": acknowledged.len(),
        "said": said,
        "resumed_without_restart": true,
        "integrity": "ok",
    }))
}

/// Writes to `path` until the file system is full.
fn fill(path: &Path) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path)?;
    let block = vec![0u8; 1 << 20];
    loop {
        match file.write_all(&block) {
            Ok(()) => {}
            Err(error) if error.raw_os_error() == Some(28) => break,
            Err(error) => return Err(error.into()),
        }
    }
    // The last partial block: fill the last bytes too.
    let _ = file.write_all(&block[..4096]);
    let _ = file.sync_all();
    Ok(())
}

fn run_tool(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let out = std::process::Command::new(program).args(args).output()?;
    if !out.status.success() {
        bail!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// The LDAP server killed while people are signed in, then restarted.
async fn ldap_down(common: &Common) -> anyhow::Result<Value> {
    let scratch = common.scratch()?;
    let mut slapd = tokio::task::block_in_place(simul_testkit::Slapd::start);
    let config = scratch.data().with_file_name("simul.toml");
    crate::scenario::ldap::write_config(&config, &slapd.url())?;
    let server = Server::start_with(
        &common.simul,
        &scratch.data(),
        &scratch.log(0),
        Some(&config),
        SETTINGS,
    )
    .await?;
    let http = client_from(Ipv4Addr::new(127, 0, 15, 1))?;
    let login = |user: &'static str| {
        http.post(server.url("/api/v1/login"))
            .json(&json!({"user": user, "password": format!("{user}-secret")}))
            .send()
    };
    let alice = login("alice").await?;
    ensure!(alice.status().is_success(), "LDAP login answered {}", alice.status());
    let token = alice
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix("LtpaToken2=").map(|r| r.split(';').next().unwrap_or("").to_owned())
        })
        .context("no LtpaToken2 cookie")?;
    tokio::task::block_in_place(|| slapd.stop());
    let me = http.get(server.url("/api/v1/me")).bearer_auth(&token).send().await?;
    ensure!(me.status().is_success(), "a signed-in user with LDAP down answered {}", me.status());
    let down = login("bob").await?.status().as_u16();
    ensure!(down == 503, "a new login with LDAP down answered {down}");
    tokio::task::block_in_place(|| slapd.restart());
    let deadline = Instant::now() + WAIT;
    let back = loop {
        let status = login("bob").await?.status().as_u16();
        if status == 200 || Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    ensure!(back == 200, "logins after slapd came back answered {back}");
    server.stop().await?;
    Ok(
        json!({"signed_in_kept_working": true, "new_login_while_down": down, "login_after_restart": back}),
    )
}

fn round(seconds: f64) -> f64 {
    (seconds * 100.0).round() / 100.0
}
