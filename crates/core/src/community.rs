//! The live state of the community: who is logged in where, who watches
//! whom, and the n-way chats. A plain synchronous state machine: every
//! operation returns the [`Delivery`]s it causes and the caller routes
//! them to the sessions' connections. Keeping it free of I/O and async
//! lets every front door share it behind one lock that is never held
//! across an await, and makes it testable as it is.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::event::{Attachment, Delivery, Event, MessageChange, Place};
use crate::ids::{ChatId, Conversation, MessageId, SessionId, UserId};
use crate::status::Presence;

/// Longest instant or chat message accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Why an operation was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// The session ended (or never existed).
    #[error("session {0} is not logged in")]
    UnknownSession(SessionId),
    /// No such n-way chat (or it ended).
    #[error("chat {0} does not exist")]
    UnknownChat(ChatId),
    /// Joining a chat one was not invited to.
    #[error("you are not invited to chat {0}")]
    NotInvited(ChatId),
    /// Acting in a chat one has not joined.
    #[error("you are not a member of chat {0}")]
    NotMember(ChatId),
    /// An empty message.
    #[error("the message is empty")]
    EmptyText,
    /// A message over [`MAX_TEXT_CHARS`].
    #[error("the message has {chars} characters; the limit is {MAX_TEXT_CHARS}")]
    TextTooLong {
        /// Its length.
        chars: usize,
    },
    /// A user who has [`Limits::sessions_per_user`] sessions already.
    #[error("too many sessions of this user (at most {limit}): close some first")]
    TooManySessions {
        /// The limit.
        limit: usize,
    },
    /// A watch that would make the session watch more than
    /// [`Limits::watched_per_session`] users (nothing was watched).
    #[error("a session watches at most {limit} users; unwatch some first")]
    WatchListFull {
        /// The limit.
        limit: usize,
    },
}

/// What one user or session may hold, so that no client can make the
/// community grow without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Sessions of one user, watch-only ones included.
    pub sessions_per_user: usize,
    /// Users one session watches.
    pub watched_per_session: usize,
}

impl Default for Limits {
    /// 200 sessions a user (tabs, devices, widgets on intranet pages) and
    /// 10,000 watched users a session (a 2,000-contact list and pages of
    /// names besides).
    fn default() -> Self {
        Self { sessions_per_user: 200, watched_per_session: 10_000 }
    }
}

#[derive(Debug)]
struct Session {
    user: UserId,
    presence: Presence,
    watching: HashSet<UserId>,
}

#[derive(Debug)]
struct Chat {
    topic: String,
    members: BTreeSet<UserId>,
    invited: BTreeSet<UserId>,
}

/// What a user sees of a chat they are in or invited to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSummary {
    /// The chat.
    pub id: ChatId,
    /// Its topic.
    pub topic: String,
    /// Its members, sorted.
    pub members: Vec<UserId>,
    /// Whether the user is invited (and not yet a member).
    pub invited: bool,
}

/// The community's live state.
#[derive(Debug, Default)]
pub struct Community {
    next_session: u64,
    next_chat: u64,
    next_message: u64,
    sessions: HashMap<SessionId, Session>,
    sessions_of: HashMap<UserId, Vec<SessionId>>,
    watchers_of: HashMap<UserId, HashSet<SessionId>>,
    /// Sessions of each user, watch-only ones included.
    session_counts: HashMap<UserId, usize>,
    chats: HashMap<ChatId, Chat>,
    limits: Limits,
}

/// Collects deliveries, sharing each event between its recipients.
#[derive(Default)]
struct Outbox(Vec<Delivery>);

impl Outbox {
    fn send(&mut self, sessions: impl IntoIterator<Item = SessionId>, event: Event) {
        let event = Arc::new(event);
        self.0.extend(
            sessions.into_iter().map(|session| Delivery { session, event: Arc::clone(&event) }),
        );
    }
}

impl Community {
    /// An empty community.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes new chat ids continue after `last` (the highest id an earlier
    /// run recorded), so that ids never repeat across restarts.
    pub fn continue_chat_ids_after(&mut self, last: u64) {
        self.next_chat = self.next_chat.max(last);
    }

    /// Makes new message ids continue after `last` (the highest id the
    /// history holds).
    pub fn continue_message_ids_after(&mut self, last: u64) {
        self.next_message = self.next_message.max(last);
    }

