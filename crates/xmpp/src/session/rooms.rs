//! A session's multi-user chat (XEP-0045): entering and leaving rooms,
//! their messages and invitations, and the community's n-way events as
//! room stanzas (see `crate::muc` for the mapping).

use simul_core::{Attachment, ChatId, CoreError, MessageId, UserId};
use simul_service::{FileTarget, PageStart, ServiceError};
use tokio_xmpp::jid::Jid;
use tokio_xmpp::parsers::message::Message;
use tokio_xmpp::parsers::muc::user::MucUser;
use tokio_xmpp::parsers::presence::{Presence, Type as PresenceType};
use tokio_xmpp::parsers::stanza_error::{DefinedCondition, ErrorType};

use super::changes::To;
use super::{End, Session, stanza_error};
use crate::muc::{invitation, occupant_presence, own_statuses, room_message, subject};

/// Messages of a room's history a client gets when it enters.
const HISTORY: u32 = 50;

impl Session<'_> {
    /// A presence to a room: entering it (available) or leaving it.
    pub(super) async fn room_presence(&mut self, presence: Presence) -> Result<(), End> {
        let Some(to) = presence.to.clone() else { return Ok(()) };
        match (self.rooms.chat(&to, &self.door.domain), presence.type_) {
            (Some(chat), PresenceType::None) => self.enter(chat, &to, false).await,
            (Some(chat), PresenceType::Unavailable) => self.leave(chat).await,
            (None, PresenceType::None) if to.node().is_some() => self.create(&to).await,
            (None, _) => self.room_error(&to, DefinedCondition::ItemNotFound, NO_SUCH_ROOM).await,
            _ => Ok(()),
        }
    }

    /// Creates a chat by entering a room of the client's naming
    /// (XEP-0045 §10.1): its name is the chat's topic.
    async fn create(&mut self, to: &Jid) -> Result<(), End> {
        let topic = to.node().map_or("", |node| node.as_str()).to_owned();
        match self.service.create_chat(&self.user, &[], &topic).await {
            Ok(chat) => {
                self.rooms.name(chat, to.to_bare());
                self.enter(chat, to, true).await
            }
            Err(error) => {
                let text = error.to_string();
                self.room_error(to, refused_as(&error, DefinedCondition::NotAllowed), &text).await
            }
        }
    }

    /// Enters `chat`'s room (XEP-0045 §7.2): the others' presences, the
    /// client's own, the history, then the subject.
    async fn enter(&mut self, chat: ChatId, to: &Jid, created: bool) -> Result<(), End> {
        let members = match self.service.join_chat(&self.user, chat).await {
            Ok(members) => members,
            Err(ServiceError::Core(CoreError::NotInvited(_))) => {
                let text = "join a group chat you were invited to";
                return self.room_error(to, DefinedCondition::RegistrationRequired, text).await;
            }
            Err(_) => {
                return self.room_error(to, DefinedCondition::ItemNotFound, NO_SUCH_ROOM).await;
            }
        };
        let domain = self.door.domain.clone();
        let Some(room) = self.rooms.room(chat, &domain) else { return Ok(()) };
        let me = self.user.clone();
        for member in members.iter().filter(|member| **member != me) {
            if let Some(presence) = occupant_presence(&room, member, &domain, true, Vec::new()) {
                self.send(&presence).await?;
            }
        }
        if let Some(own) =
            occupant_presence(&room, &self.user, &domain, true, own_statuses(created))
        {
            self.send(&own).await?;
        }
        let newest = self.service.chat_page(&self.user, chat, PageStart::Newest, HISTORY).await;
        let messages = newest.map(|page| page.messages).unwrap_or_default();
        let files = self.files_of(&messages.iter().map(|m| m.id).collect::<Vec<_>>()).await;
        for message in messages {
            let (from, id) = (UserId::new(&message.from), MessageId::from_raw(message.id));
            let named = (self.sent_ids.client_id(id), id);
            let Some(mut stanza) = room_message(&room, &from, &self.jid, named, Some(message.at))
            else {
                continue;
            };
            if message.deleted {
                // XEP-0424 §5: a tombstone in its place.
                stanza.payloads.push(super::changes::tombstone(message.id));
            } else {
                stanza.bodies.insert(Default::default(), message.text);
            }
            let stanza = self.with_file(stanza, files.get(&message.id).map(|file| &**file));
            self.send(&stanza).await?;
        }
        let topic = self.topic_of(chat);
        self.send(&subject(&room, &topic, &self.jid)).await?;
        self.rooms.entered(chat, &members);
        Ok(())
    }

    /// Leaves `chat`'s room: the community chat, on every door.
    async fn leave(&mut self, chat: ChatId) -> Result<(), End> {
        if !self.rooms.is_in(chat) {
            return Ok(());
        }
        self.rooms.left(chat);
        self.service.leave_chat(&self.user, chat).await.ok();
        let domain = self.door.domain.clone();
        let Some(room) = self.rooms.room(chat, &domain) else { return Ok(()) };
        match occupant_presence(&room, &self.user, &domain, false, own_statuses(false)) {
            Some(gone) => self.send(&gone).await,
            None => Ok(()),
        }
    }

    /// A message to a room: a line of the chat, or invitations.
    pub(super) async fn room_message(&mut self, message: Message) -> Result<(), End> {
        let Some(to) = message.to.clone() else { return Ok(()) };
        let Some(chat) =
            self.rooms.chat(&to, &self.door.domain).filter(|chat| self.rooms.is_in(*chat))
        else {
            let text = "enter the room first";
            return self.bounce(&message, DefinedCondition::NotAcceptable, text).await;
        };
        let invite = message.payloads.iter().find_map(|p| MucUser::try_from(p.clone()).ok());
        if let Some(invitee) = invite.and_then(|x| x.invite).and_then(|invite| invite.to) {
            return self.invite(&message, chat, &invitee).await;
        }
        // A correction or retraction has a body too (a fallback).
        if self.change(&message, Some(chat)).await? {
            return Ok(());
        }
        let Some((_, body)) = message.get_best_body(vec![]) else { return Ok(()) };
        // The chat's echo to every member, this session too, is the
        // reflection XEP-0045 asks for (with the client's id: remembered
        // before the echo is delivered).
        let posted = match self.send_uploaded(body, FileTarget::Nway(chat)).await {
            Some(sent) => sent.map(|sent| sent.id),
            None => {
                self.service.post_to_chat(&self.user, chat, body.clone()).await.map(|(id, _)| id)
            }
        };
        match posted {
            Ok(id) => {
                if let Some(client) = &message.id {
                    self.sent_ids.remember(client, id, To::Room(chat));
                }
                Ok(())
            }
            Err(error) => {
                let text = error.to_string();
                self.bounce(&message, DefinedCondition::NotAcceptable, &text).await
            }
        }
    }

    /// Invites the user `invitee` names to `chat` (XEP-0045 §7.8.2).
    pub(super) async fn invite(
        &mut self,
        message: &Message,
        chat: ChatId,
        invitee: &Jid,
    ) -> Result<(), End> {
        let Some(name) = crate::jid::user_of(invitee, &self.door.domain) else {
            return self.bounce(message, DefinedCondition::ItemNotFound, "no such user here").await;
        };
        let invited = self.service.invite(&self.user, chat, &[UserId::new(&name)]).await;
        match invited {
            Ok(()) => Ok(()),
            Err(error) => {
                let text = error.to_string();
                let condition = refused_as(&error, DefinedCondition::ItemNotFound);
                self.bounce(message, condition, &text).await
            }
        }
    }

    /// The client's stanzas of an n-way event.
    pub(super) async fn nway_invited(
        &mut self,
        chat: ChatId,
        from: &UserId,
        topic: &str,
    ) -> Result<(), End> {
        let domain = &self.door.domain;
        let Some(room) = self.rooms.room(chat, domain) else { return Ok(()) };
        match invitation(&room, from, topic, &self.jid, domain) {
            Some(message) => self.send(&message).await,
            None => Ok(()),
        }
    }

    /// A line of a chat whose room the client is in: message `id`.
    pub(super) async fn nway_message(
        &mut self,
        chat: ChatId,
        from: &UserId,
        text: &str,
        id: MessageId,
        file: Option<&Attachment>,
    ) -> Result<(), End> {
        if !self.rooms.is_in(chat) {
            return Ok(());
        }
        let Some(room) = self.rooms.room(chat, &self.door.domain) else { return Ok(()) };
        let named = (self.sent_ids.client_id(id), id);
        match room_message(&room, from, &self.jid, named, None) {
            Some(message) => {
                let message = message.with_body(Default::default(), text.to_owned());
                self.send(&self.with_file(message, file)).await
            }
            None => Ok(()),
        }
    }

    /// The members of a chat whose room the client is in changed: the
    /// occupants who came and went.
    pub(super) async fn nway_members(
        &mut self,
        chat: ChatId,
        members: &[UserId],
    ) -> Result<(), End> {
        let (arrived, departed) = self.rooms.members_now(chat, members);
        let domain = self.door.domain.clone();
        let Some(room) = self.rooms.room(chat, &domain) else { return Ok(()) };
        let changes = arrived.iter().map(|u| (u, true)).chain(departed.iter().map(|u| (u, false)));
        let me = self.user.clone();
        for (member, present) in changes.filter(|(member, _)| **member != me) {
            if let Some(presence) = occupant_presence(&room, member, &domain, present, Vec::new()) {
                self.send(&presence).await?;
            }
        }
        Ok(())
    }

    /// The topic of a chat the user is in.
    pub(super) fn topic_of(&self, chat: ChatId) -> String {
        let chats = self.service.chats_of(&self.user);
        chats
            .into_iter()
            .find(|summary| summary.id == chat)
            .map(|summary| summary.topic)
            .unwrap_or_default()
    }

    /// A presence error from a room the client could not enter.
    async fn room_error(
        &mut self,
        room: &Jid,
        condition: DefinedCondition,
        text: &str,
    ) -> Result<(), End> {
        let mut error = Presence::new(PresenceType::Error).with_from(room.clone());
        error.payloads.push(stanza_error(ErrorType::Cancel, condition, text).into());
        self.send(&error).await
    }
}

/// What a client hears for a room that is not one of a community chat.
const NO_SUCH_ROOM: &str =
    "no such group chat: rooms here are the community's group chats you are invited to";

/// A policy's refusal is a `policy-violation` (RFC 6120 §8.3.3.12; the
/// text names the policy); any other refusal is `otherwise`.
fn refused_as(error: &ServiceError, otherwise: DefinedCondition) -> DefinedCondition {
    match error {
        ServiceError::Policy(_) => DefinedCondition::PolicyViolation,
        _ => otherwise,
    }
}
