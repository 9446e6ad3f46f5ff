//! The awareness service (spec §6.1) of one connection: the ids its
//! client watches become the session's watch list in the community, and
//! the community's presence events become SNAPSHOT and UPDATE messages.
//!
//! Of the attributes (spec §6.1) the door tells one: file transfer (0x06)
//! is set for every online user, since every user of the community can
//! receive a file through the server (`files.rs`); Pidgin offers "Send
//! File" only to a buddy it has seen it for. Attributes clients set for
//! themselves are not kept: the door knows what the community supports.

use std::collections::{HashMap, HashSet};

use simul_core::{Presence, SessionId, Status, UserId};
use simul_service::Service;
use simul_vp::message::{ChannelAccept, ChannelCreate, ChannelSend};
use simul_vp::services::awareness::{ClientMessage, ServerMessage, attribute, bool_value};
use simul_vp::{AwareIdBlock, AwareSnapshot, Message, OnlineInfo, UserStatus};

/// Awareness state of one connection.
#[derive(Default)]
pub(crate) struct Awareness {
    /// The client's awareness channel, once accepted.
    channel: Option<u32>,
    /// The watched ids, each exactly as the client sent it: a snapshot
    /// must carry the same block, or libmeanwhile drops it (spec §6.1).
    watched: HashMap<UserId, AwareIdBlock>,
    /// Display names already looked up.
    names: HashMap<UserId, String>,
    /// The client watches the file transfer attribute (OPT_WATCH).
    watches_file_transfer: bool,
    /// Watched users it was told for.
    told_file_transfer: HashSet<UserId>,
}

impl Awareness {
    /// Accepts the client's awareness channel.
    pub(crate) fn accept(&mut self, create: &ChannelCreate) -> Message {
        self.channel = Some(create.channel);
        Message::ChannelAccept(ChannelAccept::for_service(create))
    }

    /// Whether `channel` is this connection's awareness channel.
    pub(crate) fn is_channel(&self, channel: u32) -> bool {
        self.channel == Some(channel)
    }

    /// A message on the awareness channel: watch or stop watching users,
    /// or attributes. The answer to a watch comes as the community's
    /// `Presences` event; to a watch of the file transfer attribute, its
    /// value for the watched users online. Users for whom `keep` holds
    /// stay watched by the session when the client stops watching them
    /// (the connection needs their status for something else: its IM
    /// partners).
    pub(crate) fn receive(
        &mut self,
        service: &Service,
        session: SessionId,
        send: &ChannelSend,
        keep: impl Fn(&UserId) -> bool,
    ) -> Vec<Message> {
        let Ok(message) = ClientMessage::decode(send.send_type, &send.data) else {
            tracing::debug!(send_type = send.send_type, "VP: awareness message not understood");
            return Vec::new();
        };
        let result = match message {
            ClientMessage::Add(ids) => {
                let users = self.remember(ids);
                service.watch(session, &users)
            }
            ClientMessage::Remove(ids) => {
                let users: Vec<UserId> = users_of(ids).map(|(user, _)| user).collect();
                for user in &users {
                    self.watched.remove(user);
                    self.told_file_transfer.remove(user);
                }
                let users: Vec<UserId> = users.into_iter().filter(|user| !keep(user)).collect();
                service.unwatch(session, &users)
            }
            ClientMessage::Watch { keys } => {
                self.watches_file_transfer = keys.contains(&attribute::FILE_TRANSFER);
                let users: Vec<UserId> = self.watched.keys().cloned().collect();
                let presences = service.presences(&users);
                return users
                    .iter()
                    .zip(&presences)
                    .filter_map(|(user, presence)| self.file_transfer(user, presence))
                    .collect();
            }
            // The client's own attributes: see the module's documentation.
            ClientMessage::SetAttribute { .. } | ClientMessage::UnsetAttribute { .. } => Ok(()),
        };
        if let Err(error) = result {
            tracing::debug!(%error, "VP: awareness request refused");
        }
        Vec::new()
    }

