//! The Sametime VP protocol layer (`simul-vp`) on arbitrary bytes.
//!
//! The first input byte picks a mode (modulo 3), the rest is its input:
//!
//! - 0: a client's byte stream: the frame codec (64 KiB limit) splits it,
//!   every frame goes to the message parser, every CHANNEL_SEND payload
//!   to the payload parsers of every service, and every CREATE's addtl to
//!   the file transfer offer's. Nothing may panic, and
//!   whatever parses must encode and parse again to the same value
//!   (unless lossy text repair made a `str` longer than the format allows).
//! - 1: buddy-list text (lossy UTF-8): lenient parsing never panics; a
//!   list that parses strictly and can be written parses back from its
//!   text to the same list.
//! - 2: a LOGIN's auth data (the next byte picks the auth type) decrypted
//!   with fixed keys: never panics.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use simul_vp::crypto::DhKeyPair;
use simul_vp::message::Login;
use simul_vp::services::{awareness, conference, file_transfer, im, resolve, storage};
use simul_vp::{
    Block as _, BuddyList, DecodeError, EncodeError, FrameCodec, LoginKeys, LoginOptions, Message,
    decrypt_login,
};
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => stream(rest),
        1 => buddy_list(rest),
        _ => login(rest),
    }
});

/// Whether re-encoding failed only because repaired text grew too long.
fn grew(error: &EncodeError) -> bool {
    matches!(error, EncodeError::TooLong { .. })
}

/// Checks `decode(encode(value)) == value` for a parsed value.
fn again<T: PartialEq + std::fmt::Debug>(
    value: &T,
    encode: impl Fn(&T) -> Result<(u16, Vec<u8>), EncodeError>,
    decode: impl Fn(u16, &[u8]) -> Result<T, DecodeError>,
) {
    match encode(value) {
        Ok((send_type, data)) => {
            let back = decode(send_type, &data).expect("an encoded payload parses");
            assert_eq!(&back, value);
        }
        Err(error) => assert!(grew(&error), "{error}"),
    }
}

fn payloads(send_type: u16, data: &[u8]) {
    if let Ok(m) = awareness::ClientMessage::decode(send_type, data) {
        again(&m, |m| m.encode(), awareness::ClientMessage::decode);
    }
    if let Ok(m) = awareness::ServerMessage::decode(send_type, data) {
        again(&m, |m| m.encode(), awareness::ServerMessage::decode);
    }
    if let Ok(m) = resolve::Request::decode(send_type, data) {
        again(&m, |m| m.encode(), resolve::Request::decode);
    }
    if let Ok(m) = resolve::Response::decode(send_type, data) {
        again(&m, |m| m.encode(), resolve::Response::decode);
    }
    if let Ok(m) = storage::ClientMessage::decode(send_type, data) {
        again(&m, |m| m.encode(), storage::ClientMessage::decode);
    }
    if let Ok(m) = storage::ServerMessage::decode(send_type, data) {
        again(&m, |m| m.encode(), storage::ServerMessage::decode);
    }
    if let Ok(m) = im::ImMessage::decode(send_type, data) {
        again(&m, |m| m.encode(), im::ImMessage::decode);
    }
    if let Ok(m) = file_transfer::FtMessage::decode(send_type, data) {
        again(&m, |m| Ok(m.encode()), file_transfer::FtMessage::decode);
    }
    if let Ok(m) = conference::ClientMessage::decode(send_type, data) {
        again(&m, |m| m.encode(), conference::ClientMessage::decode);
    }
    if let Ok(m) = conference::ServerMessage::decode(send_type, data) {
        again(&m, |m| m.encode(), conference::ServerMessage::decode);
    }
}

fn stream(bytes: &[u8]) {
    let mut codec = FrameCodec::with_max_frame(64 * 1024);
    let mut buf = BytesMut::from(bytes);
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(frame)) => message(&frame),
            Ok(None) | Err(_) => break,
        }
    }
}

fn message(frame: &[u8]) {
    let Ok(message) = Message::decode(frame) else {
        return;
    };
    match message.encode() {
        Ok(bytes) => assert_eq!(Message::decode(&bytes).expect("encoded message parses"), message),
        Err(error) => assert!(grew(&error), "{error}"),
    }
    if let Message::ChannelSend(send) = &message {
        payloads(send.send_type, &send.data);
    }
    // The file transfer offer, which the door reads from any CREATE of
    // that service.
    if let Message::ChannelCreate(create) = &message
        && let Ok(offer) = file_transfer::Offer::from_bytes(&create.addtl)
    {
        match offer.to_bytes() {
            Ok(bytes) => assert_eq!(file_transfer::Offer::from_bytes(&bytes).unwrap(), offer),
            Err(error) => assert!(grew(&error), "{error}"),
        }
    }
}

fn buddy_list(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let (lenient, errors) = BuddyList::parse_lenient(&text);
    match BuddyList::parse(&text) {
        Ok(list) => {
            assert!(errors.is_empty());
            assert_eq!(list, lenient);
            if let Ok(written) = list.to_text() {
                assert_eq!(BuddyList::parse(&written).expect("written list parses"), list);
            }
        }
        Err(error) => assert_eq!(Some(&error), errors.first()),
    }
    let _ = BuddyList::from_storage_value(bytes);
}

fn login(bytes: &[u8]) {
    let Some((&auth_type, auth_data)) = bytes.split_first() else {
        return;
    };
    let keys = LoginKeys::from_parts(DhKeyPair::from_private(&[7; 32]), 0x1122_3344);
    let login = Login {
        login_type: 0x1700,
        name: "fuzz".into(),
        auth_data: auth_data.to_vec().into(),
        auth_type: u16::from(auth_type % 6),
    };
    let _ = decrypt_login(&login, Some(&keys), LoginOptions { allow_plain: true });
    let _ = decrypt_login(&login, None, LoginOptions::default());
}
