//! The frames of spec §13.3 and the encryption blocks of §13.4: every
//! frame decodes through the frame codec and the message parser, and the
//! frames the server writes (and those whose layout the writer keeps) are
//! re-encoded byte for byte. §13.1 and §13.2 are unit tests of
//! `crypto` and `login`.

use bytes::BytesMut;
use simul_vp::message::{
    ChannelAccept, ChannelCreate, ChannelDestroy, ChannelSend, ChosenCipher, CipherOffer,
    EncryptAccept, EncryptOffer, Handshake, HandshakeAck, HandshakeExtra, LoginAck, encrypt_mode,
};
use simul_vp::services::{self, awareness};
use simul_vp::{
    AwareIdBlock, AwareSnapshot, Block, Credential, EncryptItem, FrameCodec, IdBlock, LoginDetails,
    LoginInfo, LoginOptions, Message, PrivacyInfo, UserStatus, decrypt_login,
};
use tokio_util::codec::{Decoder, Encoder};

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

const HANDSHAKE: &str =
    "000000220000000000000000001e001d00000000000000001700000000000100000000000000";
const HANDSHAKE_ACK: &str = "000000108000000000000000001e00187f000001";
const LOGIN: &str = "00000036000100000000000017000005616c6963650000001d000000057c5fc3cce20000001043b9486de4aaf8de8d84c8ca5748b1d100020000";
const LOGIN_ACK: &str = "0000004d800100000000000000094c303030303030303117000005616c6963650005416c6963650000010004646573637f000001000c70726f746f2d736572766572000000000000000020000000000000";
const CREATE: &str = "000000350002000000000000000000000000000200000000000000110000001100030005000000000000000000000000000000000000000007";
const ACCEPT: &str =
    "000000290006000000000002000000110000001100030005000000000000000000000000000000000000000007";
const AWARE_ADD: &str = "0000001b000400000000000200680000000d0000000100020003626f620000";
const SNAPSHOT: &str =
    "00000022000400000000000201f400000014000000010000001000020003626f620000000000";
const LOGOUT: &str = "0000001000030000000000000000000000000000";

/// Decodes one whole frame (length included) with the codec.
fn decode_frame(frame: &str) -> Message {
    let mut buf = BytesMut::from(&hex(frame)[..]);
    let body = FrameCodec::new().decode(&mut buf).unwrap().expect("a whole frame");
    assert!(buf.is_empty(), "the frame length covers the whole vector");
    Message::decode(&body).unwrap()
}

/// Encodes a message as a frame (length included).
fn encode_frame(message: &Message) -> Vec<u8> {
    let mut out = BytesMut::new();
    FrameCodec::new().encode(message, &mut out).unwrap();
    out.to_vec()
}

fn assert_rewrites(frame: &str, message: &Message) {
    assert_eq!(encode_frame(message), hex(frame), "{message:?}");
}

#[test]
fn client_handshake() {
    let message = decode_frame(HANDSHAKE);
    let expected = Message::Handshake(Handshake {
        major: 0x1e,
        minor: 0x1d,
        channel: 0,
        srvrcalc_addr: 0,
        login_type: 0x1700,
        loclcalc_addr: 0,
        extra: Some(HandshakeExtra { unknown_a: 0x0100, unknown_b: 0, local_host: String::new() }),
    });
    assert_eq!(message, expected);
    assert_rewrites(HANDSHAKE, &message);
}

#[test]
fn server_handshake_ack_without_key() {
    let ack = Message::HandshakeAck(HandshakeAck::without_key(0x7f00_0001));
    assert_rewrites(HANDSHAKE_ACK, &ack);
    assert_eq!(decode_frame(HANDSHAKE_ACK), ack);
}

#[test]
fn client_login_rc2_40() {
    let Message::Login(login) = decode_frame(LOGIN) else { panic!("not a LOGIN") };
    assert_eq!((login.login_type, login.name.as_str(), login.auth_type), (0x1700, "alice", 2));
    match decrypt_login(&login, None, LoginOptions::default()).unwrap() {
        Credential::Password(password) => assert_eq!(password.expose(), b"wonderland"),
        Credential::Token(_) => panic!("a password login"),
    }
    assert_rewrites(LOGIN, &Message::Login(login));
}

#[test]
fn server_login_ack() {
    let ack = Message::LoginAck(LoginAck {
        login: LoginInfo {
            login_id: "L00000001".into(),
            login_type: 0x1700,
            user_id: "alice".into(),
            user_name: "Alice".into(),
            community: String::new(),
            details: Some(LoginDetails {
                desc: "desc".into(),
                ip_addr: 0x7f00_0001,
                server_id: "proto-server".into(),
            }),
        },
        unknown: 0,
        // The vector has deny 0 (ignored by libmeanwhile); §4.7 prefers deny 1.
        privacy: PrivacyInfo { deny: false, users: Vec::new() },
        status: UserStatus::active(),
    });
    assert_rewrites(LOGIN_ACK, &ack);
    assert_eq!(decode_frame(LOGIN_ACK), ack);
}

