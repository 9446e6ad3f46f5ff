//! What the community tells sessions, free of any protocol: each front
//! door renders these as JSON over WebSocket, VP messages or XMPP stanzas.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::ids::{ChatId, Conversation, MessageId, SessionId, UserId};
use crate::status::Presence;

/// Something a session must be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A watched user's presence changed.
    Status {
        /// Whose presence.
        user: UserId,
        /// The presence others see now.
        presence: Presence,
    },
    /// A 1:1 instant message, to the recipient's sessions and the
    /// sender's other sessions (so every device shows the conversation).
    Im {
        /// Sender.
        from: UserId,
        /// Recipient.
        to: UserId,
        /// The text.
        text: String,
        /// When the server accepted it.
        at: DateTime<Utc>,
        /// Its number in the order of acceptance.
        id: MessageId,
        /// Kept while the recipient was offline and handed to them now,
        /// at their next sign-in (not news of this moment).
        missed: bool,
        /// The file it carries (its text then describes the file, for
        /// doors that show text only).
        file: Option<Arc<Attachment>>,
    },
    /// The presence of users a session just started watching, all in one
    /// event: a watch of 2,000 contacts is one reply, not 2,000 events
    /// queued at once for the session's connection.
    Presences {
        /// Each user with the presence others see now, in the order asked.
        presences: Vec<(UserId, Presence)>,
    },
    /// The other party started or stopped typing.
    Typing {
        /// Who is typing.
        from: UserId,
        /// To whom.
        to: UserId,
        /// Started (`true`) or stopped.
        typing: bool,
    },
    /// An invitation to an n-way chat.
    NwayInvite {
        /// The chat.
        chat: ChatId,
        /// Who invited.
        from: UserId,
        /// The chat's topic.
        topic: String,
    },
    /// A message in an n-way chat.
    NwayMessage {
        /// The chat.
        chat: ChatId,
        /// Sender.
        from: UserId,
        /// The text.
        text: String,
        /// When the server accepted it.
        at: DateTime<Utc>,
        /// Its number in the order of acceptance (one sequence with 1:1
        /// messages).
        id: MessageId,
        /// The file it carries (its text then describes the file).
        file: Option<Arc<Attachment>>,
    },
    /// The members of an n-way chat changed.
    NwayMembers {
        /// The chat.
        chat: ChatId,
        /// Who is in it now, sorted.
        members: Vec<UserId>,
    },
    /// The user read a conversation up to a message, on one of their
    /// sessions: the others stop counting those messages as unread.
    Read {
        /// Which conversation.
        conversation: Conversation,
        /// The last message read.
        up_to: MessageId,
    },
    /// The user's contact list changed, on any door, in these contacts:
    /// each session shows the list as it is now (an XMPP client gets a
    /// roster push for each). Doors keep no copy of the list to compare.
    ContactsChanged {
        /// Contacts added to the list.
        added: Vec<UserId>,
        /// Contacts now in other groups or with another alias.
        changed: Vec<UserId>,
        /// Contacts no longer on the list.
        removed: Vec<UserId>,
    },
    /// A token of the session's user was revoked (a logout, or every
    /// token issued before a password change or a disabled account):
    /// each session checks whether it may go on.
    TokensRevoked,
    /// A message changed after it was sent: told to every session of the
    /// conversation's people (but the one that changed it).
    MessageChanged {
        /// Where the message was said.
        place: Place,
        /// Which message.
        id: MessageId,
        /// Who changed it (its author, unless a reaction): a room names
        /// them as the occupant it comes from.
        by: UserId,
        /// What changed.
        change: MessageChange,
    },
    /// The other person of a 1:1 conversation read it up to a message of
    /// the session's user (a read receipt; only for people who let others
    /// see how far they read).
    Seen {
        /// Who read.
        by: UserId,
        /// The last message they read.
        up_to: MessageId,
    },
    /// An administrator's announcement (to everyone online, a group or
    /// chosen people): plain text, which every door shows as text.
    Announcement {
        /// Who sent it, as the audit log names them (a user id, or the
        /// system user of a command).
        from: String,
        /// The text.
        text: String,
        /// When it was sent.
        at: DateTime<Utc>,
    },
}

/// Where a message was said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A 1:1 conversation.
    Im {
        /// Who wrote the message.
        from: UserId,
        /// To whom.
        to: UserId,
    },
    /// An n-way chat.
    Nway(ChatId),
}

impl Place {
    /// The conversation as `user` names it: the other person of a 1:1
    /// conversation (`im:<them>`), or the chat.
    pub fn conversation_of(&self, user: &UserId) -> Conversation {
        match self {
            Self::Im { from, to } if from == user => Conversation::Im(to.clone()),
            Self::Im { from, .. } => Conversation::Im(from.clone()),
            Self::Nway(chat) => Conversation::Nway(*chat),
        }
    }
}

/// How a message changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageChange {
    /// Its author replaced its text.
    Edited {
        /// The new text.
        text: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Its author deleted it.
    Deleted,
    /// Someone added or took back a reaction.
    Reaction {
        /// Who.
        user: UserId,
        /// Which emoji.
        emoji: String,
        /// Added (`true`) or taken back.
        on: bool,
    },
}

/// A file sent in a conversation, as a message carries it: what a door
/// needs to show it and to link to it (the bytes stay in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file's id, unguessable (a link names it).
    pub id: String,
    /// Its name, as the sender gave it, cleaned of paths and controls.
    pub name: String,
    /// The media type the sender declared (`image/png`); doors decide
    /// what they serve it as.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
}

/// An event for one session. Events are shared between their recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The recipient session.
    pub session: SessionId,
    /// The event.
    pub event: Arc<Event>,
}