    /// Sets what one user or session may hold (from now on: nobody is
    /// disconnected for sessions or watches they hold already).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Whether `user` may open one more session (see [`Limits`]).
    pub fn check_new_session(&self, user: &UserId) -> Result<(), CoreError> {
        let limit = self.limits.sessions_per_user;
        if self.session_counts.get(user).copied().unwrap_or(0) >= limit {
            return Err(CoreError::TooManySessions { limit });
        }
        Ok(())
    }

    /// Logs `user` in with a new session, available. Watchers hear about
    /// it if the user's visible presence changes.
    pub fn connect(&mut self, user: &UserId) -> Result<(SessionId, Vec<Delivery>), CoreError> {
        self.check_new_session(user)?;
        *self.session_counts.entry(user.clone()).or_default() += 1;
        self.next_session += 1;
        let id = SessionId(self.next_session);
        let before = self.presence_of(user);
        let session = Session {
            user: user.clone(),
            presence: Presence::available(),
            watching: HashSet::new(),
        };
        self.sessions.insert(id, session);
        self.sessions_of.entry(user.clone()).or_default().push(id);
        let mut out = Outbox::default();
        self.announce_if_changed(user, &before, &mut out);
        Ok((id, out.0))
    }

    /// A session that only watches others (an awareness widget on some
    /// intranet page): it receives their presence, but its user is not
    /// online through it and keeps the status their other sessions have.
    pub fn connect_watcher(&mut self, user: &UserId) -> Result<SessionId, CoreError> {
        self.check_new_session(user)?;
        *self.session_counts.entry(user.clone()).or_default() += 1;
        self.next_session += 1;
        let id = SessionId(self.next_session);
        let session =
            Session { user: user.clone(), presence: Presence::offline(), watching: HashSet::new() };
        self.sessions.insert(id, session);
        Ok(id)
    }

    /// Ends a session: its watches end, and when it was the user's last
    /// session the user goes offline. Their n-way chats wait for them: a
    /// user back within moments (a reloaded page, a network blip) is still
    /// in them. Front doors call [`Community::leave_chats_if_offline`]
    /// after a grace period.
    pub fn disconnect(&mut self, session: SessionId) -> Result<Vec<Delivery>, CoreError> {
        let user = self.user_of(session)?.clone();
        let before = self.presence_of(&user);
        let ended = self.sessions.remove(&session).expect("checked above");
        if let Some(count) = self.session_counts.get_mut(&user) {
            *count -= 1;
            if *count == 0 {
                self.session_counts.remove(&user);
            }
        }
        for watched in &ended.watching {
            self.unwatch_one(session, watched);
        }
        // A watcher-only session is in no user's list.
        if let Some(remaining) = self.sessions_of.get_mut(&user) {
            remaining.retain(|s| *s != session);
            if remaining.is_empty() {
                self.sessions_of.remove(&user);
            }
        }
        let mut out = Outbox::default();
        self.announce_if_changed(&user, &before, &mut out);
        Ok(out.0)
    }

    /// Takes a user who is still offline out of the n-way chats they are
    /// members of; the others hear the new member lists, and a chat left
    /// without members ends. Nothing happens if the user is back online.
    pub fn leave_chats_if_offline(&mut self, user: &UserId) -> Vec<Delivery> {
        let mut out = Outbox::default();
        if self.is_online(user) {
            return out.0;
        }
        let chats: Vec<ChatId> = self
            .chats
            .iter()
            .filter(|(_, c)| c.members.contains(user))
            .map(|(id, _)| *id)
            .collect();
        for chat in chats {
            self.remove_member(chat, user, &mut out);
        }
        out.0
    }

    /// Sets one session's presence; watchers hear the user's new visible
    /// presence if it changed.
    pub fn set_presence(
        &mut self,
        session: SessionId,
        presence: Presence,
    ) -> Result<Vec<Delivery>, CoreError> {
        let user = self.user_of(session)?.clone();
        let before = self.presence_of(&user);
        self.sessions.get_mut(&session).expect("checked above").presence = presence;
        let mut out = Outbox::default();
        self.announce_if_changed(&user, &before, &mut out);
        Ok(out.0)
    }

