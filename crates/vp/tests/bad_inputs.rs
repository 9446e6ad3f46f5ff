//! The table of bad inputs and the error each gets. Every reader of VP
//! input answers bad bytes with a precise error (never a panic); the
//! fuzz target `fuzz/fuzz_targets/vp_frames.rs` explores beyond this
//! table.

use bytes::BytesMut;
use simul_vp::buddy_list::BuddyListError;
use simul_vp::crypto::{CryptoError, DhKeyPair};
use simul_vp::message::Login;
use simul_vp::services::{awareness, conference, file_transfer, im, resolve, storage};
use simul_vp::{
    Block as _, BuddyList, DecodeError, FrameCodec, FrameError, LoginError, LoginKeys,
    LoginOptions, Message, decrypt_login,
};
use tokio_util::codec::Decoder;

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

fn truncated(field: &'static str, needed: usize, remaining: usize) -> DecodeError {
    DecodeError::Truncated { field, needed, remaining }
}

#[test]
fn bad_messages() {
    let table: Vec<(&str, &str, DecodeError)> = vec![
        ("empty frame body", "", truncated("message type", 2, 0)),
        ("header cut in the channel", "0000 0000 0000", truncated("message channel", 4, 2)),
        (
            "attribute block longer than the frame",
            "0011 8000 00000000 00000010 ab",
            truncated("message attributes", 16, 1),
        ),
        ("handshake without login type", "0000 0000 00000000 001e 001d 00000000 00000000", truncated("handshake login_type", 2, 0)),
        (
            "handshake extra fields cut",
            "0000 0000 00000000 001e 001d 00000000 00000000 1700 00000000 0100",
            truncated("handshake unknown_b", 4, 0),
        ),
        (
            "login name longer than the frame",
            "0001 0000 00000000 1700 0010 616c696365",
            truncated("login name", 16, 5),
        ),
        (
            "login name not UTF-8",
            "0001 0000 00000000 1700 0002 c328 00000000 0002",
            DecodeError::BadUtf8 { field: "login name" },
        ),
        (
            "login without auth type",
            "0001 0000 00000000 1700 0001 61 00000000",
            truncated("auth_type", 2, 0),
        ),
        (
            "auth data length beyond the frame",
            "0001 0000 00000000 1700 0001 61 ffffffff 00",
            truncated("auth_data", u32::MAX as usize, 1),
        ),
        (
            "create cut before the service",
            "0002 0000 00000000 00000000 00000002 0000 0000",
            truncated("create service", 4, 0),
        ),
        (
            "create with a creator flag and no creator",
            "0002 0000 00000000 00000000 00000002 0000 0000 00000011 00000011 00030005 00000000 00000000 01",
            truncated("login_id", 2, 0),
        ),
        (
            "create offering more ciphers than fit",
            "0002 0000 00000000 00000000 00000002 0000 0000 00000011 00000011 00030005 00000000 00000000 00
             0001 00000007 00000005 0001 00",
            DecodeError::CountTooLarge { field: "offered ciphers", count: 5, remaining: 3 },
        ),
        (
            "accept cut in the addtl",
            "0006 0000 00000002 00000011 00000011 00030005 00000008 0000",
            truncated("accept addtl", 8, 2),
        ),
        ("send without data", "0004 0000 00000002 0068", truncated("send data", 4, 0)),
        ("destroy without reason", "0003 0000 00000000 0000", truncated("destroy reason", 4, 2)),
        ("status cut", "0009 0000 00000000 0020 0000", truncated("status time", 4, 2)),
        (
            "privacy list with a huge count",
            "000b 0000 00000000 01 ffffffff 00",
            DecodeError::CountTooLarge { field: "privacy users", count: u32::MAX, remaining: 1 },
        ),
        ("sense service without id", "0011 0000 00000000 0000", truncated("service id", 4, 2)),
        ("admin text cut", "0019 0000 00000000 0005 6869", truncated("admin text", 5, 2)),
        (
            "announce without recipients count",
            "0022 0000 00000000 00 0000 00000003 01 0000",
            truncated("announce recipients", 4, 0),
        ),
        (
            "login ack with a bad user id",
            "8001 0000 00000000 0005 4c30303031 1700 0001 ff",
            DecodeError::BadUtf8 { field: "user_id" },
        ),
    ];
    for (what, bytes, error) in table {
        assert_eq!(Message::decode(&hex(bytes)), Err(error), "{what}");
    }
}

