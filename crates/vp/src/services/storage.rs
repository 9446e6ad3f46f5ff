//! Storage, service 0x18 (spec §6.3): per-user values by key, among them
//! the buddy list (key 0, see [`crate::buddy_list`]).
//!
//! Replies must use send type 5 for a load and 7 for a save with the
//! request's id (trap 9.26); a missing key is an error result with no
//! item, never an empty success, or Pidgin wipes its local buddy list
//! (trap 9.27).

use crate::encoding::{DecodeError, EncodeError, Reader, Writer};
use crate::reason::ErrorCode;

use super::unknown_send_type;

/// Send types.
pub mod send_type {
    /// C→S: load keys.
    pub const LOAD: u16 = 0x0004;
    /// S→C: the loaded values.
    pub const LOADED: u16 = 0x0005;
    /// C→S: save values.
    pub const SAVE: u16 = 0x0006;
    /// S→C: the save's result.
    pub const SAVED: u16 = 0x0007;
}

/// Storage keys (`enum mwStorageKey`); other keys may be stored verbatim too.
pub mod key {
    /// The buddy list, in the text format of [`crate::buddy_list`].
    pub const BUDDY_LIST: u32 = 0x0000_0000;
    /// Default chat-invitation text.
    pub const CHAT_INVITATION: u32 = 0x0000_0006;
    /// Default meeting-invitation text.
    pub const MEETING_INVITATION: u32 = 0x0000_000e;
    /// Last five Away messages, ";"-separated.
    pub const AWAY_MESSAGES: u32 = 0x0000_0050;
    /// Last five Busy messages, ";"-separated.
    pub const BUSY_MESSAGES: u32 = 0x0000_005a;
    /// Last five Active messages, ";"-separated.
    pub const ACTIVE_MESSAGES: u32 = 0x0000_0064;
}

/// A stored value. Store it verbatim per (user, key).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageItem {
    /// The key ([`key`]).
    pub key: u32,
    /// The value; text values are a `str` inside it.
    pub value: Vec<u8>,
}

impl StorageItem {
    /// A text value (a `str` inside the value, as clients store text).
    pub fn text(key: u32, text: &str) -> Result<Self, EncodeError> {
        let mut w = Writer::new();
        w.str("storage text", text);
        Ok(Self { key, value: w.finish()? })
    }

    /// The value read as text, if it is a `str` (invalid UTF-8 replaced).
    pub fn as_text(&self) -> Result<String, DecodeError> {
        Reader::new(&self.value).text("storage text")
    }
}

/// Smallest item: item_len, key, empty opaque.
const MIN_ITEM: usize = 12;

fn read_items(r: &mut Reader<'_>) -> Result<Vec<StorageItem>, DecodeError> {
    let count = r.count("storage items", MIN_ITEM)?;
    (0..count)
        .map(|_| {
            // item_len: meanwhile writes 20 + value length and ignores it on
            // reading; so does this reader.
            r.u32("storage item_len")?;
            Ok(StorageItem {
                key: r.u32("storage key")?,
                value: r.opaque("storage value")?.to_vec(),
            })
        })
        .collect()
}

fn write_items(w: &mut Writer, items: &[StorageItem]) {
    w.count("storage items", items.len());
    for item in items {
        // As meanwhile writes it (§6.3); its meaning is uncertain.
        w.count("storage value", item.value.len().saturating_add(20))
            .u32(item.key)
            .opaque("storage value", &item.value);
    }
}

/// C→S storage requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// Load these keys (clients send one).
    Load {
        /// Echoed in the reply.
        request_id: u32,
        /// Keys to load.
        keys: Vec<u32>,
    },
    /// Save these values (clients send one).
    Save {
        /// Echoed in the reply.
        request_id: u32,
        /// Values to save.
        items: Vec<StorageItem>,
    },
}

/// S→C storage replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// The answer to a LOAD.
    Loaded {
        /// The request's id.
        request_id: u32,
        /// 0, or an error such as [`ErrorCode::NoElement`] with no items.
        result: u32,
        /// The values found.
        items: Vec<StorageItem>,
    },
    /// The answer to a SAVE.
    Saved {
        /// The request's id.
        request_id: u32,
        /// 0, or an error such as [`ErrorCode::Failure`].
        result: u32,
    },
}

impl ServerMessage {
    /// The answer to a LOAD of a missing key: ERR_NO_ELEMENT and no item.
    pub fn not_found(request_id: u32) -> Self {
        Self::Loaded { request_id, result: ErrorCode::NoElement.code(), items: Vec::new() }
    }
}

impl ClientMessage {
    /// Reads a C→S payload.
    pub fn decode(send_type: u16, data: &[u8]) -> Result<Self, DecodeError> {
        let r = &mut Reader::new(data);
        Ok(match send_type {
            send_type::LOAD => {
                let request_id = r.u32("storage request_id")?;
                let count = r.count("storage keys", 4)?;
                let keys = (0..count).map(|_| r.u32("storage key")).collect::<Result<_, _>>()?;
                Self::Load { request_id, keys }
            }
            send_type::SAVE => {
                Self::Save { request_id: r.u32("storage request_id")?, items: read_items(r)? }
            }
            other => return Err(unknown_send_type(other)),
        })
    }

    /// The send type and payload.
    pub fn encode(&self) -> Result<(u16, Vec<u8>), EncodeError> {
        let mut w = Writer::new();
        let send_type = match self {
            Self::Load { request_id, keys } => {
                w.u32(*request_id).count("storage keys", keys.len());
                for key in keys {
                    w.u32(*key);
                }
                send_type::LOAD
            }
            Self::Save { request_id, items } => {
                w.u32(*request_id);
                write_items(&mut w, items);
                send_type::SAVE
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
            send_type::LOADED => Self::Loaded {
                request_id: r.u32("storage request_id")?,
                result: r.u32("storage result")?,
                items: read_items(r)?,
            },
            send_type::SAVED => Self::Saved {
                request_id: r.u32("storage request_id")?,
                result: r.u32("storage result")?,
            },
            other => return Err(unknown_send_type(other)),
        })
    }

    /// The send type and payload.
    pub fn encode(&self) -> Result<(u16, Vec<u8>), EncodeError> {
        let mut w = Writer::new();
        let send_type = match self {
            Self::Loaded { request_id, result, items } => {
                w.u32(*request_id).u32(*result);
                write_items(&mut w, items);
                send_type::LOADED
            }
            Self::Saved { request_id, result } => {
                w.u32(*request_id).u32(*result);
                send_type::SAVED
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
    fn load_and_missing_key() {
        let load = ClientMessage::decode(send_type::LOAD, &hex("00000003 00000001 00000000"));
        assert_eq!(load, Ok(ClientMessage::Load { request_id: 3, keys: vec![key::BUDDY_LIST] }));
        assert_eq!(
            ServerMessage::not_found(3).encode().unwrap(),
            (send_type::LOADED, hex("00000003 80000005 00000000"))
        );
    }

    #[test]
    fn save_layout_with_item_len() {
        let item = StorageItem::text(key::AWAY_MESSAGES, "lunch").unwrap();
        let save = ClientMessage::Save { request_id: 9, items: vec![item.clone()] };
        let (send_type, data) = save.encode().unwrap();
        assert_eq!(send_type, send_type::SAVE);
        assert_eq!(
            data,
            hex("00000009 00000001 0000001b 00000050 00000007 0005 6c756e6368"),
            "item_len = 20 + 7"
        );
        assert_eq!(ClientMessage::decode(send_type, &data).unwrap(), save);
        assert_eq!(item.as_text().unwrap(), "lunch");
    }
}
