//! Many signed-in XMPP sessions at once, and what they heard: every
//! session's reader runs as a task that drains what the server sends and
//! times the stanzas the bench marked, so that a server is never slowed by
//! a client that does not read.
//!
//! A mark is `bench:PHASE:SENDER:MICROS` in a presence's `<status>` or a
//! message's `<body>`: the phase it belongs to, the index of the user who
//! sent it (a session does not time its own presence, which servers echo
//! back) and when it was sent, in microseconds since the fleet's epoch.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures_util::StreamExt as _;
use indicatif::ProgressBar;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::running::Running;
use super::xmpp_client::{Reader, Session, Tls, Transport, Writer};

/// What one session's reader heard.
#[derive(Debug, Default)]
pub struct Heard {
    /// Latencies of marked stanzas, in microseconds, by phase.
    pub by_phase: HashMap<u32, Vec<u64>>,
    /// Top-level elements read in all.
    pub elements: u64,
    /// Errors bounced by the server (`type='error'`).
    pub errors: u64,
    /// Why the reader stopped before it was told to, if it did.
    pub failure: Option<String>,
}

impl Heard {
    /// Adds what another reader heard.
    pub fn merge(&mut self, other: Heard) {
        for (phase, mut latencies) in other.by_phase {
            self.by_phase.entry(phase).or_default().append(&mut latencies);
        }
        self.elements += other.elements;
        self.errors += other.errors;
        if self.failure.is_none() {
            self.failure = other.failure;
        }
    }
}

/// Signed-in sessions of users `indexes`, their readers running.
pub struct Fleet {
    /// The user index of each session, in the order of `writers`.
    pub users: Vec<usize>,
    /// The writing half of each session.
    pub writers: Vec<Writer>,
    /// The moment marks count from.
    pub epoch: Instant,
    readers: JoinSet<Heard>,
    stop: watch::Sender<bool>,
    /// Marked stanzas heard so far, by phase (modulo [`PHASES`]).
    delivered: Arc<[AtomicU64; PHASES]>,
}

/// Phases counted live (the latencies of any phase are kept).
const PHASES: usize = 64;

/// Where and how sessions connect.
pub struct Plan<'a> {
    /// The server.
    pub running: &'a Running,
    /// Its TLS settings.
    pub tls: &'a Tls,
    /// How sessions are secured.
    pub transport: Transport,
    /// Sign-ins under way at once.
    pub concurrency: usize,
    /// Loopback source addresses to spread sessions over (127.0.0.2…).
    pub sources: u8,
    /// Contacts every user's roster must hold: a server that lost some
    /// would do less work than the others.
    pub roster: usize,
}

impl Plan<'_> {
    /// Signs in the user of index `user` from the address its index picks.
    pub async fn sign_in(&self, user: usize) -> anyhow::Result<Session> {
        let endpoint = &self.running.endpoint;
        let name = super::population::Population::name(user);
        Session::sign_in(
            endpoint,
            self.tls,
            self.transport,
            source(user, self.sources),
            &name,
            endpoint.secrets.of(user),
        )
        .await
    }
}

/// Source address number `index % sources`: 127.0.0.2, 127.0.0.3… (every
/// address of 127/8 is the loopback's without any setup).
pub fn source(index: usize, sources: u8) -> IpAddr {
    let n = (index % usize::from(sources.max(1))) as u8;
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + n))
}

impl Fleet {
    /// Signs in the users `indexes` as `plan` says; fails on the first
    /// sign-in that fails.
    pub async fn open(
        plan: &Plan<'_>,
        indexes: impl IntoIterator<Item = usize>,
        progress: &ProgressBar,
    ) -> anyhow::Result<Self> {
        let epoch = Instant::now();
        let (stop, stopped) = watch::channel(false);
        let mut readers = JoinSet::new();
        let delivered = Arc::new(std::array::from_fn(|_| AtomicU64::new(0)));
        let (mut users, mut writers) = (Vec::new(), Vec::new());
        let mut signing_in = futures_util::stream::iter(indexes)
            .map(|user| async move { (user, plan.sign_in(user).await) })
            .buffer_unordered(plan.concurrency.max(1));
        while let Some((user, session)) = signing_in.next().await {
            let session = session?;
            anyhow::ensure!(
                session.roster_items == plan.roster,
                "{} gave user{} a roster of {} contacts, not {}",
                plan.running.name,
                user + 1,
                session.roster_items,
                plan.roster
            );
            readers.spawn(read(
                session.reader,
                user,
                epoch,
                stopped.clone(),
                Arc::clone(&delivered),
            ));
            users.push(user);
            writers.push(session.writer);
            progress.inc(1);
        }
        Ok(Self { users, writers, epoch, readers, stop, delivered })
    }

