//! Messages after they were sent, in XMPP's terms: corrections
//! (XEP-0308), retractions (XEP-0424, both the `:1` form and the older
//! `:0` one inside a XEP-0422 `<apply-to/>`), reactions (XEP-0444) and
//! read receipts as chat markers (XEP-0333), both ways, for 1:1
//! conversations and (but read receipts) rooms.
//!
//! A message is named by an id the client knows: the messages this server
//! delivers carry the community's message id as their archive id (1:1)
//! or the room's stanza-id (XEP-0359), and as their `id`; the client's
//! own messages keep the `id` it gave them, which this session remembers
//! for the latest [`REMEMBERED`] it sent. In a room, retractions and
//! reactions name the stanza-id, as XEP-0424 and XEP-0444 ask there.

use std::collections::VecDeque;

use simul_core::{ChatId, MessageChange, MessageId, Place, UserId};
use simul_service::ServiceError;
use tokio_xmpp::jid::Jid;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::displayed_markers::Displayed;
use tokio_xmpp::parsers::message::{Id, Message, MessageType};
use tokio_xmpp::parsers::message_correct::Replace;
use tokio_xmpp::parsers::reactions::{Reaction, Reactions};

use super::{End, Session};

/// XEP-0424 as clients since 2023 write it.
const RETRACT: &str = "urn:xmpp:message-retract:1";
/// XEP-0424 0.3, inside XEP-0422's `<apply-to/>` (slixmpp, older Gajim).
const RETRACT_0: &str = "urn:xmpp:message-retract:0";
const FASTEN: &str = "urn:xmpp:fasten:0";
const FALLBACK: &str = "urn:xmpp:fallback:0";

/// The client's own messages whose ids this session remembers.
pub(super) const REMEMBERED: usize = 256;

/// Where a client's message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum To {
    /// A person, 1:1.
    Person(UserId),
    /// A room (an n-way chat).
    Room(ChatId),
}

impl To {
    /// Its room; none for a person.
    fn room(&self) -> Option<ChatId> {
        match self {
            To::Person(_) => None,
            To::Room(chat) => Some(*chat),
        }
    }
}

/// The latest messages a client sent: its own `id`, the community's,
/// and where to.
#[derive(Debug, Default)]
pub(super) struct SentIds(VecDeque<Sent>);

#[derive(Debug)]
struct Sent {
    client: String,
    id: MessageId,
    to: To,
}

impl SentIds {
    /// Remembers that the client's message `client` to `to` is message `id`.
    pub(super) fn remember(&mut self, client: &Id, id: MessageId, to: To) {
        if self.0.len() == REMEMBERED {
            self.0.pop_front();
        }
        self.0.push_back(Sent { client: client.0.clone(), id, to });
    }

    /// The community's message a client names in a message to `room`
    /// (none: 1:1): one it sent there (by its own id) or one it was
    /// delivered (by the community's id), the latter first when the
    /// client names a stanza-id (an id of each kind may look alike).
    fn message(&self, named: &str, room: Option<ChatId>, stanza_id: bool) -> Option<MessageId> {
        let own = || {
            let sent = self.0.iter().rev().find(|s| s.client == named && s.to.room() == room);
            sent.map(|sent| sent.id)
        };
        let stamped = || named.parse().ok().map(MessageId::from_raw);
        if stanza_id { stamped().or_else(own) } else { own().or_else(stamped) }
    }

    /// The id the client knows message `id` by.
    pub(super) fn client_id(&self, id: MessageId) -> String {
        let sent = self.0.iter().find(|sent| sent.id == id);
        sent.map_or_else(|| id.to_string(), |sent| sent.client.clone())
    }

    /// The client's id of its latest message to `to` at or before `up_to`.
    fn latest_up_to(&self, to: &UserId, up_to: MessageId) -> Option<String> {
        let to = To::Person(to.clone());
        let sent = self.0.iter().rev().find(|sent| sent.to == to && sent.id <= up_to);
        sent.map(|sent| sent.client.clone())
    }
}

/// What the archive holds in the place of deleted message `id` (XEP-0424
/// §5): no text, a `<retracted/>` naming it.
pub(super) fn tombstone(id: u64) -> Element {
    Element::builder("retracted", RETRACT).attr(super::admin::name("id"), id.to_string()).build()
}

/// What a message from the client asks to change, if anything, and the
/// id it names the message by.
enum Asked {
    Correct(String, String),
    Retract(String),
    React(String, Vec<String>),
}

