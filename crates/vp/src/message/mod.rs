//! Master-channel messages (spec §3–§5): the header, and one [`Message`]
//! enum for everything that travels in a frame.
//!
//! [`Message::decode`] reads the bytes of one frame (as the
//! [`FrameCodec`](crate::FrameCodec) yields them); [`Message::encode`]
//! writes them. Trailing bytes after the fields a message defines are
//! ignored (§1.2); unknown message types decode to [`Message::Unknown`]
//! so that the caller can ignore them (§3.2). A message too short for its
//! fields is a [`DecodeError`]: the caller drops it, or closes the
//! connection if it came before login (§1.2).

mod announce;
mod channel;
mod login;

pub use announce::Announce;
pub use channel::{
    ChannelAccept, ChannelCreate, ChannelDestroy, ChannelSend, ChosenCipher, CipherOffer,
    EncryptAccept, EncryptOffer, encrypt_mode,
};
pub use login::{
    AckKey, Handshake, HandshakeAck, HandshakeExtra, Login, LoginAck, LoginRedirect, VERSION_MAJOR,
    VERSION_MINOR, VERSION_MINOR_WITHOUT_KEY,
};

use crate::blocks::{PrivacyInfo, UserStatus};
use crate::encoding::{Block, DecodeError, EncodeError, Reader, Writer};

/// The message header (`mwMessageHead`, houri §8.4.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// Message type (§3.2, [`MessageType`]).
    pub message_type: u16,
    /// Option bits: [`Header::ENCRYPT`], [`Header::HAS_ATTRIBS`].
    pub options: u16,
    /// 0 for the master channel, else a channel id (§5.1).
    pub channel: u32,
    /// The attribute block, present when [`Header::HAS_ATTRIBS`] is set.
    /// meanwhile never sends one; it is parsed so that what follows is
    /// read at the right place (trap 9.5).
    pub attributes: Option<Vec<u8>>,
}

impl Header {
    /// Option bit: the CHANNEL_SEND payload is ciphertext.
    pub const ENCRYPT: u16 = 0x4000;
    /// Option bit: an opaque of attributes follows the channel.
    pub const HAS_ATTRIBS: u16 = 0x8000;

    /// A header without options or attributes.
    pub fn new(message_type: MessageType, channel: u32) -> Self {
        Self { message_type: message_type as u16, options: 0, channel, attributes: None }
    }
}

impl Block for Header {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let message_type = r.u16("message type")?;
        let options = r.u16("message options")?;
        let channel = r.u32("message channel")?;
        let attributes = if options & Self::HAS_ATTRIBS != 0 {
            Some(r.opaque("message attributes")?.to_vec())
        } else {
            None
        };
        Ok(Self { message_type, options, channel, attributes })
    }

    fn write(&self, w: &mut Writer) {
        let options = match self.attributes {
            Some(_) => self.options | Self::HAS_ATTRIBS,
            None => self.options & !Self::HAS_ATTRIBS,
        };
        w.u16(self.message_type).u16(options).u32(self.channel);
        if let Some(attributes) = &self.attributes {
            w.opaque("message attributes", attributes);
        }
    }
}

/// The message types of §3.2 (`mw_message.h`, Wireshark `messagetypenames`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum MessageType {
    /// C→S: the first message (§4.2).
    Handshake = 0x0000,
    /// S→C: the answer, with the login key (§4.3).
    HandshakeAck = 0x8000,
    /// C→S: the login (§4.4).
    Login = 0x0001,
    /// S→C: login accepted (§4.7).
    LoginAck = 0x8001,
    /// S→C: log in elsewhere (§4.13).
    LoginRedirect = 0x0018,
    /// C→S: carry on after a redirect (§4.13).
    LoginContinue = 0x0016,
    /// Both: open a channel (§5.2).
    ChannelCreate = 0x0002,
    /// Both: channel opened (§5.3).
    ChannelAccept = 0x0006,
    /// Both: data on a channel (§5.4).
    ChannelSend = 0x0004,
    /// Both: close a channel, or on channel 0 the connection (§5.4).
    ChannelDestroy = 0x0003,
    /// Both: the user's status (§4.10).
    SetUserStatus = 0x0009,
    /// Both: the user's privacy list (§4.11).
    SetPrivacyList = 0x000b,
    /// Both: is this service there (§4.9).
    SenseService = 0x0011,
    /// S→C: broadcast text (§4.14).
    Admin = 0x0019,
    /// Both: an announcement (§4.14).
    Announce = 0x0022,
    /// Known from Wireshark only; meaning unknown, decoded as [`Message::Unknown`].
    HandshakeSyn = 0x0025,
}

