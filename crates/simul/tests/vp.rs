//! The Sametime VP door, spoken to by a client made of the protocol
//! layer (`simul_vp`): login by password and by LTPA token, the refusals
//! Pidgin words as sentences, and one status for a user on every door.
//! Debian's libmeanwhile is in `mod libmeanwhile`; Pidgin's own plugin in
//! `vp_pidgin.rs`.

use crate::support;

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt as _};
use serde_json::{Value, json};
use simul_vp::crypto::DhKeyPair;
use simul_vp::login::compose_rc2_128;
use simul_vp::message::{Handshake, Login};
use simul_vp::{ErrorCode, FrameCodec, Message, UserStatus};
use support::vp::{put_json, vp_server, vp_server_with, web_joins_invitation, web_sees};
use support::{Server, deployment, deployment_with_names, eventually, get_json, log_in};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

type Frames = Framed<TcpStream, FrameCodec>;

async fn next(frames: &mut Frames) -> Message {
    let frame = tokio::time::timeout(std::time::Duration::from_secs(10), frames.next())
        .await
        .expect("an answer in time")
        .expect("the connection is open")
        .expect("a frame");
    Message::decode(&frame).expect("a message")
}

/// Connects, shakes hands and logs in as Meanwhile does (RC2/128); the
/// server's answer to the LOGIN.
async fn log_in_vp(address: SocketAddr, name: &str, password: &str) -> (Frames, Message) {
    let mut frames = Framed::new(TcpStream::connect(address).await.unwrap(), FrameCodec::new());
    frames.send(&Message::Handshake(meanwhile_handshake())).await.unwrap();
    let Message::HandshakeAck(ack) = next(&mut frames).await else { panic!("no HANDSHAKE_ACK") };
    let key = ack.key.expect("the server offers RC2/128");
    let auth_data =
        compose_rc2_128(&DhKeyPair::generate(), &key.dh_public, key.magic, password.as_bytes())
            .unwrap();
    let login = Login { login_type: 0x1700, name: name.into(), auth_data, auth_type: 4 };
    frames.send(&Message::Login(login)).await.unwrap();
    let answer = next(&mut frames).await;
    (frames, answer)
}

