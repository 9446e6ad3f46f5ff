//! Sessions of any door, and presence: opening and closing them, the
//! status a user shows, watching others, typing. A user with sessions on
//! several doors shows the most available of their statuses (the core's
//! rule), and every event reaches each session through its outlet.

use std::sync::Arc;
use std::time::Duration;

use simul_core::{CoreError, Event, Presence, SessionId, UserId};
use tokio::sync::mpsc;

use crate::Service;

/// The events of one session, in order; closed when the session is ended
/// by the community (the user was disabled, or could not keep up).
pub type Events = mpsc::Receiver<Arc<Event>>;

impl Service {
    /// Whether `user` may open one more session (the per-user limit), so
    /// that a door can say no before it commits to a connection.
    pub fn check_new_session(&self, user: &UserId) -> Result<(), CoreError> {
        self.hub().inspect(|c| c.check_new_session(user))
    }

    /// Opens a session of `user`; a `watcher` only watches others (an
    /// awareness widget) and leaves the user's own status alone.
    pub fn open_session(
        &self,
        user: &UserId,
        watcher: bool,
    ) -> Result<(SessionId, Events), CoreError> {
        let opened = self.hub().connect(user, watcher)?;
        // A sign-in, on any door and by any credential (an SSO token
        // most often): what the overview's logins per second count. An
        // awareness widget only watches.
        if !watcher {
            self.rates().logins.tick();
        }
        Ok(opened)
    }

    /// Closes `session`. When that was its user's last one, their n-way
    /// chats wait `grace` for them (a reloaded page or a reconnecting
    /// client finds them still there), then they leave those chats.
    pub fn close_session(self: &Arc<Self>, session: SessionId, grace: Duration) {
        if let Some(user) = self.hub().disconnect(session) {
            let service = Arc::clone(self);
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                service.hub().run(|c| Ok(c.leave_chats_if_offline(&user))).ok();
            });
        }
    }

    /// Everyone online now (with a session other than an awareness
    /// widget's), sorted.
    pub fn online_users(&self) -> Vec<UserId> {
        let mut users = self.hub().inspect(|community| {
            let users = community.users_with_sessions();
            users.into_iter().filter(|user| community.is_online(user)).collect::<Vec<_>>()
        });
        users.sort();
        users
    }

    /// Ends every session of `user` on every door (an administrator's
    /// act): their connections close as if the clients had left. How
    /// many there were.
    pub fn end_sessions(&self, user: &UserId) -> usize {
        let ended = self.hub().end_sessions_of(user);
        tracing::info!(%user, ended, "sessions ended by an administrator");
        ended
    }

    /// Sets the status of every session of `user`; how many there were
    /// (none: the user is not online, and nothing changed).
    pub fn set_status(&self, user: &UserId, presence: &Presence) -> usize {
        self.hub().set_user_presence(user, presence)
    }

    /// What each of `users` shows now, in the same order.
    pub fn presences(&self, users: &[UserId]) -> Vec<Presence> {
        self.hub().presences(users)
    }

    /// `session` hears the status of `users` from now on (their current
    /// status first).
    pub fn watch(&self, session: SessionId, users: &[UserId]) -> Result<(), CoreError> {
        self.hub().run(|c| c.watch(session, users))
    }

    /// `session` no longer hears the status of `users`.
    pub fn unwatch(&self, session: SessionId, users: &[UserId]) -> Result<(), CoreError> {
        self.hub().run(|c| c.unwatch(session, users).map(|()| Vec::new()))
    }

    /// Tells `to`'s sessions that `session`'s user is typing to them, or
    /// stopped.
    pub fn typing(&self, session: SessionId, to: &UserId, typing: bool) -> Result<(), CoreError> {
        self.hub().run(|c| c.typing(session, to, typing))
    }
}
