//! The Sametime VP door, spoken to by a client made of the protocol
//! layer (`simul_vp`): login by password and by LTPA token, the refusals
//! Pidgin words as sentences, and one status for a user on every door.
//! Debian's libmeanwhile is in `mod libmeanwhile`; Pidgin's own plugin in
//! `vp_pidgin.rs`.

mod support;

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt as _};
use serde_json::{Value, json};
use simul_vp::crypto::DhKeyPair;
use simul_vp::login::compose_rc2_128;
use simul_vp::message::{Handshake, Login};
use simul_vp::{ErrorCode, FrameCodec, Message, UserStatus};
use support::vp::{put_json, vp_server};
use support::{deployment, deployment_with_names, eventually, get_json, log_in};
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
    let handshake = Handshake {
        major: 0x1e,
        minor: 0x1d,
        channel: 0,
        srvrcalc_addr: 0,
        login_type: 0x1700,
        loclcalc_addr: 0,
        extra: None,
    };
    frames.send(&Message::Handshake(handshake)).await.unwrap();
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

    // A service not built yet (file transfer) is refused, not echoed (no create loop).
    let create =
        simul_vp::message::ChannelCreate { channel: 1, service: 0x38, ..Default::default() };
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
async fn malformed_and_oversized_frames_get_their_codes_and_harm_nobody() {
    use tokio::io::AsyncWriteExt as _;
    let dir = deployment(&["alice"]);
    let (_server, address) = vp_server(&dir.path().join("data"));
    let answer = |bytes: Vec<u8>| async move {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(&bytes).await.unwrap();
        let mut frames = Framed::new(stream, FrameCodec::new());
        refusal(&next(&mut frames).await)
    };
    // A frame too short to be a message, before any handshake.
    assert_eq!(answer(vec![0, 0, 0, 3, 1, 2, 3]).await, ErrorCode::RequestInvalid.code());
    // A LOGIN before the handshake.
    let login = Login {
        login_type: 0x1700,
        name: "alice".into(),
        auth_data: Default::default(),
        auth_type: 4,
    };
    let mut frame = Vec::new();
    let body = Message::Login(login).encode().unwrap();
    frame.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(&body);
    assert_eq!(answer(frame).await, ErrorCode::RequestInvalid.code());
    // A frame that announces 2 GiB.
    assert_eq!(answer(vec![0x7f, 0xff, 0xff, 0xff, 0]).await, ErrorCode::FatMessage.code());
    // The door serves on.
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
        eventually("the web sees libmeanwhile's do-not-disturb", || async {
            let seen = get_json(&server, "/api/v1/awareness?user=alice", &bob).await;
            seen["alice"]["status"] == "dnd" && seen["alice"]["message"] == "in the zone"
        })
        .await;
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
        let (bob, _) = log_in(&server, "bob", "long enough").await;
        let mut bob_events = support::events(&server, &bob).await;

        // Sametime client to web user, and back.
        alice.send("im bob hello from a Sametime client");
        let event = support::next_event(&mut bob_events).await;
        assert_eq!((&event["type"], &event["from"]), (&json!("im"), &json!("alice")), "{event}");
        assert_eq!(event["text"], "hello from a Sametime client");
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
        let history = get_json(&server, "/api/v1/im/alice/history", &bob).await;
        let texts: Vec<&str> =
            history.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
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
        let list = json!({"groups": [{"name": "Site team", "contacts": ["bob", "alice"]}]});
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
        assert!(loaded.contains("U bob1:: ,") && loaded.contains("U alice1:: ,"), "{loaded}");

        // Pidgin resolves a buddy it adds: by login name, or by a name.
        alice.send("resolve bob");
        assert_eq!(alice.expect("RESOLVED bob"), "RESOLVED bob id=bob name=Bob Builder");
        alice.send("resolve Builder");
        assert!(alice.expect("RESOLVED Builder").contains("id=bob"));
        alice.send("resolve nobody");
        assert!(alice.expect("UNRESOLVED nobody").contains("code=0x80000005"));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_conference_is_an_nway_chat_shared_with_web_users() {
        let dir = deployment(&["alice", "bob", "carol"]);
        let (server, address) = vp_server(&dir.path().join("data"));
        let mut alice = MwClient::start(address, "alice", "long enough");
        alice.expect("LOGGED_IN");
        let (bob, _) = log_in(&server, "bob", "long enough").await;
        let mut bob_events = support::events(&server, &bob).await;

        alice.send("chat_create Standup");
        assert!(alice.expect("CHAT_OPENED").contains("members=alice"));
        alice.send("chat_invite bob Join us");
        let invite = support::next_event(&mut bob_events).await;
        assert_eq!((&invite["type"], &invite["from"]), (&json!("nway_invite"), &json!("alice")));
        assert_eq!(invite["topic"], "Standup");
        let id = invite["id"].as_u64().unwrap();
        support::post_json(&server, &format!("/api/v1/nway/{id}/join"), &bob, &json!({})).await;
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
        let history = get_json(&server, &format!("/api/v1/nway/{id}/history"), &bob).await;
        let texts: Vec<&str> =
            history.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
        assert_eq!(texts, ["morning all", "morning bob"]);
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
}
