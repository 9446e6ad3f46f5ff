//! The XMPP door, spoken to by slixmpp (Debian's python3-slixmpp, a real
//! XMPP client library) through `simul_testkit::XmppClient`, and by a raw
//! TCP client for what no well-behaved client sends: TLS and sign-in,
//! the roster as the contact list of every door, presence and messages
//! across doors (web, and Sametime through Debian's libmeanwhile), chat
//! states, bad input.

use crate::support;

use serde_json::{Value, json};
use simul_testkit::{MwClient, XmppClient, XmppTransport};
use support::vp::{put_json, vp_address, web_joins_invitation};
use support::xmpp::{raw_direct, signed_in, xmpp_addresses, xmpp_server, xmpp_server_with};
use support::{
    Server, deployment, deployment_with_names, get_json, log_in, next_members, next_of_type,
    next_status, post_json, watch,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test(flavor = "multi_thread")]
async fn signs_in_over_starttls_and_direct_tls_and_bad_credentials_get_one_answer() {
    let dir = deployment(&["alice", "bob"]);
    let (_server, starttls, direct) = xmpp_server(&dir.path().join("data"));
    // slixmpp binds to the channel only with tls-unique, which TLS 1.3
    // does not have: its -PLUS attempts are refused, and so are its
    // SCRAM attempts that say "I could bind, you cannot" while -PLUS is
    // offered (a downgrade, RFC 5802 §6); it signs in with PLAIN. SCRAM
    // itself is the raw client's below.
    let mut alice =
        XmppClient::start(starttls, "alice@localhost", "long enough", XmppTransport::StartTls);
    assert_eq!(alice.expect("AUTH "), "AUTH PLAIN");
    alice.expect("SESSION_START alice@localhost/");
    let _bob = signed_in(direct, "bob", XmppTransport::DirectTls);
    alice.send("ping");
    alice.expect("PONG ok");
    alice.send("disco");
    let disco = alice.expect("DISCO ");
    assert!(disco.contains("identities=server/im"), "{disco}");
    for feature in [
        "jabber:iq:roster",
        "urn:xmpp:ping",
        "urn:xmpp:carbons:2",
        "vcard-temp",
        "http://jabber.org/protocol/caps",
        "jabber:x:conference",
    ] {
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

    // Alice signs in with an XMPP client: presence and messages both ways
    // (kept once).
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    support::xmpp::meet_a_web_user(&mut alice, &server, &bob, &mut bob_events, "hello from XMPP")
        .await;
    let texts = support::history_texts(&server, "/api/v1/im/alice/history", &bob).await;
    assert_eq!(texts, ["hello from XMPP", "hi alice"]);

    // Typing, as XEP-0085 chat states.
    alice.send("chatstate bob@localhost composing");
    let typing = next_of_type(&mut bob_events, "typing").await;
    assert_eq!((&typing["from"], &typing["typing"]), (&json!("alice"), &json!(true)));

    // Signing out is seen on the web.
    alice.send("quit");
    next_status(&mut bob_events, "alice", "offline").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_sent_while_away_arrive_at_the_next_sign_in_on_any_door_once() {
    let dir = deployment(&["alice", "bob", "carol"]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    for text in ["one", "two", "three"] {
        let sent = post_json(&server, "/api/v1/im/bob", &alice, &json!({"text": text})).await;
        assert_eq!(sent["delivered"], false, "bob is away");
    }

    // Bob's XMPP client gets them, marked delayed, at its initial
    // presence and not before (RFC 6121 §8.5.2.1.1).
    let mut bob = signed_in(starttls, "bob", XmppTransport::StartTls);
    bob.send("ping");
    bob.expect("PONG ok");
    assert!(bob.events().iter().all(|line| !line.starts_with("MESSAGE")), "before presence");
    bob.send("presence");
    for text in ["one", "two", "three"] {
        assert_eq!(bob.expect("MESSAGE "), format!("MESSAGE alice@localhost {text} (delayed)"));
    }
    // Once: a second sign-in gets only what is new.
    bob.send("quit");
    bob.wait_exit(std::time::Duration::from_secs(10));
    let mut bob = signed_in(starttls, "bob", XmppTransport::StartTls);
    bob.send("presence");
    post_json(&server, "/api/v1/im/bob", &alice, &json!({"text": "four"})).await;
    assert_eq!(bob.expect("MESSAGE "), "MESSAGE alice@localhost four");

    // The other way: carol, on the web, gets what bob sent her over
    // XMPP while she was away, right after `ready`.
    bob.send("message carol@localhost are you there?");
    support::eventually("bob's message is kept", || async {
        let (carol, _) = log_in(&server, "carol", "long enough").await;
        !support::history_texts(&server, "/api/v1/im/bob/history", &carol).await.is_empty()
    })
    .await;
    let (_, mut carol) = support::web_user(&server, "carol").await;
    let missed = support::next_event(&mut carol).await;
    assert_eq!((&missed["type"], &missed["from"]), (&json!("im"), &json!("bob")), "{missed}");
    assert_eq!((&missed["text"], &missed["missed"]), (&json!("are you there?"), &json!(true)));
    assert!(missed["id"].as_u64().is_some(), "{missed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_displayed_marker_reads_the_conversation_on_every_door() {
    let dir = deployment(&["alice", "bob"]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    alice.send("presence");
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let (alice_web, _) = log_in(&server, "alice", "long enough").await;
    let mut last = 0;
    for text in ["one", "two"] {
        last = post_json(&server, "/api/v1/im/alice", &bob, &json!({"text": text})).await["id"]
            .as_u64()
            .unwrap();
        alice.expect(&format!("MESSAGE bob@localhost {text}"));
    }
    let unread = || async {
        let listed = get_json(&server, "/api/v1/conversations", &alice_web).await;
        listed[0]["unread"].as_u64().unwrap()
    };
    assert_eq!(unread().await, 2, "delivered is not read");
    // Conversations, Gajim and Dino send XEP-0333 markers for what the
    // user saw; the message's id is its archive id.
    alice.send(&format!("displayed bob@localhost {last}"));
    support::eventually("the web sees the conversation read", || async { unread().await == 0 })
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_message_archive_pages_through_the_history_with_the_ids_live_messages_carry() {
    let dir = deployment(&["alice", "bob", "carol"]);
    let (server, starttls, _) =
        xmpp_server_with(&dir.path().join("data"), &[("SIMUL_SERVER__MESSAGE_BURST", "1000")]);
    let mut bob = signed_in(starttls, "bob", XmppTransport::StartTls);
    bob.send("presence");
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (carol, _) = log_in(&server, "carol", "long enough").await;
    let (bob_web, _) = log_in(&server, "bob", "long enough").await;
    let mut ids = Vec::new();
    for n in 1..=250 {
        let sent =
            post_json(&server, "/api/v1/im/bob", &alice, &json!({"text": format!("m{n}")})).await;
        ids.push(sent["id"].as_u64().expect("an id"));
        if n == 125 {
            post_json(&server, "/api/v1/im/bob", &carol, &json!({"text": "from carol"})).await;
        }
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids follow the order of sending");
    bob.expect("MESSAGE alice@localhost m250");
    let history = get_json(&server, "/api/v1/im/alice/history", &bob_web).await;
    assert_eq!(history[199]["id"], ids[249], "the web history shows the same ids");

    // Disco tells the client there is an archive on its account.
    bob.send("disco_account");
    let disco = bob.expect("DISCO ");
    assert!(
        disco.contains("urn:xmpp:mam:2") && disco.contains("identities=account/registered"),
        "{disco}"
    );
    // Scrolling back from the newest, 100 at a time, with alice only.
    bob.send("mam alice@localhost 100 before=");
    let page = archive_page(&mut bob);
    assert_eq!(page.0.len(), 100);
    assert_eq!(page.0.last().unwrap(), &format!("{} alice@localhost bob@localhost m250", ids[249]));
    assert_eq!(page.1, "complete=false");
    bob.send(&format!("mam alice@localhost 100 before={}", ids[50]));
    let page = archive_page(&mut bob);
    assert_eq!(page.0.len(), 50);
    assert!(page.0[0].ends_with(" m1"), "{:?}", page.0[0]);
    assert_eq!(page.1, "complete=true");
    // Reading everything forwards after a point, with anyone: carol's too.
    bob.send(&format!("mam - 5 after={}", ids[122]));
    let page = archive_page(&mut bob);
    let texts: Vec<&str> = page.0.iter().map(|line| line.rsplit(' ').next().unwrap()).collect();
    assert_eq!(texts, ["m124", "m125", "carol", "m126", "m127"]);

    // Searching the archive by words (XEP-0431), with anyone or one partner.
    assert!(disco.contains("urn:xmpp:fulltext:0"), "{disco}");
    bob.send("mam_search - 10 from carol");
    let page = archive_page(&mut bob);
    assert_eq!(page.0, [format!("{} carol@localhost bob@localhost from carol", ids[124] + 1)]);
    assert_eq!(page.1, "complete=true");
    bob.send("mam_search alice@localhost 10 carol");
    assert_eq!(archive_page(&mut bob), (Vec::new(), "complete=true".to_owned()));
    // (Words match as prefixes, as people type: m24 is m24 and m240 to m249.)
    bob.send("mam_search alice@localhost 5 m24");
    let page = archive_page(&mut bob);
    let texts: Vec<&str> = page.0.iter().map(|line| line.rsplit(' ').next().unwrap()).collect();
    assert_eq!(
        (texts, page.1.as_str()),
        (vec!["m245", "m246", "m247", "m248", "m249"], "complete=false")
    );
    // Nothing to search for is a bad request.
    bob.send("mam_search - 10 \"\"");
    assert_eq!(bob.expect("IQ_ERROR "), "IQ_ERROR mam_search bad-request");
}

/// The results of an archive query: `ID FROM TO TEXT` lines, and the end.
fn archive_page(client: &mut XmppClient) -> (Vec<String>, String) {
    let mut lines = Vec::new();
    loop {
        let line = client.expect("ARCHIVE");
        if let Some(end) = line.strip_prefix("ARCHIVE_END ") {
            return (lines, end.to_owned());
        }
        lines.push(line.strip_prefix("ARCHIVED ").expect("a result").to_owned());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sametime_and_xmpp_clients_see_each_others_presence_and_talk() {
    let dir = deployment(&["alice", "bob"]);
    let env = [
        ("SIMUL_VP__LISTEN", "127.0.0.1:0"),
        ("SIMUL_XMPP__LISTEN", "127.0.0.1:0"),
        ("SIMUL_XMPP__LISTEN_TLS", "127.0.0.1:0"),
    ];
    let server = Server::start_with(&dir.path().join("data"), false, &env);
    let vp = vp_address(&server);
    let (starttls, _) = xmpp_addresses(&server);
    let (alice_web, _) = log_in(&server, "alice", "long enough").await;
    let contacts = json!({"groups": [{"name": "Team", "contacts": ["bob"]}]});
    put_json(&server, "/api/v1/contacts", &alice_web, &contacts).await;
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    alice.send("presence");

    // Bob signs in with a Sametime client (libmeanwhile): alice's
    // roster shows him, and his client shows her.
    let mut bob = MwClient::start(vp, "bob", "long enough");
    bob.expect("LOGGED_IN");
    alice.expect_matching("PRESENCE bob@localhost ", &["type=available", "show="]);
    bob.send("watch alice");
    bob.expect_matching("PRESENCE alice ", &["online=1"]);

    alice.send("message bob@localhost hello Sametime");
    assert_eq!(bob.expect("IM alice "), "IM alice hello Sametime");
    bob.send("im alice hello XMPP");
    assert_eq!(alice.expect("MESSAGE "), "MESSAGE bob@localhost hello XMPP");

    // Do not disturb with its message (a Sametime client in DND takes no
    // new conversation: libmeanwhile itself refuses it).
    bob.send("status 0x0080 in the zone");
    alice.expect_matching("PRESENCE bob@localhost ", &["show=dnd", "status=in the zone"]);
    bob.send("quit");
    alice.expect_matching("PRESENCE bob@localhost ", &["type=unavailable"]);
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
    // The same card as vCard 4 (XEP-0292), directly and from PEP.
    alice.send("vcard4 bob@localhost");
    assert_eq!(alice.expect("VCARD4 "), "VCARD4 bob@localhost fn/text=Bob Builder");
    alice.send("vcard4 pep bob@localhost");
    assert_eq!(alice.expect("VCARD4 "), "VCARD4 bob@localhost fn/text=Bob Builder");
    alice.send("vcard4 nobody@localhost");
    alice.expect("IQ_ERROR vcard4 item-not-found");

    // Alice writes to Bob from the web: her XMPP client gets a copy.
    alice.send("carbons");
    alice.expect("CARBONS_ON");
    let (alice_web, _) = log_in(&server, "alice", "long enough").await;
    post_json(&server, "/api/v1/im/bob", &alice_web, &json!({"text": "sent from the web"})).await;
    assert_eq!(alice.expect("CARBON_SENT "), "CARBON_SENT bob@localhost sent from the web");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_web_users_group_chat_is_a_room_xmpp_users_enter_talk_in_and_leave() {
    let dir = deployment(&["alice", "bob", "carol", "dave", "erin"]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;
    let (_dave, mut dave_events) = support::web_user(&server, "dave").await;
    let (_erin, mut erin_events) = support::web_user(&server, "erin").await;
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
    // and the subject follow; lines go both ways.
    let id = created["id"].as_u64().unwrap();
    support::xmpp::enter_and_talk_in_a_web_chat(
        &mut alice,
        &server,
        &bob,
        &mut bob_events,
        id,
        "Site visit",
    )
    .await;

    // She invites dave from her XMPP client: the web shows the invitation.
    alice.send(&format!("invite {room} dave@localhost"));
    let invited = next_of_type(&mut dave_events, "nway_invite").await;
    assert_eq!((&invited["from"], &invited["id"]), (&json!("alice"), &created["id"]));
    // A direct invitation (XEP-0249) does the same; one naming a room
    // that is no chat here comes back.
    let direct = |room: &str| {
        format!(
            "raw <message to='erin@localhost'><x xmlns='jabber:x:conference' jid='{room}' reason='join us'/></message>"
        )
    };
    alice.send(&direct(&room));
    let invited = next_of_type(&mut erin_events, "nway_invite").await;
    assert_eq!((&invited["from"], &invited["id"]), (&json!("alice"), &created["id"]));
    alice.send(&direct("elsewhere@conference.example.org"));
    alice.expect("MESSAGE_ERROR erin@localhost item-not-found");

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
async fn a_policy_without_n_way_chats_refuses_a_new_room_and_names_itself() {
    let dir = deployment(&["alice", "bob"]);
    let data = dir.path().join("data");
    let (_server, starttls, _) = xmpp_server(&data);
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    // Set while the server runs, from the command line, as an admin would.
    let data_arg = data.to_str().unwrap();
    let set = support::simul(
        dir.path(),
        &["policy", "set", "default", "nway_chat=no", "--data", data_arg],
    );
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));

    let room = "lunch@conference.localhost";
    alice.send(&format!("join {room} Alice"));
    let refused = alice.expect_matching(&format!("PRESENCE {room} "), &["type=error"]);
    assert!(refused.contains("condition=policy-violation"), "{refused}");
    assert!(refused.contains("`default`") && refused.contains("nway_chat"), "{refused}");

    // Allowed again: the same join makes the room.
    let set = support::simul(
        dir.path(),
        &["policy", "set", "default", "nway_chat=yes", "--data", data_arg],
    );
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    alice.send(&format!("join {room} Alice"));
    alice.expect_matching("OCCUPANT ", &[room, " alice ", "codes=100,110,201,210"]);
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
async fn a_flood_of_stanzas_is_refused_then_cut_off_while_others_chat_on() {
    let dir = deployment(&["alice", "bob", "mallory"]);
    let (server, starttls, direct) = xmpp_server(&dir.path().join("data"));
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    let mut bob = signed_in(direct, "bob", XmppTransport::DirectTls);
    let mut mallory = signed_in(starttls, "mallory", XmppTransport::StartTls);
    // The same limit as every door's sessions: 100 at once, 20 a second;
    // the excess is refused (type wait), and a session that keeps going
    // is ended.
    mallory.send("flood 1000");
    assert_eq!(mallory.expect("IQ_REFUSED "), "IQ_REFUSED resource-constraint wait");
    // The stream error goes out before the close; a client that is still
    // writing may hit the closed socket before it reads it.
    mallory.expect("DISCONNECTED");
    let (watcher, _) = log_in(&server, "alice", "long enough").await;
    support::vp::web_sees(&server, &watcher, "mallory", "offline", None).await;
    for n in 0..10 {
        alice.send(&format!("message bob@localhost still here {n}"));
        assert_eq!(bob.expect("MESSAGE "), format!("MESSAGE alice@localhost still here {n}"));
    }
}

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
        // Once enough to overflow the server's stack and end every door.
        ("elements nested 60,000 deep", header("localhost") + &"<a>".repeat(60_000), ""),
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
        // Before TLS only STARTTLS is offered (RFC 6120 §5.3.1), and no
        // SASL without a mechanism (§6.4.1).
        assert!(!got.contains("<mechanisms"), "{what}: {got}");
    }
    // The door still serves.
    let _alice = signed_in(starttls, "alice", XmppTransport::StartTls);
}

/// The roster pushes every resource that asked for the roster gets.
#[tokio::test(flavor = "multi_thread")]
async fn every_resource_gets_roster_pushes_when_the_list_changes_on_any_door() {
    let dir = deployment(&["alice", "bob", "carol"]);
    let data = dir.path().join("data");
    let xmpp = [("SIMUL_XMPP__LISTEN", "127.0.0.1:0"), ("SIMUL_XMPP__LISTEN_TLS", "127.0.0.1:0")];
    // The VP door says where it listens first.
    let (server, vp) = support::vp::vp_server_with(&data, &xmpp);
    let (starttls, direct) = xmpp_addresses(&server);
    let (alice_web, _) = log_in(&server, "alice", "long enough").await;
    let mut phone = signed_in(starttls, "alice", XmppTransport::StartTls);
    let mut laptop = signed_in(direct, "alice", XmppTransport::DirectTls);
    for client in [&mut phone, &mut laptop] {
        client.send("roster");
        client.expect("ROSTER_END");
    }

    // The web client edits the list.
    let contacts =
        json!({"groups": [{"name": "Team", "contacts": ["bob"]}], "aliases": {"bob": "Bobby"}});
    put_json(&server, "/api/v1/contacts", &alice_web, &contacts).await;
    for client in [&mut phone, &mut laptop] {
        let push = client.expect("ROSTER_PUSH ");
        assert_eq!(push, "ROSTER_PUSH bob@localhost name=Bobby groups=Team subscription=both");
    }

    // Another XMPP resource edits it: the other resource and itself.
    laptop.send("roster_set carol@localhost - Team");
    for client in [&mut phone, &mut laptop] {
        client.expect_matching("ROSTER_PUSH carol@localhost", &["groups=Team subscription=both"]);
    }

    // The web takes bob out: only that item changes.
    let contacts = json!({"groups": [{"name": "Team", "contacts": ["carol"]}]});
    put_json(&server, "/api/v1/contacts", &alice_web, &contacts).await;
    for client in [&mut phone, &mut laptop] {
        let push = client.expect("ROSTER_PUSH ");
        assert_eq!(push, "ROSTER_PUSH bob@localhost name= groups= subscription=remove");
    }

    // A Sametime client saves its buddy list: bob in, carol out.
    let mut sametime = simul_testkit::MwClient::start(vp, "alice", "long enough");
    sametime.expect("LOGGED_IN");
    sametime.send("save_blist bob");
    for client in [&mut phone, &mut laptop] {
        client.expect_matching("ROSTER_PUSH bob@localhost", &["groups=Buddies subscription=both"]);
        client.expect_matching("ROSTER_PUSH carol@localhost", &["subscription=remove"]);
    }
}

/// SCRAM bound to the TLS channel (RFC 5802 §6, RFC 9266), which slixmpp
/// cannot do (Python's ssl module exports no `tls-exporter`), by a raw
/// client that computes the binding from its own TLS connection.
#[tokio::test(flavor = "multi_thread")]
async fn scram_plus_binds_to_the_tls_channel_and_a_downgrade_or_wrong_binding_is_refused() {
    let dir = deployment(&["alice"]);
    let data = dir.path().join("data");
    let (_server, _, direct) = xmpp_server(&data);
    let (mut client, features) = raw_direct(direct, &data).await;
    let offered_types = ["urn:xmpp:sasl-cb:0", "tls-exporter", "tls-server-end-point"];
    for offered in ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"].iter().chain(&offered_types) {
        assert!(features.contains(offered), "{offered}: {features}");
    }
    let exporter = client.tls_exporter();
    let mut wrong = exporter;
    wrong[0] ^= 1;
    for (mechanism, flag, binding, password) in [
        // A binding to another channel (a man in the middle's).
        ("SCRAM-SHA-256-PLUS", "p=tls-exporter", &wrong[..], "long enough"),
        // A wrong password, bound correctly: the same answer.
        ("SCRAM-SHA-256-PLUS", "p=tls-exporter", &exporter[..], "wrong password"),
        // "I could bind, but you cannot": -PLUS was offered, so someone
        // took it out of the features on the way.
        ("SCRAM-SHA-256", "y", &[][..], "long enough"),
        // Another binding type than those offered, and the right data
        // under the other offered type's name.
        ("SCRAM-SHA-1-PLUS", "p=tls-unique", &exporter[..], "long enough"),
        ("SCRAM-SHA-1-PLUS", "p=tls-server-end-point", &exporter[..], "long enough"),
    ] {
        let answer = client.scram(mechanism, "alice", password, flag, binding).await.unwrap();
        // The one answer of every bad credential.
        let refused =
            answer.contains("not-authorized") && answer.contains("wrong user name or password");
        assert!(refused, "{mechanism} {flag} {password}: {answer}");
    }
    // The certificate's hash binds too (RFC 5929), as XEP-0440 asks.
    let (mut client, _) = raw_direct(direct, &data).await;
    let end_point = client.tls_server_end_point();
    let flag = "p=tls-server-end-point";
    let answer =
        client.scram("SCRAM-SHA-256-PLUS", "alice", "long enough", flag, &end_point).await.unwrap();
    assert!(answer.contains("<success"), "{answer}");
    for mechanism in ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"] {
        let (mut client, _) = raw_direct(direct, &data).await;
        let exporter = client.tls_exporter();
        let answer = client
            .scram(mechanism, "alice", "long enough", "p=tls-exporter", &exporter)
            .await
            .unwrap();
        assert!(answer.contains("<success"), "{mechanism}: {answer}");
    }
    // No binding at all, from a client that cannot bind: fine.
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-1"] {
        let (mut client, _) = raw_direct(direct, &data).await;
        let answer = client.scram(mechanism, "alice", "long enough", "n", &[]).await.unwrap();
        assert!(answer.contains("<success"), "{mechanism}: {answer}");
    }
}

/// XEP-0115: the server's capabilities in its stream features, a hash of
/// what discovery says it is, and discovery under `NODE#VER` says the same.
#[tokio::test(flavor = "multi_thread")]
async fn the_capabilities_hash_is_what_discovery_says_the_server_is() {
    use simul_directory::scram::ScramHash;
    use simul_testkit::attributes;
    let dir = deployment(&["alice"]);
    let data = dir.path().join("data");
    let (_server, _, direct) = xmpp_server(&data);
    let (mut client, _) = raw_direct(direct, &data).await;
    client.authenticate_plain("alice", "long enough").await.unwrap();
    let features = client.open_stream("localhost").await.unwrap();
    let caps = &features[features.find("http://jabber.org/protocol/caps").expect("caps")..];
    let (node, ver) = (attributes(caps, "node")[0], attributes(caps, "ver")[0]);
    assert_eq!(attributes(caps, "hash")[0], "sha-1");
    let bind = "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";
    client.request(bind).await.unwrap();

    let asked = format!("{node}#{ver}");
    let info = client
        .request(&format!(
            "<iq type='get' id='caps'><query xmlns='http://jabber.org/protocol/disco#info' node='{asked}'/></iq>"
        ))
        .await.unwrap();
    assert_eq!(attributes(&info, "node"), [asked.as_str()], "{info}");
    // XEP-0115 §5.1 on what came back: identity, then sorted features.
    let identity = &info[info.find("<identity").unwrap()..];
    let field = |name| attributes(identity, name)[0];
    let mut text =
        format!("{}/{}/{}/{}<", field("category"), field("type"), field("xml:lang"), field("name"));
    let mut vars = attributes(&info, "var");
    vars.sort_unstable();
    for var in &vars {
        text.push_str(var);
        text.push('<');
    }
    assert!(vars.contains(&"http://jabber.org/protocol/caps"), "{info}");
    use base64::Engine as _;
    let computed =
        base64::engine::general_purpose::STANDARD.encode(ScramHash::Sha1.digest(text.as_bytes()));
    assert_eq!(computed, ver, "{info}");

    let other = client
        .request("<iq type='get' id='other'><query xmlns='http://jabber.org/protocol/disco#info' node='elsewhere#x'/></iq>")
        .await.unwrap();
    assert!(other.contains("item-not-found"), "{other}");
}

/// XEP-0077, which slixmpp's tests cannot drive before signing in: a raw
/// client registers, changes its password and is refused removal.
#[tokio::test(flavor = "multi_thread")]
async fn in_band_registration_is_off_by_default_and_when_on_makes_embedded_accounts() {
    let register = |id: &str, body: &str| {
        format!("<iq type='set' id='{id}'><query xmlns='jabber:iq:register'>{body}</query></iq>")
    };
    let is_result =
        |answer: &str| answer.contains("type=\"result\"") || answer.contains("type='result'");
    let newbie = "<username>newbie</username><password>long enough</password>";

    // Off, the default: not announced, and refused.
    let dir = deployment(&["alice"]);
    let data = dir.path().join("data");
    let (_server, _, direct) = xmpp_server(&data);
    let (mut client, features) = raw_direct(direct, &data).await;
    assert!(!features.contains("iq-register"), "{features}");
    let answer = client.request(&register("off", newbie)).await.unwrap();
    assert!(answer.contains("service-unavailable"), "{answer}");

    let dir = deployment(&["alice"]);
    let data = dir.path().join("data");
    let (server, _, direct) = xmpp_server_with(&data, &[("SIMUL_XMPP__REGISTRATION", "true")]);
    let (mut client, features) = raw_direct(direct, &data).await;
    assert!(features.contains("http://jabber.org/features/iq-register"), "{features}");
    let fields = client
        .request("<iq type='get' id='fields'><query xmlns='jabber:iq:register'/></iq>")
        .await
        .unwrap();
    assert!(fields.contains("<username") && fields.contains("<password"), "{fields}");
    // A taken name, a password under the realm's rules, then an account.
    let taken = client
        .request(&register("taken", "<username>alice</username><password>long enough</password>"))
        .await
        .unwrap();
    assert!(taken.contains("conflict"), "{taken}");
    let weak = client
        .request(&register("weak", "<username>newbie</username><password>short</password>"))
        .await
        .unwrap();
    assert!(weak.contains("not-acceptable") && weak.contains("too short"), "{weak}");
    let made = client.request(&register("made", newbie)).await.unwrap();
    assert!(is_result(&made), "{made}");
    log_in(&server, "newbie", "long enough").await;
    // Three sign-ups a minute from one address, made or refused.
    let more = client
        .request(&register("more", "<username>another</username><password>long enough</password>"))
        .await
        .unwrap();
    assert!(more.contains("resource-constraint"), "{more}");

    // Signed in: a plain change asks for the current password too (a
    // session left open must not be enough), the form changes it, and
    // the account cannot be removed from here.
    let (mut client, _) = raw_direct(direct, &data).await;
    client.authenticate_plain("newbie", "long enough").await.unwrap();
    client.bind().await.unwrap();
    let asked = client
        .request(&register("plain", "<username>newbie</username><password>even longer</password>"))
        .await
        .unwrap();
    assert!(asked.contains("not-authorized") && asked.contains("old_password"), "{asked}");
    let form = |old: &str| {
        format!(
            "<x xmlns='jabber:x:data' type='submit'>\
             <field var='FORM_TYPE'><value>jabber:iq:register:changepassword</value></field>\
             <field var='username'><value>newbie</value></field>\
             <field var='old_password'><value>{old}</value></field>\
             <field var='password'><value>even longer</value></field></x>"
        )
    };
    let wrong = client.request(&register("wrong", &form("not the one"))).await.unwrap();
    assert!(wrong.contains("not-authorized"), "{wrong}");
    let changed = client.request(&register("change", &form("long enough"))).await.unwrap();
    assert!(is_result(&changed), "{changed}");
    let removed = client.request(&register("remove", "<remove/>")).await.unwrap();
    assert!(removed.contains("not-allowed"), "{removed}");
    log_in(&server, "newbie", "even longer").await;
}

/// XEP-0133 over XEP-0050, spoken by a raw client: the administrators of
/// `[xmpp] admins` see and run the commands; others see none and are
/// refused.
#[tokio::test(flavor = "multi_thread")]
async fn administrators_run_the_service_administration_commands_and_nobody_else() {
    let dir = deployment(&["alice", "bob", "carol"]);
    let data = dir.path().join("data");
    let (server, _, direct) = xmpp_server_with(&data, &[("SIMUL_XMPP__ADMINS", "[\"alice\"]")]);
    let (_bob, mut bob_events) = support::web_user(&server, "bob").await;
    let mut carol = signed_in(direct, "carol", XmppTransport::DirectTls);
    let connect = |user: &'static str| {
        let data = data.clone();
        async move {
            let (mut client, _) = raw_direct(direct, &data).await;
            client.authenticate_plain(user, "long enough").await.unwrap();
            client.bind().await.unwrap();
            client
        }
    };
    let list = "<iq type='get' id='list' to='localhost'><query \
                xmlns='http://jabber.org/protocol/disco#items' \
                node='http://jabber.org/protocol/commands'/></iq>";
    let run = |node: &str, body: &str| {
        format!(
            "<iq type='set' id='{node}' to='localhost'><command \
             xmlns='http://jabber.org/protocol/commands' \
             node='http://jabber.org/protocol/admin#{node}' action='execute'>{body}</command></iq>"
        )
    };
    let submit = |var: &str, value: &str| {
        format!(
            "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>\
             <value>http://jabber.org/protocol/admin</value></field>\
             <field var='{var}'><value>{value}</value></field></x>"
        )
    };

    // Carol is no administrator.
    let mut outsider = connect("carol").await;
    let none = outsider.request(list).await.unwrap();
    assert!(!none.contains("admin#"), "{none}");
    let refused = outsider.request(&run("get-online-users-num", "")).await.unwrap();
    assert!(refused.contains("forbidden"), "{refused}");
    drop(outsider);
    // The console's administrator role opens them too, at once.
    let out = support::simul(dir.path(), &["user", "admin", "carol", "--data", "data"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut promoted = connect("carol").await;
    let commands = promoted.request(list).await.unwrap();
    assert!(commands.contains("admin#announce"), "{commands}");
    drop(promoted);
    let out = support::simul(dir.path(), &["user", "admin", "carol", "--revoke", "--data", "data"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut alice = connect("alice").await;
    let commands = alice.request(list).await.unwrap();
    for node in ["get-online-users-num", "get-online-users-list", "announce", "disable-user"] {
        assert!(commands.contains(&format!("admin#{node}")), "{node}: {commands}");
    }
    let online = alice.request(&run("get-online-users-list", "")).await.unwrap();
    for jid in ["alice@localhost", "bob@localhost", "carol@localhost"] {
        assert!(online.contains(&format!("<value>{jid}</value>")), "{jid}: {online}");
    }
    let count = alice.request(&run("get-online-users-num", "")).await.unwrap();
    assert!(count.contains("completed") && count.contains("<value>3</value>"), "{count}");

    // An announcement: its form first, then to everyone online, any door.
    let asked = alice.request(&run("announce", "")).await.unwrap();
    assert!(asked.contains("executing") && asked.contains("announcement"), "{asked}");
    let sent =
        alice.request(&run("announce", &submit("announcement", "Upgrade at noon"))).await.unwrap();
    assert!(sent.contains("completed"), "{sent}");
    let headline = carol.expect("HEADLINE ");
    assert_eq!(headline, "HEADLINE localhost subject=Announcement from alice body=Upgrade at noon");
    let announcement = support::next_of_type(&mut bob_events, "announcement").await;
    assert_eq!(
        (announcement["from"].as_str(), announcement["text"].as_str()),
        (Some("alice"), Some("Upgrade at noon"))
    );

    let on_account = |node: &str, jid: &str| run(node, &submit("accountjids", jid));
    // Ending carol's session; disabling her (she cannot sign in), and
    // enabling her again.
    let ended = alice.request(&on_account("end-user-session", "carol@localhost")).await.unwrap();
    assert!(ended.contains("completed"), "{ended}");
    carol.expect("STREAM_ERROR policy-violation");
    let disabled = alice.request(&on_account("disable-user", "carol@localhost")).await.unwrap();
    assert!(disabled.contains("completed"), "{disabled}");
    let mut refused =
        XmppClient::start(direct, "carol@localhost", "long enough", XmppTransport::DirectTls);
    refused.expect("FAILED_AUTH");
    let enabled = alice.request(&on_account("reenable-user", "carol@localhost")).await.unwrap();
    assert!(enabled.contains("completed"), "{enabled}");
    let _carol = signed_in(direct, "carol", XmppTransport::DirectTls);
    let unknown = alice.request(&on_account("disable-user", "x@elsewhere.org")).await.unwrap();
    assert!(unknown.contains("bad-request"), "{unknown}");
}
