//! The Sametime VP community protocol, server side: what Sametime
//! Connect, libmeanwhile and Pidgin's Sametime plugin speak on port 1533.
//!
//! The protocol layer of Simul's VP front door, with no I/O beyond a
//! `tokio_util` codec and no dependency on the rest of Simul: the door
//! turns these types into service calls and back (DESIGN.md), and no type
//! from here reaches `core`. The specification is
//! `shared/specs/vp-protocol.md`; modules cite its sections.
//!
//! - [`encoding`]: primitives (§2.1) and [`blocks`]: compound blocks (§2.2);
//! - [`frame`]: the length-prefixed stream with keepalives (§1.2–§1.4);
//! - [`message`]: the header and every master-channel message (§3–§5);
//! - [`login`] and [`crypto`]: login decryption, RC2 and Diffie-Hellman
//!   (§4.5, §5.6);
//! - [`services`]: the payloads of awareness, resolve, storage, IM and
//!   conference channels (§6), and [`buddy_list`]: the buddy-list text
//!   stored by clients (§6.3);
//! - [`reason`]: error and reason codes (§8).
//!
//! Every reader takes untrusted bytes and answers bad input with an
//! error, never a panic (fuzzed by `fuzz/fuzz_targets/vp_frames.rs`).
//!
//! # Sources
//!
//! Facts (layouts, constants, client behaviour), never code, come from
//! Meanwhile 1.1.1 (`obriencj/meanwhile`), Pidgin's Sametime plugin,
//! Wireshark's `packet-sametime.c` and the IETF draft
//! `draft-houri-sametime-community-client-00`, as the specification
//! cites them.
//!
//! # Example
//!
//! ```
//! use bytes::BytesMut;
//! use simul_vp::{FrameCodec, Message};
//! use tokio_util::codec::Decoder;
//!
//! // A client's logout: CHANNEL_DESTROY on channel 0, after a keepalive.
//! let mut stream = BytesMut::from(&[0x80, 0, 0, 0, 16, 0, 3, 0, 0, 0, 0, 0, 0,
//!                                  0, 0, 0, 0, 0, 0, 0, 0][..]);
//! let frame = FrameCodec::new().decode(&mut stream).unwrap().unwrap();
//! match Message::decode(&frame).unwrap() {
//!     Message::ChannelDestroy(destroy) => assert_eq!((destroy.channel, destroy.reason), (0, 0)),
//!     other => panic!("{other:?}"),
//! }
//! ```

pub mod blocks;
pub mod buddy_list;
pub mod crypto;
pub mod encoding;
pub mod frame;
pub mod login;
pub mod message;
pub mod reason;
pub mod services;

pub use blocks::{
    AwareIdBlock, AwareSnapshot, EncryptItem, IdBlock, LoginDetails, LoginInfo, OnlineInfo,
    PrivacyInfo, UserItem, UserStatus,
};
pub use buddy_list::BuddyList;
pub use encoding::{Block, DecodeError, EncodeError, Reader, Writer};
pub use frame::{FrameCodec, FrameError, Keepalive};
pub use login::{Credential, LoginError, LoginKeys, LoginOptions, Secret, decrypt_login};
pub use message::{Header, Message, MessageType};
pub use reason::ErrorCode;

#[cfg(test)]
pub(crate) mod test_support {
    /// Bytes from hex, ignoring white space.
    pub(crate) fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }
}
