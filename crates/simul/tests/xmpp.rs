//! The XMPP door, spoken to by slixmpp (Debian's python3-slixmpp, a real
//! XMPP client library) through `simul_testkit::XmppClient`, and by a raw
//! TCP client for what no well-behaved client sends: TLS and sign-in,
//! the roster as the contact list of every door, presence and messages
//! across doors, chat states, bad input.

mod support;

use serde_json::{Value, json};
use simul_testkit::{XmppClient, XmppTransport};
use support::vp::{put_json, web_joins_invitation};
use support::xmpp::{signed_in, xmpp_server};
use support::{
    Server, deployment, deployment_with_names, get_json, log_in, next_members, next_of_type,
    next_status, post_json, watch,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test(flavor = "multi_thread")]
async fn signs_in_over_starttls_and_direct_tls_and_bad_credentials_get_one_answer() {
    let dir = deployment(&["alice", "bob"]);
    let (_server, starttls, direct) = xmpp_server(&dir.path().join("data"));
    // SCRAM-SHA-256, the strongest offered (the embedded realm keeps
    // SCRAM credentials); slixmpp checks the server's signature.
    let mut alice =
        XmppClient::start(starttls, "alice@localhost", "long enough", XmppTransport::StartTls);
    assert_eq!(alice.expect("AUTH "), "AUTH SCRAM-SHA-256");
    alice.expect("SESSION_START alice@localhost/");
    let _bob = signed_in(direct, "bob", XmppTransport::DirectTls);
    alice.send("ping");
    alice.expect("PONG ok");
    alice.send("disco");
    let disco = alice.expect("DISCO ");
    assert!(disco.contains("identities=server/im"), "{disco}");
    for feature in ["jabber:iq:roster", "urn:xmpp:ping", "urn:xmpp:carbons:2", "vcard-temp"] {
        assert!(disco.contains(feature), "{feature}: {disco}");
    }

    for (jid, password) in [("alice@localhost", "wrong"), ("nobody@localhost", "long enough")] {
        let mut refused = XmppClient::start(starttls, jid, password, XmppTransport::StartTls);
        refused.expect("FAILED_AUTH");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_one_time_admin_password_opens_no_xmpp_session() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let file = dir.path().join("data/initial-admin-password");
    let password = std::fs::read_to_string(file).unwrap().trim().to_owned();
    // It opens nothing but its own replacement, on the web.
    let mut admin =
        XmppClient::start(starttls, "admin@localhost", &password, XmppTransport::StartTls);
    admin.expect("FAILED_AUTH");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ltpa_token_is_a_password_and_a_forged_one_is_refused() {
    let dir = deployment(&["alice"]);
    let (_server, starttls, _) = xmpp_server(&dir.path().join("data"));
    support::export_keys(dir.path());
    let token = support::mint(dir.path(), &["--user", "alice"]);
    // SCRAM cannot carry a token: refused, the client falls back to PLAIN.
    let mut alice = XmppClient::start(starttls, "alice@localhost", &token, XmppTransport::StartTls);
    alice.expect("FAILED_AUTH");
    assert_eq!(alice.expect("AUTH "), "AUTH PLAIN");
    alice.expect("SESSION_START alice@localhost/");
    let mut forged = token.clone();
    forged.replace_range(40..44, if &token[40..44] == "AAAA" { "BBBB" } else { "AAAA" });
    let mut refused =
        XmppClient::start(starttls, "alice@localhost", &forged, XmppTransport::StartTls);
    refused.expect("FAILED_AUTH");
}

#[tokio::test(flavor = "multi_thread")]
async fn presence_and_messages_cross_to_the_web_both_ways_and_are_kept() {
    let dir = deployment_with_names(&[("alice", "Alice Allen"), ("bob", "Bob Builder")]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let contacts = json!({"groups": [{"name": "Team", "contacts": ["alice"]}]});
    assert!(put_json(&server, "/api/v1/contacts", &bob, &contacts).await.status().is_success());
    let (alice_web, _) = log_in(&server, "alice", "long enough").await;
    let contacts = json!({"groups": [{"name": "Team", "contacts": ["bob"]}]});
    put_json(&server, "/api/v1/contacts", &alice_web, &contacts).await;
    let mut bob_events = support::events(&server, &bob).await;
    watch(&mut bob_events, "alice").await;

    // Alice signs in with an XMPP client: the web sees her come online,
    // then go away with a message.
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    alice.send("presence away at lunch");
    let status = next_status(&mut bob_events, "alice", "away").await;
    assert_eq!(status["message"], "at lunch", "{status}");
    // Bob, on the web, is in her roster's presence; do not disturb shows.
    alice.expect_matching("PRESENCE bob@localhost ", &["type=available"]);
    let dnd = json!({"status": "dnd", "message": "focus"});
    put_json(&server, "/api/v1/me/status", &bob, &dnd).await;
    alice.expect_matching("PRESENCE bob@localhost ", &["show=dnd", "status=focus"]);

    // Messages both ways, kept once.
    alice.send("message bob@localhost hello from XMPP");
    let im = next_of_type(&mut bob_events, "im").await;
    assert_eq!((&im["from"], &im["text"]), (&json!("alice"), &json!("hello from XMPP")));
    let sent = post_json(&server, "/api/v1/im/alice", &bob, &json!({"text": "hi alice"})).await;
    assert_eq!(sent["delivered"], true);
    assert_eq!(alice.expect("MESSAGE "), "MESSAGE bob@localhost hi alice");
    let texts = support::history_texts(&server, "/api/v1/im/alice/history", &bob).await;
    assert_eq!(texts, ["hello from XMPP", "hi alice"]);

    // Typing, as XEP-0085 chat states.
    alice.send("chatstate bob@localhost composing");
    let typing = next_of_type(&mut bob_events, "typing").await;
    assert_eq!((&typing["from"], &typing["typing"]), (&json!("alice"), &json!(true)));

    // A message to nobody comes back as an error.
    alice.send("message nobody@localhost hello?");
    assert_eq!(alice.expect("MESSAGE_ERROR "), "MESSAGE_ERROR nobody@localhost item-not-found");

    // Signing out is seen on the web.
    alice.send("quit");
    next_status(&mut bob_events, "alice", "offline").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn vcards_come_from_the_directory_and_carbons_copy_what_is_sent_elsewhere() {
    let dir = deployment_with_names(&[("alice", "Alice Allen"), ("bob", "Bob Builder")]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    alice.send("vcard bob@localhost");
    assert_eq!(alice.expect("VCARD "), "VCARD bob@localhost FN=Bob Builder");
    alice.send("vcard");
    assert_eq!(alice.expect("VCARD "), "VCARD  FN=Alice Allen");
    alice.send("vcard nobody@localhost");
    alice.expect("IQ_ERROR vcard item-not-found");

    // Alice writes to Bob from the web: her XMPP client gets a copy.
    alice.send("carbons");
    alice.expect("CARBONS_ON");
    let (alice_web, _) = log_in(&server, "alice", "long enough").await;
    post_json(&server, "/api/v1/im/bob", &alice_web, &json!({"text": "sent from the web"})).await;
    assert_eq!(alice.expect("CARBON_SENT "), "CARBON_SENT bob@localhost sent from the web");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_web_users_group_chat_is_a_room_xmpp_users_enter_talk_in_and_leave() {
    let dir = deployment(&["alice", "bob", "carol", "dave"]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;
    let (_dave, mut dave_events) = support::web_user(&server, "dave").await;
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    alice.send("presence");

    // Bob (web) starts a chat with alice and carol: a mediated invitation.
    let chat = json!({"invite": ["alice", "carol"], "topic": "Site visit"});
    let created = post_json(&server, "/api/v1/nway", &bob, &chat).await;
    let room = format!("chat-{}@conference.localhost", created["id"]);
    let said = |text: &str| json!({ "text": text });
    post_json(
        &server,
        &format!("/api/v1/nway/{}/messages", created["id"]),
        &bob,
        &said("before you came"),
    )
    .await;
    assert_eq!(
        alice.expect("INVITED "),
        format!("INVITED {room} from=bob@localhost reason=Site visit")
    );

    // Alice enters: bob is there, she is (with her real JID), the history
    // and the subject follow.
    alice.send(&format!("join {room} Alice"));
    alice.expect_matching("OCCUPANT ", &[&room, " bob ", "type=available", "jid=bob@localhost"]);
    alice.expect_matching("OCCUPANT ", &[" alice ", "codes=100,110,210"]);
    assert_eq!(
        alice.expect("GROUPCHAT "),
        format!("GROUPCHAT {room} bob before you came (delayed)")
    );
    assert_eq!(alice.expect("SUBJECT "), format!("SUBJECT {room} Site visit"));
    next_members(&mut bob_events, &["alice", "bob"]).await;

    // Lines both ways; her own comes back to her, as XEP-0045 reflects.
    post_json(
        &server,
        &format!("/api/v1/nway/{}/messages", created["id"]),
        &bob,
        &said("hello alice"),
    )
    .await;
    assert_eq!(alice.expect("GROUPCHAT "), format!("GROUPCHAT {room} bob hello alice"));
    alice.send(&format!("groupchat {room} hello bob"));
    assert_eq!(alice.expect("GROUPCHAT "), format!("GROUPCHAT {room} alice hello bob"));
    // (Bob's own lines come back to him first.)
    let line = loop {
        let line = next_of_type(&mut bob_events, "nway_message").await;
        if line["from"] == "alice" {
            break line;
        }
    };
    assert_eq!(line["text"], "hello bob");

    // She invites dave from her XMPP client: the web shows the invitation.
    alice.send(&format!("invite {room} dave@localhost"));
    let invited = next_of_type(&mut dave_events, "nway_invite").await;
    assert_eq!((&invited["from"], &invited["id"]), (&json!("alice"), &created["id"]));

    // A room she was not invited to stays closed; then she leaves.
    alice.send("join chat-999@conference.localhost Alice");
    alice.expect_matching("PRESENCE chat-999@conference.localhost ", &["type=error"]);
    alice.send(&format!("leave {room} Alice"));
    assert_eq!(alice.expect("LEFT "), format!("LEFT {room} alice"));
    next_members(&mut bob_events, &["bob"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn entering_a_room_of_ones_own_naming_starts_a_group_chat_the_web_can_join() {
    let dir = deployment(&["alice", "bob"]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    let room = "lunch@conference.localhost";
    alice.send(&format!("join {room} Alice"));
    alice.expect_matching("OCCUPANT ", &[room, " alice ", "codes=100,110,201,210"]);
    assert_eq!(alice.expect("SUBJECT "), format!("SUBJECT {room} lunch"));

    alice.send(&format!("invite {room} bob@localhost"));
    let id = web_joins_invitation(&server, &bob, &mut bob_events, "alice", "lunch").await;
    alice.expect_matching("OCCUPANT ", &[room, " bob ", "type=available"]);
    post_json(&server, &format!("/api/v1/nway/{id}/messages"), &bob, &json!({"text": "noon?"}))
        .await;
    assert_eq!(alice.expect("GROUPCHAT "), format!("GROUPCHAT {room} bob noon?"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_roster_is_the_contact_list_of_every_door() {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let (alice_web, _) = log_in(&server, "alice", "long enough").await;
    let contacts = json!({
        "groups": [{"name": "Team", "contacts": ["bob"]}, {"name": "Lunch", "contacts": ["bob"]}],
        "aliases": {"bob": "Bobby"},
    });
    put_json(&server, "/api/v1/contacts", &alice_web, &contacts).await;

    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    alice.send("roster");
    assert_eq!(
        alice.expect("ROSTER "),
        "ROSTER bob@localhost name=Bobby groups=Lunch,Team subscription=both"
    );
    alice.expect("ROSTER_END");

    alice.send("roster_set carol@localhost Caz Friends");
    alice.expect("ROSTER_SET carol@localhost");
    let list = get_json(&server, "/api/v1/contacts", &alice_web).await;
    assert_eq!(list["groups"][2], json!({"name": "Friends", "contacts": ["carol"]}), "{list}");
    assert_eq!(list["aliases"]["carol"], "Caz");

    alice.send("roster_remove bob@localhost");
    alice.expect("ROSTER_REMOVED bob@localhost");
    let list = get_json(&server, "/api/v1/contacts", &alice_web).await;
    let everyone: Vec<&Value> = list["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["contacts"].as_array().unwrap())
        .collect();
    assert_eq!(everyone, [&json!("carol")], "{list}");

    alice.send("roster_set someone@elsewhere.org - Friends");
    alice.expect("IQ_ERROR roster_set item-not-found");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_roster_of_800_contacts_comes_whole_and_only_the_online_ones_show() {
    let dir = deployment(&["alice", "bob"]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let (alice_web, _) = log_in(&server, "alice", "long enough").await;
    let mut contacts: Vec<String> = (1..800).map(|i| format!("colleague-{i:03}")).collect();
    contacts.push("bob".into());
    let list = json!({"groups": [{"name": "Site", "contacts": contacts}]});
    assert!(put_json(&server, "/api/v1/contacts", &alice_web, &list).await.status().is_success());
    let (_bob, _bob_events) = support::web_user(&server, "bob").await;

    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    alice.send("roster");
    alice.expect("ROSTER_END");
    let items = alice.events().iter().filter(|line| line.starts_with("ROSTER ")).count();
    assert_eq!(items, 800);
    // One watch of 800 answers with the one who is online.
    alice.send("presence");
    alice.expect_matching("PRESENCE bob@localhost ", &["type=available"]);
    alice.send("ping");
    alice.expect("PONG ok");
    let presences = alice.events().iter().filter(|line| line.starts_with("PRESENCE ")).count();
    assert_eq!(presences, 1, "{:?}", alice.events());
}

#[tokio::test(flavor = "multi_thread")]
async fn disabling_an_account_ends_its_xmpp_session() {
    let dir = deployment(&["alice"]);
    let (_server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    let out = support::simul(dir.path(), &["user", "disable", "alice", "--data", "data"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        alice.expect("STREAM_ERROR "),
        "STREAM_ERROR policy-violation this account is disabled"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_stops_reading_is_dropped_and_goes_offline() {
    let dir = deployment(&["alice", "bob"]);
    let env = [
        ("SIMUL_XMPP__LISTEN", "127.0.0.1:0"),
        ("SIMUL_SERVER__KEEPALIVE_SECONDS", "1"),
        ("SIMUL_SERVER__MESSAGES_PER_MINUTE", "1000000"),
        ("SIMUL_SERVER__MESSAGE_BURST", "1000000"),
    ];
    let server = Server::start_with(&dir.path().join("data"), false, &env);
    let line = server.log_line("(STARTTLS)");
    let address = line.split(' ').nth(4).unwrap().parse().unwrap();
    let mut alice = signed_in(address, "alice", XmppTransport::StartTls);
    alice.send("presence");
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;
    watch(&mut bob_events, "alice").await;
    next_status(&mut bob_events, "alice", "available").await;

    // Alice's client hangs (it no longer reads); bob writes on.
    let stop = |signal: &str| {
        let pid = alice.pid().to_string();
        assert!(
            std::process::Command::new("kill").args([signal, &pid]).status().unwrap().success()
        );
    };
    stop("-STOP");
    let text = json!({"text": "x".repeat(9_000)});
    let sender = {
        let (server_url, bob) = (server.url("/api/v1/im/alice"), bob.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for _ in 0..2_000 {
                let sent = http.post(&server_url).bearer_auth(&bob).json(&text).send().await;
                if sent.is_err() {
                    break;
                }
            }
        })
    };
    next_status(&mut bob_events, "alice", "offline").await;
    sender.abort();
    stop("-CONT");
}

/// What a raw client gets for what no client should send.
#[tokio::test(flavor = "multi_thread")]
async fn bad_streams_get_their_stream_errors_and_harm_nobody() {
    let dir = deployment(&["alice"]);
    let (_server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let header = |to: &str| {
        format!(
            "<?xml version='1.0'?><stream:stream to='{to}' version='1.0' \
             xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
        )
    };
    for (what, sent, answer) in [
        (
            "a stanza before TLS",
            header("localhost") + "<message to='a@localhost'/>",
            "policy-violation",
        ),
        ("another host", header("elsewhere.org"), "host-unknown"),
        ("a DTD", "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]>".to_owned(), ""),
        ("not XML", "GET / HTTP/1.1\r\n\r\n<".to_owned(), ""),
        ("endless text", "x".repeat(300 * 1024), ""),
    ] {
        let mut raw = tokio::net::TcpStream::connect(starttls).await.unwrap();
        // The server may close before it has read everything.
        let _ = raw.write_all(sent.as_bytes()).await;
        let mut got = Vec::new();
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(10), raw.read_to_end(&mut got));
        assert!(read.await.is_ok(), "{what}: the server keeps the connection open");
        let got = String::from_utf8_lossy(&got);
        assert!(got.contains(answer), "{what}: {got}");
    }
    // The door still serves.
    let _alice = signed_in(starttls, "alice", XmppTransport::StartTls);
}
