//! Administrators' announcements as headline messages (RFC 6121 §5.2.2:
//! `type='headline'`, not kept, no reply expected) from the server's
//! domain, with who sent it as the subject; clients show the body as text.

use tokio_xmpp::jid::Jid;
use tokio_xmpp::parsers::message::Message;

use super::{End, Session};

impl Session<'_> {
    /// Tells the client an announcement `from` an administrator.
    pub(super) async fn announcement(&mut self, from: &str, text: &str) -> Result<(), End> {
        let Ok(domain) = Jid::new(&self.door.domain) else { return Ok(()) };
        let mut message = Message::headline(Some(self.jid.clone().into()))
            .with_body(Default::default(), text.to_owned());
        message.subjects.insert(Default::default(), format!("Announcement from {from}"));
        message.from = Some(domain);
        self.send(&message).await
    }
}
