//! Instant messages, service 0x1000 (spec §6.4): relayed between two
//! clients, so the server forwards these bytes untouched; it reads them
//! only to keep history (with the cipher offers stripped, §5.6).

use crate::blocks::UserStatus;
use crate::encoding::{Block, DecodeError, EncodeError, Reader, Writer};

use super::unknown_send_type;

/// The only send type of IM channels.
pub const SEND_TYPE: u16 = 0x0064;

/// IM client types in the CREATE and ACCEPT `addtl`.
pub mod client_type {
    /// Text and typing only (bare libmeanwhile).
    pub const PLAIN: u32 = 0x0000_0001;
    /// Adds HTML, subject, MIME, timestamp (Pidgin).
    pub const NOTESBUDDY: u32 = 0x0003_3453;
    /// Legacy pre-conference / place invitation.
    pub const PRECONF: u32 = 0x0000_0019;
}

/// Data types of [`ImMessage::Data`].
pub mod data_type {
    /// Typing; subtype 0 typing, 1 stopped.
    pub const TYPING: u32 = 0x01;
    /// Subject.
    pub const SUBJECT: u32 = 0x03;
    /// HTML text.
    pub const HTML: u32 = 0x04;
    /// MIME content.
    pub const MIME: u32 = 0x05;
    /// Timestamp.
    pub const TIMESTAMP: u32 = 0x06;
    /// Place invitation.
    pub const INVITE: u32 = 0x0a;
    /// Start of a multi-part HTML or MIME message (over 2048 bytes).
    pub const MULTIPART_START: u32 = 0x1388;
    /// End of a multi-part message.
    pub const MULTIPART_STOP: u32 = 0x1389;
}

/// The creator's CREATE `addtl`: `u32 1, u32 client_type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateInfo {
    /// Always 1; receivers refuse other values with ERR_IM_NOT_REGISTERED.
    pub marker: u32,
    /// [`client_type`]: receivers refuse types other than PLAIN and their
    /// own, and the creator falls back to PLAIN (trap 9.23).
    pub client_type: u32,
}

impl CreateInfo {
    /// The `addtl` of a channel of this client type.
    pub fn new(client_type: u32) -> Self {
        Self { marker: 1, client_type }
    }
}

impl Block for CreateInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { marker: r.u32("im marker")?, client_type: r.u32("im client_type")? })
    }

    fn write(&self, w: &mut Writer) {
        w.u32(self.marker).u32(self.client_type);
    }
}

/// The acceptor's ACCEPT `addtl`: `u32 1, u32 client_type, u32 2, UserStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptInfo {
    /// The acceptor's client type.
    pub client_type: u32,
    /// The acceptor's status.
    pub status: UserStatus,
}

impl Block for AcceptInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32("im accept marker")?;
        let client_type = r.u32("im client_type")?;
        r.u32("im accept status marker")?;
        Ok(Self { client_type, status: UserStatus::read(r)? })
    }

    fn write(&self, w: &mut Writer) {
        w.u32(1).u32(self.client_type).u32(2);
        self.status.write(w);
    }
}

/// An IM channel message (send type 0x64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImMessage {
    /// `u32 1, str text`.
    Text(String),
    /// `u32 2, u32 data_type, u32 subtype, opaque data`.
    Data {
        /// [`data_type`].
        data_type: u32,
        /// Per data type (typing: 0 typing, 1 stopped).
        subtype: u32,
        /// Per data type (HTML text, MIME, ...).
        data: Vec<u8>,
    },
}

impl ImMessage {
    /// A typing notification.
    pub fn typing(typing: bool) -> Self {
        Self::Data { data_type: data_type::TYPING, subtype: u32::from(!typing), data: Vec::new() }
    }

    /// Reads an IM payload.
    pub fn decode(send_type: u16, data: &[u8]) -> Result<Self, DecodeError> {
        if send_type != SEND_TYPE {
            return Err(unknown_send_type(send_type));
        }
        let r = &mut Reader::new(data);
        match r.u32("im message kind")? {
            1 => Ok(Self::Text(r.text("im text")?)),
            2 => Ok(Self::Data {
                data_type: r.u32("im data type")?,
                subtype: r.u32("im data subtype")?,
                data: r.opaque("im data")?.to_vec(),
            }),
            other => Err(DecodeError::BadValue { field: "im message kind", value: other }),
        }
    }

    /// The send type and payload.
    pub fn encode(&self) -> Result<(u16, Vec<u8>), EncodeError> {
        let mut w = Writer::new();
        match self {
            Self::Text(text) => {
                w.u32(1).str("im text", text);
            }
            Self::Data { data_type, subtype, data } => {
                w.u32(2).u32(*data_type).u32(*subtype).opaque("im data", data);
            }
        }
        Ok((SEND_TYPE, w.finish()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hex;

    #[test]
    fn text_and_typing_layouts() {
        let text = ImMessage::Text("hi".into());
        assert_eq!(text.encode().unwrap(), (SEND_TYPE, hex("00000001 0002 6869")));
        let typing = ImMessage::typing(true);
        let (_, data) = typing.encode().unwrap();
        assert_eq!(data, hex("00000002 00000001 00000000 00000000"));
        assert_eq!(ImMessage::decode(SEND_TYPE, &data).unwrap(), typing);
    }

    #[test]
    fn addtl_layouts() {
        assert_eq!(
            CreateInfo::new(client_type::NOTESBUDDY).to_bytes().unwrap(),
            hex("00000001 00033453")
        );
        let accept = AcceptInfo { client_type: client_type::PLAIN, status: UserStatus::active() };
        let bytes = accept.to_bytes().unwrap();
        assert_eq!(bytes, hex("00000001 00000001 00000002 0020 00000000 0000"));
        assert_eq!(AcceptInfo::from_bytes(&bytes).unwrap(), accept);
    }
}