    /// The presence others see of `user`: the most available of their
    /// sessions, or offline.
    pub fn presence_of(&self, user: &UserId) -> Presence {
        let sessions = self.sessions_of.get(user).into_iter().flatten();
        Presence::most_available(sessions.map(|s| &self.sessions[s].presence))
    }

    /// The user a session belongs to.
    pub fn user_of(&self, session: SessionId) -> Result<&UserId, CoreError> {
        self.sessions.get(&session).map(|s| &s.user).ok_or(CoreError::UnknownSession(session))
    }

    /// The sessions of a user (empty when offline).
    pub fn sessions_of_user(&self, user: &UserId) -> Vec<SessionId> {
        self.sessions_of(user).collect()
    }

    /// Everyone with a session, watcher-only sessions included (each
    /// once): whom a directory refresh must check.
    pub fn users_with_sessions(&self) -> Vec<UserId> {
        let users: HashSet<&UserId> = self.sessions.values().map(|s| &s.user).collect();
        users.into_iter().cloned().collect()
    }

    /// Tells every session of `user` (watcher-only ones have no contact
    /// list to show) which contacts of their list were `added`,
    /// `changed` and `removed`.
    pub fn contacts_changed(
        &self,
        user: &UserId,
        added: Vec<UserId>,
        changed: Vec<UserId>,
        removed: Vec<UserId>,
    ) -> Vec<Delivery> {
        let mut out = Outbox::default();
        out.send(self.sessions_of(user), Event::ContactsChanged { added, changed, removed });
        out.0
    }

    /// Tells every session of `user`, watcher-only ones included (each
    /// was opened with a token), that a token of theirs was revoked.
    pub fn tokens_revoked(&self, user: &UserId) -> Vec<Delivery> {
        let full: Vec<SessionId> = self.sessions_of(user).collect();
        // Watch-only sessions have no index by user: they are looked for
        // only when the user has some.
        let all = self.session_counts.get(user).copied().unwrap_or(0);
        let sessions = if all > full.len() { self.all_sessions_of(user) } else { full };
        let mut out = Outbox::default();
        out.send(sessions, Event::TokensRevoked);
        out.0
    }

    /// Every session of a user, watcher-only ones included.
    pub fn all_sessions_of(&self, user: &UserId) -> Vec<SessionId> {
        self.sessions.iter().filter(|(_, s)| s.user == *user).map(|(id, _)| *id).collect()
    }

    /// Whether the user has at least one session.
    pub fn is_online(&self, user: &UserId) -> bool {
        self.sessions_of.contains_key(user)
    }

    /// Starts watching users (contacts or anyone else, as portals need):
    /// the session gets their current presence now, in one
    /// [`Event::Presences`], and every change later as [`Event::Status`].
    pub fn watch(
        &mut self,
        session: SessionId,
        users: &[UserId],
    ) -> Result<Vec<Delivery>, CoreError> {
        let watching =
            &self.sessions.get(&session).ok_or(CoreError::UnknownSession(session))?.watching;
        let fresh: HashSet<&UserId> = users.iter().filter(|u| !watching.contains(*u)).collect();
        let limit = self.limits.watched_per_session;
        if watching.len() + fresh.len() > limit {
            return Err(CoreError::WatchListFull { limit });
        }
        let mut presences = Vec::with_capacity(users.len());
        for user in users {
            // The id the community already holds, if it does: one copy
            // of each watched id for all its watchers.
            let user = self.watchers_of.get_key_value(user).map_or(user, |(known, _)| known);
            let user = &user.clone();
            let newly = self
                .sessions
                .get_mut(&session)
                .expect("checked above")
                .watching
                .insert(user.clone());
            if newly {
                self.watchers_of.entry(user.clone()).or_default().insert(session);
            }
            presences.push((user.clone(), self.presence_of(user)));
        }
        let mut out = Outbox::default();
        if !presences.is_empty() {
            out.send([session], Event::Presences { presences });
        }
        Ok(out.0)
    }

    /// Stops watching users.
    pub fn unwatch(&mut self, session: SessionId, users: &[UserId]) -> Result<(), CoreError> {
        self.user_of(session)?;
        for user in users {
            if self.sessions.get_mut(&session).expect("checked above").watching.remove(user) {
                self.unwatch_one(session, user);
            }
        }
        Ok(())
    }

