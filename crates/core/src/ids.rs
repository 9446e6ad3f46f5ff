//! Identifiers of users, sessions and chats.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A user's stable id in the community: the login name in the embedded
/// realm, the configured id attribute (such as `uid`) in LDAP. The
/// directory decides it; the core only compares it.
///
/// Shared, not owned: a clone is a reference count. The community keeps
/// one copy of each watched id for all its watchers (a session with 200
/// contacts held 200 strings of its own, 6 KiB: BENCHMARKS.md §7).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(Arc<str>);

impl UserId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(Arc::from(id.into()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One login of one user through one front door (a browser tab's
/// WebSocket, a Sametime client connection, an XMPP stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub(crate) u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

/// Reads a session back from how it is shown (`s42`), as the console's
/// forms send it.
impl std::str::FromStr for SessionId {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.strip_prefix('s').unwrap_or(text).parse().map(Self)
    }
}

/// An n-way chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChatId(pub(crate) u64);

impl ChatId {
    /// The id as a number (what the API shows).
    pub fn get(self) -> u64 {
        self.0
    }

    /// An id as given back by a client.
    pub fn from_raw(id: u64) -> Self {
        Self(id)
    }
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A 1:1 message, numbered in the order the community accepted it: the
/// history, the XMPP archive (its stanza ids) and paging all rely on that
/// order, which the time of acceptance alone does not give (two messages
/// may share a millisecond, and clocks step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub(crate) u64);

impl MessageId {
    /// The id as a number (what the API shows).
    pub fn get(self) -> u64 {
        self.0
    }

    /// An id as given back by a client or read from the store.
    pub fn from_raw(id: u64) -> Self {
        Self(id)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A conversation of a user: 1:1 with someone, or an n-way chat. Written
/// `im:<user id>` or `nway:<chat id>` (in the API and the store).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Conversation {
    /// With one other user.
    Im(UserId),
    /// An n-way chat.
    Nway(ChatId),
}

impl fmt::Display for Conversation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Im(user) => write!(f, "im:{user}"),
            Self::Nway(chat) => write!(f, "nway:{chat}"),
        }
    }
}

impl std::str::FromStr for Conversation {
    type Err = String;

    fn from_str(key: &str) -> Result<Self, String> {
        match key.split_once(':') {
            Some(("im", user)) if !user.is_empty() => Ok(Self::Im(UserId::new(user))),
            Some(("nway", chat)) => chat
                .parse()
                .map(|chat| Self::Nway(ChatId(chat)))
                .map_err(|_| format!("{key:?}: an n-way chat is nway:<number>")),
            _ => Err(format!("{key:?}: a conversation is im:<user id> or nway:<chat id>")),
        }
    }
}