    /// How many sessions.
    pub fn len(&self) -> usize {
        self.writers.len()
    }

    /// Marked stanzas of `phase` heard so far, by every session.
    pub fn delivered(&self, phase: u32) -> u64 {
        self.delivered[phase as usize % PHASES].load(Ordering::Relaxed)
    }

    /// A mark for phase `phase` sent now by user `sender`.
    pub fn mark(&self, phase: u32, sender: usize) -> String {
        format!("bench:{phase}:{sender}:{}", self.epoch.elapsed().as_micros())
    }

    /// Ends every stream and gathers what the readers heard.
    pub async fn close(self) -> Heard {
        let Self { writers, mut readers, stop, .. } = self;
        let _ = stop.send(true);
        futures_util::stream::iter(writers).for_each_concurrent(256, |writer| writer.close()).await;
        let mut heard = Heard::default();
        while let Some(reader) = readers.join_next().await {
            if let Ok(reader) = reader {
                heard.merge(reader);
            }
        }
        heard
    }
}

/// Reads one session until told to stop, timing the marks of others.
async fn read(
    mut reader: Reader,
    me: usize,
    epoch: Instant,
    mut stop: watch::Receiver<bool>,
    delivered: Arc<[AtomicU64; PHASES]>,
) -> Heard {
    let mut heard = Heard::default();
    loop {
        let element = tokio::select! {
            element = reader.element() => element,
            _ = stop.changed() => return heard,
        };
        let element = match element {
            Ok(element) => element,
            Err(error) => {
                if !*stop.borrow() {
                    heard.failure = Some(format!("{error:#}"));
                }
                return heard;
            }
        };
        heard.elements += 1;
        if element.contains("type='error'") || element.contains("type=\"error\"") {
            heard.errors += 1;
            continue;
        }
        if let Some((phase, sender, sent)) = mark_in(&element)
            && sender != me
        {
            delivered[phase as usize % PHASES].fetch_add(1, Ordering::Relaxed);
            let now = epoch.elapsed().as_micros() as u64;
            heard.by_phase.entry(phase).or_default().push(now.saturating_sub(sent));
        }
    }
}

/// The phase, sender and time of the mark in `element`, if it has one.
fn mark_in(element: &str) -> Option<(u32, usize, u64)> {
    let rest = &element[element.find("bench:")? + "bench:".len()..];
    let mut fields = rest.splitn(3, ':');
    let phase = fields.next()?.parse().ok()?;
    let sender = fields.next()?.parse().ok()?;
    let micros = fields.next()?;
    let digits = micros.find(|c: char| !c.is_ascii_digit()).unwrap_or(micros.len());
    Some((phase, sender, micros[..digits].parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::{mark_in, source};

    #[test]
    fn marks_are_found_in_presences_and_messages() {
        let presence = "<presence from='user2@localhost/x'><show>away</show><status>bench:3:1:123456</status></presence>";
        assert_eq!(mark_in(presence), Some((3, 1, 123_456)));
        let message = "<message><body>bench:0:42:7</body></message>";
        assert_eq!(mark_in(message), Some((0, 42, 7)));
        assert_eq!(mark_in("<presence/>"), None);
        assert_eq!(mark_in("<message><body>bench:x:1:2</body></message>"), None);
    }

    #[test]
    fn sessions_spread_over_loopback_addresses() {
        assert_eq!(source(0, 4).to_string(), "127.0.0.2");
        assert_eq!(source(5, 4).to_string(), "127.0.0.3");
        assert_eq!(source(9, 1).to_string(), "127.0.0.2");
    }
}
