//! The scenarios every server runs, each bounded in count and time, over
//! loopback only: an idle hold (memory per session), a login storm, a
//! presence storm and 1:1 messages at rising offered loads.

use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use serde_json::{Value, json};

use super::fleet::{Fleet, Heard, Plan};
use super::population::Population;
use super::running::Secrets;
use crate::scenario::logins;
use crate::server::{Memory, cpu_of, cpu_percent, mib, own_cpu};
use crate::stats::Latencies;

/// Pause before a memory reading, so the server is idle again.
const SETTLE: Duration = Duration::from_secs(3);
/// Wait after a step's last send for what is still on its way.
const GRACE: Duration = Duration::from_secs(3);

/// Idle hold: `sessions` users signed in (roster fetched, presence sent)
/// and left idle; the server's memory per session, as read and, where the
/// server keeps garbage until told (ejabberd), after a collection.
pub async fn idle_hold(
    plan: &Plan<'_>,
    sessions: usize,
    progress: &ProgressBar,
) -> anyhow::Result<Value> {
    // The baseline too is read after a collection where the server needs
    // one: start-up garbage would otherwise count against the sessions.
    tokio::time::sleep(SETTLE).await;
    if plan.running.collect_garbage().await? {
        tokio::time::sleep(SETTLE).await;
    }
    let before = plan.running.memory()?;
    let started = Instant::now();
    let fleet = Fleet::open(plan, 0..sessions, progress).await?;
    let opened = started.elapsed();
    tokio::time::sleep(SETTLE).await;
    let held = plan.running.memory()?;
    let collected = if plan.running.collect_garbage().await? {
        tokio::time::sleep(SETTLE).await;
        Some(plan.running.memory()?)
    } else {
        None
    };
    let per_session = |memory: Memory| {
        (memory.rss_kib.saturating_sub(before.rss_kib)) as f64 / sessions.max(1) as f64
    };
    let heard = fleet.close().await;
    Ok(json!({
        "transport": plan.transport.name(),
        "sessions": sessions,
        "sign_ins_seconds": round2(opened.as_secs_f64()),
        "rss_before_mib": mib(before.rss_kib),
        "rss_held_mib": mib(held.rss_kib),
        "kib_per_session": round1(per_session(held)),
        "kib_per_session_after_gc": collected.map(|memory| round1(per_session(memory))),
        "reader_failures": usize::from(heard.failure.is_some()),
    }))
}

/// Login storm: a fraction `online` of the users signed in and held, then
/// `logins` sign-ins (connect, TLS, SASL, bind, roster, presence) of the
/// others, `concurrency` at a time, each signed out once measured.
pub async fn login_storm(
    plan: &Plan<'_>,
    population: &Population,
    online: f64,
    logins: usize,
    progress: &ProgressBar,
) -> anyhow::Result<Value> {
    let (held, storming): (Vec<usize>, Vec<usize>) =
        (0..population.users).partition(|&i| is_online(i, online));
    anyhow::ensure!(!storming.is_empty(), "--online leaves nobody to sign in");
    let fleet = Fleet::open(plan, held.iter().copied(), progress).await?;
    let plan_logins = logins::Plan {
        count: logins,
        concurrency: plan.concurrency,
        max: Duration::from_secs(120),
    };
    let storming = &storming;
    let result = logins::measure(
        "compare",
        plan.running.name,
        plan.running.pid(),
        plan_logins,
        |i| async move {
            let begun = Instant::now();
            let session = plan.sign_in(storming[i % storming.len()]).await?;
            let took = begun.elapsed();
            session.writer.close().await;
            Ok(took)
        },
    )
    .await?;
    fleet.close().await;
    let secret = match plan.running.endpoint.secrets {
        Secrets::Password(_) => "password",
        Secrets::PerUser(_) => "token",
    };
    Ok(json!({
        "secret": secret,
        "transport": plan.transport.name(),
        "online_fraction": online,
        "online_sessions": held.len(),
        "roster": population.roster,
        "storm": result,
    }))
}

/// Whether user `index` is among the fraction `online` signed in first,
/// spread evenly so that every user has that fraction of contacts online.
fn is_online(index: usize, online: f64) -> bool {
    ((index + 1) as f64 * online).floor() > (index as f64 * online).floor()
}

/// A step of offered load: so many stanzas a second for so long.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// Stanzas a second, all senders together.
    pub rate: u32,
    /// How long.
    pub duration: Duration,
}

/// Presence storm: everyone signed in; users take turns changing their
/// status at `rate` changes a second, and every online contact's arrival
/// is timed (each change fans out to `roster` watchers).
pub async fn presence_storm(
    fleet: &mut Fleet,
    population: &Population,
    step: Step,
    phase: u32,
) -> anyhow::Result<Value> {
    let driven = drive(fleet, step, phase, |fleet, i| {
        let user = fleet.users[i];
        let show = if phase.is_multiple_of(2) { "away" } else { "dnd" };
        let mark = fleet.mark(phase, user);
        format!("<presence><show>{show}</show><status>{mark}</status></presence>")
    })
    .await?;
    let expected = driven.sent * population.roster as u64;
    Ok(json!({ "changes": driven.to_json(), "fan_out": population.roster, "expected": expected }))
}

