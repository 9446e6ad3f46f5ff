//! The community behind one lock, and the outlets that carry its events to
//! live connections. The lock is a plain mutex held only for the state
//! change itself: never across an await, never while sending.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use simul_core::{Community, CoreError, Delivery, Event, Limits, Presence, SessionId, UserId};
use tokio::sync::mpsc;

/// Events a slow connection may have queued before it is dropped.
const OUTLET_CAPACITY: usize = 256;

#[derive(Default)]
struct State {
    community: Community,
    outlets: HashMap<SessionId, mpsc::Sender<Arc<Event>>>,
    /// Where each session came from, as its door said (the console shows it).
    origins: HashMap<SessionId, SessionOrigin>,
}

/// Where a live session came from: which front door, which address, since
/// when (the console's list of a user's sessions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOrigin {
    /// The front door: `web`, `vp`, `xmpp`.
    pub door: &'static str,
    /// The client's address, as the door saw it (behind trusted proxies).
    pub address: std::net::IpAddr,
    /// When the session opened.
    pub since: chrono::DateTime<chrono::Utc>,
}

/// The hub.
#[derive(Default)]
pub struct Hub {
    state: Mutex<State>,
}

impl Hub {
    /// A hub whose chat and message ids continue after `last_chat` and
    /// `last_message` (see [`Community::continue_chat_ids_after`]).
    pub fn continuing_after(last_chat: u64, last_message: u64) -> Self {
        let hub = Self::default();
        let mut state = hub.lock();
        state.community.continue_chat_ids_after(last_chat);
        state.community.continue_message_ids_after(last_message);
        drop(state);
        hub
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock left the state as it was between
        // two operations; carrying on beats taking the server down.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new session for `user` and the receiver of its events; a
    /// `watcher` only watches others and leaves the user's status alone
    /// (see [`Community::connect_watcher`]).
    pub fn connect(
        &self,
        user: &UserId,
        watcher: bool,
    ) -> Result<(SessionId, mpsc::Receiver<Arc<Event>>), CoreError> {
        let (sender, receiver) = mpsc::channel(OUTLET_CAPACITY);
        let mut state = self.lock();
        let (session, deliveries) = if watcher {
            (state.community.connect_watcher(user)?, Vec::new())
        } else {
            state.community.connect(user)?
        };
        state.outlets.insert(session, sender);
        metrics::gauge!("simul_sessions").set(state.outlets.len() as f64);
        route(&mut state, deliveries);
        Ok((session, receiver))
    }

    /// Sets what one user or session may hold (see [`Limits`]).
    pub fn set_limits(&self, limits: Limits) {
        self.lock().community.set_limits(limits);
    }

    /// Ends a session; the user if that was their last one (now offline).
    pub fn disconnect(&self, session: SessionId) -> Option<UserId> {
        let mut state = self.lock();
        state.outlets.remove(&session);
        state.origins.remove(&session);
        metrics::gauge!("simul_sessions").set(state.outlets.len() as f64);
        let user = state.community.user_of(session).ok()?.clone();
        let deliveries = state.community.disconnect(session).ok()?;
        route(&mut state, deliveries);
        (!state.community.is_online(&user)).then_some(user)
    }

    /// Ends every session of `user` (disabled, or gone from the
    /// directory): their outlets close, so their connections end and go
    /// offline as if the client had left. How many there were.
    pub fn end_sessions_of(&self, user: &UserId) -> usize {
        let mut state = self.lock();
        // Awareness widgets' watch-only sessions too.
        let sessions = state.community.all_sessions_of(user);
        for session in &sessions {
            state.outlets.remove(session);
            state.origins.remove(session);
        }
        metrics::gauge!("simul_sessions").set(state.outlets.len() as f64);
        sessions.len()
    }

    /// Notes where `session` came from (doors say so right after opening it).
    pub fn describe(&self, session: SessionId, origin: SessionOrigin) {
        let mut state = self.lock();
        if state.outlets.contains_key(&session) {
            state.origins.insert(session, origin);
        }
    }

    /// The live sessions of `user` that a door described, oldest first.
    pub fn origins_of(&self, user: &UserId) -> Vec<(SessionId, SessionOrigin)> {
        let state = self.lock();
        let mut sessions: Vec<_> = state
            .community
            .all_sessions_of(user)
            .into_iter()
            .filter_map(|session| Some((session, state.origins.get(&session)?.clone())))
            .collect();
        sessions.sort_by_key(|(session, origin)| (origin.since, *session));
        sessions
    }

    /// How many described sessions each door has now, by door name.
    pub fn sessions_per_door(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for origin in self.lock().origins.values() {
            *counts.entry(origin.door).or_default() += 1;
        }
        counts
    }

    /// Ends one session of `user` (an administrator's act): its outlet
    /// closes, so its connection ends as if the client had left. Whether
    /// `user` had that session (one answer for "not theirs" and "gone").
    pub fn end_session_of(&self, user: &UserId, session: SessionId) -> bool {
        let mut state = self.lock();
        if !state.community.all_sessions_of(user).contains(&session) {
            return false;
        }
        state.origins.remove(&session);
        let ended = state.outlets.remove(&session).is_some();
        metrics::gauge!("simul_sessions").set(state.outlets.len() as f64);
        ended
    }

    /// Runs one community operation and routes what it causes.
    pub fn apply<T>(
        &self,
        operation: impl FnOnce(&mut Community) -> Result<(T, Vec<Delivery>), CoreError>,
    ) -> Result<T, CoreError> {
        let mut state = self.lock();
        let (value, deliveries) = operation(&mut state.community)?;
        route(&mut state, deliveries);
        Ok(value)
    }

    /// Runs one community operation that returns only deliveries.
    pub fn run(
        &self,
        operation: impl FnOnce(&mut Community) -> Result<Vec<Delivery>, CoreError>,
    ) -> Result<(), CoreError> {
        self.apply(|community| operation(community).map(|deliveries| ((), deliveries)))
    }

    /// Sets the presence of every session of `user`; how many there were.
    pub fn set_user_presence(&self, user: &UserId, presence: &Presence) -> usize {
        let mut state = self.lock();
        let sessions = state.community.sessions_of_user(user);
        for session in &sessions {
            if let Ok(deliveries) = state.community.set_presence(*session, presence.clone()) {
                route(&mut state, deliveries);
            }
        }
        sessions.len()
    }

    /// Reads the community without changing it.
    pub fn inspect<T>(&self, read: impl FnOnce(&Community) -> T) -> T {
        read(&self.lock().community)
    }

    /// What others see of these users now.
    pub fn presences(&self, users: &[UserId]) -> Vec<Presence> {
        self.inspect(|community| users.iter().map(|u| community.presence_of(u)).collect())
    }
}

/// The event's name in metrics (the same as in the API's JSON).
fn event_type(event: &Event) -> &'static str {
    match event {
        Event::Status { .. } => "status",
        Event::Presences { .. } => "presences",
        Event::Im { .. } => "im",
        Event::Typing { .. } => "typing",
        Event::NwayInvite { .. } => "nway_invite",
        Event::NwayMessage { .. } => "nway_message",
        Event::NwayMembers { .. } => "nway_members",
        Event::Read { .. } => "read",
        Event::ContactsChanged { .. } => "contacts_changed",
        Event::TokensRevoked => "tokens_revoked",
        Event::MessageChanged { .. } => "message_changed",
        Event::Seen { .. } => "seen",
        Event::Announcement { .. } => "announcement",
    }
}

/// Hands deliveries to the outlets without waiting: a connection that
/// cannot keep up loses its outlet and is closed by its writer task.
fn route(state: &mut State, deliveries: Vec<Delivery>) {
    // Deliveries of one event share its Arc and come together: count them
    // per event, not per delivery, so a fan-out to thousands of watchers
    // costs one metrics lookup.
    let mut counted: Option<(&'static str, u64)> = None;
    for delivery in deliveries {
        let kind = event_type(&delivery.event);
        counted = match counted {
            Some((previous, n)) if previous == kind => Some((kind, n + 1)),
            other => {
                count_delivered(other);
                Some((kind, 1))
            }
        };
        let full = match state.outlets.get(&delivery.session) {
            Some(outlet) => outlet.try_send(delivery.event).is_err(),
            None => false,
        };
        if full {
            tracing::warn!(session = %delivery.session, "connection too slow; closing it");
            state.outlets.remove(&delivery.session);
        }
    }
    count_delivered(counted);
}

fn count_delivered(counted: Option<(&'static str, u64)>) {
    if let Some((kind, n)) = counted {
        metrics::counter!("simul_events_delivered_total", "type" => kind).increment(n);
    }
}
