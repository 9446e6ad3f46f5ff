//! ANNOUNCE (spec §4.14).

use crate::blocks::LoginInfo;
use crate::encoding::{Block, DecodeError, Reader, Writer};

/// ANNOUNCE, both directions (§4.14).
///
/// C→S: no sender, the recipients listed. S→C: the server relays it to
/// each recipient with the sender's [`LoginInfo`], and may list nobody.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Announce {
    /// The sender (S→C only).
    pub sender: Option<LoginInfo>,
    /// Meaning unknown; 0.
    pub unknown: u16,
    /// Whether recipients may reply.
    pub may_reply: bool,
    /// The announcement.
    pub text: String,
    /// `"@U <user id>"` for a user, `"@G <group id>"` for a group.
    pub recipients: Vec<String>,
}

impl Block for Announce {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let sender =
            if r.bool("announce sender_present")? { Some(LoginInfo::read(r)?) } else { None };
        let unknown = r.u16("announce unknown")?;
        let mut content = r.nested("announce content")?;
        let may_reply = content.bool("announce may_reply")?;
        let text = content.text("announce text")?;
        let count = r.count("announce recipients", 2)?;
        let recipients =
            (0..count).map(|_| r.string("announce recipient")).collect::<Result<_, _>>()?;
        Ok(Self { sender, unknown, may_reply, text, recipients })
    }

    fn write(&self, w: &mut Writer) {
        w.bool(self.sender.is_some());
        if let Some(sender) = &self.sender {
            sender.write(w);
        }
        w.u16(self.unknown);
        w.nested("announce content", |w| {
            w.bool(self.may_reply).str("announce text", &self.text);
        });
        w.count("announce recipients", self.recipients.len());
        for recipient in &self.recipients {
            w.str("announce recipient", recipient);
        }
    }
}
