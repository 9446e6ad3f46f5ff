//! Conference (n-way chat), service 0x80000010 (spec §6.5):
//! server-terminated, one channel per member.
//!
//! WELCOME must list every member including the receiver, and each
//! MESSAGE is relayed to every member including the sender (trap 9.28).

use crate::blocks::{IdBlock, LoginInfo};
use crate::encoding::{Block, DecodeError, EncodeError, Reader, Writer};

use super::unknown_send_type;

/// Send types.
pub mod send_type {
    /// S→C: the conference and its members.
    pub const WELCOME: u16 = 0x0000;
    /// C→S: invite a user.
    pub const INVITE: u16 = 0x0001;
    /// C→S: joining (empty); S→C: a member joined.
    pub const JOIN: u16 = 0x0002;
    /// S→C: a member left.
    pub const PART: u16 = 0x0003;
    /// Both: a chat message.
    pub const MESSAGE: u16 = 0x0004;
}

/// The creator's CREATE `addtl`: `str name, str title, u32 0`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateInfo {
    /// The conference's name, made by the client, unique enough
    /// (libmeanwhile: `"<user>(<8 hex time>,<4 hex random>)"`).
    pub name: String,
    /// The topic.
    pub title: String,
}

impl Block for CreateInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let info = Self { name: r.string("conference name")?, title: r.text("conference title")? };
        r.u32("conference reserved")?;
        Ok(info)
    }

    fn write(&self, w: &mut Writer) {
        w.str("conference name", &self.name).str("conference title", &self.title).u32(0);
    }
}

/// The `addtl` of the CREATE the server sends an invitee:
/// `u32 0, str name, str title, u32 0, LoginInfo inviter, u32 0, str text`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Invitation {
    /// The conference's name.
    pub name: String,
    /// The topic.
    pub title: String,
    /// Who invites.
    pub inviter: LoginInfo,
    /// The invitation text.
    pub text: String,
}

impl Block for Invitation {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32("invitation reserved")?;
        let name = r.string("conference name")?;
        let title = r.text("conference title")?;
        r.u32("invitation reserved")?;
        let inviter = LoginInfo::read(r)?;
        r.u32("invitation reserved")?;
        Ok(Self { name, title, inviter, text: r.text("invitation text")? })
    }

    fn write(&self, w: &mut Writer) {
        w.u32(0).str("conference name", &self.name).str("conference title", &self.title).u32(0);
        self.inviter.write(w);
        w.u32(0).str("invitation text", &self.text);
    }
}

/// A member: its id in this conference (u16, never reused while the
/// conference lives) and its login.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Member {
    /// Member id.
    pub id: u16,
    /// The member's login.
    pub login: LoginInfo,
}

impl Block for Member {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { id: r.u16("member id")?, login: LoginInfo::read(r)? })
    }

    fn write(&self, w: &mut Writer) {
        w.u16(self.id);
        self.login.write(w);
    }
}

/// What a member says: the C→S MESSAGE payload, relayed verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatPayload {
    /// `u32 1, str text`.
    Text(String),
    /// `u32 2, u32 1, u32 state, opaque (empty)`: state 0 typing, 1 stopped.
    Typing(bool),
    /// Another kind, kept as bytes.
    Other(Vec<u8>),
}

impl ChatPayload {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let all = r.clone().rest();
        match r.u32("chat message kind")? {
            1 => Ok(Self::Text(r.text("chat text")?)),
            2 if r.clone().u32("chat data type") == Ok(1) => {
                r.u32("chat data type")?;
                let state = r.u32("chat typing state")?;
                r.opaque("chat typing data")?;
                Ok(Self::Typing(state == 0))
            }
            _ => {
                r.rest();
                Ok(Self::Other(all.to_vec()))
            }
        }
    }

    fn write(&self, w: &mut Writer) {
        match self {
            Self::Text(text) => {
                w.u32(1).str("chat text", text);
            }
            Self::Typing(typing) => {
                w.u32(2).u32(1).u32(u32::from(!typing)).u32(0);
            }
            Self::Other(bytes) => {
                w.raw(bytes);
            }
        }
    }
}

/// C→S conference messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// Invite a user: `IdBlock who, u16 0, u32 0, str text, str who.user`.
    Invite {
        /// The invitee.
        who: IdBlock,
        /// The invitation text.
        text: String,
    },
    /// Sent (empty) right after accepting an invitation.
    Join,
    /// A chat message.
    Message(ChatPayload),
}

/// S→C conference messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// `str name, str title, u16 0, u32 0, u32 count, Member × count`.
    Welcome {
        /// The conference's name.
        name: String,
        /// The topic.
        title: String,
        /// Every member, the receiver included.
        members: Vec<Member>,
    },
    /// A member joined.
    Joined(Member),
    /// A member left: `u16 member_id`.
    Part {
        /// Who left.
        member_id: u16,
    },
    /// A relayed message: `u16 sender, u32 0, payload`.
    Message {
        /// The sender's member id.
        member_id: u16,
        /// What the sender sent.
        payload: ChatPayload,
    },
}

/// Smallest member: id and a LoginInfo of empty strings without details.
const MIN_MEMBER: usize = 2 + 2 + 2 + 2 + 2 + 2 + 1;

