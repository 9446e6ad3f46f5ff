//! N-way chats on the VP door (spec §6.5): a Sametime conference is a
//! community n-way chat, so web users and Sametime users meet in the same
//! chat. Member ids are this connection's own numbering of the chat's
//! members (the client only needs them to be consistent).

use std::collections::HashMap;

use simul_core::{ChatId, UserId};
use simul_service::{Service, ServiceError};
use simul_vp::message::{ChannelAccept, ChannelCreate, ChannelSend};
use simul_vp::services::conference::{
    ChatPayload, ClientMessage, CreateInfo, Invitation, Member, ServerMessage,
};
use simul_vp::{Block as _, IdBlock, Message, services};

use crate::im::login_info;

/// One conference channel with the client.
struct Conference {
    chat: ChatId,
    /// The name the client knows it by.
    name: String,
    title: String,
    /// Joined, or still an invitation.
    joined: bool,
    members: HashMap<UserId, u16>,
    next_member: u16,
}

impl Conference {
    /// The member id of `user`, given one if new.
    fn member(&mut self, user: &UserId) -> u16 {
        if let Some(id) = self.members.get(user) {
            return *id;
        }
        self.next_member = self.next_member.wrapping_add(1).max(1);
        self.members.insert(user.clone(), self.next_member);
        self.next_member
    }
}

/// Conferences of one connection.
#[derive(Default)]
pub(crate) struct Conferences {
    by_channel: HashMap<u32, Conference>,
    by_chat: HashMap<ChatId, u32>,
    next_server_channel: u32,
}

impl Conferences {
    /// Conferences joined or invited to.
    pub(crate) fn open(&self) -> usize {
        self.by_channel.len()
    }

    /// Whether `channel` is a conference channel of this connection.
    pub(crate) fn is_channel(&self, channel: u32) -> bool {
        self.by_channel.contains_key(&channel)
    }

    /// The client creates a conference: a new n-way chat with the client's
    /// user in it; ACCEPT, then WELCOME.
    pub(crate) async fn create(
        &mut self,
        service: &Service,
        user: &UserId,
        create: &ChannelCreate,
    ) -> Vec<Message> {
        let Ok(info) = CreateInfo::from_bytes(&create.addtl) else {
            return vec![destroy(create.channel, simul_vp::ErrorCode::BadData)];
        };
        let chat = match service.create_chat(user, &[], &info.title).await {
            Ok(chat) => chat,
            Err(error) => {
                tracing::debug!(%error, "VP: conference refused");
                return vec![destroy(create.channel, simul_vp::ErrorCode::NotAuthorized)];
            }
        };
        let mut conference = Conference {
            chat,
            name: info.name,
            title: info.title,
            joined: true,
            members: HashMap::new(),
            next_member: 0,
        };
        let welcome = welcome(service, &mut conference, std::slice::from_ref(user)).await;
        self.by_chat.insert(chat, create.channel);
        self.by_channel.insert(create.channel, conference);
        let accept = Message::ChannelAccept(ChannelAccept::for_service(create));
        [Some(accept), on(create.channel, &welcome)].into_iter().flatten().collect()
    }

    /// A message on a conference channel: invite, join, say.
    pub(crate) async fn receive(
        &mut self,
        service: &Service,
        user: &UserId,
        send: &ChannelSend,
    ) -> Option<Message> {
        let conference = self.by_channel.get_mut(&send.channel)?;
        let result = match ClientMessage::decode(send.send_type, &send.data).ok()? {
            ClientMessage::Invite { who, .. } => {
                service.invite(user, conference.chat, &[UserId::new(&who.user)]).await
            }
            ClientMessage::Join => match service.join_chat(user, conference.chat).await {
                Ok(members) => {
                    conference.joined = true;
                    let welcome = welcome(service, conference, &members).await;
                    return on(send.channel, &welcome);
                }
                Err(error) => Err(error),
            },
            ClientMessage::Message(ChatPayload::Text(text)) => {
                service.post_to_chat(user, conference.chat, text).await.map(drop)
            }
            // Typing in chats is not shared by the community yet.
            ClientMessage::Message(_) => Ok(()),
        };
        match result {
            Ok(()) => None,
            // The Conference service has no answer to an INVITE or a
            // MESSAGE, and destroying the channel would end a conference
            // that still works for its other members: a policy's refusal
            // (an invitation after nway_chat was turned off, a stranger
            // without external_chat) comes as the server's ADMIN
            // notification, which Pidgin and Sametime Connect show.
            Err(ServiceError::Policy(refusal)) => {
                tracing::debug!(%refusal, "VP: conference request refused by policy");
                Some(Message::Admin { text: format!("Refused: {refusal}.") })
            }
            Err(error) => {
                tracing::debug!(%error, "VP: conference request refused");
                None
            }
        }
    }

