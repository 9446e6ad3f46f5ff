//! Awareness, service 0x11 (spec §6.1): watch lists, presence snapshots
//! and updates, and attributes.

use crate::blocks::{AwareIdBlock, AwareSnapshot, MIN_AWARE_ID, MIN_SNAPSHOT};
use crate::encoding::{Block, DecodeError, EncodeError, Reader, Writer};

use super::unknown_send_type;

/// Send types (`srvc_aware.c` `enum msg_types`).
pub mod send_type {
    /// C→S: watch these ids.
    pub const ADD: u16 = 0x0068;
    /// C→S: stop watching these ids.
    pub const REMOVE: u16 = 0x0069;
    /// C→S: set one of the client's attributes.
    pub const OPT_DO_SET: u16 = 0x00c9;
    /// C→S: unset one of the client's attributes.
    pub const OPT_DO_UNSET: u16 = 0x00ca;
    /// C→S: the attribute keys the client wants to see.
    pub const OPT_WATCH: u16 = 0x00cb;
    /// S→C: presence of several ids.
    pub const SNAPSHOT: u16 = 0x01f4;
    /// S→C: presence of one id.
    pub const UPDATE: u16 = 0x01f5;
    /// S→C: a group (libmeanwhile ignores it).
    pub const GROUP: u16 = 0x01f6;
    /// S→C: a watched user's attribute was set.
    pub const OPT_GOT_SET: u16 = 0x0259;
    /// S→C: a watched user's attribute was unset.
    pub const OPT_GOT_UNSET: u16 = 0x025a;
}

/// Attribute keys (`enum mwAwareAttributeKeys`).
pub mod attribute {
    /// Audio/video preferences set.
    pub const AV_PREFS_SET: u32 = 0x01;
    /// Has a microphone.
    pub const MICROPHONE: u32 = 0x02;
    /// Has speakers.
    pub const SPEAKERS: u32 = 0x03;
    /// Has a video camera.
    pub const VIDEO_CAMERA: u32 = 0x04;
    /// Accepts files: Pidgin offers "Send File" only after seeing it true.
    pub const FILE_TRANSFER: u32 = 0x06;
}

/// An attribute value holding a boolean, as clients write it (2 bytes:
/// `bool false, bool value`).
pub fn bool_value(value: bool) -> Vec<u8> {
    vec![0, u8::from(value)]
}

/// A boolean attribute value: libmeanwhile reads booleans from 4, 2 or 1
/// bytes (a big-endian number, non-zero is true); other lengths are not
/// booleans.
pub fn read_bool_value(value: &[u8]) -> Option<bool> {
    matches!(value.len(), 1 | 2 | 4).then(|| value.iter().any(|&b| b != 0))
}

/// C→S awareness messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// Watch these ids; answer with one SNAPSHOT. Adds arrive twice after
    /// login: be idempotent (trap 9.24).
    Add(Vec<AwareIdBlock>),
    /// Stop watching these ids; no answer.
    Remove(Vec<AwareIdBlock>),
    /// Set one of this login's attributes.
    SetAttribute {
        /// Attribute key ([`attribute`]).
        key: u32,
        /// Value, forwarded verbatim.
        value: Vec<u8>,
    },
    /// Unset one of this login's attributes.
    UnsetAttribute {
        /// Attribute key.
        key: u32,
    },
    /// The attribute keys this client wants to see.
    Watch {
        /// Attribute keys.
        keys: Vec<u32>,
    },
}

/// S→C awareness messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// Presence of several ids (the answer to an ADD).
    Snapshot(Vec<AwareSnapshot>),
    /// Presence of one id that changed.
    Update(AwareSnapshot),
    /// A group (ignored by libmeanwhile).
    Group(AwareIdBlock),
    /// A watched user's attribute.
    AttributeSet {
        /// The user, as watched.
        id: AwareIdBlock,
        /// Attribute key.
        key: u32,
        /// Value (empty: none sent).
        value: Vec<u8>,
    },
    /// A watched user's attribute was unset.
    AttributeUnset {
        /// The user, as watched.
        id: AwareIdBlock,
        /// Attribute key.
        key: u32,
    },
}

fn read_ids(r: &mut Reader<'_>) -> Result<Vec<AwareIdBlock>, DecodeError> {
    let count = r.count("aware ids", MIN_AWARE_ID)?;
    (0..count).map(|_| AwareIdBlock::read(r)).collect()
}

fn write_ids(w: &mut Writer, ids: &[AwareIdBlock]) {
    w.count("aware ids", ids.len());
    for id in ids {
        id.write(w);
    }
}

impl ClientMessage {
    /// Reads a C→S payload.
    pub fn decode(send_type: u16, data: &[u8]) -> Result<Self, DecodeError> {
        let r = &mut Reader::new(data);
        Ok(match send_type {
            send_type::ADD => Self::Add(read_ids(r)?),
            send_type::REMOVE => Self::Remove(read_ids(r)?),
            send_type::OPT_DO_SET => {
                r.u32("attribute reserved")?;
                r.u32("attribute value_len")?;
                r.u32("attribute reserved")?;
                let key = r.u32("attribute key")?;
                Self::SetAttribute { key, value: r.opaque("attribute value")?.to_vec() }
            }
            send_type::OPT_DO_UNSET => {
                r.u32("attribute reserved")?;
                Self::UnsetAttribute { key: r.u32("attribute key")? }
            }
            send_type::OPT_WATCH => {
                r.u32("attribute reserved")?;
                let count = r.count("watched attributes", 4)?;
                let keys = (0..count).map(|_| r.u32("attribute key")).collect::<Result<_, _>>()?;
                Self::Watch { keys }
            }
            other => return Err(unknown_send_type(other)),
        })
    }