impl MessageType {
    /// The type for a wire value, if known.
    pub fn from_u16(value: u16) -> Option<Self> {
        use MessageType::*;
        Some(match value {
            0x0000 => Handshake,
            0x8000 => HandshakeAck,
            0x0001 => Login,
            0x8001 => LoginAck,
            0x0018 => LoginRedirect,
            0x0016 => LoginContinue,
            0x0002 => ChannelCreate,
            0x0006 => ChannelAccept,
            0x0004 => ChannelSend,
            0x0003 => ChannelDestroy,
            0x0009 => SetUserStatus,
            0x000b => SetPrivacyList,
            0x0011 => SenseService,
            0x0019 => Admin,
            0x0022 => Announce,
            0x0025 => HandshakeSyn,
            _ => return None,
        })
    }
}

/// One message, in either direction.
///
/// Channel messages carry their channel id (the header's channel, or for
/// CHANNEL_CREATE the id in its body); all others travel on channel 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// C→S HANDSHAKE (§4.2).
    Handshake(Handshake),
    /// S→C HANDSHAKE_ACK (§4.3).
    HandshakeAck(HandshakeAck),
    /// C→S LOGIN (§4.4).
    Login(Login),
    /// S→C LOGIN_ACK (§4.7).
    LoginAck(LoginAck),
    /// S→C LOGIN_REDIRECT (§4.13).
    LoginRedirect(LoginRedirect),
    /// C→S LOGIN_CONTINUE, empty (§4.13).
    LoginContinue,
    /// CHANNEL_CREATE (§5.2).
    ChannelCreate(ChannelCreate),
    /// CHANNEL_ACCEPT (§5.3).
    ChannelAccept(ChannelAccept),
    /// CHANNEL_SEND (§5.4).
    ChannelSend(ChannelSend),
    /// CHANNEL_DESTROY (§5.4); on channel 0 it ends the connection.
    ChannelDestroy(ChannelDestroy),
    /// SET_USER_STATUS (§4.10).
    SetUserStatus(UserStatus),
    /// SET_PRIVACY_LIST (§4.11).
    SetPrivacyList(PrivacyInfo),
    /// SENSE_SERVICE (§4.9): answer by echoing it, only for supported services.
    SenseService {
        /// Service id (§6.0).
        service: u32,
    },
    /// S→C ADMIN (§4.14): a broadcast to show the user.
    Admin {
        /// The text.
        text: String,
    },
    /// ANNOUNCE (§4.14).
    Announce(Announce),
    /// A type this crate does not know (to be ignored, §3.2), kept whole.
    Unknown {
        /// Its header.
        header: Header,
        /// Its body.
        body: Vec<u8>,
    },
}

impl Message {
    /// Reads the bytes of one frame.
    pub fn decode(frame: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(frame);
        let header = Header::read(&mut r)?;
        let channel = header.channel;
        let Some(message_type) = MessageType::from_u16(header.message_type) else {
            return Ok(Self::Unknown { body: r.rest().to_vec(), header });
        };
        let r = &mut r;
        Ok(match message_type {
            MessageType::Handshake => Self::Handshake(Handshake::read(r)?),
            MessageType::HandshakeAck => Self::HandshakeAck(HandshakeAck::read(r)?),
            MessageType::Login => Self::Login(Login::read(r)?),
            MessageType::LoginAck => Self::LoginAck(LoginAck::read(r)?),
            MessageType::LoginRedirect => Self::LoginRedirect(LoginRedirect::read(r)?),
            MessageType::LoginContinue => Self::LoginContinue,
            MessageType::ChannelCreate => Self::ChannelCreate(ChannelCreate::read(r)?),
            MessageType::ChannelAccept => {
                Self::ChannelAccept(ChannelAccept::read_body(channel, r)?)
            }
            MessageType::ChannelSend => Self::ChannelSend(ChannelSend::read_body(
                channel,
                header.options & Header::ENCRYPT != 0,
                r,
            )?),
            MessageType::ChannelDestroy => {
                Self::ChannelDestroy(ChannelDestroy::read_body(channel, r)?)
            }
            MessageType::SetUserStatus => Self::SetUserStatus(UserStatus::read(r)?),
            MessageType::SetPrivacyList => Self::SetPrivacyList(PrivacyInfo::read(r)?),
            MessageType::SenseService => Self::SenseService { service: r.u32("service id")? },
            MessageType::Admin => Self::Admin { text: r.text("admin text")? },
            MessageType::Announce => Self::Announce(Announce::read(r)?),
            MessageType::HandshakeSyn => Self::Unknown { body: r.rest().to_vec(), header },
        })
    }