    /// Sends an instant message from a session's user to `to`: delivered
    /// to every session of the recipient and to the sender's other
    /// sessions. An offline recipient gets nothing now (the caller keeps
    /// history); the message's id and the deliveries that say who was
    /// reached.
    pub fn send_im(
        &mut self,
        session: SessionId,
        to: &UserId,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<(MessageId, Vec<Delivery>), CoreError> {
        let from = self.user_of(session)?.clone();
        self.send_im_as(&from, Some(session), to, text, at)
    }

    /// Sends an instant message on behalf of `from`, who may have no
    /// session (an HTTP call): delivered to every session of both users
    /// except `origin`, the session it came from, if any.
    pub fn send_im_as(
        &mut self,
        from: &UserId,
        origin: Option<SessionId>,
        to: &UserId,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<(MessageId, Vec<Delivery>), CoreError> {
        self.send_im_with(from, origin, to, (text, None), at)
    }

    /// [`Community::send_im_as`] with a message that may carry a file
    /// (`text` then describes it for doors that show text only).
    pub fn send_im_with(
        &mut self,
        from: &UserId,
        origin: Option<SessionId>,
        to: &UserId,
        (text, file): (&str, Option<Arc<Attachment>>),
        at: DateTime<Utc>,
    ) -> Result<(MessageId, Vec<Delivery>), CoreError> {
        let text = checked_text(text)?;
        let id = self.next_message_id();
        let recipients: Vec<SessionId> = self
            .sessions_of(to)
            .chain(self.sessions_of(from))
            .filter(|s| Some(*s) != origin)
            .collect();
        let mut out = Outbox::default();
        let missed = false;
        out.send(
            recipients,
            Event::Im { from: from.clone(), to: to.clone(), text, at, id, missed, file },
        );
        Ok((id, out.0))
    }

    /// Tells `to`'s sessions that the session's user started or stopped typing.
    pub fn typing(
        &mut self,
        session: SessionId,
        to: &UserId,
        typing: bool,
    ) -> Result<Vec<Delivery>, CoreError> {
        let from = self.user_of(session)?.clone();
        let mut out = Outbox::default();
        out.send(
            self.sessions_of(to).collect::<Vec<_>>(),
            Event::Typing { from, to: to.clone(), typing },
        );
        Ok(out.0)
    }

    /// Creates an n-way chat: the creator is its first member, the invited
    /// users get an invitation on every session. Chat operations act for a
    /// user, not a session: membership belongs to the person, and every
    /// one of their sessions follows the chat.
    pub fn create_chat(
        &mut self,
        creator: &UserId,
        invite: &[UserId],
        topic: &str,
    ) -> Result<(ChatId, Vec<Delivery>), CoreError> {
        let creator = creator.clone();
        self.next_chat += 1;
        let id = ChatId(self.next_chat);
        let topic: String = topic.trim().chars().take(crate::status::MAX_MESSAGE_CHARS).collect();
        let invited: BTreeSet<UserId> = invite.iter().filter(|u| **u != creator).cloned().collect();
        let chat = Chat {
            topic: topic.clone(),
            members: BTreeSet::from([creator.clone()]),
            invited: invited.clone(),
        };
        self.chats.insert(id, chat);
        let mut out = Outbox::default();
        for user in &invited {
            let sessions: Vec<SessionId> = self.sessions_of(user).collect();
            out.send(
                sessions,
                Event::NwayInvite { chat: id, from: creator.clone(), topic: topic.clone() },
            );
        }
        self.announce_members(id, &mut out);
        Ok((id, out.0))
    }

    /// Invites more users to a chat `from` is in.
    pub fn invite(
        &mut self,
        from: &UserId,
        chat: ChatId,
        users: &[UserId],
    ) -> Result<Vec<Delivery>, CoreError> {
        let from = self.member_of(from, chat)?;
        let state = self.chats.get_mut(&chat).expect("checked by member_of");
        let mut new = Vec::new();
        for user in users {
            if !state.members.contains(user) && state.invited.insert(user.clone()) {
                new.push(user.clone());
            }
        }
        let topic = state.topic.clone();
        let mut out = Outbox::default();
        for user in new {
            let sessions: Vec<SessionId> = self.sessions_of(&user).collect();
            out.send(
                sessions,
                Event::NwayInvite { chat, from: from.clone(), topic: topic.clone() },
            );
        }
        Ok(out.0)
    }

    /// Accepts an invitation; every member hears the new member list.
    pub fn join(&mut self, user: &UserId, chat: ChatId) -> Result<Vec<Delivery>, CoreError> {
        let user = user.clone();
        let state = self.chats.get_mut(&chat).ok_or(CoreError::UnknownChat(chat))?;
        if state.members.contains(&user) {
            return Ok(Vec::new());
        }
        if !state.invited.remove(&user) {
            return Err(CoreError::NotInvited(chat));
        }
        state.members.insert(user);
        let mut out = Outbox::default();
        self.announce_members(chat, &mut out);
        Ok(out.0)
    }

    /// Declines an invitation (nobody is told).
    pub fn decline(&mut self, user: &UserId, chat: ChatId) -> Result<(), CoreError> {
        let state = self.chats.get_mut(&chat).ok_or(CoreError::UnknownChat(chat))?;
        if state.invited.remove(user) { Ok(()) } else { Err(CoreError::NotInvited(chat)) }
    }

    /// Leaves a chat; the others hear the new member list. A chat without
    /// members ends.
    pub fn leave(&mut self, user: &UserId, chat: ChatId) -> Result<Vec<Delivery>, CoreError> {
        let user = self.member_of(user, chat)?;
        let mut out = Outbox::default();
        self.remove_member(chat, &user, &mut out);
        Ok(out.0)
    }

    /// Sends a message to every member's sessions (the sender's included,
    /// so all their devices show it); its id and the deliveries.
    pub fn chat_message(
        &mut self,
        from: &UserId,
        chat: ChatId,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<(MessageId, Vec<Delivery>), CoreError> {
        self.chat_message_with(from, chat, (text, None), at)
    }

    /// [`Community::chat_message`] with a message that may carry a file
    /// (`text` then describes it for doors that show text only).
    pub fn chat_message_with(
        &mut self,
        from: &UserId,
        chat: ChatId,
        (text, file): (&str, Option<Arc<Attachment>>),
        at: DateTime<Utc>,
    ) -> Result<(MessageId, Vec<Delivery>), CoreError> {
        let from = self.member_of(from, chat)?;
        let text = checked_text(text)?;
        let id = self.next_message_id();
        let mut out = Outbox::default();
        out.send(self.member_sessions(chat), Event::NwayMessage { chat, from, text, at, id, file });
        Ok((id, out.0))
    }

    /// The id of the next message, 1:1 or n-way: one sequence for both, so
    /// that an id names one message of the community.
    fn next_message_id(&mut self) -> MessageId {
        self.next_message += 1;
        MessageId(self.next_message)
    }

    /// Tells the people of the conversation where message `id` was said
    /// (every session but `origin`) that it changed; in an n-way chat
    /// only a member may change anything.
    pub fn message_changed(
        &self,
        by: &UserId,
        origin: Option<SessionId>,
        place: Place,
        id: MessageId,
        change: MessageChange,
    ) -> Result<Vec<Delivery>, CoreError> {
        let sessions: Vec<SessionId> = match &place {
            Place::Im { from, to } => self.sessions_of(from).chain(self.sessions_of(to)).collect(),
            Place::Nway(chat) => {
                self.member_of(by, *chat)?;
                self.member_sessions(*chat)
            }
        };
        let mut out = Outbox::default();
        let sessions = sessions.into_iter().filter(|s| Some(*s) != origin);
        out.send(sessions, Event::MessageChanged { place, id, by: by.clone(), change });
        Ok(out.0)
    }

    /// Tells `reader`'s partner in a 1:1 conversation how far `reader`
    /// read it (a read receipt).
    pub fn seen(&self, reader: &UserId, partner: &UserId, up_to: MessageId) -> Vec<Delivery> {
        let mut out = Outbox::default();
        out.send(
            self.sessions_of(partner).collect::<Vec<_>>(),
            Event::Seen { by: reader.clone(), up_to },
        );
        out.0
    }

    /// Tells every session of `users` (watcher-only ones show no text) an
    /// administrator's announcement.
    pub fn announce(
        &self,
        users: &[UserId],
        from: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Vec<Delivery> {
        let mut out = Outbox::default();
        let sessions: Vec<SessionId> =
            users.iter().flat_map(|user| self.sessions_of(user)).collect();
        out.send(
            sessions,
            Event::Announcement { from: from.to_owned(), text: text.to_owned(), at },
        );
        out.0
    }

    /// Tells every session of `user` that they read `conversation` up to
    /// `up_to` (so all their devices agree on what is unread).
    pub fn read(
        &self,
        user: &UserId,
        conversation: Conversation,
        up_to: MessageId,
    ) -> Vec<Delivery> {
        let mut out = Outbox::default();
        out.send(self.sessions_of(user).collect::<Vec<_>>(), Event::Read { conversation, up_to });
        out.0
    }

    /// The chats `user` is in or invited to, by id: what a client that
    /// signs in (or reconnects) needs to show them.
    pub fn chats_of(&self, user: &UserId) -> Vec<ChatSummary> {
        let mut chats: Vec<ChatSummary> = self
            .chats
            .iter()
            .filter(|(_, c)| c.members.contains(user) || c.invited.contains(user))
            .map(|(id, c)| ChatSummary {
                id: *id,
                topic: c.topic.clone(),
                members: c.members.iter().cloned().collect(),
                invited: c.invited.contains(user),
            })
            .collect();
        chats.sort_by_key(|c| c.id);
        chats
    }

    /// A chat's topic.
    pub fn chat_topic(&self, chat: ChatId) -> Result<&str, CoreError> {
        self.chats.get(&chat).map(|c| c.topic.as_str()).ok_or(CoreError::UnknownChat(chat))
    }

    /// The members of a chat, sorted.
    pub fn chat_members(&self, chat: ChatId) -> Result<Vec<UserId>, CoreError> {
        self.chats
            .get(&chat)
            .map(|c| c.members.iter().cloned().collect())
            .ok_or(CoreError::UnknownChat(chat))
    }

    fn sessions_of(&self, user: &UserId) -> impl Iterator<Item = SessionId> + '_ {
        self.sessions_of.get(user).into_iter().flatten().copied()
    }

    fn member_of(&self, user: &UserId, chat: ChatId) -> Result<UserId, CoreError> {
        let state = self.chats.get(&chat).ok_or(CoreError::UnknownChat(chat))?;
        if state.members.contains(user) {
            Ok(user.clone())
        } else {
            Err(CoreError::NotMember(chat))
        }
    }

    fn member_sessions(&self, chat: ChatId) -> Vec<SessionId> {
        self.chats[&chat].members.iter().flat_map(|u| self.sessions_of(u)).collect()
    }

    fn remove_member(&mut self, chat: ChatId, user: &UserId, out: &mut Outbox) {
        let state = self.chats.get_mut(&chat).expect("caller checked the chat");
        state.members.remove(user);
        if state.members.is_empty() {
            self.chats.remove(&chat);
        } else {
            self.announce_members(chat, out);
        }
    }

    fn announce_members(&self, chat: ChatId, out: &mut Outbox) {
        let members = self.chats[&chat].members.iter().cloned().collect();
        out.send(self.member_sessions(chat), Event::NwayMembers { chat, members });
    }

    fn unwatch_one(&mut self, session: SessionId, watched: &UserId) {
        if let Some(watchers) = self.watchers_of.get_mut(watched) {
            watchers.remove(&session);
            if watchers.is_empty() {
                self.watchers_of.remove(watched);
            }
        }
    }

    fn announce_if_changed(&self, user: &UserId, before: &Presence, out: &mut Outbox) {
        let now = self.presence_of(user);
        if &now == before {
            return;
        }
        let watchers: Vec<SessionId> =
            self.watchers_of.get(user).into_iter().flatten().copied().collect();
        out.send(watchers, Event::Status { user: user.clone(), presence: now });
    }
}

/// `text` if a message may say it: not blank, at most [`MAX_TEXT_CHARS`].
pub fn checked_text(text: &str) -> Result<String, CoreError> {
    if text.trim().is_empty() {
        return Err(CoreError::EmptyText);
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(CoreError::TextTooLong { chars });
    }
    Ok(text.to_owned())
}
