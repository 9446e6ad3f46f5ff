//! Messages after they were sent, in XMPP's terms: corrections
//! (XEP-0308), retractions (XEP-0424, both the `:1` form and the older
//! `:0` one inside a XEP-0422 `<apply-to/>`), reactions (XEP-0444) and
//! read receipts as chat markers (XEP-0333), both ways, for 1:1
//! conversations.
//!
//! A message is named by an id the client knows: the messages this server
//! delivers carry their archive id (the community's message id) as their
//! `id`; the client's own messages keep the `id` it gave them, which this
//! session remembers for the latest [`REMEMBERED`] it sent.

use std::collections::VecDeque;

use simul_core::{MessageChange, MessageId, Place, UserId};
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::displayed_markers::Displayed;
use tokio_xmpp::parsers::message::{Id, Message};
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

/// The latest messages a client sent: its own `id`, the community's,
/// and to whom.
#[derive(Debug, Default)]
pub(super) struct SentIds(VecDeque<Sent>);

#[derive(Debug)]
struct Sent {
    client: String,
    id: MessageId,
    to: UserId,
}

impl SentIds {
    /// Remembers that the client's message `client` to `to` is message `id`.
    pub(super) fn remember(&mut self, client: &Id, id: MessageId, to: UserId) {
        if self.0.len() == REMEMBERED {
            self.0.pop_front();
        }
        self.0.push_back(Sent { client: client.0.clone(), id, to });
    }

    /// The community's message a client names: one it sent (by its own
    /// id) or one it was delivered (by its archive id).
    fn message(&self, named: &str) -> Option<MessageId> {
        let sent = self.0.iter().rev().find(|sent| sent.client == named);
        sent.map(|sent| sent.id).or_else(|| named.parse().ok().map(MessageId::from_raw))
    }

    /// The id the client knows message `id` by.
    fn client_id(&self, id: MessageId) -> String {
        let sent = self.0.iter().find(|sent| sent.id == id);
        sent.map_or_else(|| id.to_string(), |sent| sent.client.clone())
    }

    /// The client's id of its latest message to `to` at or before `up_to`.
    fn latest_up_to(&self, to: &UserId, up_to: MessageId) -> Option<String> {
        let sent = self.0.iter().rev().find(|sent| sent.to == *to && sent.id <= up_to);
        sent.map(|sent| sent.client.clone())
    }
}

/// What the archive holds in the place of deleted message `id` (XEP-0424
/// §5): no text, a `<retracted/>` naming it.
pub(super) fn tombstone(id: u64) -> Element {
    Element::builder("retracted", RETRACT).attr(super::admin::name("id"), id.to_string()).build()
}

/// What a message from the client asks to change, if anything.
enum Asked {
    Correct(MessageId, String),
    Retract(MessageId),
    React(MessageId, Vec<String>),
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
    /// Carries out a correction, retraction or reaction in `message` (to
    /// `name`); whether it was one (so it is no new message, whatever
    /// fallback body it carries).
    pub(super) async fn change(&mut self, message: &Message) -> Result<bool, End> {
        let Some(asked) = self.asked(message) else { return Ok(false) };
        let origin = Some(self.session);
        let done = match asked {
            Asked::Correct(id, text) => {
                self.service.edit_message(&self.user, origin, id, text).await
            }
            Asked::Retract(id) => self.service.delete_message(&self.user, origin, id).await,
            Asked::React(id, wanted) => self.react(id, wanted).await,
        };
        if let Err(error) = done {
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

    fn asked(&self, message: &Message) -> Option<Asked> {
        let payloads = &message.payloads;
        if let Some(replace) = payloads.iter().find_map(|p| Replace::try_from(p.clone()).ok()) {
            let text = message.get_best_body(vec![]).map(|(_, body)| body.clone())?;
            return Some(Asked::Correct(self.sent_ids.message(&replace.id.0)?, text));
        }
        if let Some(named) = retracted(message) {
            return Some(Asked::Retract(self.sent_ids.message(named)?));
        }
        let reactions = payloads.iter().find_map(|p| Reactions::try_from(p.clone()).ok())?;
        let wanted = reactions.reactions.into_iter().map(|r| r.emoji).collect();
        Some(Asked::React(self.sent_ids.message(&reactions.id)?, wanted))
    }

    /// Makes the user's reactions to `id` the set `wanted` (XEP-0444 sends
    /// the whole set each time).
    async fn react(
        &self,
        id: MessageId,
        wanted: Vec<String>,
    ) -> Result<(), simul_service::ServiceError> {
        let current = self.own_reactions(id).await?;
        let origin = Some(self.session);
        for emoji in current.iter().filter(|e| !wanted.contains(e)) {
            self.service.react(&self.user, origin, id, emoji, false).await?;
        }
        for emoji in wanted.iter().filter(|e| !current.contains(e)) {
            self.service.react(&self.user, origin, id, emoji, true).await?;
        }
        Ok(())
    }

    async fn own_reactions(
        &self,
        id: MessageId,
    ) -> Result<Vec<String>, simul_service::ServiceError> {
        let tallies = self.service.reactions(&[id]).await?;
        Ok(tallies
            .into_iter()
            .filter(|t| t.users.iter().any(|u| u == self.user.as_str()))
            .map(|t| t.emoji)
            .collect())
    }

    /// A change of a 1:1 message, for the other person of its
    /// conversation (the author's own clients made it).
    pub(super) async fn message_changed(
        &mut self,
        place: &Place,
        id: MessageId,
        change: &MessageChange,
    ) -> Result<(), End> {
        let Place::Im { from, to } = place else { return Ok(()) };
        let partner = if *from == self.user { to } else { from };
        let by = match change {
            MessageChange::Reaction { user, .. } => user,
            MessageChange::Edited { .. } | MessageChange::Deleted => from,
        };
        if *by == self.user {
            return Ok(()); // Made by this user, on this or another client.
        }
        let Some(sender) = self.door.jid(partner) else { return Ok(()) };
        let named = self.sent_ids.client_id(id);
        let mut message = Message::chat(Some(self.jid.clone().into()));
        message.from = Some(sender.into());
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
