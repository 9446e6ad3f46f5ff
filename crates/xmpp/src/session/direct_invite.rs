//! Direct invitations (XEP-0249) from the client: `<x
//! xmlns='jabber:x:conference' jid='ROOM'/>` in a message to a user
//! invites them to the room's n-way chat through the service, as a
//! mediated invitation does; they get it on whatever door they use.
//!
//! The server itself sends only mediated invitations (XEP-0045 §7.8.2,
//! from the room): every MUC client shows those, and a client that got
//! both kinds for one invitation would show two (XEP-0249 §4 leaves the
//! choice to the sender; a MUC service relays invitations as mediated
//! ones, and direct ones go from client to client).

use tokio_xmpp::jid::Jid;
use tokio_xmpp::parsers::message::Message;
use tokio_xmpp::parsers::stanza_error::DefinedCondition;

use super::{End, Session};

/// XEP-0249's namespace.
pub(crate) const NS: &str = "jabber:x:conference";

/// The room a direct invitation in `message` names, if it carries one.
pub(super) fn invited_to(message: &Message) -> Option<Result<Jid, ()>> {
    let invitation = message.payloads.iter().find(|payload| payload.is("x", NS))?;
    Some(invitation.attr("jid").and_then(|jid| Jid::new(jid).ok()).ok_or(()))
}

impl Session<'_> {
    /// Invites the addressee of `message` to the chat of `room`
    /// (malformed: `Err`); a room that is no chat comes back as
    /// `item-not-found`, and the service's refusal (not a member, no
    /// such user) as the mediated invitation's does.
    pub(super) async fn direct_invite(
        &mut self,
        message: &Message,
        room: Result<Jid, ()>,
    ) -> Result<(), End> {
        let Ok(room) = room else {
            let text = "a direct invitation names its room in `jid`";
            return self.bounce(message, DefinedCondition::BadRequest, text).await;
        };
        let (Some(chat), Some(invitee)) = (self.rooms.chat(&room, &self.door.domain), &message.to)
        else {
            return self
                .bounce(message, DefinedCondition::ItemNotFound, "no such group chat")
                .await;
        };
        let invitee = invitee.clone();
        self.invite(message, chat, &invitee).await
    }
}