#[test]
fn bad_frames() {
    let table: Vec<(&str, &str, &str)> = vec![
        (
            "length over the default 1 MiB limit",
            "00100001",
            "frame of 1048577 bytes is over the limit of 1048576 bytes",
        ),
        (
            "a length of 2^31 - 1",
            "7fffffff",
            "frame of 2147483647 bytes is over the limit of 1048576 bytes",
        ),
        (
            "huge length after keepalives",
            "80 80 ff 7fffffff",
            "frame of 2147483647 bytes is over the limit of 1048576 bytes",
        ),
    ];
    for (what, bytes, message) in table {
        let mut buf = BytesMut::from(&hex(bytes)[..]);
        let error = FrameCodec::new().decode(&mut buf).unwrap_err();
        assert_eq!(error.to_string(), message, "{what}");
        assert!(matches!(error, FrameError::TooLarge { .. }), "{what}");
    }
    let mut cut = BytesMut::from(&hex("00000008 0000 0000")[..]);
    let error = FrameCodec::new().decode_eof(&mut cut).unwrap_err();
    assert!(matches!(error, FrameError::Io(_)), "a frame cut by the end of the stream: {error}");
}

#[test]
fn bad_service_payloads() {
    let table: Vec<(&str, Result<(), DecodeError>, DecodeError)> = vec![
        (
            "awareness add with a huge count",
            awareness::ClientMessage::decode(awareness::send_type::ADD, &hex("ffffffff 0002"))
                .map(drop),
            DecodeError::CountTooLarge { field: "aware ids", count: u32::MAX, remaining: 2 },
        ),
        (
            "awareness add cut in an id",
            awareness::ClientMessage::decode(
                awareness::send_type::ADD,
                &hex("00000001 0002 0003 6262"),
            )
            .map(drop),
            truncated("aware user", 3, 2),
        ),
        (
            "awareness add with a bad user id",
            awareness::ClientMessage::decode(
                awareness::send_type::ADD,
                &hex("00000001 0002 0001 80 0000"),
            )
            .map(drop),
            DecodeError::BadUtf8 { field: "aware user" },
        ),
        (
            "awareness unknown send type",
            awareness::ClientMessage::decode(0x0070, &[]).map(drop),
            DecodeError::BadValue { field: "send type", value: 0x70 },
        ),
        (
            "server send type from a client",
            awareness::ClientMessage::decode(awareness::send_type::SNAPSHOT, &[]).map(drop),
            DecodeError::BadValue { field: "send type", value: 0x1f4 },
        ),
        (
            "attribute set cut before the value",
            awareness::ClientMessage::decode(
                awareness::send_type::OPT_DO_SET,
                &hex("00000000 00000002 00000000 00000006"),
            )
            .map(drop),
            truncated("attribute value", 4, 0),
        ),
        (
            "resolve on the wrong send type",
            resolve::Request::decode(0x0003, &[]).map(drop),
            DecodeError::BadValue { field: "send type", value: 3 },
        ),
        (
            "resolve without flags",
            resolve::Request::decode(
                resolve::SEND_TYPE,
                &hex("00000000 00000001 00000001 0001 61"),
            )
            .map(drop),
            truncated("resolve flags", 4, 0),
        ),
        (
            "storage load with more keys than fit",
            storage::ClientMessage::decode(
                storage::send_type::LOAD,
                &hex("00000001 00000002 00000000"),
            )
            .map(drop),
            DecodeError::CountTooLarge { field: "storage keys", count: 2, remaining: 4 },
        ),
        (
            "storage save with a value longer than the payload",
            storage::ClientMessage::decode(
                storage::send_type::SAVE,
                &hex("00000001 00000001 00000018 00000000 00000004 0002"),
            )
            .map(drop),
            truncated("storage value", 4, 2),
        ),
        (
            "IM message of an unknown kind",
            im::ImMessage::decode(im::SEND_TYPE, &hex("00000003")).map(drop),
            DecodeError::BadValue { field: "im message kind", value: 3 },
        ),
        (
            "IM text cut",
            im::ImMessage::decode(im::SEND_TYPE, &hex("00000001 0004 6869")).map(drop),
            truncated("im text", 4, 2),
        ),
        (
            "conference invite without text",
            conference::ClientMessage::decode(
                conference::send_type::INVITE,
                &hex("0003 626f62 0000 0000 00000000"),
            )
            .map(drop),
            truncated("invite text", 2, 0),
        ),
        (
            "conference welcome with a member count too large",
            conference::ServerMessage::decode(
                conference::send_type::WELCOME,
                &hex("0001 61 0000 0000 00000000 00000009"),
            )
            .map(drop),
            DecodeError::CountTooLarge { field: "welcome members", count: 9, remaining: 0 },
        ),
        (
            "file offer with a name longer than the bytes left",
            file_transfer::Offer::from_bytes(&hex("00000000 0010 61")).map(drop),
            truncated("ft filename", 16, 1),
        ),
        (
            "file offer without its size",
            file_transfer::Offer::from_bytes(&hex("00000000 0001 61 0000 0000")).map(drop),
            truncated("ft size", 4, 2),
        ),
        (
            "file acknowledgement with data",
            file_transfer::FtMessage::decode(file_transfer::send_type::RECEIVED, &[1, 2]).map(drop),
            DecodeError::BadValue { field: "ft received length", value: 2 },
        ),
        (
            "file transfer unknown send type",
            file_transfer::FtMessage::decode(0x0003, &[]).map(drop),
            DecodeError::BadValue { field: "send type", value: 3 },
        ),
    ];
    for (what, result, error) in table {
        assert_eq!(result, Err(error), "{what}");
    }
}