fn refusal(answer: &Message) -> u32 {
    match answer {
        Message::ChannelDestroy(destroy) if destroy.channel == 0 => destroy.reason,
        other => panic!("not a refusal: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sametime_client_logs_in_and_its_status_is_the_users_on_every_door() {
    let dir = deployment(&["alice", "bob"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let (mut alice, answer) = log_in_vp(address, "alice", "long enough").await;
    let Message::LoginAck(ack) = answer else { panic!("not logged in: {answer:?}") };
    assert_eq!(ack.login.user_id, "alice");
    assert!(ack.login.login_id.len() >= 5, "RC2/40 channel keys need 5 bytes");
    assert!(ack.login.community.is_empty(), "a user of this community");

    // Seen from the web: online, then away with the message set in the
    // Sametime client.
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let status = || async { get_json(&server, "/api/v1/awareness?user=alice", &bob).await };
    assert_eq!(status().await["alice"]["status"], "available");
    let away = UserStatus { status: UserStatus::AWAY, time: 0, desc: "lunch".into() };
    alice.send(&Message::SetUserStatus(away)).await.unwrap();
    eventually("the web sees the Sametime client's status", || async {
        let seen: Value = status().await;
        seen["alice"]["status"] == "away" && seen["alice"]["message"] == "lunch"
    })
    .await;

    // A service not built yet (place) is refused, not echoed (no create loop).
    let create =
        simul_vp::message::ChannelCreate { channel: 1, service: 0x8000_0022, ..Default::default() };
    alice.send(&Message::ChannelCreate(create)).await.unwrap();
    match next(&mut alice).await {
        Message::ChannelDestroy(destroy) => {
            assert_eq!((destroy.channel, destroy.reason), (1, ErrorCode::ServiceNoSupport.code()));
        }
        other => panic!("not refused: {other:?}"),
    }

    // Logging out (channel 0 destroyed, reason 0) takes the user
    // offline everywhere.
    let logout = simul_vp::message::ChannelDestroy { channel: 0, reason: 0, data: Vec::new() };
    alice.send(&Message::ChannelDestroy(logout)).await.unwrap();
    drop(alice);
    eventually("offline once the client leaves", || async {
        status().await["alice"]["status"] == "offline"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_and_unknown_users_get_one_answer_and_tokens_work_as_passwords() {
    let dir = deployment(&["alice"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let incorrect = ErrorCode::IncorrectLogin.code();
    assert_eq!(refusal(&log_in_vp(address, "alice", "not it").await.1), incorrect);
    assert_eq!(refusal(&log_in_vp(address, "nobody", "not it").await.1), incorrect);

    // An SSO user of a portal pastes their LtpaToken2 into Pidgin's
    // password field.
    let (token, _) = log_in(&server, "alice", "long enough").await;
    let (_alice, answer) = log_in_vp(address, "alice", &token).await;
    let Message::LoginAck(ack) = answer else { panic!("the token was refused: {answer:?}") };
    assert_eq!(ack.login.user_id, "alice");
    let mut forged = token.into_bytes();
    let last = forged.len() / 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(refusal(&log_in_vp(address, "alice", &forged).await.1), incorrect);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flooding_client_is_cut_off_and_others_carry_on() {
    let dir = deployment(&["alice", "bob"]);
    let (_server, address) = vp_server(&dir.path().join("data"));
    let (mut alice, answer) = log_in_vp(address, "alice", "long enough").await;
    assert!(matches!(answer, Message::LoginAck(_)), "{answer:?}");
    // No person changes status a thousand times a second.
    for n in 0..1_000 {
        let status = UserStatus { status: UserStatus::AWAY, time: 0, desc: format!("{n}") };
        if alice.send(&Message::SetUserStatus(status)).await.is_err() {
            break;
        }
    }
    loop {
        match next(&mut alice).await {
            Message::ChannelDestroy(destroy) if destroy.channel == 0 => {
                assert_eq!(destroy.reason, ErrorCode::UserRestricted.code());
                break;
            }
            _ => {}
        }
    }
    let (_bob, answer) = log_in_vp(address, "bob", "long enough").await;
    assert!(matches!(answer, Message::LoginAck(_)), "the door still serves others: {answer:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_holds_at_most_256_conversations() {
    use simul_vp::message::ChannelCreate;
    use simul_vp::services::{self, conference::CreateInfo};
    use simul_vp::{Block as _, IdBlock};
    let dir = deployment(&["alice"]);
    let lifted = [
        ("SIMUL_SERVER__MESSAGES_PER_MINUTE", "1000000"),
        ("SIMUL_SERVER__MESSAGE_BURST", "1000000"),
        ("SIMUL_SERVER__COMMANDS_PER_SECOND", "1000000"),
        ("SIMUL_SERVER__COMMAND_BURST", "1000000"),
    ];
    let (_server, address) = vp_server_with(&dir.path().join("data"), &lifted);
    let (mut alice, answer) = log_in_vp(address, "alice", "long enough").await;
    assert!(matches!(answer, Message::LoginAck(_)), "{answer:?}");
    // 257 conferences, as a script would open them.
    for channel in 1..=257 {
        let info = CreateInfo { name: format!("conference {channel}"), title: "t".into() };
        let create = ChannelCreate {
            channel,
            target: IdBlock::default(),
            service: services::CONFERENCE.service,
            proto_type: services::CONFERENCE.proto_type,
            proto_ver: services::CONFERENCE.proto_ver,
            addtl: info.to_bytes().unwrap(),
            ..ChannelCreate::default()
        };
        alice.send(&Message::ChannelCreate(create)).await.unwrap();
    }
    let mut accepted = 0;
    loop {
        match next(&mut alice).await {
            Message::ChannelAccept(_) => accepted += 1,
            Message::ChannelDestroy(destroy) => {
                assert_eq!((destroy.channel, destroy.reason), (257, ErrorCode::Starving.code()));
                break;
            }
            _ => {}
        }
    }
    assert_eq!(accepted, 256);
}

/// File transfer channels (spec §6.6) that break the protocol: each ends
/// with a DESTROY naming why, nothing of the file is kept, and the
/// connection carries on.
#[tokio::test(flavor = "multi_thread")]
async fn file_transfers_that_break_the_protocol_are_ended_and_keep_nothing() {
    use simul_vp::message::{ChannelCreate, ChannelSend};
    use simul_vp::services::{self, file_transfer::FtMessage, file_transfer::Offer};
    use simul_vp::{Block as _, IdBlock};
    use support::files::{Part, upload};
    let dir = deployment(&["alice", "bob"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let (mut alice, answer) = log_in_vp(address, "alice", "long enough").await;
    assert!(matches!(answer, Message::LoginAck(_)), "{answer:?}");
    let offer = |channel: u32, addtl: Vec<u8>| {
        Message::ChannelCreate(ChannelCreate {
            channel,
            target: IdBlock { user: "bob".into(), community: String::new() },
            service: services::FILE_TRANSFER.service,
            proto_type: services::FILE_TRANSFER.proto_type,
            proto_ver: services::FILE_TRANSFER.proto_ver,
            addtl,
            ..ChannelCreate::default()
        })
    };
    let of_size = |size| Offer { filename: "f.txt".into(), message: String::new(), size };
    let chunk = |channel, bytes: &[u8], encrypted| {
        let (send_type, data) = FtMessage::Transfer(bytes.to_vec()).encode();
        Message::ChannelSend(ChannelSend { channel, encrypted, send_type, data })
    };
    async fn destroyed(frames: &mut Frames) -> (u32, u32) {
        loop {
            if let Message::ChannelDestroy(destroy) = next(frames).await {
                return (destroy.channel, destroy.reason);
            }
        }
    }

    // An offer whose addtl is cut short; an empty file.
    alice.send(&offer(1, vec![0, 0, 0, 0, 0, 9])).await.unwrap();
    assert_eq!(destroyed(&mut alice).await, (1, ErrorCode::BadData.code()));
    alice.send(&offer(2, of_size(0).to_bytes().unwrap())).await.unwrap();
    assert_eq!(destroyed(&mut alice).await, (2, ErrorCode::NotAuthorized.code()));
    // A channel id of the server's range.
    alice.send(&offer(0x8000_0001, of_size(1).to_bytes().unwrap())).await.unwrap();
    assert_eq!(destroyed(&mut alice).await, (0x8000_0001, ErrorCode::RequestInvalid.code()));
    // More bytes than offered.
    alice.send(&offer(3, of_size(10).to_bytes().unwrap())).await.unwrap();
    assert!(matches!(next(&mut alice).await, Message::ChannelAccept(a) if a.channel == 3));
    alice.send(&chunk(3, b"0123456789!", false)).await.unwrap();
    assert_eq!(destroyed(&mut alice).await, (3, ErrorCode::RequestInvalid.code()));
    // A payload encrypted with a cipher the door never agreed to.
    alice.send(&offer(4, of_size(10).to_bytes().unwrap())).await.unwrap();
    assert!(matches!(next(&mut alice).await, Message::ChannelAccept(a) if a.channel == 4));
    alice.send(&chunk(4, b"0123456789", true)).await.unwrap();
    assert_eq!(destroyed(&mut alice).await, (4, ErrorCode::RequestInvalid.code()));
    let history = get_json(&server, "/api/v1/im/alice/history", &bob).await;
    assert_eq!(history.as_array().map(Vec::len), Some(0), "nothing kept: {history}");

    // The door's own offer: a chunk from the receiver, or an
    // acknowledgement before it accepted, ends it.
    let received = Message::ChannelSend(ChannelSend::new(0, FtMessage::Received.encode()));
    for wrong in [chunk(0, b"x", false), received] {
        let file = Part::File("w.txt", "text/plain", b"from the web");
        let (status, _) = upload(&server, &bob, &[Part::Text("to", "alice"), file]).await;
        assert_eq!(status, reqwest::StatusCode::OK);
        let channel = loop {
            match next(&mut alice).await {
                Message::ChannelCreate(create) if create.service == 0x38 => break create.channel,
                _ => {}
            }
        };
        let Message::ChannelSend(mut wrong) = wrong else { unreachable!() };
        wrong.channel = channel;
        alice.send(&Message::ChannelSend(wrong)).await.unwrap();
        assert_eq!(destroyed(&mut alice).await, (channel, ErrorCode::RequestInvalid.code()));
    }
}

/// Spec §13 scenario: malformed input from a raw TCP client, one row
/// each with the answer the spec documents (§1.2, §1.4, §4.1, §4.9, §5.4):
/// the connection closed with a code, an error code on the channel, or
/// the message ignored. The door stays up and another client never
/// notices.
#[tokio::test(flavor = "multi_thread")]
async fn malformed_and_oversized_frames_get_their_codes_and_harm_nobody() {
    use simul_vp::message::{ChannelAccept, ChannelCreate, ChannelDestroy, ChannelSend};
    use tokio::io::AsyncWriteExt as _;
    let dir = deployment(&["alice", "bob"]);
    let (_server, address) = vp_server(&dir.path().join("data"));
    let (mut bob, answer) = log_in_vp(address, "bob", "long enough").await;
    assert!(matches!(answer, Message::LoginAck(_)), "{answer:?}");
    let (invalid, fat) = (ErrorCode::RequestInvalid.code(), ErrorCode::FatMessage.code());

    // Before the login: the connection ends, with the code of its row.
    let login = Login {
        login_type: 0x1700,
        name: "alice".into(),
        auth_data: Default::default(),
        auth_type: 4,
    };
    let handshake_then_create = [
        frame_of(&Message::Handshake(meanwhile_handshake())),
        frame_of(&Message::ChannelCreate(ChannelCreate { channel: 1, ..Default::default() })),
    ]
    .concat();
    let before_login: [(&str, Vec<u8>, u32); 9] = [
        ("an HTTP request instead of a handshake", b"GET / HTTP/1.1\r\n\r\n".to_vec(), fat),
        ("a frame too short for a header", vec![0, 0, 0, 3, 1, 2, 3], invalid),
        ("a HANDSHAKE too short for its fields", raw_frame(0x0000, 0, &[0, 0x1e]), invalid),
        ("an unknown message type", raw_frame(0x0777, 0, &[1, 2, 3, 4]), invalid),
        ("a LOGIN before the HANDSHAKE", frame_of(&Message::Login(login.clone())), invalid),
        ("channel traffic instead of the LOGIN", handshake_then_create, invalid),
        ("a frame that announces 2 GiB", vec![0x7f, 0xff, 0xff, 0xff, 0], fat),
        ("a frame one byte over 1 MiB", vec![0x00, 0x10, 0x00, 0x01, 0], fat),
        ("a channel-0 DESTROY with no reason", raw_frame(0x0003, 0, &[0, 0]), invalid),
    ];
    for (row, bytes, code) in before_login {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(&bytes).await.unwrap();
        let mut frames = Framed::new(stream, FrameCodec::new());
        let answer = loop {
            match next(&mut frames).await {
                Message::HandshakeAck(_) => continue,
                answer => break answer,
            }
        };
        assert_eq!(refusal(&answer), code, "{row}: {answer:?}");
    }

    // Logged in: the message is dropped or its channel refused, and the
    // connection carries on (a SENSE_SERVICE for awareness, echoed, shows
    // it after each row).
    enum Outcome {
        Ignored,
        Refused(u32, ErrorCode),
    }
    let (mut alice, answer) = log_in_vp(address, "alice", "long enough").await;
    assert!(matches!(answer, Message::LoginAck(_)), "{answer:?}");
    let awareness = ChannelCreate { channel: 4, service: 0x11, ..Default::default() };
    alice.send(&Message::ChannelCreate(awareness)).await.unwrap();
    assert!(matches!(next(&mut alice).await, Message::ChannelAccept(_)));
    let stranger = ChannelCreate { channel: 0x77, service: 0x11, ..Default::default() };
    let unknown_service = ChannelCreate { channel: 9, service: 0x00ba_dbad, ..Default::default() };
    let garbage = ChannelSend { channel: 4, encrypted: false, send_type: 0x68, data: vec![1, 2] };
    let elsewhere = ChannelSend { channel: 0x78, ..garbage.clone() };
    let logged_in: [(&str, Vec<u8>, Outcome); 11] = [
        (
            "a CHANNEL_CREATE too short for its fields",
            raw_frame(2, 0, &[0, 0, 0]),
            Outcome::Ignored,
        ),
        ("an unknown message type", raw_frame(0x0777, 0, &[9; 12]), Outcome::Ignored),
        ("HANDSHAKE_SYN (Wireshark only)", raw_frame(0x0025, 0, &[]), Outcome::Ignored),
        ("an empty frame", vec![0, 0, 0, 0], Outcome::Ignored),
        (
            "a CHANNEL_CREATE for an unknown service",
            frame_of(&Message::ChannelCreate(unknown_service)),
            Outcome::Refused(9, ErrorCode::ServiceNoSupport),
        ),
        (
            "a CHANNEL_ACCEPT for an unknown channel",
            frame_of(&Message::ChannelAccept(ChannelAccept::for_service(&stranger))),
            Outcome::Ignored,
        ),
        (
            "a CHANNEL_SEND on an unknown channel",
            frame_of(&Message::ChannelSend(elsewhere)),
            Outcome::Ignored,
        ),
        (
            "a CHANNEL_DESTROY of an unknown channel",
            frame_of(&Message::ChannelDestroy(ChannelDestroy::new(0x79, ErrorCode::Failure))),
            Outcome::Ignored,
        ),
        (
            "garbage on the awareness channel",
            frame_of(&Message::ChannelSend(garbage)),
            Outcome::Ignored,
        ),
        (
            "a SENSE_SERVICE for a service not served (file transfer)",
            frame_of(&Message::SenseService { service: 0x38 }),
            Outcome::Ignored,
        ),
        ("a SET_USER_STATUS too short", raw_frame(0x0009, 0, &[0, 0x20, 0]), Outcome::Ignored),
    ];
    for (row, bytes, outcome) in logged_in {
        let probe = frame_of(&Message::SenseService { service: 0x11 });
        alice.get_mut().write_all(&[bytes, probe].concat()).await.unwrap();
        if let Outcome::Refused(channel, code) = outcome {
            match next(&mut alice).await {
                Message::ChannelDestroy(destroy) => {
                    assert_eq!((destroy.channel, destroy.reason), (channel, code.code()), "{row}");
                }
                other => panic!("{row}: not refused: {other:?}"),
            }
        }
        match next(&mut alice).await {
            Message::SenseService { service: 0x11 } => {}
            other => panic!("{row}: the connection did not carry on: {other:?}"),
        }
    }

    // Logged in, and still the end of the connection.
    let after_login: [(&str, Vec<u8>, u32); 3] = [
        ("a second HANDSHAKE", frame_of(&Message::Handshake(meanwhile_handshake())), invalid),
        ("a second LOGIN", frame_of(&Message::Login(login)), invalid),
        ("a frame over the limit", vec![0x00, 0x10, 0x00, 0x01, 0], fat),
    ];
    for (row, bytes, code) in after_login {
        let (mut carol, _) = log_in_vp(address, "alice", "long enough").await;
        carol.get_mut().write_all(&bytes).await.unwrap();
        assert_eq!(refusal(&next(&mut carol).await), code, "{row}");
    }

    // The door serves on, and bob never noticed.
    bob.send(&Message::SenseService { service: 0x11 }).await.unwrap();
    assert_eq!(next(&mut bob).await, Message::SenseService { service: 0x11 });
    let (_alice, answer) = log_in_vp(address, "alice", "long enough").await;
    assert!(matches!(answer, Message::LoginAck(_)), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watch_list_of_800_buddies_is_answered_in_one_snapshot() {
    use simul_vp::services::awareness::{ClientMessage, ServerMessage};
    use simul_vp::{AwareIdBlock, message::ChannelCreate, message::ChannelSend};
    let dir = deployment(&["alice", "bob"]);
    let (_server, address) = vp_server(&dir.path().join("data"));
    let (_bob, _) = log_in_vp(address, "bob", "long enough").await;
    let (mut alice, _) = log_in_vp(address, "alice", "long enough").await;
    let create = ChannelCreate { channel: 7, service: 0x11, ..Default::default() };
    alice.send(&Message::ChannelCreate(create)).await.unwrap();
    assert!(matches!(next(&mut alice).await, Message::ChannelAccept(_)));
    // A long list: people of the SSO domain the directory may not hold, and bob.
    let mut ids: Vec<AwareIdBlock> = (0..799)
        .map(|n| AwareIdBlock {
            kind: AwareIdBlock::USER,
            user: format!("user{n}"),
            community: String::new(),
        })
        .collect();
    ids.push(AwareIdBlock {
        kind: AwareIdBlock::USER,
        user: "bob".into(),
        community: String::new(),
    });
    let (send_type, data) = ClientMessage::Add(ids).encode().unwrap();
    let add = ChannelSend { channel: 7, encrypted: false, send_type, data };
    alice.send(&Message::ChannelSend(add)).await.unwrap();
    let Message::ChannelSend(reply) = next(&mut alice).await else { panic!("no snapshot") };
    let Ok(ServerMessage::Snapshot(entries)) = ServerMessage::decode(reply.send_type, &reply.data)
    else {
        panic!("not a snapshot")
    };
    assert_eq!(entries.len(), 800);
    let online: Vec<&str> =
        entries.iter().filter(|e| e.online.is_some()).map(|e| e.id.user.as_str()).collect();
    assert_eq!(online, ["bob"]);
}

/// The bytes of one frame: length, then `message`.
fn frame_of(message: &Message) -> Vec<u8> {
    let body = message.encode().unwrap();
    [&u32::try_from(body.len()).unwrap().to_be_bytes()[..], &body].concat()
}

/// A frame of any message type, channel and body, well formed or not.
fn raw_frame(message_type: u16, channel: u32, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::new();
    message.extend_from_slice(&message_type.to_be_bytes());
    message.extend_from_slice(&0u16.to_be_bytes());
    message.extend_from_slice(&channel.to_be_bytes());
    message.extend_from_slice(body);
    [&u32::try_from(message.len()).unwrap().to_be_bytes()[..], &message].concat()
}

/// The HANDSHAKE libmeanwhile sends.
fn meanwhile_handshake() -> Handshake {
    Handshake {
        major: 0x1e,
        minor: 0x1d,
        channel: 0,
        srvrcalc_addr: 0,
        login_type: 0x1700,
        loclcalc_addr: 0,
        extra: None,
    }
}

/// The RC2/128 LOGIN answering `ack`, as libmeanwhile composes it.
fn rc2_128_login(ack: &simul_vp::message::HandshakeAck, name: &str, password: &str) -> Message {
    let key = ack.key.as_ref().expect("the server offers RC2/128");
    let auth_data =
        compose_rc2_128(&DhKeyPair::generate(), &key.dh_public, key.magic, password.as_bytes())
            .unwrap();
    Message::Login(Login { login_type: 0x1700, name: name.into(), auth_data, auth_type: 4 })
}

/// Spec §12.5 scenario 12: keepalive bytes (§1.3) before the first frame,
/// before a frame split over two writes, and between frames of one write.
#[tokio::test(flavor = "multi_thread")]
async fn keepalive_bytes_before_between_and_inside_writes_of_frames_are_skipped() {
    use simul_vp::services::awareness::{ClientMessage, ServerMessage};
    use simul_vp::{AwareIdBlock, message::ChannelCreate, message::ChannelSend};
    use tokio::io::AsyncWriteExt as _;
    let dir = deployment(&["alice", "bob"]);
    let (_server, address) = vp_server(&dir.path().join("data"));
    let (_bob, _) = log_in_vp(address, "bob", "long enough").await;
    let stream = TcpStream::connect(address).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut alice = Framed::new(stream, FrameCodec::new());

    let hello = [vec![0x80, 0x80, 0xff], frame_of(&Message::Handshake(meanwhile_handshake()))];
    alice.get_mut().write_all(&hello.concat()).await.unwrap();
    let Message::HandshakeAck(ack) = next(&mut alice).await else { panic!("no HANDSHAKE_ACK") };
    let login = frame_of(&rc2_128_login(&ack, "alice", "long enough"));
    let (head, tail) = login.split_at(7);
    alice.get_mut().write_all(&[&[0x80, 0x80][..], head].concat()).await.unwrap();
    alice.get_mut().write_all(tail).await.unwrap();
    let answer = next(&mut alice).await;
    assert!(matches!(answer, Message::LoginAck(_)), "{answer:?}");

    let create = ChannelCreate { channel: 3, service: 0x11, ..Default::default() };
    let bob = AwareIdBlock { kind: AwareIdBlock::USER, user: "bob".into(), community: "".into() };
    let (send_type, data) = ClientMessage::Add(vec![bob]).encode().unwrap();
    let add = ChannelSend { channel: 3, encrypted: false, send_type, data };
    let both = [
        vec![0x80],
        frame_of(&Message::ChannelCreate(create)),
        vec![0x80, 0x80, 0x80],
        frame_of(&Message::ChannelSend(add)),
        vec![0x80],
    ];
    alice.get_mut().write_all(&both.concat()).await.unwrap();
    let accept = next(&mut alice).await;
    assert!(matches!(&accept, Message::ChannelAccept(a) if a.channel == 3), "{accept:?}");
    let Message::ChannelSend(reply) = next(&mut alice).await else { panic!("no snapshot") };
    let Ok(ServerMessage::Snapshot(entries)) = ServerMessage::decode(reply.send_type, &reply.data)
    else {
        panic!("not a snapshot")
    };
    assert_eq!(entries.len(), 1);
    assert!(entries[0].online.is_some(), "bob is online: {entries:?}");
}

/// Spec §12.5 scenario 12 and §1.3: libmeanwhile never sends keepalives,
/// so the door drops nobody for silence; it sends its own. With a
/// keepalive of 1 s, three of them arrive (a client that takes nothing
/// for two is dropped) while the client says nothing, and it is still
/// served after.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_sends_keepalives_stays_and_hears_the_doors() {
    use tokio::io::AsyncReadExt as _;
    let dir = deployment(&["alice", "bob"]);
    let keepalive = [("SIMUL_SERVER__KEEPALIVE_SECONDS", "1")];
    let (server, address) = vp_server_with(&dir.path().join("data"), &keepalive);
    let (alice, answer) = log_in_vp(address, "alice", "long enough").await;
    assert!(matches!(answer, Message::LoginAck(_)), "{answer:?}");
    let parts = alice.into_parts();
    assert!(parts.read_buf.is_empty(), "nothing but the LOGIN_ACK yet");
    let mut stream = parts.io;
    for n in 0..3 {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut byte));
        let read = read.await.unwrap_or_else(|_| panic!("keepalive {n} in time"));
        assert_eq!((read.unwrap(), byte[0]), (1, 0x80), "keepalive {n}");
    }
    let mut alice = Framed::new(stream, FrameCodec::new());
    let away = UserStatus { status: UserStatus::AWAY, time: 0, desc: "still here".into() };
    alice.send(&Message::SetUserStatus(away)).await.unwrap();
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    web_sees(&server, &bob, "alice", "away", Some("still here")).await;
}

/// Spec §12.5 scenario 12, the other side of §1.3: a client that stops
/// reading (a half-open connection: it neither reads nor writes) is
/// dropped once the door's writes wait two keepalives for it, and its
/// user goes offline. Here it asks for its large buddy list sixty times
/// over a small receive window, then reads nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_stops_reading_is_dropped_after_two_keepalives() {
    use simul_vp::message::{ChannelCreate, ChannelSend};
    use simul_vp::services::storage::ClientMessage;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let dir = deployment(&["alice", "bob"]);
    let env = [("SIMUL_SERVER__KEEPALIVE_SECONDS", "1"), ("SIMUL_LOG", "warn,simul_vp_door=info")];
    let (server, address) = vp_server_with(&dir.path().join("data"), &env);
    let (alice_web, _) = log_in(&server, "alice", "long enough").await;
    // Some 50 KB of buddy list: a Sametime str holds at most 64 KiB.
    let contacts: Vec<String> = (0..1000).map(|n| format!("{n:04}-{}", "x".repeat(15))).collect();
    let list = json!({"groups": [{"name": "Everyone", "contacts": contacts}]});
    assert!(put_json(&server, "/api/v1/contacts", &alice_web, &list).await.status().is_success());

    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut alice = Framed::new(socket.connect(address).await.unwrap(), FrameCodec::new());
    alice.send(&Message::Handshake(meanwhile_handshake())).await.unwrap();
    let Message::HandshakeAck(ack) = next(&mut alice).await else { panic!("no HANDSHAKE_ACK") };
    alice.send(&rc2_128_login(&ack, "alice", "long enough")).await.unwrap();
    assert!(matches!(next(&mut alice).await, Message::LoginAck(_)));
    let storage = ChannelCreate { channel: 5, service: 0x18, ..Default::default() };
    alice.send(&Message::ChannelCreate(storage)).await.unwrap();
    assert!(matches!(next(&mut alice).await, Message::ChannelAccept(_)));
    let mut loads = Vec::new();
    for request_id in 1..=60 {
        let load = ClientMessage::Load { request_id, keys: vec![0] }.encode().unwrap();
        let (send_type, data) = load;
        let send = ChannelSend { channel: 5, encrypted: false, send_type, data };
        loads.extend(frame_of(&Message::ChannelSend(send)));
    }
    alice.get_mut().write_all(&loads).await.unwrap();

    let line = server.log_line("VP: the client took nothing for");
    assert!(line.contains("connection reset"), "{line}");
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    web_sees(&server, &bob, "alice", "offline", None).await;
    // Reading again, it finds what had come and then the reset.
    let mut stream = alice.into_inner();
    let drained = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    });
    drained.await.expect("the door closed the connection");
}

/// The real thing: Debian's libmeanwhile, driven by the scripted client
/// of `simul_testkit::MwClient` (the library Pidgin's plugin is made of).
mod libmeanwhile {
    use simul_testkit::{MwClient, MwOptions};

    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn logs_in_with_rc2_128_sets_its_status_and_is_refused_with_the_sentence_pidgin_shows() {
        let dir = deployment(&["alice", "bob"]);
        let (server, address) = vp_server(&dir.path().join("data"));
        let mut alice = MwClient::start(address, "alice", "long enough");
        let logged_in = alice.expect("LOGGED_IN");
        assert!(logged_in.contains("user_id=alice"), "{logged_in}");

        let (bob, _) = log_in(&server, "bob", "long enough").await;
        alice.send("status 0x0080 in the zone");
        web_sees(&server, &bob, "alice", "dnd", Some("in the zone")).await;
        // Idle, both ways: Sametime's 0x0040 is the web's idle flag.
        alice.send("status 0x0040 gone for coffee");
        eventually("the web sees alice idle", || async {
            let seen = get_json(&server, "/api/v1/awareness?user=alice", &bob).await;
            seen["alice"]["status"] == "available" && seen["alice"]["idle"] == true
        })
        .await;
        let _bob_online = support::events(&server, &bob).await;
        let idle = json!({"status": "available", "idle": true});
        assert!(put_json(&server, "/api/v1/me/status", &bob, &idle).await.status().is_success());
        alice.send("watch bob");
        alice.expect_matching("PRESENCE bob ", &["online=1", "status=0x0040"]);
        alice.send("quit");
        alice.expect("STOPPED 0x00000000");

        let mut wrong = MwClient::start(address, "alice", "not it");
        let stopped = wrong.expect("STOPPED");
        assert!(stopped.starts_with("STOPPED 0x80000211"), "{stopped}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn buddies_are_seen_online_away_and_offline_whichever_door_they_use() {
        let dir = deployment(&["alice", "bob", "carol"]);
        let (server, address) = vp_server(&dir.path().join("data"));
        let mut alice = MwClient::start(address, "alice", "long enough");
        alice.expect("LOGGED_IN");
        alice.send("watch bob");
        alice.send("watch carol");
        alice.expect_matching("PRESENCE bob ", &["online=0"]);

        // Bob signs in on the web and goes away there.
        let (bob, _) = log_in(&server, "bob", "long enough").await;
        let _socket = support::events(&server, &bob).await;
        alice.expect_matching("PRESENCE bob ", &["online=1", "status=0x0020"]);
        let away = put_json(
            &server,
            "/api/v1/me/status",
            &bob,
            &serde_json::json!({"status": "away", "message": "at lunch"}),
        )
        .await;
        assert!(away.status().is_success());
        alice.expect_matching("PRESENCE bob ", &["status=0x0060", "msg=at lunch"]);

        // Carol uses a Sametime client too: do-not-disturb, then gone.
        let mut carol = MwClient::start(address, "carol", "long enough");
        carol.expect("LOGGED_IN");
        alice.expect_matching("PRESENCE carol ", &["online=1"]);
        carol.send("status 0x0080 deep work");
        alice.expect_matching("PRESENCE carol ", &["status=0x0080", "msg=deep work"]);
        carol.send("quit");
        alice.expect_matching("PRESENCE carol ", &["online=0"]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn messages_go_both_ways_with_web_and_sametime_users_and_are_kept() {
        let dir = deployment(&["alice", "bob", "carol"]);
        let (server, address) = vp_server(&dir.path().join("data"));
        let mut alice = MwClient::start(address, "alice", "long enough");
        alice.expect("LOGGED_IN");
        let (bob, mut bob_events) = support::web_user(&server, "bob").await;

        // Sametime client to web user, and back.
        alice.send("im bob hello from a Sametime client");
        support::expect_web_im(&mut bob_events, "alice", "hello from a Sametime client").await;
        let text = json!({"text": "hi alice"});
        let sent = support::post_json(&server, "/api/v1/im/alice", &bob, &text).await;
        assert_eq!(sent["delivered"], true);
        let received = alice.expect("IM bob ");
        assert_eq!(received, "IM bob hi alice");

        // Between two Sametime clients, through the community.
        let mut carol = MwClient::start(address, "carol", "long enough");
        carol.expect("LOGGED_IN");
        alice.send("im carol ping");
        assert_eq!(carol.expect("IM alice "), "IM alice ping");
        carol.send("im alice pong");
        assert_eq!(alice.expect("IM carol "), "IM carol pong");

        // Kept once, whichever doors carried them.
        let texts = support::history_texts(&server, "/api/v1/im/alice/history", &bob).await;
        assert_eq!(texts, ["hello from a Sametime client", "hi alice"]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_buddy_list_is_the_contact_list_of_every_door_and_names_resolve() {
        let dir = deployment_with_names(&[("alice", "Alice Allen"), ("bob", "Bob Builder")]);
        let (server, address) = vp_server(&dir.path().join("data"));
        let mut alice = MwClient::start(address, "alice", "long enough");
        alice.expect("LOGGED_IN");
        // Nothing kept yet: "not found", so a synchronising Pidgin keeps
        // its local buddies (an empty list would make it delete them).
        alice.send("load 0");
        assert!(alice.expect("LOADED").contains("result=0x80000005"));

        alice.send("save_blist bob");
        assert!(alice.expect("STORED").contains("result=0x00000000"));
        let (token, _) = log_in(&server, "alice", "long enough").await;
        let contacts = get_json(&server, "/api/v1/contacts", &token).await;
        assert_eq!(contacts, json!({"groups": [{"name": "Buddies", "contacts": ["bob"]}]}));

        // Edited on the web, loaded by the Sametime client.
        let list = json!({
            "groups": [{"name": "Site team", "contacts": ["bob", "alice"]}],
            "aliases": {"bob": "Bobby, the builder"},
        });
        let put = reqwest::Client::new()
            .put(server.url("/api/v1/contacts"))
            .bearer_auth(&token)
            .json(&list)
            .send()
            .await
            .unwrap();
        assert!(put.status().is_success());
        alice.send("load 0");
        let loaded = alice.expect("LOADED");
        assert!(loaded.contains("result=0x00000000"), "{loaded}");
        assert!(loaded.contains("G Site;team2 Site;team O"), "{loaded}");
        // The alias, with the comma the format cannot carry as a space.
        assert!(loaded.contains("U bob1:: ,Bobby;;the;builder"), "{loaded}");
        assert!(loaded.contains("U alice1:: ,"), "{loaded}");

        // Pidgin resolves a buddy it adds: by login name, or by a name.
        alice.send("resolve bob");
        assert_eq!(alice.expect("RESOLVED bob"), "RESOLVED bob id=bob name=Bob Builder");
        alice.send("resolve Builder");
        assert!(alice.expect("RESOLVED Builder").contains("id=bob"));
        alice.send("resolve nobody");
        assert!(alice.expect("UNRESOLVED nobody").contains("code=0x80000005"));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_contact_list_too_large_for_a_buddy_list_is_neither_loaded_nor_overwritten() {
        let dir = deployment(&["alice", "bob"]);
        let (server, address) = vp_server(&dir.path().join("data"));
        let (token, _) = log_in(&server, "alice", "long enough").await;
        // 2,000 contacts (the most a list holds) with long ids: over the
        // 64 KiB a Sametime buddy list can be.
        let ids: Vec<String> =
            (0..2_000).map(|i| format!("colleague-{i:04}-of-the-site-team")).collect();
        let list = json!({"groups": [{"name": "Everyone", "contacts": ids}]});
        assert!(put_json(&server, "/api/v1/contacts", &token, &list).await.status().is_success());

        let mut alice = MwClient::start(address, "alice", "long enough");
        alice.expect("LOGGED_IN");
        alice.send("load 0");
        assert!(alice.expect("LOADED").contains("result=0x80000005"));
        alice.send("save_blist bob");
        assert!(alice.expect("STORED").contains("result=0x80000000"));
        let kept = get_json(&server, "/api/v1/contacts", &token).await;
        assert_eq!(kept["groups"][0]["contacts"].as_array().unwrap().len(), 2_000);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_conference_is_an_nway_chat_shared_with_web_users() {
        let dir = deployment(&["alice", "bob", "carol"]);
        let (server, address) = vp_server(&dir.path().join("data"));
        let mut alice = MwClient::start(address, "alice", "long enough");
        alice.expect("LOGGED_IN");
        let (bob, mut bob_events) = support::web_user(&server, "bob").await;

        alice.send("chat_create Standup");
        assert!(alice.expect("CHAT_OPENED").contains("members=alice"));
        alice.send("chat_invite bob Join us");
        let id = web_joins_invitation(&server, &bob, &mut bob_events, "alice", "Standup").await;
        assert_eq!(alice.expect("CHAT_JOINED"), "CHAT_JOINED bob");

        let said = json!({"text": "morning all"});
        support::post_json(&server, &format!("/api/v1/nway/{id}/messages"), &bob, &said).await;
        assert_eq!(alice.expect("CHAT bob"), "CHAT bob morning all");
        alice.send("chat_say morning bob");
        // The echo is how Pidgin shows its own chat lines.
        assert_eq!(alice.expect("CHAT alice"), "CHAT alice morning bob");

        // Bob invites a Sametime user from the web.
        let mut carol = MwClient::start_with(
            address,
            "carol",
            "long enough",
            &MwOptions { auto_accept: true, ..MwOptions::default() },
        );
        carol.expect("LOGGED_IN");
        let users = json!({"users": ["carol"]});
        support::post_json(&server, &format!("/api/v1/nway/{id}/invite"), &bob, &users).await;
        assert!(carol.expect("CHAT_INVITED").contains("from=bob"));
        let opened = carol.expect("CHAT_OPENED");
        for member in ["alice", "bob", "carol"] {
            assert!(opened.contains(member), "{opened}");
        }
        assert_eq!(alice.expect("CHAT_JOINED"), "CHAT_JOINED carol");
        carol.send("chat_leave");
        assert_eq!(alice.expect("CHAT_LEFT"), "CHAT_LEFT carol");
        // The chat's history is the community's, whoever wrote.
        let texts =
            support::history_texts(&server, &format!("/api/v1/nway/{id}/history"), &bob).await;
        assert_eq!(texts, ["morning all", "morning bob"]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn an_invitation_a_policy_refuses_is_told_as_an_admin_notice() {
        let dir = deployment(&["alice", "bob"]);
        let (_server, address) = vp_server(&dir.path().join("data"));
        let mut alice = MwClient::start(address, "alice", "long enough");
        alice.expect("LOGGED_IN");
        alice.send("chat_create Standup");
        assert!(alice.expect("CHAT_OPENED").contains("members=alice"));
        // The administrator turns n-way chats off while the conference is open.
        let set = ["policy", "set", "default", "nway_chat=no", "--data", "data"];
        let out = support::simul(dir.path(), &set);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        alice.send("chat_invite bob Join us");
        assert_eq!(
            alice.expect("ADMIN "),
            "ADMIN Refused: the policy `default` does not allow n-way chats (nway_chat)."
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn disabling_an_account_ends_its_sametime_session_at_once() {
        let dir = deployment(&["alice"]);
        let (_server, address) = vp_server(&dir.path().join("data"));
        let mut alice = MwClient::start(address, "alice", "long enough");
        alice.expect("LOGGED_IN");
        let out = support::simul(dir.path(), &["user", "disable", "alice", "--data", "data"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // USER_RESTRICTED: Pidgin says so and does not reconnect.
        assert!(alice.expect("STOPPED").starts_with("STOPPED 0x80000210"));
        let mut again = MwClient::start(address, "alice", "long enough");
        assert!(again.expect("STOPPED").starts_with("STOPPED 0x80000211"));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn logs_in_with_an_ltpa_token_of_the_sso_domain() {
        let dir = deployment(&["alice"]);
        let (server, address) = vp_server(&dir.path().join("data"));
        let (token, _) = log_in(&server, "alice", "long enough").await;
        let options = MwOptions { token: Some(token.clone()), ..MwOptions::default() };
        let mut by_type = MwClient::start_with(address, "alice", "", &options);
        assert!(by_type.expect("LOGGED_IN").contains("user_id=alice"));
        // A stock client can only send a password: the token goes there.
        let mut pasted = MwClient::start(address, "alice", &token);
        assert!(pasted.expect("LOGGED_IN").contains("user_id=alice"));
        let options = MwOptions { token: Some("forged".into()), ..MwOptions::default() };
        let mut forged = MwClient::start_with(address, "alice", "", &options);
        assert!(forged.expect("STOPPED").starts_with("STOPPED 0x80000211"));
    }

    /// Spec §12.5 scenario 1 and §4.3: RC2/128 by default; with
    /// `vp.login_cipher = "rc2-40"` the HANDSHAKE_ACK carries no key and
    /// libmeanwhile logs in with RC2/40 (auth type 2).
    #[tokio::test(flavor = "multi_thread")]
    async fn logs_in_with_rc2_40_when_the_door_is_switched_to_it_and_rc2_128_by_default() {
        let dir = deployment(&["alice", "bob"]);
        let data = dir.path().join("data");
        let (server, address) = vp_server(&data);
        let mut alice = MwClient::start(address, "alice", "long enough");
        assert_eq!(alice.expect("LOGIN_SENT"), "LOGIN_SENT auth_type=0x0004");
        alice.expect("LOGGED_IN");
        alice.send("quit");
        alice.expect("STOPPED 0x00000000");
        drop(server);

        let env = [("SIMUL_VP__LOGIN_CIPHER", "rc2-40"), ("SIMUL_LOG", "warn,simul_vp_door=debug")];
        let (server, address) = vp_server_with(&data, &env);
        let mut alice = MwClient::start(address, "alice", "long enough");
        assert_eq!(alice.expect("LOGIN_SENT"), "LOGIN_SENT auth_type=0x0002");
        assert!(alice.expect("LOGGED_IN").contains("user_id=alice"));
        assert!(server.log_line("VP: LOGIN").contains("auth_type=2"));
        // Both sides of a conversation logged in so.
        let mut bob = MwClient::start(address, "bob", "long enough");
        assert_eq!(bob.expect("LOGIN_SENT"), "LOGIN_SENT auth_type=0x0002");
        bob.expect("LOGGED_IN");
        alice.send("im bob over RC2/40");
        assert_eq!(bob.expect("IM alice "), "IM alice over RC2/40");
        let mut wrong = MwClient::start(address, "alice", "not it");
        assert_eq!(wrong.expect("LOGIN_SENT"), "LOGIN_SENT auth_type=0x0002");
        assert!(wrong.expect("STOPPED").starts_with("STOPPED 0x80000211"));

        // Any other value is refused by name.
        let check = std::process::Command::new(support::SIMUL)
            .args(["config", "check"])
            .env("SIMUL_VP__LOGIN_CIPHER", "rc2-56")
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&check.stderr);
        assert!(!check.status.success(), "{stderr}");
        assert!(stderr.to_lowercase().contains("vp.login_cipher"), "{stderr}");
        assert!(stderr.contains("`rc2-128`") && stderr.contains("`rc2-40`"), "{stderr}");
    }

    /// Spec §12.5 scenario 11: an IM to someone offline is refused with
    /// ERR_CLIENT_USER_GONE; so is the next message once the partner has
    /// gone mid-conversation (the door ends IM channels itself and learns
    /// of the departure at that message).
    #[tokio::test(flavor = "multi_thread")]
    async fn an_im_to_someone_offline_and_after_the_peer_left_ends_with_user_gone() {
        let dir = deployment(&["alice", "bob"]);
        let (_server, address) = vp_server(&dir.path().join("data"));
        let mut alice = MwClient::start(address, "alice", "long enough");
        alice.expect("LOGGED_IN");
        alice.send("im bob are you there?");
        assert_eq!(alice.expect("IM_CLOSED bob"), "IM_CLOSED bob 0x80002000");

        let mut bob = MwClient::start(address, "bob", "long enough");
        bob.expect("LOGGED_IN");
        alice.send("watch bob");
        alice.expect_matching("PRESENCE bob ", &["online=1"]);
        alice.send("im bob hello");
        assert_eq!(bob.expect("IM alice "), "IM alice hello");
        bob.send("im alice hi back");
        assert_eq!(alice.expect("IM bob "), "IM bob hi back");

        // Bob's client dies (no logout): his connection just closes.
        drop(bob);
        alice.expect_matching("PRESENCE bob ", &["online=0"]);
        alice.send("im bob still there?");
        assert_eq!(alice.expect("IM_CLOSED bob"), "IM_CLOSED bob 0x80002000");
    }

    /// Spec §12.5 scenario 11: a conference member who logs out, or whose
    /// client dies, is parted from the others (at once on logout; after
    /// the grace of two keepalives, 2 s here, when the connection drops).
    /// The door's keepalive bytes every second go to every client meanwhile.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_conference_member_who_logs_out_or_drops_is_parted_from_the_others() {
        let dir = deployment(&["alice", "bob", "carol"]);
        let keepalive = [("SIMUL_SERVER__KEEPALIVE_SECONDS", "1")];
        let (_server, address) = vp_server_with(&dir.path().join("data"), &keepalive);
        let accepting = MwOptions { auto_accept: true, ..MwOptions::default() };
        let mut alice = MwClient::start(address, "alice", "long enough");
        let mut bob = MwClient::start_with(address, "bob", "long enough", &accepting);
        let mut carol = MwClient::start_with(address, "carol", "long enough", &accepting);
        for client in [&mut alice, &mut bob, &mut carol] {
            client.expect("LOGGED_IN");
        }
        alice.send("chat_create Standup");
        alice.expect("CHAT_OPENED");
        alice.send("chat_invite bob Join us");
        bob.expect("CHAT_OPENED");
        assert_eq!(alice.expect("CHAT_JOINED"), "CHAT_JOINED bob");
        alice.send("chat_invite carol Join us");
        carol.expect("CHAT_OPENED");
        assert_eq!(alice.expect("CHAT_JOINED"), "CHAT_JOINED carol");
        assert_eq!(bob.expect("CHAT_JOINED"), "CHAT_JOINED carol");

        bob.send("quit");
        bob.expect("STOPPED 0x00000000");
        assert_eq!(alice.expect("CHAT_LEFT"), "CHAT_LEFT bob");
        assert_eq!(carol.expect("CHAT_LEFT"), "CHAT_LEFT bob");

        drop(carol);
        assert_eq!(alice.expect("CHAT_LEFT"), "CHAT_LEFT carol");
        alice.send("chat_say still here");
        assert_eq!(alice.expect("CHAT alice"), "CHAT alice still here");
    }

    /// Spec §12.5 scenario 11: back to available after away, as the
    /// watcher sees it; a client's own keepalive byte is skipped.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_watcher_sees_a_buddy_go_away_and_come_back_to_available() {
        let dir = deployment(&["alice", "bob"]);
        let (_server, address) = vp_server(&dir.path().join("data"));
        let mut alice = MwClient::start(address, "alice", "long enough");
        let mut bob = MwClient::start(address, "bob", "long enough");
        alice.expect("LOGGED_IN");
        bob.expect("LOGGED_IN");
        alice.send("watch bob");
        alice.expect_matching("PRESENCE bob ", &["online=1", "status=0x0020"]);
        bob.send("status 0x0060 out for lunch");
        alice.expect_matching("PRESENCE bob ", &["status=0x0060", "msg=out for lunch"]);
        bob.send("keepalive");
        bob.send("status 0x0020 ");
        let back = alice.expect_matching("PRESENCE bob ", &["status=0x0020"]);
        assert_eq!(back, "PRESENCE bob online=1 status=0x0020 msg=");
    }

    /// From the issue: two libmeanwhile clients chat, both ways, while a
    /// raw client floods the door with garbage and reconnects in a loop
    /// (before the login, and logged in as a third user): every message
    /// arrives, in order.
    #[tokio::test(flavor = "multi_thread")]
    async fn two_clients_chat_undisturbed_while_a_third_floods_garbage() {
        use tokio::io::AsyncWriteExt as _;
        let dir = deployment(&["alice", "bob", "mallory"]);
        let (_server, address) = vp_server(&dir.path().join("data"));
        let mut alice = MwClient::start(address, "alice", "long enough");
        let mut bob = MwClient::start(address, "bob", "long enough");
        alice.expect("LOGGED_IN");
        bob.expect("LOGGED_IN");

        let flooding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let rounds = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let flood = tokio::spawn({
            let (flooding, rounds) = (flooding.clone(), rounds.clone());
            async move {
                let garbage: Vec<Vec<u8>> = vec![
                    b"GET / HTTP/1.1\r\n\r\n".to_vec(),
                    raw_frame(0x0777, 0, &[0xde, 0xad, 0xbe, 0xef]),
                    [vec![0x80; 64], vec![0, 0, 0, 2, 0, 1]].concat(),
                    vec![0x7f, 0xff, 0xff, 0xff],
                ];
                let mut n = 0usize;
                while flooding.load(std::sync::atomic::Ordering::Relaxed) {
                    if n % 5 == 4 {
                        // Logged in, then garbage frames of every kind.
                        let (mut mallory, _) = log_in_vp(address, "mallory", "long enough").await;
                        let junk: Vec<u8> = (0..40)
                            .flat_map(|k| raw_frame(k as u16 % 0x30, k, &[k as u8; 5]))
                            .collect();
                        let _ = mallory.get_mut().write_all(&junk).await;
                    } else if let Ok(mut raw) = TcpStream::connect(address).await {
                        let _ = raw.write_all(&garbage[n % garbage.len()]).await;
                    }
                    n += 1;
                    rounds.store(n, std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
        });

        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while rounds.load(std::sync::atomic::Ordering::Relaxed) < 3 {
            assert!(std::time::Instant::now() < deadline, "the flood does not start");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let before = rounds.load(std::sync::atomic::Ordering::Relaxed);
        for n in 0..20 {
            alice.send(&format!("im bob ping {n}"));
            assert_eq!(bob.expect("IM alice "), format!("IM alice ping {n}"));
            bob.send(&format!("im alice pong {n}"));
            assert_eq!(alice.expect("IM bob "), format!("IM bob pong {n}"));
        }
        flooding.store(false, std::sync::atomic::Ordering::Relaxed);
        flood.await.unwrap();
        let after = rounds.load(std::sync::atomic::Ordering::Relaxed);
        assert!(after > before, "the flood ran alongside ({before} then {after} connections)");
        for client in [&mut alice, &mut bob] {
            let errors: Vec<&String> =
                client.events().iter().filter(|l| l.starts_with("IM_CLOSED")).collect();
            assert!(errors.is_empty(), "{errors:?}");
        }
    }

    /// From the issue: against a real LDAP directory (slapd), people log
    /// in by uid and by mail, and a disabled person
    /// (`disabled_filter`, here `employeeType: disabled`) is refused with
    /// INCORRECT_LOGIN: the realm's password check does not tell a
    /// disabled account from a wrong password.
    #[tokio::test(flavor = "multi_thread")]
    async fn ldap_people_log_in_by_uid_and_mail_and_a_disabled_one_is_refused() {
        use simul_testkit::{ALICE_DN, BOB_DN, Slapd};
        let slapd = Slapd::start();
        let (dir, config) = support::configured(&[slapd.url()], "");
        let env = [("SIMUL_VP__LISTEN", "127.0.0.1:0")];
        let server = Server::start_configured_with(&dir.path().join("data"), &config, &env);
        let line = server.log_line("Sametime VP door listening on ");
        let address: SocketAddr = line.rsplit(' ').next().unwrap().parse().unwrap();

        let mut alice = MwClient::start(address, "alice", "alice-secret");
        let logged_in = alice.expect("LOGGED_IN");
        assert!(logged_in.contains(&format!("user_id={ALICE_DN} ")), "{logged_in}");
        assert!(logged_in.ends_with("name=Alice Allen"), "{logged_in}");
        let mut bob = MwClient::start(address, "bob@renovations.com", "bob-secret");
        assert!(bob.expect("LOGGED_IN").contains(&format!("user_id={BOB_DN} ")));
        alice.send(&format!("im {BOB_DN} found by the directory's id"));
        assert_eq!(bob.expect("IM "), format!("IM {ALICE_DN} found by the directory's id"));

        let mut dave = MwClient::start(address, "dave", "dave-secret");
        let refused = dave.expect("STOPPED");
        assert!(refused.starts_with("STOPPED 0x80000211"), "{refused}");
        let mut by_mail = MwClient::start(address, "dave@renovations.com", "dave-secret");
        assert!(by_mail.expect("STOPPED").starts_with("STOPPED 0x80000211"));
        let mut wrong = MwClient::start(address, "alice", "not it");
        assert!(wrong.expect("STOPPED").starts_with("STOPPED 0x80000211"));
    }
}