    /// The message's bytes: header and body, without the frame length.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new();
        self.header().write(&mut w);
        match self {
            Self::Handshake(m) => m.write(&mut w),
            Self::HandshakeAck(m) => m.write(&mut w),
            Self::Login(m) => m.write(&mut w),
            Self::LoginAck(m) => m.write(&mut w),
            Self::LoginRedirect(m) => m.write(&mut w),
            Self::LoginContinue => {}
            Self::ChannelCreate(m) => m.write(&mut w),
            Self::ChannelAccept(m) => m.write_body(&mut w),
            Self::ChannelSend(m) => m.write_body(&mut w),
            Self::ChannelDestroy(m) => m.write_body(&mut w),
            Self::SetUserStatus(m) => m.write(&mut w),
            Self::SetPrivacyList(m) => m.write(&mut w),
            Self::SenseService { service } => {
                w.u32(*service);
            }
            Self::Admin { text } => {
                w.str("admin text", text);
            }
            Self::Announce(m) => m.write(&mut w),
            Self::Unknown { body, .. } => {
                w.raw(body);
            }
        }
        w.finish()
    }

    /// The header [`encode`](Self::encode) writes.
    pub fn header(&self) -> Header {
        let master = |message_type| Header::new(message_type, 0);
        match self {
            Self::Handshake(_) => master(MessageType::Handshake),
            Self::HandshakeAck(_) => master(MessageType::HandshakeAck),
            Self::Login(_) => master(MessageType::Login),
            Self::LoginAck(_) => master(MessageType::LoginAck),
            Self::LoginRedirect(_) => master(MessageType::LoginRedirect),
            Self::LoginContinue => master(MessageType::LoginContinue),
            Self::ChannelCreate(_) => master(MessageType::ChannelCreate),
            Self::ChannelAccept(m) => Header::new(MessageType::ChannelAccept, m.channel),
            Self::ChannelSend(m) => Header {
                options: if m.encrypted { Header::ENCRYPT } else { 0 },
                ..Header::new(MessageType::ChannelSend, m.channel)
            },
            Self::ChannelDestroy(m) => Header::new(MessageType::ChannelDestroy, m.channel),
            Self::SetUserStatus(_) => master(MessageType::SetUserStatus),
            Self::SetPrivacyList(_) => master(MessageType::SetPrivacyList),
            Self::SenseService { .. } => master(MessageType::SenseService),
            Self::Admin { .. } => master(MessageType::Admin),
            Self::Announce(_) => master(MessageType::Announce),
            Self::Unknown { header, .. } => header.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hex;

    #[test]
    fn attributes_are_parsed_and_skipped() {
        // SENSE_SERVICE with HAS_ATTRIBS and a 2-byte attribute block.
        let bytes = hex("0011 8000 00000000 00000002 abcd 00000011");
        assert_eq!(Message::decode(&bytes).unwrap(), Message::SenseService { service: 0x11 });
        let header = Header::from_bytes(&bytes).unwrap();
        assert_eq!(header.attributes, Some(vec![0xab, 0xcd]));
        assert_eq!(header.to_bytes().unwrap(), bytes[..14]);
    }

    #[test]
    fn unknown_types_are_kept() {
        let bytes = hex("0025 0000 00000000 0102");
        let message = Message::decode(&bytes).unwrap();
        assert!(matches!(&message, Message::Unknown { body, .. } if body == &[1, 2]));
        assert_eq!(message.encode().unwrap(), bytes);
    }

    #[test]
    fn message_types_round_trip() {
        for value in 0..=u16::MAX {
            if let Some(t) = MessageType::from_u16(value) {
                assert_eq!(t as u16, value);
            }
        }
    }
}