#[test]
fn bad_logins() {
    let keys = LoginKeys::from_parts(DhKeyPair::from_private(&[3; 32]), 0xdead_beef);
    let login = |auth_type: u16, data: &str| Login {
        login_type: 0x1700,
        name: "alice".into(),
        auth_data: hex(data).into(),
        auth_type,
    };
    let table: Vec<(&str, Login, LoginError)> = vec![
        ("unknown auth type", login(3, ""), LoginError::UnsupportedAuthType(3)),
        ("plain while switched off", login(0, "0001 61"), LoginError::PlainRefused),
        (
            "RC2/40 without ciphertext",
            login(2, "00000005 0102030405"),
            LoginError::Malformed(truncated("RC2/40 ciphertext", 4, 0)),
        ),
        (
            "RC2/40 with an empty key",
            login(2, "00000000 00000008 0001020304050607"),
            LoginError::Crypto(CryptoError::KeyLength(0)),
        ),
        (
            "RC2/40 ciphertext not a multiple of 8",
            login(2, "00000005 0102030405 00000007 00010203040506"),
            LoginError::Crypto(CryptoError::CiphertextLength(7)),
        ),
        (
            "RC2/40 ciphertext with bad padding",
            // "secret-password" encrypted with key 0102030405, last block
            // replaced by the first: the padding no longer decrypts.
            login(2, "00000005 0102030405 00000010 efaa305b1e289d6d efaa305b1e289d6d"),
            LoginError::Crypto(CryptoError::Padding),
        ),
        (
            "RC2/128 with the client key 1",
            login(4, "0001 00000001 01 00000008 0001020304050607"),
            LoginError::Crypto(CryptoError::PublicKey),
        ),
        (
            "RC2/128 cut after the marker",
            login(4, "0001"),
            LoginError::Malformed(truncated("RC2/128 client key", 4, 0)),
        ),
        (
            "RC2/128 with a random ciphertext",
            login(4, "0001 00000001 05 00000008 0001020304050607"),
            LoginError::Crypto(CryptoError::Padding),
        ),
    ];
    for (what, login, error) in table {
        let result = decrypt_login(&login, Some(&keys), LoginOptions::default());
        assert_eq!(result.as_ref().err(), Some(&error), "{what}: {result:?}");
        assert_eq!(error.reason(), simul_vp::ErrorCode::IncorrectLogin, "{what}");
    }
    let no_key = decrypt_login(&login(4, "0001"), None, LoginOptions::default());
    assert_eq!(no_key.err(), Some(LoginError::NoKeyOffered));
}

#[test]
fn bad_buddy_lists() {
    let line = |line, reason| BuddyListError::Line { line, reason };
    let table: Vec<(&str, &str, BuddyListError)> = vec![
        ("user before any group", "U bob1:: Bob,", line(1, "user line outside any group")),
        (
            "version with two parts",
            "Version=3.1\r\n",
            line(1, "version is not Version=major.minor.micro"),
        ),
        (
            "version not a number",
            "Version=3.x.1",
            line(1, "version is not Version=major.minor.micro"),
        ),
        (
            "group without state",
            "G Buddies2 Buddies",
            line(1, "group line needs <name><type> <alias> <O|C>"),
        ),
        (
            "group with a bad state",
            "G Buddies2 Buddies X",
            line(1, "group state is neither O nor C"),
        ),
        ("group name only a type char", "G 2 Buddies O", line(1, "group name is empty")),
        ("user without ::", "G B2 B O\nU bob1 Bob,", line(2, "user line has no \"::\"")),
        ("user id only a type char", "G B2 B O\r\nU 1:: Bob,", line(2, "user id is empty")),
        ("unknown line", "Version=3.1.3\r\nX what", line(2, "unknown line (not Version=, G or U)")),
        (
            "users after a bad group",
            "G B2 B O\nG bad\nU bob1:: Bob,",
            line(2, "group line needs <name><type> <alias> <O|C>"),
        ),
    ];
    for (what, text, error) in table {
        assert_eq!(BuddyList::parse(text), Err(error), "{what}");
    }
    assert_eq!(
        BuddyList::from_storage_value(&hex("0010 56")),
        Err(BuddyListError::Storage(truncated("buddy list", 16, 1)))
    );
    let (_, errors) = BuddyList::parse_lenient("G B2 B O\nG bad\nU bob1:: Bob,");
    assert_eq!(
        errors,
        [
            line(2, "group line needs <name><type> <alias> <O|C>"),
            line(3, "user line outside any group")
        ]
    );
}