/// 1:1 messages: users take turns sending a chat message to their next
/// contact at `rate` messages a second; each arrival is timed.
pub async fn messages(
    fleet: &mut Fleet,
    step: Step,
    phase: u32,
    domain: &str,
) -> anyhow::Result<Value> {
    let users = fleet.len();
    let driven = drive(fleet, step, phase, |fleet, i| {
        let user = fleet.users[i];
        let to = Population::name(fleet.users[(i + 1) % users]);
        let mark = fleet.mark(phase, user);
        format!("<message to='{to}@{domain}' type='chat'><body>{mark}</body></message>")
    })
    .await?;
    Ok(json!({ "messages": driven.to_json(), "expected": driven.sent }))
}

/// What a step sent.
pub struct Driven {
    /// Stanzas a second asked for.
    pub rate: u32,
    /// Stanzas sent.
    pub sent: u64,
    /// How long sending them took (longer than the step when the client
    /// or the server's reading could not keep up with the rate).
    pub sending: Duration,
    /// How many had arrived [`GRACE`] after the last was sent.
    pub delivered: u64,
}

impl Driven {
    fn to_json(&self) -> Value {
        json!({
            "offered_per_second": self.rate,
            "sent": self.sent,
            "sent_per_second": (self.sent as f64 / self.sending.as_secs_f64().max(1e-9)).round(),
            "delivered_within_grace": self.delivered,
        })
    }
}

/// Sends what `stanza(fleet, i)` makes, session `i` after session, at
/// `step.rate` a second for `step.duration` (open loop: late ticks are
/// caught up, so a slow server sees the load offered, not a polite
/// client), then waits [`GRACE`].
async fn drive(
    fleet: &mut Fleet,
    step: Step,
    phase: u32,
    stanza: impl Fn(&Fleet, usize) -> String,
) -> anyhow::Result<Driven> {
    anyhow::ensure!(fleet.len() > 1 && step.rate > 0, "a step needs sessions and a rate");
    let total = (f64::from(step.rate) * step.duration.as_secs_f64()).round() as u64;
    let started = tokio::time::Instant::now();
    let interval = Duration::from_secs_f64(1.0 / f64::from(step.rate));
    let mut next = 0usize;
    for n in 0..total {
        tokio::time::sleep_until(started + interval.mul_f64(n as f64)).await;
        let text = stanza(fleet, next);
        fleet.writers[next].send(text.as_bytes()).await?;
        next = (next + 1) % fleet.len();
    }
    let sending = started.elapsed();
    tokio::time::sleep(GRACE).await;
    Ok(Driven { rate: step.rate, sent: total, sending, delivered: fleet.delivered(phase) })
}

/// Whether a step's server fell behind: less than 90 % of what it was to
/// deliver had arrived [`GRACE`] after the last send. `what` names the
/// step's stanzas (`changes`, `messages`).
pub fn behind(step: &Value, what: &str) -> bool {
    let delivered = step[what]["delivered_within_grace"].as_u64().unwrap_or(0);
    delivered < step["expected"].as_u64().unwrap_or(0) * 9 / 10
}

/// Waits until `expected` stanzas of `phase` have arrived, or none has for
/// 5 s, or `most` has passed.
pub async fn drain(fleet: &Fleet, phase: u32, expected: u64, most: Duration) {
    let deadline = Instant::now() + most;
    let (mut seen, mut since) = (fleet.delivered(phase), Instant::now());
    while seen < expected && Instant::now() < deadline && since.elapsed() < QUIET {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = fleet.delivered(phase);
        if now > seen {
            (seen, since) = (now, Instant::now());
        }
    }
}

/// Silence that ends a drain: nothing more is on its way.
const QUIET: Duration = Duration::from_secs(5);

/// A step's figures, from what the readers heard: the latency
/// distribution of phase `phase`, deliveries against those expected.
pub fn outcome(heard: &mut Heard, phase: u32, expected: u64, seconds: f64) -> Value {
    let mut latencies: Vec<Duration> = heard
        .by_phase
        .remove(&phase)
        .unwrap_or_default()
        .into_iter()
        .map(Duration::from_micros)
        .collect();
    let delivered = latencies.len() as u64;
    json!({
        "expected": expected,
        "delivered": delivered,
        "delivered_per_second": (delivered as f64 / seconds).round(),
        "lost_or_late": expected.saturating_sub(delivered),
        "latency": Latencies::of(&mut latencies).map(Latencies::to_json),
    })
}

/// CPU used by the server and by the bench over a stretch of time.
pub struct CpuWatch {
    pid: u32,
    server: Duration,
    bench: Duration,
    started: Instant,
}

impl CpuWatch {
    /// Starts watching process `pid`.
    pub fn start(pid: u32) -> anyhow::Result<Self> {
        Ok(Self { pid, server: cpu_of(pid)?, bench: own_cpu()?, started: Instant::now() })
    }

    /// Percent of one core each used since the start.
    pub fn percent(&self) -> anyhow::Result<Value> {
        let wall = self.started.elapsed();
        Ok(json!({
            "server": cpu_percent(cpu_of(self.pid)? - self.server, wall),
            "bench": cpu_percent(own_cpu()? - self.bench, wall),
        }))
    }
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::is_online;

    #[test]
    fn the_online_fraction_is_spread_evenly() {
        let online: Vec<usize> = (0..10).filter(|&i| is_online(i, 0.5)).collect();
        assert_eq!(online, [1, 3, 5, 7, 9]);
        assert_eq!((0..1000).filter(|&i| is_online(i, 0.2)).count(), 200);
        assert_eq!((0..10).filter(|&i| is_online(i, 1.0)).count(), 10);
        assert_eq!((0..10).filter(|&i| is_online(i, 0.0)).count(), 0);
    }
}