#[test]
fn client_create_and_server_accept_for_awareness() {
    let Message::ChannelCreate(create) = decode_frame(CREATE) else { panic!("not a CREATE") };
    assert_eq!(
        create,
        ChannelCreate {
            channel: 2,
            target: IdBlock::default(),
            service: 0x11,
            proto_type: 0x11,
            proto_ver: 0x0003_0005,
            options: 0,
            addtl: Vec::new(),
            creator: None,
            encrypt: EncryptOffer::none(),
        }
    );
    assert_eq!(services::ServiceId::from_service(create.service), Some(services::AWARENESS));
    // The client omits the offer's opaque; the server's writer never does
    // (trap 9.19), so the rewrite is four bytes longer but reads the same.
    let rewritten = encode_frame(&Message::ChannelCreate(create.clone()));
    assert_eq!(rewritten.len(), hex(CREATE).len() + 4);
    assert_eq!(Message::decode(&rewritten[4..]).unwrap(), Message::ChannelCreate(create.clone()));

    let accept = Message::ChannelAccept(ChannelAccept::for_service(&create));
    assert_rewrites(ACCEPT, &accept);
    assert_eq!(decode_frame(ACCEPT), accept);
}

#[test]
fn client_aware_add_and_server_snapshot() {
    let Message::ChannelSend(send) = decode_frame(AWARE_ADD) else { panic!("not a SEND") };
    assert_eq!((send.channel, send.encrypted, send.send_type), (2, false, 0x0068));
    let add = awareness::ClientMessage::decode(send.send_type, &send.data).unwrap();
    assert_eq!(add, awareness::ClientMessage::Add(vec![AwareIdBlock::user("bob")]));
    assert_rewrites(AWARE_ADD, &Message::ChannelSend(ChannelSend::new(2, add.encode().unwrap())));

    let offline =
        AwareSnapshot { id: AwareIdBlock::user("bob"), group: String::new(), online: None };
    let snapshot = awareness::ServerMessage::Snapshot(vec![offline]);
    let message = Message::ChannelSend(ChannelSend::new(2, snapshot.encode().unwrap()));
    assert_rewrites(SNAPSHOT, &message);
    let Message::ChannelSend(send) = decode_frame(SNAPSHOT) else { panic!("not a SEND") };
    assert_eq!(awareness::ServerMessage::decode(send.send_type, &send.data).unwrap(), snapshot);
}

#[test]
fn client_logout() {
    let message = decode_frame(LOGOUT);
    assert_eq!(message, Message::ChannelDestroy(ChannelDestroy::default()));
    assert_rewrites(LOGOUT, &message);
}

#[test]
fn all_frames_in_one_stream_with_keepalives() {
    let mut stream = Vec::new();
    for frame in [HANDSHAKE, LOGIN, CREATE, AWARE_ADD, LOGOUT] {
        stream.push(0x80);
        stream.extend(hex(frame));
    }
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::new();
    let mut messages = Vec::new();
    // One byte per read: the worst split.
    for byte in stream {
        buf.extend_from_slice(&[byte]);
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            messages.push(Message::decode(&frame).unwrap());
        }
    }
    assert_eq!(messages.len(), 5);
    assert!(matches!(messages[0], Message::Handshake(_)));
    assert!(matches!(messages[4], Message::ChannelDestroy(_)));
}

/// §13.4, with a stand-in for the 64-byte keys the spec elides.
#[test]
fn encryption_blocks_of_an_im_channel() {
    let creator_key: Vec<u8> = (0..64).collect();
    let acceptor_key: Vec<u8> = (64..128).collect();
    let offer = EncryptOffer {
        mode: encrypt_mode::WHATEVER,
        ciphers: Some(CipherOffer {
            items: vec![
                EncryptItem { cipher: EncryptItem::RC2_40, info: Vec::new() },
                EncryptItem { cipher: EncryptItem::RC2_128, info: creator_key.clone() },
            ],
            extra: 1,
            flag: false,
        }),
    };
    let mut expected = hex("0001 00000053 00000002 0000 00000000 0001 00000040");
    expected.extend(&creator_key);
    expected.extend(hex("0001 00"));
    assert_eq!(offer.to_bytes().unwrap(), expected);
    assert_eq!(EncryptOffer::from_bytes(&expected).unwrap(), offer);

    let accept = EncryptAccept {
        mode: encrypt_mode::RC2_128,
        chosen: Some(ChosenCipher {
            item: EncryptItem { cipher: EncryptItem::RC2_128, info: acceptor_key.clone() },
            extra: 1,
            flag: false,
        }),
    };
    let mut expected = hex("2000 00000049 0001 00000040");
    expected.extend(&acceptor_key);
    expected.extend(hex("0001 00"));
    assert_eq!(accept.to_bytes().unwrap(), expected);
    assert_eq!(EncryptAccept::from_bytes(&expected).unwrap(), accept);
}
