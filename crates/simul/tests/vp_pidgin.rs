//! Pidgin itself against the Sametime VP door: libpurple's Sametime
//! plugin (`prpl-meanwhile`), run headless by `simul_testkit::PurpleClient`
//! with a fresh profile each, beside web users.

mod support;

use serde_json::json;
use simul_testkit::PurpleClient;
use support::vp::{put_json, vp_server};
use support::{deployment, eventually, get_json, log_in};

#[tokio::test(flavor = "multi_thread")]
async fn signs_in_with_a_password_and_a_wrong_one_is_authentication_failed() {
    let dir = deployment(&["alice"]);
    let (_server, address) = vp_server(&dir.path().join("data"));
    let mut alice = PurpleClient::start(address, "alice", "long enough");
    alice.expect("SIGNED_ON");

    // PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED is 2: fatal for
    // libpurple (purple_connection_error_is_fatal), so Pidgin shows the
    // sentence and does not reconnect (spec 4.12).
    let mut wrong = PurpleClient::start(address, "alice", "not it");
    let error = wrong.expect("CONNECTION_ERROR");
    assert_eq!(error, "CONNECTION_ERROR 2 Incorrect Username/Password");
    wrong.expect("SIGNED_OFF");
    assert!(!wrong.events().iter().any(|line| line == "SIGNED_ON"), "{:?}", wrong.events());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_buddy_is_seen_coming_online_and_going_away_on_the_web() {
    let dir = deployment(&["alice", "bob"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let mut alice = PurpleClient::start(address, "alice", "long enough");
    alice.expect("SIGNED_ON");
    alice.send("add bob");
    alice.expect_matching("BUDDY_STATUS bob ", &["offline"]);

    // Bob signs in on the web and goes away there.
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let _socket = support::events(&server, &bob).await;
    // libpurple reports offline to online as a sign-on, not as a
    // status change.
    alice.expect("BUDDY_SIGNED_ON bob ");
    let away = put_json(
        &server,
        "/api/v1/me/status",
        &bob,
        &serde_json::json!({"status": "away", "message": "at lunch"}),
    )
    .await;
    assert!(away.status().is_success());
    assert_eq!(
        alice.expect_matching("BUDDY_STATUS bob ", &[" away"]),
        "BUDDY_STATUS bob away at lunch"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ims_go_both_ways_between_pidgin_and_a_web_user() {
    let dir = deployment(&["alice", "bob"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let mut alice = PurpleClient::start(address, "alice", "long enough");
    alice.expect("SIGNED_ON");
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let mut bob_events = support::events(&server, &bob).await;

    // Pidgin opens a NotesBuddy channel first; refused, it falls back
    // to a plain one by itself (spec 6.4) and the text arrives once.
    alice.send("im bob hello from Pidgin & co");
    let event = support::next_event(&mut bob_events).await;
    assert_eq!((&event["type"], &event["from"]), (&json!("im"), &json!("alice")), "{event}");
    assert_eq!(event["text"], "hello from Pidgin & co");
    assert_eq!(alice.expect("IM_LINE bob "), "IM_LINE bob SEND hello from Pidgin & co");

    let text = json!({"text": "hi alice"});
    let sent = support::post_json(&server, "/api/v1/im/alice", &bob, &text).await;
    assert_eq!(sent["delivered"], true);
    assert_eq!(alice.expect("IM bob "), "IM bob hi alice");
    let errors: Vec<&String> = alice.events().iter().filter(|l| l.contains("ERROR")).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pidgins_away_and_do_not_disturb_messages_reach_the_web() {
    let dir = deployment(&["alice", "bob"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let mut alice = PurpleClient::start(address, "alice", "long enough");
    alice.expect("SIGNED_ON");
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    alice.send("away at lunch");
    eventually("the web sees Pidgin's away message", || async {
        let seen = get_json(&server, "/api/v1/awareness?user=alice", &bob).await;
        seen["alice"]["status"] == "away" && seen["alice"]["message"] == "at lunch"
    })
    .await;
    alice.send("dnd deep work");
    eventually("the web sees Pidgin's do-not-disturb", || async {
        let seen = get_json(&server, "/api/v1/awareness?user=alice", &bob).await;
        seen["alice"]["status"] == "dnd" && seen["alice"]["message"] == "deep work"
    })
    .await;
    alice.send("available");
    eventually("the web sees Pidgin available again", || async {
        let seen = get_json(&server, "/api/v1/awareness?user=alice", &bob).await;
        seen["alice"]["status"] == "available"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pidgin_chats_with_a_web_user_and_shows_its_own_lines_by_the_echo() {
    let dir = deployment(&["alice", "bob"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let mut alice = PurpleClient::start(address, "alice", "long enough");
    alice.expect("SIGNED_ON");
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let mut bob_events = support::events(&server, &bob).await;

    alice.send("chat Standup");
    assert!(alice.expect("CHAT_JOINED").ends_with(" Standup"));
    alice.send("invite bob Join us");
    let invite = support::next_event(&mut bob_events).await;
    assert_eq!((&invite["type"], &invite["from"]), (&json!("nway_invite"), &json!("alice")));
    assert_eq!(invite["topic"], "Standup");
    let id = invite["id"].as_u64().unwrap();
    support::post_json(&server, &format!("/api/v1/nway/{id}/join"), &bob, &json!({})).await;
    alice.expect("CHAT_BUDDY_JOINED bob");

    let said = json!({"text": "morning all"});
    support::post_json(&server, &format!("/api/v1/nway/{id}/messages"), &bob, &said).await;
    assert_eq!(alice.expect("CHAT_LINE bob "), "CHAT_LINE bob RECV morning all");
    // libpurple does not write sent chat lines itself: this one is the
    // server's echo, which the plugin shows as sent.
    alice.send("say morning bob");
    assert_eq!(alice.expect("CHAT_LINE alice "), "CHAT_LINE alice SEND morning bob");
    let history = get_json(&server, &format!("/api/v1/nway/{id}/history"), &bob).await;
    let texts: Vec<&str> =
        history.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["morning all", "morning bob"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn pidgins_buddy_list_is_stored_and_a_fresh_profile_gets_it_back() {
    let dir = deployment(&["alice", "bob"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let mut alice = PurpleClient::start(address, "alice", "long enough");
    alice.expect("SIGNED_ON");
    alice.send("add bob");
    alice.expect_matching("BUDDY_STATUS bob ", &["offline"]);

    // The plugin saves the list to storage key 0 some 15 s after a
    // change (spec 12.4): the web's contact list.
    let (token, _) = log_in(&server, "alice", "long enough").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let contacts = get_json(&server, "/api/v1/contacts", &token).await;
        if contacts == json!({"groups": [{"name": "Buddies", "contacts": ["bob"]}]}) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not stored in 30 s: {contacts}");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    alice.send("quit");
    alice.wait_exit(std::time::Duration::from_secs(10));

    // A fresh profile (another machine) synchronises from the server.
    let mut again = PurpleClient::start(address, "alice", "long enough");
    again.expect("SIGNED_ON");
    again.expect_matching("BUDDY_STATUS bob ", &["offline"]);
}
