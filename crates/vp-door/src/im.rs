//! Instant messages on the VP door (spec §6.4). Sametime relays IM
//! channels between two clients; Simul ends them at the server instead
//! (the spec's "strip" strategy), so that a message is the community's:
//! delivered to every session of both users on every door and kept in
//! the history once. A channel the client opens to someone carries its
//! messages to the service; a message for this client from anyone, on
//! any door, arrives on a channel the server opens to it.

use std::collections::HashMap;

use simul_core::{SessionId, UserId};
use simul_service::{Service, ServiceError};
use simul_vp::message::{ChannelAccept, ChannelCreate, ChannelDestroy, ChannelSend};
use simul_vp::services::im::{AcceptInfo, CreateInfo, ImMessage, client_type, data_type};
use simul_vp::{Block as _, ErrorCode, IdBlock, LoginInfo, Message, UserStatus, services};

/// Messages for someone whose channel is not open yet, at most.
const MAX_PENDING: usize = 100;

/// A conversation with one partner, on one channel.
struct Conversation {
    channel: u32,
    /// Accepted by the client (channels it opened are, at once).
    open: bool,
    /// Messages waiting for the client's ACCEPT.
    pending: Vec<ImMessage>,
}

/// IM state of one connection.
#[derive(Default)]
pub(crate) struct Im {
    by_partner: HashMap<UserId, Conversation>,
    by_channel: HashMap<u32, UserId>,
    /// Ids of the channels the server opens (high bit set, spec §5.1).
    next_server_channel: u32,
}

impl Im {
    /// The client opens a conversation with `create.target`: accepted on
    /// behalf of the partner when they are online (VP has no offline
    /// messages), as plain text (a NotesBuddy client falls back to plain
    /// when refused, spec §6.4).
    pub(crate) async fn create(&mut self, service: &Service, create: &ChannelCreate) -> Message {
        let refuse = |code| Message::ChannelDestroy(ChannelDestroy::new(create.channel, code));
        let wanted = CreateInfo::from_bytes(&create.addtl).ok();
        if wanted.is_none_or(|info| info.marker != 1 || info.client_type != client_type::PLAIN) {
            return refuse(ErrorCode::ImNotRegistered);
        }
        let partner = match service.recipient(&create.target.user).await {
            Ok(partner) => partner,
            Err(_) => return refuse(ErrorCode::ClientUserGone),
        };
        let presence = service.presences(std::slice::from_ref(&partner)).remove(0);
        if presence.status == simul_core::Status::Offline {
            return refuse(ErrorCode::ClientUserGone);
        }
        let status =
            UserStatus { status: presence.sametime_code(), time: 0, desc: presence.message };
        let addtl = AcceptInfo { client_type: client_type::PLAIN, status };
        let mut accept = ChannelAccept::for_service(create);
        accept.addtl = addtl.to_bytes().unwrap_or_default();
        // libmeanwhile takes the partner's identity from the acceptor.
        accept.acceptor = Some(login_info(service, &partner).await);
        self.forget_partner(&partner);
        let conversation =
            Conversation { channel: create.channel, open: true, pending: Vec::new() };
        self.by_channel.insert(create.channel, partner.clone());
        self.by_partner.insert(partner, conversation);
        Message::ChannelAccept(accept)
    }

    /// Conversations open or opening.
    pub(crate) fn open(&self) -> usize {
        self.by_channel.len()
    }

    /// Whether `channel` is one of this connection's IM channels.
    pub(crate) fn is_channel(&self, channel: u32) -> bool {
        self.by_channel.contains_key(&channel)
    }

    /// The partner of the conversation on `channel`.
    pub(crate) fn partner(&self, channel: u32) -> Option<&UserId> {
        self.by_channel.get(&channel)
    }

    /// `partner` went offline (their last session on any door ended): the
    /// conversation's channel is destroyed, as a Sametime server destroys
    /// a relayed channel when the other end leaves (spec §4.12, §5.5), so
    /// that the client opens a new one for its next message and learns
    /// then that the partner is gone.
    pub(crate) fn partner_left(&mut self, partner: &UserId) -> Option<Message> {
        let conversation = self.by_partner.remove(partner)?;
        self.by_channel.remove(&conversation.channel);
        let destroy = ChannelDestroy::new(conversation.channel, ErrorCode::ClientUserGone);
        Some(Message::ChannelDestroy(destroy))
    }

    /// The client accepted a channel the server opened: what waited goes.
    pub(crate) fn accepted(&mut self, channel: u32) -> Vec<Message> {
        let Some(partner) = self.by_channel.get(&channel) else { return Vec::new() };
        let Some(conversation) = self.by_partner.get_mut(partner) else { return Vec::new() };
        conversation.open = true;
        let pending = std::mem::take(&mut conversation.pending);
        pending.iter().filter_map(|message| send(channel, message)).collect()
    }

