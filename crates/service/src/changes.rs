//! Messages after they were sent: their author edits or deletes them,
//! anyone in the conversation reacts to them, and a 1:1 partner who
//! allows it shows how far they read (read receipts). One function each
//! for every door; each tells every session of the conversation.

use chrono::Utc;
use simul_core::{MessageChange, MessageId, Place, SessionId, UserId};
use simul_store::{MessageOrigin, MessagePlace, ReactionTally};

use crate::{Service, ServiceError};

/// The emoji people react with: a small set every client can show (and
/// every door can carry) alike.
pub const REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

impl Service {
    /// `user` replaces the text of their message `id`; everyone in the
    /// conversation is told (every session but `origin`).
    pub async fn edit_message(
        &self,
        user: &UserId,
        origin: Option<SessionId>,
        id: MessageId,
        text: String,
    ) -> Result<(), ServiceError> {
        self.message_limits().check(user.as_str())?;
        let text = simul_core::checked_text(&text)?;
        let place = self.authored(user, id).await?;
        if !self.attachments(&[id.get()]).await?.is_empty() {
            // Its text describes the file: a new text would belie it.
            return Err(ServiceError::Invalid("a file cannot be edited; delete it instead".into()));
        }
        let at = Utc::now();
        // Kept before anyone is told: what others see is what stays.
        if !self.store().edit_message(id.get(), user.as_str(), &text, at).await? {
            return Err(ServiceError::NoSuchMessage);
        }
        let change = MessageChange::Edited { text, at };
        self.hub().run(|c| c.message_changed(user, origin, place, id, change))?;
        Ok(())
    }

    /// `user` deletes their message `id`: its text and reactions are gone,
    /// and everyone in the conversation is told.
    pub async fn delete_message(
        &self,
        user: &UserId,
        origin: Option<SessionId>,
        id: MessageId,
    ) -> Result<(), ServiceError> {
        let place = self.authored(user, id).await?;
        if !self.store().delete_message(id.get(), user.as_str()).await? {
            return Err(ServiceError::NoSuchMessage);
        }
        self.hub().run(|c| c.message_changed(user, origin, place, id, MessageChange::Deleted))?;
        Ok(())
    }

    /// `user` adds (`on`) or takes back their reaction `emoji` (one of
    /// [`REACTIONS`]) to message `id` of one of their conversations.
    pub async fn react(
        &self,
        user: &UserId,
        origin: Option<SessionId>,
        id: MessageId,
        emoji: &str,
        on: bool,
    ) -> Result<(), ServiceError> {
        let Some(emoji) = REACTIONS.iter().find(|r| **r == emoji) else {
            let choice = REACTIONS.join(" ");
            return Err(ServiceError::Invalid(format!("react with one of {choice}")));
        };
        self.message_limits().check(user.as_str())?;
        let place = self.readable(user, id).await?.0;
        self.store().set_reaction(id.get(), user.as_str(), emoji, on, Utc::now()).await?;
        let change = MessageChange::Reaction { user: user.clone(), emoji: (*emoji).into(), on };
        self.hub().run(|c| c.message_changed(user, origin, place, id, change))?;
        Ok(())
    }

    /// The reactions to these messages (of a history page `user` may read).
    pub async fn reactions(&self, ids: &[MessageId]) -> Result<Vec<ReactionTally>, ServiceError> {
        let ids: Vec<u64> = ids.iter().map(|id| id.get()).collect();
        Ok(self.store().reactions(&ids).await?)
    }

    /// Whether `user` lets others see how far they read (on unless they
    /// turned it off).
    pub async fn read_receipts(&self, user: &UserId) -> Result<bool, ServiceError> {
        Ok(self.store().read_receipts(user.as_str()).await?)
    }

    /// Turns `user`'s read receipts on or off.
    pub async fn set_read_receipts(&self, user: &UserId, on: bool) -> Result<(), ServiceError> {
        Ok(self.store().set_read_receipts(user.as_str(), on).await?)
    }

    /// Tells `reader`'s partner how far `reader` read their conversation,
    /// if `reader` allows it.
    pub(crate) async fn send_receipt(
        &self,
        reader: &UserId,
        partner: &UserId,
        up_to: MessageId,
    ) -> Result<(), ServiceError> {
        if self.read_receipts(reader).await? {
            self.hub().run(|c| Ok(c.seen(reader, partner, up_to)))?;
        }
        Ok(())
    }

    /// Where message `id` was said, if `user` may read it: a door that
    /// names a message within a conversation (an XMPP room) checks it is
    /// one of that conversation's; the same answer for a message that is
    /// elsewhere and for one that is not there for `user`.
    pub async fn message_place(&self, user: &UserId, id: MessageId) -> Result<Place, ServiceError> {
        Ok(self.readable(user, id).await?.0)
    }

    /// Where message `id` was said, if `user` may read it, and its origin.
    async fn readable(
        &self,
        user: &UserId,
        id: MessageId,
    ) -> Result<(Place, MessageOrigin), ServiceError> {
        let origin = self.store().message_origin(id.get()).await?;
        let Some(origin) = origin.filter(|o| !o.deleted) else {
            return Err(ServiceError::NoSuchMessage);
        };
        let place = match &origin.place {
            MessagePlace::Im { from, to } => {
                if user.as_str() != from && user.as_str() != to {
                    return Err(ServiceError::NoSuchMessage);
                }
                Place::Im { from: UserId::new(from.clone()), to: UserId::new(to.clone()) }
            }
            MessagePlace::Chat(chat) => {
                let chat = simul_core::ChatId::from_raw(*chat);
                let members = self.hub().inspect(|c| c.chat_members(chat)).unwrap_or_default();
                if !members.contains(user) {
                    return Err(ServiceError::NoSuchMessage);
                }
                Place::Nway(chat)
            }
        };
        Ok((place, origin))
    }

    /// Where message `id` was said, if `user` wrote it (and may read it).
    async fn authored(&self, user: &UserId, id: MessageId) -> Result<Place, ServiceError> {
        let (place, origin) = self.readable(user, id).await?;
        if origin.author != user.as_str() {
            return Err(ServiceError::NotAuthor);
        }
        Ok(place)
    }
}