    /// The send type and payload.
    pub fn encode(&self) -> Result<(u16, Vec<u8>), EncodeError> {
        let mut w = Writer::new();
        let send_type = match self {
            Self::Add(ids) => {
                write_ids(&mut w, ids);
                send_type::ADD
            }
            Self::Remove(ids) => {
                write_ids(&mut w, ids);
                send_type::REMOVE
            }
            Self::SetAttribute { key, value } => {
                w.u32(0).count("attribute value", value.len()).u32(0).u32(*key);
                w.opaque("attribute value", value);
                send_type::OPT_DO_SET
            }
            Self::UnsetAttribute { key } => {
                w.u32(0).u32(*key);
                send_type::OPT_DO_UNSET
            }
            Self::Watch { keys } => {
                w.u32(0).count("watched attributes", keys.len());
                for key in keys {
                    w.u32(*key);
                }
                send_type::OPT_WATCH
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
            send_type::SNAPSHOT => {
                let count = r.count("snapshot entries", MIN_SNAPSHOT)?;
                Self::Snapshot(
                    (0..count).map(|_| AwareSnapshot::read(r)).collect::<Result<_, _>>()?,
                )
            }
            send_type::UPDATE => Self::Update(AwareSnapshot::read(r)?),
            send_type::GROUP => Self::Group(AwareIdBlock::read(r)?),
            send_type::OPT_GOT_SET => {
                r.u32("attribute reserved")?;
                let id = AwareIdBlock::read(r)?;
                r.u32("attribute reserved")?;
                let value_len = r.u32("attribute value_len")?;
                r.u32("attribute reserved")?;
                let key = r.u32("attribute key")?;
                let value =
                    if value_len == 0 { Vec::new() } else { r.opaque("attribute value")?.to_vec() };
                Self::AttributeSet { id, key, value }
            }
            send_type::OPT_GOT_UNSET => {
                r.u32("attribute reserved")?;
                let id = AwareIdBlock::read(r)?;
                Self::AttributeUnset { id, key: r.u32("attribute key")? }
            }
            other => return Err(unknown_send_type(other)),
        })
    }

    /// The send type and payload.
    pub fn encode(&self) -> Result<(u16, Vec<u8>), EncodeError> {
        let mut w = Writer::new();
        let send_type = match self {
            Self::Snapshot(entries) => {
                w.count("snapshot entries", entries.len());
                for entry in entries {
                    entry.write(&mut w);
                }
                send_type::SNAPSHOT
            }
            Self::Update(entry) => {
                entry.write(&mut w);
                send_type::UPDATE
            }
            Self::Group(id) => {
                id.write(&mut w);
                send_type::GROUP
            }
            Self::AttributeSet { id, key, value } => {
                w.u32(0);
                id.write(&mut w);
                w.u32(0).count("attribute value", value.len()).u32(0).u32(*key);
                if !value.is_empty() {
                    w.opaque("attribute value", value);
                }
                send_type::OPT_GOT_SET
            }
            Self::AttributeUnset { id, key } => {
                w.u32(0);
                id.write(&mut w);
                w.u32(*key);
                send_type::OPT_GOT_UNSET
            }
        };
        Ok((send_type, w.finish()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::{OnlineInfo, UserStatus};
    use crate::test_support::hex;

    #[test]
    fn add_for_bob() {
        let data = hex("00000001 0002 0003 626f62 0000");
        let message = ClientMessage::decode(send_type::ADD, &data).unwrap();
        assert_eq!(message, ClientMessage::Add(vec![AwareIdBlock::user("bob")]));
        assert_eq!(message.encode().unwrap(), (send_type::ADD, data));
    }

    #[test]
    fn online_update_round_trips() {
        let update = ServerMessage::Update(AwareSnapshot {
            id: AwareIdBlock::user("bob"),
            group: String::new(),
            online: Some(OnlineInfo {
                alt_id: "bob".into(),
                status: UserStatus { status: UserStatus::AWAY, time: 0, desc: "lunch".into() },
                name: "Bob".into(),
            }),
        });
        let (send_type, data) = update.encode().unwrap();
        assert_eq!(send_type, send_type::UPDATE);
        assert_eq!(&data[..4], (data.len() as u32).to_be_bytes(), "block_len = entry length");
        assert_eq!(ServerMessage::decode(send_type, &data).unwrap(), update);
    }

    #[test]
    fn boolean_attribute_values() {
        assert_eq!(bool_value(true), [0, 1]);
        assert_eq!(read_bool_value(&[0, 1]), Some(true));
        assert_eq!(read_bool_value(&[0, 0, 0, 1]), Some(true));
        assert_eq!(read_bool_value(&[0]), Some(false));
        assert_eq!(read_bool_value(&[0, 0, 1]), None);
    }

    #[test]
    fn unknown_send_type_is_an_error() {
        assert_eq!(
            ClientMessage::decode(0x1234, &[]),
            Err(DecodeError::BadValue { field: "send type", value: 0x1234 })
        );
    }
}