impl ClientMessage {
    /// Reads a C→S payload.
    pub fn decode(send_type: u16, data: &[u8]) -> Result<Self, DecodeError> {
        let r = &mut Reader::new(data);
        Ok(match send_type {
            send_type::INVITE => {
                let who = IdBlock::read(r)?;
                r.u16("invite reserved")?;
                r.u32("invite reserved")?;
                let text = r.text("invite text")?;
                // who.user again; ignored.
                Self::Invite { who, text }
            }
            send_type::JOIN => Self::Join,
            send_type::MESSAGE => Self::Message(ChatPayload::read(r)?),
            other => return Err(unknown_send_type(other)),
        })
    }

    /// The send type and payload.
    pub fn encode(&self) -> Result<(u16, Vec<u8>), EncodeError> {
        let mut w = Writer::new();
        let send_type = match self {
            Self::Invite { who, text } => {
                who.write(&mut w);
                w.u16(0).u32(0).str("invite text", text).str("invite user", &who.user);
                send_type::INVITE
            }
            Self::Join => send_type::JOIN,
            Self::Message(payload) => {
                payload.write(&mut w);
                send_type::MESSAGE
            }
        };
        Ok((send_type, w.finish()?))
    }
}

impl ServerMessage {
    /// Reads an S→C payload.
    pub fn decode(send_type: u16, data: &[u8]) -> Result<Self, DecodeError> {
        let r = &mut Reader::new(data);
        Ok(match send_type {
            send_type::WELCOME => {
                let name = r.string("conference name")?;
                let title = r.text("conference title")?;
                r.u16("welcome reserved")?;
                r.u32("welcome reserved")?;
                let count = r.count("welcome members", MIN_MEMBER)?;
                let members = (0..count).map(|_| Member::read(r)).collect::<Result<_, _>>()?;
                Self::Welcome { name, title, members }
            }
            send_type::JOIN => Self::Joined(Member::read(r)?),
            send_type::PART => Self::Part { member_id: r.u16("member id")? },
            send_type::MESSAGE => {
                let member_id = r.u16("member id")?;
                r.u32("message reserved")?;
                Self::Message { member_id, payload: ChatPayload::read(r)? }
            }
            other => return Err(unknown_send_type(other)),
        })
    }

    /// The send type and payload.
    pub fn encode(&self) -> Result<(u16, Vec<u8>), EncodeError> {
        let mut w = Writer::new();
        let send_type = match self {
            Self::Welcome { name, title, members } => {
                w.str("conference name", name)
                    .str("conference title", title)
                    .u16(0)
                    .u32(0)
                    .count("welcome members", members.len());
                for member in members {
                    member.write(&mut w);
                }
                send_type::WELCOME
            }
            Self::Joined(member) => {
                member.write(&mut w);
                send_type::JOIN
            }
            Self::Part { member_id } => {
                w.u16(*member_id);
                send_type::PART
            }
            Self::Message { member_id, payload } => {
                w.u16(*member_id).u32(0);
                payload.write(&mut w);
                send_type::MESSAGE
            }
        };
        Ok((send_type, w.finish()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hex;

    #[test]
    fn message_is_relayed_with_sender_prefix() {
        let said = ClientMessage::decode(send_type::MESSAGE, &hex("00000001 0002 6869")).unwrap();
        let ClientMessage::Message(payload) = said else { panic!("{said:?}") };
        assert_eq!(payload, ChatPayload::Text("hi".into()));
        let relayed = ServerMessage::Message { member_id: 3, payload };
        assert_eq!(
            relayed.encode().unwrap(),
            (send_type::MESSAGE, hex("0003 00000000 00000001 0002 6869"))
        );
    }

    #[test]
    fn typing_and_unknown_payloads() {
        let typing = hex("00000002 00000001 00000001 00000000");
        assert_eq!(
            ClientMessage::decode(send_type::MESSAGE, &typing).unwrap(),
            ClientMessage::Message(ChatPayload::Typing(false))
        );
        let other = hex("00000002 00000004 00000000 00000001 41");
        let decoded = ClientMessage::decode(send_type::MESSAGE, &other).unwrap();
        assert_eq!(decoded, ClientMessage::Message(ChatPayload::Other(other.clone())));
        assert_eq!(decoded.encode().unwrap().1, other, "unknown payloads are relayed verbatim");
    }

    #[test]
    fn invite_layout() {
        let invite = ClientMessage::Invite { who: IdBlock::user("bob"), text: "join".into() };
        let (send_type, data) = invite.encode().unwrap();
        assert_eq!(data, hex("0003 626f62 0000 0000 00000000 0004 6a6f696e 0003 626f62"));
        assert_eq!(ClientMessage::decode(send_type, &data).unwrap(), invite);
    }

    #[test]
    fn create_info_layout() {
        let info = CreateInfo { name: "alice(6b033151,be50)".into(), title: "Topic".into() };
        let bytes = info.to_bytes().unwrap();
        assert_eq!(CreateInfo::from_bytes(&bytes).unwrap(), info);
        assert_eq!(&bytes[bytes.len() - 4..], [0, 0, 0, 0]);
    }
}
