//! Pidgin itself against the Sametime VP door: libpurple's Sametime
//! plugin (`prpl-meanwhile`), run headless by `simul_testkit::PurpleClient`
//! with a fresh profile each, beside web users and Debian's libmeanwhile
//! (`simul_testkit::MwClient`). Connection errors are asserted as Pidgin's
//! `PurpleConnectionError` numbers (0 network error, 2 authentication
//! failed, 6 name in use) and what Pidgin's UI does after them: reconnect
//! after a transient one, disable the account after a fatal one.

use crate::support;

use serde_json::json;
use simul_testkit::{MwClient, MwOptions, PurpleClient};
use support::vp::{metric, put_json, vp_server, vp_server_with, web_joins_invitation, web_sees};
use support::{deployment, deployment_with_names, get_json, log_in};

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
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;

    // Pidgin opens a NotesBuddy channel first; refused, it falls back
    // to a plain one by itself (spec 6.4) and the text arrives once.
    alice.send("im bob hello from Pidgin & co");
    support::expect_web_im(&mut bob_events, "alice", "hello from Pidgin & co").await;
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
    web_sees(&server, &bob, "alice", "away", Some("at lunch")).await;
    alice.send("dnd deep work");
    web_sees(&server, &bob, "alice", "dnd", Some("deep work")).await;
    alice.send("available");
    web_sees(&server, &bob, "alice", "available", None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pidgin_chats_with_a_web_user_and_shows_its_own_lines_by_the_echo() {
    let dir = deployment(&["alice", "bob"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let mut alice = PurpleClient::start(address, "alice", "long enough");
    alice.expect("SIGNED_ON");
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;

    alice.send("chat Standup");
    assert!(alice.expect("CHAT_JOINED").ends_with(" Standup"));
    alice.send("invite bob Join us");
    let id = web_joins_invitation(&server, &bob, &mut bob_events, "alice", "Standup").await;
    alice.expect("CHAT_BUDDY_JOINED bob");

    let said = json!({"text": "morning all"});
    support::post_json(&server, &format!("/api/v1/nway/{id}/messages"), &bob, &said).await;
    assert_eq!(alice.expect("CHAT_LINE bob "), "CHAT_LINE bob RECV morning all");
    // libpurple does not write sent chat lines itself: this one is the
    // server's echo, which the plugin shows as sent.
    alice.send("say morning bob");
    assert_eq!(alice.expect("CHAT_LINE alice "), "CHAT_LINE alice SEND morning bob");
    let texts = support::history_texts(&server, &format!("/api/v1/nway/{id}/history"), &bob).await;
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

/// Scenario 7 of the spec (§12.5): Pidgin and a plain libmeanwhile client
/// in one community.
#[tokio::test(flavor = "multi_thread")]
async fn pidgin_and_a_libmeanwhile_client_see_each_other_talk_and_chat() {
    let dir = deployment(&["alice", "carol"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let options = MwOptions { auto_accept: true, ..MwOptions::default() };
    let mut carol = MwClient::start_with(address, "carol", "long enough", &options);
    carol.expect("LOGGED_IN");
    carol.send("status 0x0060 in a meeting room");
    let (web, _) = log_in(&server, "alice", "long enough").await;
    web_sees(&server, &web, "carol", "away", None).await;

    let mut alice = PurpleClient::start(address, "alice", "long enough");
    alice.expect("SIGNED_ON");
    alice.send("add carol");
    assert_eq!(
        alice.expect("BUDDY_SIGNED_ON carol "),
        "BUDDY_SIGNED_ON carol away in a meeting room"
    );
    carol.send("watch alice");
    carol.expect_matching("PRESENCE alice ", &["online=1"]);

    // Pidgin opens a NotesBuddy channel; refused (0x80002005), it opens a
    // plain one by itself and the text arrives once.
    alice.send("im carol hello from Pidgin");
    assert_eq!(carol.expect("IM alice "), "IM alice hello from Pidgin");
    carol.send("im alice hello from libmeanwhile");
    assert_eq!(alice.expect("IM carol "), "IM carol hello from libmeanwhile");

    alice.send("away out to lunch");
    carol.expect_matching("PRESENCE alice ", &["status=0x0060", "msg=out to lunch"]);

    alice.send("chat Standup");
    assert!(alice.expect("CHAT_JOINED").ends_with(" Standup"));
    alice.send("invite carol Join us");
    assert!(carol.expect("CHAT_INVITED").contains("from=alice"));
    assert!(carol.expect("CHAT_OPENED").contains("alice"));
    alice.expect("CHAT_BUDDY_JOINED carol");
    carol.send("chat_say morning all");
    assert_eq!(alice.expect("CHAT_LINE carol "), "CHAT_LINE carol RECV morning all");
    // Pidgin's own line is the server's echo.
    alice.send("say morning carol");
    assert_eq!(alice.expect("CHAT_LINE alice "), "CHAT_LINE alice SEND morning carol");
    assert_eq!(carol.expect("CHAT alice "), "CHAT alice morning carol");
    let errors: Vec<&String> = alice.events().iter().filter(|l| l.contains("ERROR")).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// Scenario 9: an SSO user's LtpaToken2 typed into Pidgin's password field.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_as_pidgins_password_signs_in_and_an_expired_one_fails_once() {
    let dir = deployment(&["alice"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let (token, _) = log_in(&server, "alice", "long enough").await;
    let mut alice = PurpleClient::start(address, "alice", &token);
    alice.expect("SIGNED_ON");
    alice.send("quit");
    alice.wait_exit(std::time::Duration::from_secs(10));

    // A token of the SSO domain, made by "another server" with the
    // exported keys, expired in 2020: INCORRECT_LOGIN, which Pidgin takes
    // for fatal (the token error codes would make it retry for ever).
    support::export_keys(dir.path());
    let expired = support::mint(dir.path(), &["--user", "alice", "--expires-at", "1600000000000"]);
    let mut late = PurpleClient::start(address, "alice", &expired);
    assert_eq!(late.expect("CONNECTION_ERROR"), "CONNECTION_ERROR 2 Incorrect Username/Password");
    late.expect("ACCOUNT_DISABLED");
    late.expect("SIGNED_OFF");
    late.send("quit");
    late.wait_exit(std::time::Duration::from_secs(10));
    let events = late.events();
    let errors = events.iter().filter(|l| l.starts_with("CONNECTION_ERROR")).count();
    assert_eq!(errors, 1, "{events:?}");
    assert!(!events.iter().any(|l| l == "SIGNED_ON" || l.starts_with("RECONNECT")), "{events:?}");
    // The server saw one attempt with that token, not a stream.
    assert_eq!(metric(&server, "simul_invalid_tokens_total").await, 1);
}

/// Scenario 10: `simul serve` stopped while Pidgin is connected.
#[tokio::test(flavor = "multi_thread")]
async fn stopping_the_server_is_a_transient_error_and_pidgin_signs_on_again() {
    let dir = deployment(&["alice"]);
    let data = dir.path().join("data");
    // One VP port for both runs of the server, as a deployment has.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let (server, address) = vp_server_with(&data, &[("SIMUL_VP__LISTEN", &listen)]);
    let mut alice = PurpleClient::start(address, "alice", "long enough");
    alice.expect("SIGNED_ON");

    let status = server.terminate();
    assert!(status.success(), "{status}");
    // CONNECTION_CLOSED (0x80000226): NETWORK_ERROR for Pidgin, transient.
    assert_eq!(alice.expect("CONNECTION_ERROR"), "CONNECTION_ERROR 0 Connection closed");
    assert_eq!(alice.expect("RECONNECT_IN"), "RECONNECT_IN 1");
    alice.expect("SIGNED_OFF");

    // The server is back: Pidgin signs on again by itself.
    let (_server, _) = vp_server_with(&data, &[("SIMUL_VP__LISTEN", &listen)]);
    alice.expect("SIGNED_ON");
    let events = alice.events();
    assert!(!events.iter().any(|l| l == "ACCOUNT_DISABLED"), "{events:?}");
}

/// Scenario 10: one session more than a user may hold. Simul displaces
/// no session; the newest login is refused with MULTI_SERVER_LOGIN.
#[tokio::test(flavor = "multi_thread")]
async fn sessions_up_to_the_limit_coexist_and_one_more_is_name_in_use() {
    let dir = deployment(&["alice", "bob"]);
    let limit = [("SIMUL_SERVER__MAX_SESSIONS_PER_USER", "2")];
    let (server, address) = vp_server_with(&dir.path().join("data"), &limit);
    let (_web, mut web_events) = support::web_user(&server, "alice").await;
    let mut pidgin = PurpleClient::start(address, "alice", "long enough");
    pidgin.expect("SIGNED_ON");

    // Web and Pidgin at once: a message reaches both.
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let text = json!({"text": "to both"});
    let sent = support::post_json(&server, "/api/v1/im/alice", &bob, &text).await;
    assert_eq!(sent["delivered"], true);
    assert_eq!(pidgin.expect("IM bob "), "IM bob to both");
    let event = support::next_event(&mut web_events).await;
    assert_eq!((&event["type"], &event["text"]), (&json!("im"), &json!("to both")), "{event}");

    // A third session: NAME_IN_USE (6), fatal, so Pidgin disables the
    // account rather than retrying.
    let logins = "simul_logins_total{result=\"ok\"}";
    let before = metric(&server, logins).await;
    let mut third = PurpleClient::start(address, "alice", "long enough");
    let error = third.expect("CONNECTION_ERROR");
    assert_eq!(error, "CONNECTION_ERROR 6 Login to two different servers concurrently");
    third.expect("ACCOUNT_DISABLED");
    third.expect("SIGNED_OFF");
    third.send("quit");
    third.wait_exit(std::time::Duration::from_secs(10));
    let events = third.events();
    assert!(!events.iter().any(|l| l == "SIGNED_ON" || l.starts_with("RECONNECT")), "{events:?}");
    assert_eq!(metric(&server, logins).await, before + 1, "one login attempt");

    // The two sessions go on.
    let text = json!({"text": "still here"});
    support::post_json(&server, "/api/v1/im/alice", &bob, &text).await;
    assert_eq!(pidgin.expect("IM bob "), "IM bob still here");
}

/// Scenario 11: Pidgin's "add buddy" with a name or a mail address. The
/// plugin accepts silently only an id equal to what was typed; otherwise
/// it shows the matches and the user adds the one meant.
#[tokio::test(flavor = "multi_thread")]
async fn adding_a_buddy_by_name_or_mail_resolves_it_and_watches_it() {
    let dir = deployment_with_names(&[("alice", "Alice Allen"), ("bob", "Bob Builder")]);
    let args = [
        "user",
        "add",
        "carol",
        "--display-name",
        "Carol Cooper",
        "--mail",
        "carol@renovations.com",
        "--password-file",
        "pw",
        "--data",
        "data",
    ];
    let out = support::simul(dir.path(), &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (server, address) = vp_server(&dir.path().join("data"));
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let _bob_online = support::events(&server, &bob).await;
    let mut alice = PurpleClient::start(address, "alice", "long enough");
    alice.expect("SIGNED_ON");

    alice.send("add Bob Builder");
    alice.expect("BUDDY_REMOVED Bob Builder");
    assert_eq!(alice.expect("SEARCH_ROW "), "SEARCH_ROW 0 Bob Builder | bob");
    alice.send("search_add 0");
    assert_eq!(alice.expect("ADD_BUDDY_REQUEST "), "ADD_BUDDY_REQUEST bob Bob Builder");
    alice.expect("BUDDY_SIGNED_ON bob ");

    alice.send("add carol@renovations.com");
    alice.expect("BUDDY_REMOVED carol@renovations.com");
    assert_eq!(alice.expect("SEARCH_ROW "), "SEARCH_ROW 0 Carol Cooper | carol");
    alice.send("search_add 0");
    assert_eq!(alice.expect("ADD_BUDDY_REQUEST "), "ADD_BUDDY_REQUEST carol Carol Cooper");
    alice.expect_matching("BUDDY_STATUS carol ", &["offline"]);
    let mut carol = MwClient::start(address, "carol", "long enough");
    carol.expect("LOGGED_IN");
    alice.expect("BUDDY_SIGNED_ON carol ");
}

/// Scenario 11: an IM to someone offline, and partners who leave in the
/// middle of a conversation, on either side.
#[tokio::test(flavor = "multi_thread")]
async fn a_partner_who_leaves_ends_the_conversation_and_pidgin_says_so_when_it_writes() {
    let dir = deployment(&["alice", "carol", "dave"]);
    let (_server, address) = vp_server(&dir.path().join("data"));
    let mut alice = PurpleClient::start(address, "alice", "long enough");
    alice.expect("SIGNED_ON");

    // Offline: the door refuses the channel with ERR_CLIENT_USER_GONE
    // (0x80002000) and Pidgin writes the error into the conversation.
    alice.send("im dave are you there?");
    assert_eq!(
        alice.expect_matching("IM_LINE dave ", &[" ERROR "]),
        "IM_LINE dave ERROR Unable to send message: User is not online"
    );

    // Carol (libmeanwhile) and Pidgin talk; carol leaves.
    let mut carol = MwClient::start(address, "carol", "long enough");
    carol.expect("LOGGED_IN");
    alice.send("add carol");
    alice.expect("BUDDY_SIGNED_ON carol ");
    alice.send("im carol hi carol");
    assert_eq!(carol.expect("IM alice "), "IM alice hi carol");
    carol.send("im alice hi alice");
    assert_eq!(alice.expect("IM carol "), "IM carol hi alice");
    carol.send("quit");
    // The door destroys Pidgin's channel before it reports carol offline;
    // Pidgin shows nothing for a closed conversation with nothing queued,
    // and its next message opens a new channel, which is refused.
    alice.expect("BUDDY_SIGNED_OFF carol");
    alice.send("im carol still there?");
    assert_eq!(
        alice.expect_matching("IM_LINE carol ", &[" ERROR "]),
        "IM_LINE carol ERROR Unable to send message: User is not online"
    );

    // The other way round: Pidgin leaves, libmeanwhile's conversation is
    // closed with ERR_CLIENT_USER_GONE.
    let mut dave = MwClient::start(address, "dave", "long enough");
    dave.expect("LOGGED_IN");
    dave.send("im alice hello alice");
    assert_eq!(alice.expect("IM dave "), "IM dave hello alice");
    alice.send("im dave bye");
    assert_eq!(dave.expect("IM alice "), "IM alice bye");
    alice.send("quit");
    assert_eq!(dave.expect("IM_CLOSED "), "IM_CLOSED alice 0x80002000");
}