impl Asked {
    /// What a message asks to change; none for a new message.
    fn of(message: &Message) -> Option<Asked> {
        let payloads = &message.payloads;
        if let Some(replace) = payloads.iter().find_map(|p| Replace::try_from(p.clone()).ok()) {
            let text = message.get_best_body(vec![]).map(|(_, body)| body.clone());
            return Some(Asked::Correct(replace.id.0, text.unwrap_or_default()));
        }
        if let Some(named) = retracted(message) {
            return Some(Asked::Retract(named.to_owned()));
        }
        let reactions = payloads.iter().find_map(|p| Reactions::try_from(p.clone()).ok())?;
        let wanted = reactions.reactions.into_iter().map(|r| r.emoji).collect();
        Some(Asked::React(reactions.id, wanted))
    }

    /// The id the client named the message by.
    fn named(&self) -> &str {
        match self {
            Asked::Correct(named, _) | Asked::Retract(named) | Asked::React(named, _) => named,
        }
    }
}

/// The id a retraction names, in either form.
fn retracted(message: &Message) -> Option<&str> {
    message.payloads.iter().find_map(|payload| {
        if payload.is("retract", RETRACT) {
            return payload.attr("id");
        }
        let retracts = payload.is("apply-to", FASTEN) && payload.has_child("retract", RETRACT_0);
        retracts.then(|| payload.attr("id")).flatten()
    })
}

