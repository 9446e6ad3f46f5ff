//! Chat markers (XEP-0333) as the community's read marks: a message
//! delivered to the client is markable and carries its archive id as its
//! `id`, so the client's `<displayed id='N'/>` reads the conversation up
//! to message N on every door (the web client's unread counts follow).
//! Markers are not passed on to the sender: read receipts are a setting
//! of their own, not something a client turns on for others.

use simul_core::{Conversation, MessageId};
use tokio_xmpp::parsers::displayed_markers::{Displayed, Markable};
use tokio_xmpp::parsers::message::{Id, Message};

use super::Session;

/// `message` (delivered to the client) as a markable one named by its
/// archive id.
pub(super) fn markable(mut message: Message, id: MessageId) -> Message {
    message.id = Some(Id(id.to_string()));
    message.with_payload(Markable)
}

impl Session<'_> {
    /// A `<displayed/>` marker to `name` in `message`, if there is one:
    /// kept as the user's read mark of their conversation with `name`.
    /// Whether the message was a marker (it says nothing else).
    pub(super) async fn displayed(&self, name: &str, message: &Message) -> bool {
        let marker = message.payloads.iter().find_map(|p| Displayed::try_from(p.clone()).ok());
        let Some(marker) = marker else { return false };
        // A marker naming no message of the archive reads nothing.
        let (Ok(up_to), Ok(partner)) = (marker.id.0.parse(), self.service.recipient(name).await)
        else {
            return true;
        };
        let conversation = Conversation::Im(partner);
        if let Err(error) =
            self.service.mark_read(&self.user, conversation, MessageId::from_raw(up_to)).await
        {
            tracing::warn!(user = %self.user, %error, "XMPP: read mark not kept");
        }
        true
    }
}
