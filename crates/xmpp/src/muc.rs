//! Multi-user chat (XEP-0045) on the community's n-way chats: chat `N` is
//! the room `chat-N@conference.DOMAIN`, its members are the occupants
//! (their nick is their user id, so it is unique and the same on every
//! door), and messages, members and history are the chat's on every
//! door. A client may also create a chat by entering a room of its own
//! naming (`lunch@conference.DOMAIN`): that client keeps the name, other
//! clients see `chat-N`. The room's state is the community's; a
//! connection only remembers which rooms its client joined, the names
//! it gave, and who it told was there.

use std::collections::{BTreeSet, HashMap};

use simul_core::{ChatId, MessageId, UserId};
use tokio_xmpp::jid::{BareJid, FullJid, Jid};
use tokio_xmpp::parsers::message::{Id, Message, MessageType};
use tokio_xmpp::parsers::muc::user::{Affiliation, Invite, Item, MucUser, Role, Status};
use tokio_xmpp::parsers::ns;
use tokio_xmpp::parsers::presence::Presence;

use crate::jid::jid_of;

/// The rooms one connection's client is in, with the occupants it was
/// told of.
#[derive(Default)]
pub(crate) struct Rooms {
    joined: HashMap<ChatId, BTreeSet<UserId>>,
    /// Rooms the client created under a name of its own.
    named: HashMap<ChatId, BareJid>,
}

impl Rooms {
    /// The room of `chat` for this client: the name it created it
    /// under, else `chat-N`.
    pub(crate) fn room(&self, chat: ChatId, domain: &str) -> Option<BareJid> {
        self.named.get(&chat).cloned().or_else(|| room_of(chat, domain))
    }

    /// The chat a room JID names for this client.
    pub(crate) fn chat(&self, jid: &Jid, domain: &str) -> Option<ChatId> {
        let bare = jid.to_bare();
        let named = self.named.iter().find(|(_, room)| **room == bare).map(|(chat, _)| *chat);
        named.or_else(|| chat_of(jid, domain))
    }

    /// The client created `chat` as `room`.
    pub(crate) fn name(&mut self, chat: ChatId, room: BareJid) {
        self.named.insert(chat, room);
    }

    /// Whether the client is in `chat`'s room.
    pub(crate) fn is_in(&self, chat: ChatId) -> bool {
        self.joined.contains_key(&chat)
    }

    /// The client entered `chat`'s room, whose occupants are `members`.
    pub(crate) fn entered(&mut self, chat: ChatId, members: &[UserId]) {
        self.joined.insert(chat, members.iter().cloned().collect());
    }

    /// The client left `chat`'s room.
    pub(crate) fn left(&mut self, chat: ChatId) {
        self.joined.remove(&chat);
    }

    /// The occupants who came and went since the client was last told:
    /// (arrived, departed). Nothing for a room the client is not in.
    pub(crate) fn members_now(
        &mut self,
        chat: ChatId,
        members: &[UserId],
    ) -> (Vec<UserId>, Vec<UserId>) {
        let Some(known) = self.joined.get_mut(&chat) else { return (Vec::new(), Vec::new()) };
        let now: BTreeSet<UserId> = members.iter().cloned().collect();
        let arrived = now.difference(known).cloned().collect();
        let departed = known.difference(&now).cloned().collect();
        *known = now;
        (arrived, departed)
    }
}

/// What the MUC service and its rooms support (XEP-0030): rooms are not
/// anonymous (everyone's real JID shows), for members only (invited),
/// and gone once nobody is in them; their messages carry the
/// community's id as a stanza-id (XEP-0359).
pub(crate) const FEATURES: [&str; 5] =
    [ns::MUC, "muc_nonanonymous", "muc_membersonly", "muc_temporary", ns::SID];

/// The MUC service of `domain`.
pub(crate) fn service_of(domain: &str) -> String {
    format!("conference.{domain}")
}

/// The room of `chat`.
pub(crate) fn room_of(chat: ChatId, domain: &str) -> Option<BareJid> {
    BareJid::new(&format!("chat-{}@{}", chat.get(), service_of(domain))).ok()
}

/// The chat a JID of the MUC service names (`chat-N@conference.DOMAIN`,
/// any resource); none for anything else.
pub(crate) fn chat_of(jid: &Jid, domain: &str) -> Option<ChatId> {
    if !jid.domain().as_str().eq_ignore_ascii_case(&service_of(domain)) {
        return None;
    }
    let number = jid.node()?.as_str().strip_prefix("chat-")?;
    number.parse().ok().map(ChatId::from_raw)
}

/// Whether `jid` is the MUC service or one of its rooms.
pub(crate) fn is_muc(jid: &Jid, domain: &str) -> bool {
    jid.domain().as_str().eq_ignore_ascii_case(&service_of(domain))
}

