//! XEP-0198 stream management with resumption on the XMPP door, spoken
//! to by slixmpp with its xep_0198 plugin (`XmppClient::start_resumable`):
//! a client whose connection is cut (no `</stream>`, as when a phone
//! loses its network) resumes its session and gets every message sent to
//! it meanwhile, once and in order, while the web sees it stay online.

use crate::support;

use serde_json::json;
use simul_testkit::{XmppClient, XmppTransport};
use support::xmpp::{next_status_of, xmpp_server_with};
use support::{deployment, post_json, web_user};
use support::{next_of_type, next_status, watch};

/// The door's log at info, where it says when a session waits.
const LOG: (&str, &str) = ("SIMUL_LOG", "warn,simul_xmpp=info");
/// What the door logs when a session's connection broke and it waits.
const WAITING: &str = "connection lost; the session waits";

/// A slixmpp client of `user` with resumption, signed in: it and the
/// resumption id it was given.
fn resumable(address: std::net::SocketAddr, user: &str) -> (XmppClient, String) {
    let jid = format!("{user}@localhost");
    let mut client =
        XmppClient::start_resumable(address, &jid, "long enough", XmppTransport::StartTls);
    client.expect(&format!("SESSION_START {jid}/"));
    let enabled = client.expect("SM_ENABLED ");
    let id = enabled.split(' ').nth(1).unwrap().to_owned();
    assert!(enabled.contains(" resume=true "), "{enabled}");
    (client, id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_connection_resumed_with_no_message_lost() {
    let dir = deployment(&["alice", "bob"]);
    let (server, starttls, _) = xmpp_server_with(&dir.path().join("data"), &[LOG]);
    let (bob, mut bob_events) = web_user(&server, "bob").await;
    watch(&mut bob_events, "alice").await;
    let (mut alice, id) = resumable(starttls, "alice");
    assert!(alice.events().last().unwrap().ends_with(" max=300"), "{:?}", alice.events());
    // 128 random bits, base64url.
    assert!(id.len() >= 22, "{id}");
    alice.send("presence");
    next_status(&mut bob_events, "alice", "available").await;

    // Her network goes; the server notices and keeps her session.
    alice.send("drop");
    alice.expect("DISCONNECTED");
    server.log_line(WAITING);
    // Bob writes to her meanwhile: she is still online for him.
    for n in 1..=3 {
        let text = json!({"text": format!("while away {n}")});
        let sent = post_json(&server, "/api/v1/im/alice", &bob, &text).await;
        assert_eq!(sent["delivered"], true, "{sent}");
    }

    // She is back: everything, in order, once.
    alice.send("reconnect");
    alice.expect("RESUMED");
    for n in 1..=3 {
        assert_eq!(alice.expect("MESSAGE "), format!("MESSAGE bob@localhost while away {n}"));
    }
    post_json(&server, "/api/v1/im/alice", &bob, &json!({"text": "welcome back"})).await;
    assert_eq!(alice.expect("MESSAGE "), "MESSAGE bob@localhost welcome back");
    let messages = alice.events().iter().filter(|line| line.starts_with("MESSAGE ")).count();
    assert_eq!(messages, 4, "{:?}", alice.events());
    // One session throughout: resumed, never bound again.
    let sessions = alice.events().iter().filter(|line| line.starts_with("SESSION_START ")).count();
    assert_eq!(sessions, 1, "{:?}", alice.events());

    // And chats on as before; the web never saw her go offline: her
    // next status after "available" is the one she sets now.
    alice.send("message bob@localhost I'm back");
    // (Bob's web session heard his own messages too.)
    let im = loop {
        let im = next_of_type(&mut bob_events, "im").await;
        if im["from"] == "alice" {
            break im;
        }
    };
    assert_eq!(im["text"], "I'm back");
    alice.send("presence away on the train");
    assert_eq!(next_status_of(&mut bob_events, "alice").await["status"], "away");

    // Signing out (</stream>) ends the session at once: no resumption.
    alice.send("quit");
    next_status(&mut bob_events, "alice", "offline").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nobody_resumes_an_unknown_session_or_someone_elses_and_both_get_one_answer() {
    let dir = deployment(&["alice", "bob"]);
    let (server, starttls, _) = xmpp_server_with(&dir.path().join("data"), &[LOG]);
    let (mut alice, alice_id) = resumable(starttls, "alice");

    // Bob's client loses its connection and comes back with an id that
    // never was, then with alice's: the same <failed/> both times, and a
    // fresh session of his own each time.
    let (mut bob, _) = resumable(starttls, "bob");
    let mut answers = Vec::new();
    for id in ["AAAAAAAAAAAAAAAAAAAAAA", alice_id.as_str()] {
        bob.send("drop");
        bob.expect("DISCONNECTED");
        server.log_line(WAITING);
        bob.send(&format!("resume_as {id}"));
        bob.send("reconnect");
        answers.push(bob.expect("SM_FAILED"));
        bob.expect("SESSION_START bob@localhost/");
        bob.expect("SM_ENABLED ");
    }
    assert_eq!(answers[0], "SM_FAILED item-not-found");
    assert_eq!(answers[0], answers[1]);
    bob.send("ping");
    bob.expect("PONG ok");

    // Alice's session is hers still (no conflict, no takeover).
    alice.send("ping");
    alice.expect("PONG ok");
    assert!(!alice.events().iter().any(|line| line.starts_with("STREAM_ERROR")));
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_window_the_user_is_offline_and_resumption_fails() {
    let dir = deployment(&["alice", "bob"]);
    let env = [LOG, ("SIMUL_XMPP__RESUME_TIMEOUT", "1")];
    let (server, starttls, _) = xmpp_server_with(&dir.path().join("data"), &env);
    let (_bob, mut bob_events) = web_user(&server, "bob").await;
    watch(&mut bob_events, "alice").await;
    let (mut alice, _) = resumable(starttls, "alice");
    assert!(alice.events().last().unwrap().ends_with(" max=1"), "{:?}", alice.events());
    alice.send("presence");
    next_status(&mut bob_events, "alice", "available").await;

    alice.send("drop");
    alice.expect("DISCONNECTED");
    next_status(&mut bob_events, "alice", "offline").await;
    alice.send("reconnect");
    alice.expect("SM_FAILED item-not-found");
    alice.expect("SESSION_START alice@localhost/");
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledging_more_than_was_sent_ends_the_stream() {
    let dir = deployment(&["alice", "bob"]);
    let (server, starttls, _) = xmpp_server_with(&dir.path().join("data"), &[LOG]);
    let (_bob, mut bob_events) = web_user(&server, "bob").await;
    watch(&mut bob_events, "alice").await;
    let (mut alice, _) = resumable(starttls, "alice");
    alice.send("presence");
    next_status(&mut bob_events, "alice", "available").await;

    alice.send("raw <a xmlns='urn:xmpp:sm:3' h='1000'/>");
    let error = alice.expect("STREAM_ERROR ");
    assert!(
        error.starts_with("STREAM_ERROR undefined-condition You acknowledged 1000 stanza(s)"),
        "{error}"
    );
    // A protocol error is no lost connection: the session ends at once.
    next_status(&mut bob_events, "alice", "offline").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn resuming_from_a_new_connection_ends_the_old_one_that_is_still_open() {
    let dir = deployment(&["alice", "bob"]);
    let (server, starttls, _) = xmpp_server_with(&dir.path().join("data"), &[LOG]);
    let (bob, mut bob_events) = web_user(&server, "bob").await;
    watch(&mut bob_events, "alice").await;
    let (mut laptop, id) = resumable(starttls, "alice");
    laptop.send("presence");
    next_status(&mut bob_events, "alice", "available").await;
    laptop.send("sm_handled");
    let handled = laptop.expect("SM_HANDLED ").split(' ').nth(1).unwrap().to_owned();

    // Before the server knows the laptop's network is gone, the same user
    // resumes its session from elsewhere: the old connection is told
    // `conflict`, the new one carries the session on.
    let (mut phone, _) = resumable(starttls, "alice");
    phone.send("drop");
    phone.expect("DISCONNECTED");
    server.log_line(WAITING);
    phone.send(&format!("resume_as {id} {handled}"));
    phone.send("reconnect");
    phone.expect("RESUMED");
    assert_eq!(laptop.expect("STREAM_ERROR "), format!("STREAM_ERROR conflict {TAKEN_OVER}"));
    post_json(&server, "/api/v1/im/alice", &bob, &json!({"text": "found you"})).await;
    assert_eq!(phone.expect("MESSAGE "), "MESSAGE bob@localhost found you");
    phone.send("presence dnd driving");
    assert_eq!(next_status_of(&mut bob_events, "alice").await["status"], "dnd");
}

/// What the old connection of a resumed session is told.
const TAKEN_OVER: &str = "the session was resumed from another connection";
