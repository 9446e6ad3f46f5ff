//! A user's conversations, 1:1 and n-way, as the list a client shows
//! beside the contacts: the latest message of each and how many are
//! unread, the same on every device (reading on one marks it read on
//! all).

use chrono::{DateTime, Utc};
use simul_core::{ChatId, Conversation, MessageId, UserId};

use crate::{Service, ServiceError};

/// Most 1:1 conversations the list holds.
pub const MAX_CONVERSATIONS: u32 = 200;

/// One conversation of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationSummary {
    /// Which.
    pub conversation: Conversation,
    /// An n-way chat's topic (empty for 1:1).
    pub topic: String,
    /// Its latest message (none: a chat where nothing was said yet).
    pub last: Option<LastMessage>,
    /// Messages from others after what the user read.
    pub unread: u32,
    /// How far the other person of a 1:1 conversation read it, if they
    /// let others see it (read receipts).
    pub seen: Option<MessageId>,
    /// Whether the user is in it now: `false` for an n-way chat that
    /// ended, or went on without them (theirs to read, not to write to).
    pub member: bool,
}

/// The latest message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastMessage {
    /// Its id.
    pub id: MessageId,
    /// Who wrote it.
    pub from: UserId,
    /// What it says.
    pub text: String,
    /// When the server accepted it.
    pub at: DateTime<Utc>,
    /// Deleted by its author (the text is empty).
    pub deleted: bool,
}

impl Service {
    /// `user`'s conversations, the latest first: their 1:1 ones (at most
    /// [`MAX_CONVERSATIONS`]), the n-way chats they are in, and those they
    /// took part in and did not leave (at most as many). Their policy's
    /// `history_days` holds here as on the history pages: a conversation
    /// whose last message is older is left out (a chat they are still in
    /// stays, without that message).
    pub async fn conversations(
        &self,
        user: &UserId,
    ) -> Result<Vec<ConversationSummary>, ServiceError> {
        let start = self.history_start(user).await?;
        let shown = |at: DateTime<Utc>| start.is_none_or(|start| at >= start);
        let mut list = Vec::new();
        for im in self.store().im_conversations(user.as_str(), MAX_CONVERSATIONS).await? {
            if !shown(im.last.at) {
                continue;
            }
            let last = LastMessage {
                id: MessageId::from_raw(im.last.id),
                from: UserId::new(im.last.from),
                text: im.last.text,
                at: im.last.at,
                deleted: im.last.deleted,
            };
            list.push(ConversationSummary {
                conversation: Conversation::Im(UserId::new(im.with)),
                topic: String::new(),
                last: Some(last),
                unread: im.unread,
                seen: im.seen.map(MessageId::from_raw),
                member: true,
            });
        }
        let chats = self.hub().inspect(|c| c.chats_of(user));
        let live: Vec<_> = chats.into_iter().filter(|chat| chat.members.contains(user)).collect();
        let ids: Vec<ChatId> = live.iter().map(|chat| chat.id).collect();
        let gone = self.store().participated_chats(user.as_str(), MAX_CONVERSATIONS).await?;
        let gone = gone.into_iter().map(|(id, topic)| (ChatId::from_raw(id), topic));
        let chats = live.into_iter().map(|chat| (chat.id, chat.topic, true));
        let chats =
            chats.chain(gone.filter(|(id, _)| !ids.contains(id)).map(|(id, t)| (id, t, false)));
        for (chat, topic, member) in chats {
            let summary = self.store().chat_conversation(user.as_str(), chat.get()).await?;
            let too_old = summary.last.as_ref().is_some_and(|m| !shown(m.at));
            if too_old && !member {
                continue;
            }
            let last = summary.last.filter(|_| !too_old).map(|m| LastMessage {
                id: MessageId::from_raw(m.id),
                from: UserId::new(m.from),
                text: m.text,
                at: m.at,
                deleted: m.deleted,
            });
            list.push(ConversationSummary {
                conversation: Conversation::Nway(chat),
                topic,
                last,
                unread: summary.unread,
                seen: None,
                member,
            });
        }
        // A chat where nothing was said yet is newest of all.
        list.sort_by_key(|c| std::cmp::Reverse(c.last.as_ref().map_or(u64::MAX, |m| m.id.get())));
        Ok(list)
    }

    /// `user` read `conversation` up to message `up_to`: kept, and told to
    /// all their sessions on every door (and, in a 1:1 conversation, to
    /// the partner if `user` allows read receipts).
    pub async fn mark_read(
        &self,
        user: &UserId,
        conversation: Conversation,
        up_to: MessageId,
    ) -> Result<(), ServiceError> {
        let key = conversation.to_string();
        self.store().mark_read(user.as_str(), &key, up_to.get()).await?;
        let partner = match &conversation {
            Conversation::Im(partner) => Some(partner.clone()),
            Conversation::Nway(_) => None,
        };
        self.hub().run(|c| Ok(c.read(user, conversation, up_to)))?;
        if let Some(partner) = partner {
            self.send_receipt(user, &partner, up_to).await?;
        }
        Ok(())
    }
}