/// `user` in `room`: the occupant JID (nick = user id).
pub(crate) fn occupant(room: &BareJid, user: &UserId) -> Option<FullJid> {
    room.with_resource_str(user.as_str()).ok()
}

/// The status codes of a client's own presence in a room: 110 self, 100
/// not anonymous, 210 nick assigned by the service, and 201 for a room
/// it just created.
pub(crate) fn own_statuses(created: bool) -> Vec<Status> {
    let mut statuses = vec![Status::SelfPresence, Status::NonAnonymousRoom, Status::AssignedNick];
    if created {
        statuses.push(Status::RoomHasBeenCreated);
    }
    statuses
}

/// The presence of occupant `user` in `room` (available, or gone), with
/// their real JID (the room is not anonymous) and `statuses`.
pub(crate) fn occupant_presence(
    room: &BareJid,
    user: &UserId,
    domain: &str,
    present: bool,
    statuses: Vec<Status>,
) -> Option<Presence> {
    let real = jid_of(user.as_str(), domain)?.with_resource_str("simul").ok()?;
    let (affiliation, role) = if present {
        (Affiliation::Member, Role::Participant)
    } else {
        (Affiliation::Member, Role::None)
    };
    let x = MucUser::new()
        .with_items(vec![Item::new(affiliation, role).with_jid(real)])
        .with_statuses(statuses);
    let presence = if present { Presence::available() } else { Presence::unavailable() };
    Some(presence.with_from(occupant(room, user)?).with_payload(x))
}

/// A message of `from` in `room`, to the client, to which the caller
/// adds what it says. It is named `client` (what the client knows it by:
/// the `id` it gave its own messages, the community's id `id` for
/// others') and carries `id` as the room's XEP-0359 stanza-id, which
/// retractions and reactions in a room name; `at` for one from the
/// history (XEP-0203 delay).
pub(crate) fn room_message(
    room: &BareJid,
    from: &UserId,
    to: &FullJid,
    (client, id): (String, MessageId),
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<Message> {
    let mut message = Message::groupchat(Some(to.clone().into()));
    message.id = Some(Id(client));
    message.from = Some(occupant(room, from)?.into());
    message = crate::archive::with_archive_id(message, id.get(), room.clone());
    if let Some(at) = at {
        message = message.with_payload(crate::archive::delay(room.clone().into(), at));
    }
    Some(message)
}

/// The room's subject (its topic), which ends a client's entry.
pub(crate) fn subject(room: &BareJid, topic: &str, to: &FullJid) -> Message {
    let mut message = Message::groupchat(Some(to.clone().into()));
    message.from = Some(room.clone().into());
    message.subjects.insert(Default::default(), topic.to_owned());
    message
}

/// A mediated invitation (XEP-0045 §7.8.2) to `room` from `from`.
pub(crate) fn invitation(
    room: &BareJid,
    from: &UserId,
    topic: &str,
    to: &FullJid,
    domain: &str,
) -> Option<Message> {
    let invite = Invite {
        from: Some(jid_of(from.as_str(), domain)?.into()),
        to: None,
        reason: (!topic.is_empty()).then(|| topic.to_owned()),
    };
    let mut message = Message::new(Some(to.clone().into()));
    message.type_ = MessageType::Normal;
    message.from = Some(room.clone().into());
    let x = MucUser { invite: Some(invite), ..MucUser::new() };
    Some(message.with_payload(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chats_are_rooms_of_the_conference_service_and_back() {
        let chat = ChatId::from_raw(42);
        let room = room_of(chat, "example.com").unwrap();
        assert_eq!(room.as_str(), "chat-42@conference.example.com");
        let occupant = Jid::new("chat-42@conference.example.com/alice").unwrap();
        assert_eq!(chat_of(&occupant, "example.com"), Some(chat));
        for other in
            ["chat-x@conference.example.com", "chat-42@example.com", "lobby@conference.example.com"]
        {
            assert_eq!(chat_of(&Jid::new(other).unwrap(), "example.com"), None, "{other}");
        }
    }

    #[test]
    fn the_client_hears_who_came_and_went_since_it_was_told() {
        let (alice, bob, carol) = (UserId::new("alice"), UserId::new("bob"), UserId::new("carol"));
        let chat = ChatId::from_raw(1);
        let mut rooms = Rooms::default();
        let nothing = (vec![], vec![]);
        assert_eq!(rooms.members_now(chat, std::slice::from_ref(&alice)), nothing, "not in it");
        rooms.entered(chat, &[alice.clone(), bob.clone()]);
        let (arrived, departed) = rooms.members_now(chat, &[alice.clone(), carol.clone()]);
        assert_eq!((arrived, departed), (vec![carol], vec![bob]));
    }
}