    /// The client (or the server, on its behalf) ended a channel.
    pub(crate) fn destroyed(&mut self, channel: u32) {
        if let Some(partner) = self.by_channel.remove(&channel) {
            self.by_partner.remove(&partner);
        }
    }

    /// A message the client sends in a conversation: text to the
    /// community, typing to the partner's sessions.
    pub(crate) async fn receive(
        &mut self,
        service: &Service,
        user: &UserId,
        session: SessionId,
        send: &ChannelSend,
    ) -> Option<Message> {
        let partner = self.by_channel.get(&send.channel)?.clone();
        let result = match ImMessage::decode(send.send_type, &send.data) {
            // A partner who leaves ends the channel at once (the connection
            // watches them); one who left a moment before this message
            // finds it kept as for anyone offline, and the channel ends as
            // one to someone offline is refused (spec §5.5). The service
            // says which in the same step that delivers.
            Ok(ImMessage::Text(text)) => service
                .send_im(user, Some(session), partner.as_str(), text)
                .await
                .and_then(|sent| match sent.delivered {
                    true => Ok(()),
                    false => Err(ServiceError::NoSuchUser(partner.to_string())),
                }),
            Ok(ImMessage::Data { data_type: data_type::TYPING, subtype, .. }) => {
                service.typing(session, &partner, subtype == 0).map_err(ServiceError::from)
            }
            // HTML, subjects and the rest: plain clients send none.
            _ => Ok(()),
        };
        let error = result.err()?;
        tracing::debug!(%error, "VP: message refused");
        // The partner left since the channel opened: end it as the spec says.
        self.destroyed(send.channel);
        Some(Message::ChannelDestroy(ChannelDestroy::new(send.channel, ErrorCode::ClientUserGone)))
    }

    /// What a message or typing of `from` to this client becomes: a SEND on
    /// their conversation, or a CREATE for a new one (the message waits
    /// for the client's ACCEPT).
    pub(crate) async fn deliver(
        &mut self,
        service: &Service,
        user: &UserId,
        from: &UserId,
        message: ImMessage,
    ) -> Option<Message> {
        if let Some(conversation) = self.by_partner.get_mut(from) {
            if conversation.open {
                return send(conversation.channel, &message);
            }
            if conversation.pending.len() < MAX_PENDING {
                conversation.pending.push(message);
            }
            return None;
        }
        // Typing alone opens no conversation.
        if !matches!(message, ImMessage::Text(_)) {
            return None;
        }
        let channel = self.server_channel();
        let create = ChannelCreate {
            channel,
            target: IdBlock { user: user.to_string(), community: String::new() },
            service: services::IM.service,
            proto_type: services::IM.proto_type,
            proto_ver: services::IM.proto_ver,
            addtl: CreateInfo::new(client_type::PLAIN).to_bytes().ok()?,
            // libmeanwhile takes the partner's identity from the creator.
            creator: Some(login_info(service, from).await),
            ..ChannelCreate::default()
        };
        let conversation = Conversation { channel, open: false, pending: vec![message] };
        self.by_channel.insert(channel, from.clone());
        self.by_partner.insert(from.clone(), conversation);
        Some(Message::ChannelCreate(create))
    }

    /// A fresh id for an IM or file transfer channel the server opens:
    /// high bit set (spec §5.1), below the conference channels'
    /// `0xc000_0000`.
    pub(crate) fn server_channel(&mut self) -> u32 {
        self.next_server_channel = (self.next_server_channel % 0x3fff_ffff) + 1;
        0x8000_0000 | self.next_server_channel
    }

    /// A new channel with `partner` replaces an older one.
    fn forget_partner(&mut self, partner: &UserId) {
        if let Some(old) = self.by_partner.remove(partner) {
            self.by_channel.remove(&old.channel);
        }
    }
}

/// A CHANNEL_SEND of `message` on `channel`.
fn send(channel: u32, message: &ImMessage) -> Option<Message> {
    let (send_type, data) = message.encode().ok()?;
    Some(Message::ChannelSend(ChannelSend { channel, encrypted: false, send_type, data }))
}

/// The LoginInfo of a conversation partner, as a VP client expects it:
/// their user id, their name, no community (spec trap 9.4), and a login
/// id of at least 5 bytes (spec §4.7).
pub(crate) async fn login_info(service: &Service, user: &UserId) -> LoginInfo {
    let name = service.display_name(user.as_str()).await;
    LoginInfo {
        login_id: format!("simul:{user}"),
        login_type: 0,
        user_id: user.to_string(),
        user_name: name,
        community: String::new(),
        details: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_channels_have_the_high_bit_and_never_zero() {
        let mut im = Im::default();
        let first = im.server_channel();
        assert_eq!(first, 0x8000_0001);
        im.next_server_channel = 0x3fff_ffff;
        assert_eq!(im.server_channel(), 0x8000_0001, "wraps within the high-bit ids");
    }
}