    /// The client left a conference, or declined an invitation.
    pub(crate) async fn destroyed(&mut self, service: &Service, user: &UserId, channel: u32) {
        let Some(conference) = self.by_channel.remove(&channel) else { return };
        self.by_chat.remove(&conference.chat);
        let result = if conference.joined {
            service.leave_chat(user, conference.chat).await
        } else {
            service.decline_chat(user, conference.chat)
        };
        if let Err(error) = result {
            tracing::debug!(%error, "VP: leaving a conference");
        }
    }

    /// An invitation from anyone, on any door: a conference channel the
    /// server opens to the client (spec §6.5).
    pub(crate) async fn invited(
        &mut self,
        service: &Service,
        user: &UserId,
        chat: ChatId,
        from: &UserId,
        topic: &str,
    ) -> Option<Message> {
        if self.by_chat.contains_key(&chat) {
            return None;
        }
        let channel = self.server_channel();
        let inviter = login_info(service, from).await;
        let name = format!("simul:{}", chat.get());
        let invitation = Invitation {
            name: name.clone(),
            title: topic.to_owned(),
            inviter: inviter.clone(),
            text: String::new(),
        };
        let create = ChannelCreate {
            channel,
            target: IdBlock { user: user.to_string(), community: String::new() },
            service: services::CONFERENCE.service,
            proto_type: services::CONFERENCE.proto_type,
            proto_ver: services::CONFERENCE.proto_ver,
            addtl: invitation.to_bytes().ok()?,
            creator: Some(inviter),
            ..ChannelCreate::default()
        };
        let conference = Conference {
            chat,
            name,
            title: topic.to_owned(),
            joined: false,
            members: HashMap::new(),
            next_member: 0,
        };
        self.by_chat.insert(chat, channel);
        self.by_channel.insert(channel, conference);
        Some(Message::ChannelCreate(create))
    }

    /// The members of a chat changed: JOIN for newcomers, PART for leavers.
    pub(crate) async fn members(
        &mut self,
        service: &Service,
        chat: ChatId,
        members: &[UserId],
    ) -> Vec<Message> {
        let Some(channel) = self.by_chat.get(&chat).copied() else { return Vec::new() };
        let Some(conference) = self.by_channel.get_mut(&channel) else { return Vec::new() };
        if !conference.joined {
            return Vec::new();
        }
        let mut out = Vec::new();
        let gone: Vec<UserId> =
            conference.members.keys().filter(|user| !members.contains(user)).cloned().collect();
        for user in gone {
            if let Some(member_id) = conference.members.remove(&user) {
                out.extend(on(channel, &ServerMessage::Part { member_id }));
            }
        }
        for user in members {
            if !conference.members.contains_key(user) {
                let id = conference.member(user);
                let login = login_info(service, user).await;
                out.extend(on(channel, &ServerMessage::Joined(Member { id, login })));
            }
        }
        out
    }

    /// A message in a chat, the client's own included (Pidgin shows its
    /// own chat lines only from this echo, spec §6.5).
    pub(crate) fn message(&mut self, chat: ChatId, from: &UserId, text: &str) -> Option<Message> {
        let channel = *self.by_chat.get(&chat)?;
        let conference = self.by_channel.get_mut(&channel)?;
        if !conference.joined {
            return None;
        }
        let member_id = conference.member(from);
        let payload = ChatPayload::Text(text.to_owned());
        on(channel, &ServerMessage::Message { member_id, payload })
    }

    /// A fresh id for a conference channel the server opens: high bit set
    /// (spec §5.1), apart from the IM channels' ids.
    fn server_channel(&mut self) -> u32 {
        self.next_server_channel = (self.next_server_channel % 0x3fff_ffff) + 1;
        0xc000_0000 | self.next_server_channel
    }
}

/// WELCOME with every member, the receiver included (libmeanwhile drops
/// messages of members it was not told of).
async fn welcome(
    service: &Service,
    conference: &mut Conference,
    members: &[UserId],
) -> ServerMessage {
    let mut listed = Vec::with_capacity(members.len());
    for user in members {
        let id = conference.member(user);
        listed.push(Member { id, login: login_info(service, user).await });
    }
    ServerMessage::Welcome {
        name: conference.name.clone(),
        title: conference.title.clone(),
        members: listed,
    }
}

fn on(channel: u32, message: &ServerMessage) -> Option<Message> {
    let (send_type, data) = message.encode().ok()?;
    Some(Message::ChannelSend(ChannelSend { channel, encrypted: false, send_type, data }))
}

fn destroy(channel: u32, reason: simul_vp::ErrorCode) -> Message {
    Message::ChannelDestroy(simul_vp::message::ChannelDestroy::new(channel, reason))
}