    /// OPT_GOT_SET of the file transfer attribute for a watched user who
    /// is online, once, if the client watches the attribute.
    fn file_transfer(&mut self, user: &UserId, presence: &Presence) -> Option<Message> {
        let channel = self.channel?;
        if !self.watches_file_transfer
            || presence.status == Status::Offline
            || self.told_file_transfer.contains(user)
        {
            return None;
        }
        let id = self.watched.get(user)?.clone();
        self.told_file_transfer.insert(user.clone());
        let value = bool_value(true);
        send(channel, &ServerMessage::AttributeSet { id, key: attribute::FILE_TRANSFER, value })
    }

    /// The SNAPSHOT answering a watch: one entry per id asked; then the
    /// file transfer attribute of those online (libmeanwhile keeps an
    /// attribute only for an id it watches).
    pub(crate) async fn snapshot(
        &mut self,
        service: &Service,
        presences: &[(UserId, Presence)],
    ) -> Vec<Message> {
        let Some(channel) = self.channel else { return Vec::new() };
        let mut entries = Vec::with_capacity(presences.len());
        for (user, presence) in presences {
            if let Some(entry) = self.entry(service, user, presence).await {
                entries.push(entry);
            }
        }
        // Users the connection watches for itself (IM partners) only.
        if entries.is_empty() {
            return Vec::new();
        }
        let snapshot = send(channel, &ServerMessage::Snapshot(entries));
        let attributes =
            presences.iter().filter_map(|(user, presence)| self.file_transfer(user, presence));
        snapshot.into_iter().chain(attributes.collect::<Vec<_>>()).collect()
    }

    /// The UPDATE for a watched user whose presence changed (and the file
    /// transfer attribute of one who came online).
    pub(crate) async fn update(
        &mut self,
        service: &Service,
        user: &UserId,
        presence: &Presence,
    ) -> Vec<Message> {
        let Some(channel) = self.channel else { return Vec::new() };
        let Some(entry) = self.entry(service, user, presence).await else { return Vec::new() };
        let update = send(channel, &ServerMessage::Update(entry));
        update.into_iter().chain(self.file_transfer(user, presence)).collect()
    }

    /// Records the watched user ids (server groups are not offered).
    fn remember(&mut self, ids: Vec<AwareIdBlock>) -> Vec<UserId> {
        users_of(ids)
            .map(|(user, id)| {
                self.watched.insert(user.clone(), id);
                user
            })
            .collect()
    }

    /// The snapshot entry of a watched user; none for a user not watched.
    async fn entry(
        &mut self,
        service: &Service,
        user: &UserId,
        presence: &Presence,
    ) -> Option<AwareSnapshot> {
        let id = self.watched.get(user)?.clone();
        if presence.status == Status::Offline {
            return Some(AwareSnapshot { id, group: String::new(), online: None });
        }
        let name = self.name_of(service, user).await;
        let status = UserStatus {
            status: presence.sametime_code(),
            time: 0,
            desc: presence.message.clone(),
        };
        let online = OnlineInfo { alt_id: user.to_string(), status, name };
        Some(AwareSnapshot { id, group: String::new(), online: Some(online) })
    }

    /// The user's display name, looked up once per connection.
    async fn name_of(&mut self, service: &Service, user: &UserId) -> String {
        if let Some(name) = self.names.get(user) {
            return name.clone();
        }
        let name = service.display_name(user.as_str()).await;
        self.names.insert(user.clone(), name.clone());
        name
    }
}

/// The user ids among `ids` (server groups left out), each with its block.
fn users_of(ids: Vec<AwareIdBlock>) -> impl Iterator<Item = (UserId, AwareIdBlock)> {
    ids.into_iter()
        .filter(|id| id.kind == AwareIdBlock::USER && !id.user.is_empty())
        .map(|id| (UserId::new(&id.user), id))
}

/// A CHANNEL_SEND of `message` on `channel`.
fn send(channel: u32, message: &ServerMessage) -> Option<Message> {
    let (send_type, data) = message.encode().ok()?;
    Some(Message::ChannelSend(ChannelSend { channel, encrypted: false, send_type, data }))
}