impl Session<'_> {
    /// Carries out a correction, retraction or reaction in `message` (1:1,
    /// or to `room`); whether it was one (so it is no new message,
    /// whatever fallback body it carries).
    pub(super) async fn change(
        &mut self,
        message: &Message,
        room: Option<ChatId>,
    ) -> Result<bool, End> {
        let Some(asked) = Asked::of(message) else { return Ok(false) };
        if let Err(error) = self.apply_change(asked, room).await {
            let text = error.to_string();
            let (type_, condition) = super::condition_of(&error);
            let mut bounce = Message::error(Some(self.jid.clone().into()));
            bounce.from = message.to.clone();
            bounce.id = message.id.clone();
            bounce.payloads.push(super::stanza_error(type_, condition, &text).into());
            self.send(&bounce).await?;
        }
        Ok(true)
    }

    /// Changes the message `asked` names, if it is one of the conversation
    /// the client addressed (1:1, or `room`): one answer for a message
    /// said elsewhere and for one that is not there.
    async fn apply_change(&self, asked: Asked, room: Option<ChatId>) -> Result<(), ServiceError> {
        // In a room, retractions and reactions name the stanza-id.
        let stanza_id = room.is_some() && !matches!(asked, Asked::Correct(..));
        let id = self.sent_ids.message(asked.named(), room, stanza_id);
        let id = id.ok_or(ServiceError::NoSuchMessage)?;
        let here = match (self.service.message_place(&self.user, id).await?, room) {
            (Place::Im { .. }, None) => true,
            (Place::Nway(chat), Some(room)) => chat == room,
            _ => false,
        };
        if !here {
            return Err(ServiceError::NoSuchMessage);
        }
        // A room reflects a change to every occupant, its sender too, as
        // it does a message (XEP-0045 §7.4).
        let origin = if room.is_some() { None } else { Some(self.session) };
        match asked {
            Asked::Correct(_, text) => {
                self.service.edit_message(&self.user, origin, id, text).await
            }
            Asked::Retract(_) => self.service.delete_message(&self.user, origin, id).await,
            Asked::React(_, wanted) => self.react(origin, id, wanted).await,
        }
    }

    /// Makes the user's reactions to `id` the set `wanted` (XEP-0444 sends
    /// the whole set each time).
    async fn react(
        &self,
        origin: Option<simul_core::SessionId>,
        id: MessageId,
        wanted: Vec<String>,
    ) -> Result<(), ServiceError> {
        let current = self.own_reactions(id).await?;
        for emoji in current.iter().filter(|e| !wanted.contains(e)) {
            self.service.react(&self.user, origin, id, emoji, false).await?;
        }
        for emoji in wanted.iter().filter(|e| !current.contains(e)) {
            self.service.react(&self.user, origin, id, emoji, true).await?;
        }
        Ok(())
    }

    async fn own_reactions(&self, id: MessageId) -> Result<Vec<String>, ServiceError> {
        let tallies = self.service.reactions(&[id]).await?;
        Ok(tallies
            .into_iter()
            .filter(|t| t.users.iter().any(|u| u == self.user.as_str()))
            .map(|t| t.emoji)
            .collect())
    }

    /// A change of message `id` made by `by`, for this client: from the
    /// other person of a 1:1 conversation (the user's own changes were
    /// made on their own clients), or from `by`'s occupant in a room the
    /// client is in (to every occupant, `by` too: a room reflects what is
    /// said in it).
    pub(super) async fn message_changed(
        &mut self,
        place: &Place,
        id: MessageId,
        by: &UserId,
        change: &MessageChange,
    ) -> Result<(), End> {
        let Some((sender, type_)) = self.changed_by(place, by) else { return Ok(()) };
        // In a room, retractions and reactions name the stanza-id (the
        // community's id); all else the id the client knows.
        let in_room = type_ == MessageType::Groupchat;
        let named = match change {
            MessageChange::Deleted | MessageChange::Reaction { .. } if in_room => id.to_string(),
            _ => self.sent_ids.client_id(id),
        };
        let mut message = Message::new_with_type(type_, Some(self.jid.clone().into()));
        message.from = Some(sender);
        match change {
            MessageChange::Edited { text, .. } => {
                message = message
                    .with_body(Default::default(), text.clone())
                    .with_payload(Replace { id: Id(named) });
            }
            MessageChange::Deleted => {
                let fallback = "This message was deleted.";
                message = message.with_body(Default::default(), fallback.to_owned());
                message.payloads.extend([
                    Element::builder("retract", RETRACT)
                        .attr(super::admin::name("id"), &named)
                        .build(),
                    Element::builder("apply-to", FASTEN)
                        .attr(super::admin::name("id"), &named)
                        .append(Element::builder("retract", RETRACT_0).build())
                        .build(),
                    Element::builder("fallback", FALLBACK).build(),
                ]);
            }
            MessageChange::Reaction { .. } => {
                let Ok(tallies) = self.service.reactions(&[id]).await else { return Ok(()) };
                let theirs =
                    tallies.into_iter().filter(|t| t.users.iter().any(|u| u == by.as_str()));
                let reactions = theirs.map(|t| Reaction { emoji: t.emoji }).collect();
                message = message.with_payload(Reactions { id: named, reactions });
            }
        }
        self.send(&message).await
    }

    /// Whom a change `by` comes from for this client, and as what kind of
    /// message; none for a change it is not told of.
    fn changed_by(&self, place: &Place, by: &UserId) -> Option<(Jid, MessageType)> {
        match place {
            Place::Im { from, to } => {
                if *by == self.user {
                    return None; // Made by this user, on this or another client.
                }
                let partner = if *from == self.user { to } else { from };
                Some((self.door.jid(partner)?.into(), MessageType::Chat))
            }
            Place::Nway(chat) => {
                let room = self.rooms.room(*chat, &self.door.domain)?;
                let occupant = crate::muc::occupant(&room, by)?;
                self.rooms.is_in(*chat).then(|| (occupant.into(), MessageType::Groupchat))
            }
        }
    }

    /// A read receipt: `by` read up to `up_to`, shown as a displayed
    /// marker on the latest message this client sent them up to there.
    pub(super) async fn seen(&mut self, by: &UserId, up_to: MessageId) -> Result<(), End> {
        let (Some(named), Some(sender)) =
            (self.sent_ids.latest_up_to(by, up_to), self.door.jid(by))
        else {
            return Ok(());
        };
        let mut message =
            Message::chat(Some(self.jid.clone().into())).with_payload(Displayed { id: Id(named) });
        message.from = Some(sender.into());
        self.send(&message).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_names_its_messages_where_it_sent_them_and_in_a_room_by_stanza_id_first() {
        let (room, other) = (ChatId::from_raw(1), ChatId::from_raw(2));
        let id = MessageId::from_raw;
        let mut sent = SentIds::default();
        sent.remember(&Id("a1".into()), id(10), To::Room(room));
        sent.remember(&Id("7".into()), id(11), To::Room(room));
        assert_eq!(sent.message("a1", Some(room), false), Some(id(10)));
        assert_eq!(sent.message("a1", Some(other), false), None, "not sent to that room");
        assert_eq!(sent.message("a1", None, false), None, "not sent 1:1");
        assert_eq!(sent.message("7", Some(room), false), Some(id(11)), "a correction: its own");
        assert_eq!(sent.message("7", Some(room), true), Some(id(7)), "a retraction: a stanza-id");
        assert_eq!(sent.message("a1", Some(room), true), Some(id(10)), "or its own");
        assert_eq!((sent.client_id(id(11)), sent.client_id(id(12))), ("7".into(), "12".into()));
    }
}
