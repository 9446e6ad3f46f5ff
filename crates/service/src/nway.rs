//! N-way chats: created, joined, left and written to the same way from
//! every door; their events reach members on every door.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use simul_core::policy::Action;
use simul_core::{Attachment, ChatId, ChatSummary, CoreError, MessageId, UserId};
use simul_store::{ChatRecord, Page, PageStart, StoredChatMessage};

use crate::{Service, ServiceError};

impl Service {
    /// The chats `user` is in or invited to.
    pub fn chats_of(&self, user: &UserId) -> Vec<ChatSummary> {
        self.hub().inspect(|c| c.chats_of(user))
    }

    /// A new chat of `creator`, inviting the people `invite` names (any
    /// name the directory knows), recorded in the store. A new chat (and
    /// its invitations) costs as much as a message: a script cannot fill
    /// the server with chats either.
    pub async fn create_chat(
        &self,
        creator: &UserId,
        invite: &[UserId],
        topic: &str,
    ) -> Result<ChatId, ServiceError> {
        self.message_limits().check(creator.as_str())?;
        self.check_policy(creator, Action::NwayChat).await?;
        let invitees = self.invitees(creator, invite).await?;
        let (id, topic) = self.hub().apply(|c| {
            let (id, deliveries) = c.create_chat(creator, &invitees, topic)?;
            Ok(((id, c.chat_topic(id)?.to_owned()), deliveries))
        })?;
        let record = ChatRecord {
            id: id.get(),
            topic,
            creator: creator.to_string(),
            created_at: Utc::now(),
        };
        self.store().record_chat(&record).await?;
        self.store().add_chat_participant(id.get(), creator.as_str()).await?;
        Ok(id)
    }

    /// Invites more people (any name the directory knows) into `chat`.
    pub async fn invite(
        &self,
        from: &UserId,
        chat: ChatId,
        invite: &[UserId],
    ) -> Result<(), ServiceError> {
        self.message_limits().check(from.as_str())?;
        self.check_policy(from, Action::NwayChat).await?;
        let invitees = self.invitees(from, invite).await?;
        Ok(self.hub().run(|c| c.invite(from, chat, &invitees))?)
    }

    /// The people `invite` names, found in the directory, whom `from`'s
    /// policy lets them invite (`external_chat` for people outside it).
    async fn invitees(
        &self,
        from: &UserId,
        invite: &[UserId],
    ) -> Result<Vec<UserId>, ServiceError> {
        let invitees = self.recipients(invite).await?;
        for invitee in &invitees {
            self.check_external(from, invitee).await?;
        }
        Ok(invitees)
    }

    /// `user` joins `chat` (invited, or already in it); its members then.
    /// They keep the chat after it ends, until they leave it.
    pub async fn join_chat(
        &self,
        user: &UserId,
        chat: ChatId,
    ) -> Result<Vec<UserId>, ServiceError> {
        let members = self.hub().apply(|c| {
            let deliveries = c.join(user, chat)?;
            Ok((c.chat_members(chat)?, deliveries))
        })?;
        self.store().add_chat_participant(chat.get(), user.as_str()).await?;
        Ok(members)
    }

    /// `user` declines an invitation to `chat`.
    pub fn decline_chat(&self, user: &UserId, chat: ChatId) -> Result<(), ServiceError> {
        Ok(self.hub().apply(|c| c.decline(user, chat).map(|()| ((), Vec::new())))?)
    }

    /// `user` leaves `chat`, live or ended: it is no longer among their
    /// conversations, nor its history theirs to read.
    pub async fn leave_chat(&self, user: &UserId, chat: ChatId) -> Result<(), ServiceError> {
        let left = self.hub().run(|c| c.leave(user, chat));
        let forgotten = self.store().remove_chat_participant(chat.get(), user.as_str()).await?;
        match left {
            Err(_) if forgotten => Ok(()),
            left => Ok(left?),
        }
    }

    /// Sends `text` to every member of `chat` and keeps it in the chat's
    /// history before returning; its id and when it was sent.
    pub async fn post_to_chat(
        &self,
        from: &UserId,
        chat: ChatId,
        text: String,
    ) -> Result<(MessageId, DateTime<Utc>), ServiceError> {
        self.message_limits().check(from.as_str())?;
        self.post_with(from, chat, text, None).await
    }

    /// Sends and keeps a chat message, that may carry a file (the limits
    /// were checked).
    pub(crate) async fn post_with(
        &self,
        from: &UserId,
        chat: ChatId,
        text: String,
        file: Option<Arc<Attachment>>,
    ) -> Result<(MessageId, DateTime<Utc>), ServiceError> {
        let at = Utc::now();
        let file_id = file.as_ref().map(|file| file.id.clone());
        let id = self.hub().apply(|c| c.chat_message_with(from, chat, (&text, file), at))?;
        metrics::counter!("simul_messages_total", "kind" => "nway").increment(1);
        self.rates().messages.tick();
        let (chat, from) = (chat.get(), from.to_string());
        let message = StoredChatMessage::new(id.get(), chat, from, text, at);
        self.link_file(file_id.as_deref(), id).await?;
        self.store().append_chat_message(&message).await?;
        Ok((id, at))
    }

    /// Whether `user` may read `chat`: a member now, or one who took part
    /// and did not leave (after the chat ended, or went on without them).
    /// The community's refusal otherwise (no such chat, not a member).
    pub(crate) async fn check_reader(
        &self,
        user: &UserId,
        chat: ChatId,
    ) -> Result<(), ServiceError> {
        let members = self.hub().inspect(|c| c.chat_members(chat));
        if members.as_ref().is_ok_and(|members| members.contains(user))
            || self.store().is_chat_participant(chat.get(), user.as_str()).await?
        {
            return Ok(());
        }
        members?;
        Err(CoreError::NotMember(chat).into())
    }

    /// A page of `chat`'s history (`limit` messages from `from`), oldest
    /// first, for one who may read it (see [`Service::check_reader`]).
    pub async fn chat_page(
        &self,
        user: &UserId,
        chat: ChatId,
        from: PageStart,
        limit: u32,
    ) -> Result<Page<StoredChatMessage>, ServiceError> {
        self.check_reader(user, chat).await?;
        let since = self.history_start(user).await?;
        Ok(self.store().chat_page_since(chat.get(), since, from, limit).await?)
    }

    /// The directory's ids of the people these names are.
    async fn recipients(&self, names: &[UserId]) -> Result<Vec<UserId>, ServiceError> {
        let mut ids = Vec::with_capacity(names.len());
        for name in names {
            ids.push(self.recipient(name.as_str()).await?);
        }
        Ok(ids)
    }
}
