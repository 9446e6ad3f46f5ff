//! Messages after they were sent, in rooms (n-way chats): XMPP occupants
//! (slixmpp) correct (XEP-0308), retract (XEP-0424) and react (XEP-0444)
//! by the ids a room gives (XEP-0359 stanza-ids) and by their own, the
//! web sees it, and what the web changes reaches the occupants; what is
//! not theirs to change, or not in the room, stays as it was.

use crate::support;

use reqwest::Method;
use serde_json::{Value, json};
use simul_testkit::{XmppClient, XmppTransport};
use support::xmpp::{signed_in, xmpp_server};
use support::{Events, Server, deployment, get_json, next_of_type, post_json, request_json};

/// Web user bob's chat with alice and carol on XMPP, both in its room:
/// the server, bob's token and events, the chat, its room and the two
/// clients.
struct Room {
    _dir: tempfile::TempDir,
    server: Server,
    bob: String,
    bobs: Events,
    chat: u64,
    room: String,
    alice: XmppClient,
    carol: XmppClient,
    starttls: std::net::SocketAddr,
}

async fn room_of_bob_alice_and_carol() -> Room {
    let dir = deployment(&["alice", "bob", "carol", "dave"]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let (bob, bobs) = support::web_user(&server, "bob").await;
    let invite = json!({"invite": ["alice", "carol"], "topic": "Lunch"});
    let chat = post_json(&server, "/api/v1/nway", &bob, &invite).await["id"].as_u64().unwrap();
    let room = format!("chat-{chat}@conference.localhost");
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    let mut carol = signed_in(starttls, "carol", XmppTransport::StartTls);
    for client in [&mut alice, &mut carol] {
        client.send(&format!("join {room} me"));
        client.expect("SUBJECT ");
    }
    alice.expect_matching("OCCUPANT ", &[" carol ", "type=available"]);
    Room { _dir: dir, server, bob, bobs, chat, room, alice, carol, starttls }
}

/// The ids of the room line a client got next (after its GROUPCHAT line):
/// its `id` and its stanza-id, which the room stamped.
fn ids_of_next_line(client: &mut XmppClient, room: &str, from: &str) -> (String, String) {
    let line = client.expect("GROUPCHAT_IDS ");
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!(&words[1..3], [room, from], "{line}");
    assert_eq!(words[5], format!("by={room}"), "the room stamps its stanza-ids: {line}");
    let value = |word: &str, key: &str| word.strip_prefix(key).unwrap().to_owned();
    (value(words[3], "id="), value(words[4], "stanza-id="))
}

/// The entry of message `id` in the chat's history, as bob reads it.
async fn entry(room: &Room, id: &str) -> Value {
    let path = format!("/api/v1/nway/{}/history", room.chat);
    let history = get_json(&room.server, &path, &room.bob).await;
    let entries = history.as_array().unwrap();
    entries.iter().find(|m| m["id"].as_u64() == id.parse().ok()).cloned().expect("in the history")
}

/// The next web event of `kind` about message `id`.
async fn next_about(events: &mut Events, kind: &str, id: &str) -> Value {
    loop {
        let event = next_of_type(events, kind).await;
        if event["message"].as_u64() == id.parse().ok() {
            return event;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn occupants_correct_retract_and_react_in_a_room_and_every_door_sees_it() {
    let mut r = room_of_bob_alice_and_carol().await;
    let room = r.room.clone();
    let alice_in = format!("{room}/alice");

    // Alice's line: she gets it back with her own id, carol and the
    // history with the room's stanza-id, which is the community's id.
    r.alice.send(&format!("message_with_id {room} a1 lunch at 12?"));
    assert_eq!(r.alice.expect("GROUPCHAT "), format!("GROUPCHAT {room} alice lunch at 12?"));
    let (own, stamped) = ids_of_next_line(&mut r.alice, &room, "alice");
    assert_eq!(r.carol.expect("GROUPCHAT "), format!("GROUPCHAT {room} alice lunch at 12?"));
    let (seen, stanza_id) = ids_of_next_line(&mut r.carol, &room, "alice");
    assert_eq!((own.as_str(), &seen), ("a1", &stanza_id), "the sender keeps its id");
    assert_eq!(stamped, stanza_id);
    let posted = next_of_type(&mut r.bobs, "nway_message").await;
    assert_eq!(posted["message"].to_string(), stanza_id);

    // She corrects it by her own id: the web sees an edit, carol a
    // correction of the line she knows, and the room reflects it to alice.
    r.alice.send(&format!("correct {room} a1 lunch at 1?"));
    let edited = next_about(&mut r.bobs, "message_edited", &stanza_id).await;
    assert_eq!((&edited["chat"], &edited["text"]), (&json!(r.chat), &json!("lunch at 1?")));
    assert_eq!(
        r.carol.expect("CORRECTED "),
        format!("CORRECTED {alice_in} {stanza_id} lunch at 1?")
    );
    assert_eq!(r.alice.expect("CORRECTED "), format!("CORRECTED {alice_in} a1 lunch at 1?"));
    assert_eq!(entry(&r, &stanza_id).await["text"], "lunch at 1?");

    // Carol reacts by the stanza-id: the web and alice see it.
    r.carol.send(&format!("react {room} {stanza_id} 👍"));
    let reaction = next_about(&mut r.bobs, "reaction", &stanza_id).await;
    assert_eq!((&reaction["user"], &reaction["emoji"]), (&json!("carol"), &json!("👍")));
    assert_eq!(r.alice.expect("REACTIONS "), format!("REACTIONS {room}/carol {stanza_id} 👍"));
    let reactions = &entry(&r, &stanza_id).await["reactions"];
    assert_eq!(reactions, &json!([{"emoji": "👍", "users": ["carol"]}]));

    // Alice retracts it by the stanza-id (slixmpp's XEP-0422 form): gone
    // on the web, retracted for carol.
    r.alice.send(&format!("retract {room} {stanza_id}"));
    next_about(&mut r.bobs, "message_deleted", &stanza_id).await;
    assert_eq!(r.carol.expect("RETRACTED "), format!("RETRACTED {alice_in} {stanza_id}"));
    assert_eq!(entry(&r, &stanza_id).await["deleted"], true);

    // A `:1` retraction naming her own id does the same.
    r.alice.send(&format!("message_with_id {room} a2 oops"));
    let (_, second) = ids_of_next_line(&mut r.carol, &room, "alice");
    r.alice.send(&format!(
        "raw <message type='groupchat' to='{room}' id='r2'><retract xmlns='urn:xmpp:message-retract:1' id='a2'/><body>retracted</body></message>"
    ));
    assert_eq!(r.carol.expect("RETRACTED "), format!("RETRACTED {alice_in} {second}"));
    assert_eq!(entry(&r, &second).await["deleted"], true);

    // Dave, invited later, enters: the history names each line by its
    // stanza-id too (the deleted ones come as tombstones, no line).
    let said = json!({"text": "welcome"});
    let welcome =
        post_json(&r.server, &format!("/api/v1/nway/{}/messages", r.chat), &r.bob, &said).await;
    let invite = json!({"users": ["dave"]});
    let path = r.server.url(&format!("/api/v1/nway/{}/invite", r.chat));
    let invited = reqwest::Client::new().post(path).bearer_auth(&r.bob).json(&invite).send();
    assert!(invited.await.unwrap().status().is_success());
    let mut dave = signed_in(r.starttls, "dave", XmppTransport::StartTls);
    dave.send(&format!("join {room} me"));
    for deleted in [&stanza_id, &second] {
        let tombstone = format!("TOMBSTONE {room} alice stanza-id={deleted}");
        assert_eq!(dave.expect("TOMBSTONE "), tombstone);
    }
    assert_eq!(dave.expect("GROUPCHAT "), format!("GROUPCHAT {room} bob welcome (delayed)"));
    let welcome_id = welcome["id"].to_string();
    assert_eq!(ids_of_next_line(&mut dave, &room, "bob"), (welcome_id.clone(), welcome_id));
    // The room says it stamps stanza-ids (XEP-0359 §6).
    dave.send(&format!("disco {room}"));
    dave.expect_matching("DISCO identities=conference/text ", &["urn:xmpp:sid:0"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn what_the_web_changes_in_a_chat_reaches_its_xmpp_occupants() {
    let mut r = room_of_bob_alice_and_carol().await;
    let room = r.room.clone();
    let messages = format!("/api/v1/nway/{}/messages", r.chat);
    let sent = post_json(&r.server, &messages, &r.bob, &json!({"text": "noon?"})).await;
    let id = sent["id"].as_u64().unwrap();
    assert_eq!(r.alice.expect("GROUPCHAT "), format!("GROUPCHAT {room} bob noon?"));
    assert_eq!(ids_of_next_line(&mut r.alice, &room, "bob"), (id.to_string(), id.to_string()));

    let path = format!("/api/v1/messages/{id}");
    let edit = Some(json!({"text": "noon!"}));
    assert!(request_json(&r.server, Method::PATCH, &path, &r.bob, edit).await.0.is_success());
    assert_eq!(r.alice.expect("CORRECTED "), format!("CORRECTED {room}/bob {id} noon!"));
    let thumbs = Some(json!({"emoji": "😂", "on": true}));
    let reactions = format!("{path}/reactions");
    assert!(request_json(&r.server, Method::PUT, &reactions, &r.bob, thumbs).await.0.is_success());
    assert_eq!(r.alice.expect("REACTIONS "), format!("REACTIONS {room}/bob {id} 😂"));
    let deleted = reqwest::Client::new().delete(r.server.url(&path)).bearer_auth(&r.bob).send();
    assert!(deleted.await.unwrap().status().is_success());
    assert_eq!(r.alice.expect("RETRACTED "), format!("RETRACTED {room}/bob {id}"));
    assert_eq!(r.carol.expect("RETRACTED "), format!("RETRACTED {room}/bob {id}"));

    // Alice edits on the web what she said from XMPP: her client hears it
    // by her own id, carol's by the room's.
    r.alice.send(&format!("message_with_id {room} mine see you"));
    let (_, stanza_id) = ids_of_next_line(&mut r.carol, &room, "alice");
    let (alice_web, _) = support::log_in(&r.server, "alice", "long enough").await;
    let path = format!("/api/v1/messages/{stanza_id}");
    let edit = Some(json!({"text": "see you soon"}));
    assert!(request_json(&r.server, Method::PATCH, &path, &alice_web, edit).await.0.is_success());
    let corrected = format!("{room}/alice mine see you soon");
    assert_eq!(r.alice.expect("CORRECTED "), format!("CORRECTED {corrected}"));
    let corrected = format!("{room}/alice {stanza_id} see you soon");
    assert_eq!(r.carol.expect("CORRECTED "), format!("CORRECTED {corrected}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn what_is_not_ones_own_or_not_in_the_room_stays_as_it_was() {
    let mut r = room_of_bob_alice_and_carol().await;
    let room = r.room.clone();
    r.alice.send(&format!("message_with_id {room} a1 mine"));
    let (_, theirs) = ids_of_next_line(&mut r.carol, &room, "alice");
    // Another chat of alice and bob, where she said something too, and
    // one of bob and dave alone.
    let other = |invite: &str| json!({"invite": [invite], "topic": "Elsewhere"});
    let elsewhere = post_json(&r.server, "/api/v1/nway", &r.bob, &other("alice")).await;
    let room2 = format!("chat-{}@conference.localhost", elsewhere["id"]);
    r.alice.send(&format!("join {room2} me"));
    r.alice.expect(&format!("SUBJECT {room2} "));
    r.alice.send(&format!("message_with_id {room2} b1 over here"));
    let (_, there) = ids_of_next_line(&mut r.alice, &room2, "alice");
    let said = json!({"text": "over here"});
    let private = post_json(&r.server, "/api/v1/nway", &r.bob, &other("dave")).await;
    let path = format!("/api/v1/nway/{}/messages", private["id"]);
    let hidden = post_json(&r.server, &path, &r.bob, &said).await["id"].to_string();
    let before = entry(&r, &theirs).await;
    let history_there = format!("/api/v1/nway/{}/history", elsewhere["id"]);
    let there_before = get_json(&r.server, &history_there, &r.bob).await;

    // Carol cannot correct or retract alice's line: forbidden, as 1:1.
    r.carol.send(&format!("correct {room} {theirs} hers now"));
    assert_eq!(r.carol.expect("MESSAGE_ERROR "), format!("MESSAGE_ERROR {room} forbidden"));
    r.carol.send(&format!("retract {room} {theirs}"));
    assert_eq!(r.carol.expect("MESSAGE_ERROR "), format!("MESSAGE_ERROR {room} forbidden"));
    // Made-up ids, huge ones, a line of another chat of hers and one of a
    // chat she is not in, and a room line named in a 1:1 conversation:
    // one answer, whatever is behind it.
    let not_found = format!("MESSAGE_ERROR {room} item-not-found");
    let huge = ["18446744073709551615", "99999999999999999999999"];
    for named in ["nope", "999999", huge[0], huge[1], "b1", &there, &hidden] {
        r.alice.send(&format!("correct {room} {named} changed"));
        assert_eq!(r.alice.expect("MESSAGE_ERROR "), not_found, "correcting {named}");
        r.alice.send(&format!("retract {room} {named}"));
        assert_eq!(r.alice.expect("MESSAGE_ERROR "), not_found, "retracting {named}");
        r.alice.send(&format!("react {room} {named} 👍"));
        assert_eq!(r.alice.expect("MESSAGE_ERROR "), not_found, "reacting to {named}");
    }
    // Her own line, with no text or an emoji not offered: a bad request.
    r.alice.send(&format!("correct {room} a1"));
    assert_eq!(r.alice.expect("MESSAGE_ERROR "), format!("MESSAGE_ERROR {room} bad-request"));
    r.alice.send(&format!("react {room} {theirs} 🦀"));
    assert_eq!(r.alice.expect("MESSAGE_ERROR "), format!("MESSAGE_ERROR {room} bad-request"));
    r.alice.send(&format!("correct bob@localhost {theirs} changed"));
    assert_eq!(r.alice.expect("MESSAGE_ERROR "), "MESSAGE_ERROR bob@localhost item-not-found");
    // Dave, no member, is told to enter the room first.
    let mut dave = signed_in(r.starttls, "dave", XmppTransport::StartTls);
    dave.send(&format!("correct {room} {theirs} mine"));
    assert_eq!(dave.expect("MESSAGE_ERROR "), format!("MESSAGE_ERROR {room} not-acceptable"));

    // Nothing changed, and no correction, retraction or reaction was
    // told to anyone.
    assert_eq!(entry(&r, &theirs).await, before);
    assert_eq!(get_json(&r.server, &history_there, &r.bob).await, there_before);
    for client in [&mut r.alice, &mut r.carol] {
        client.send("ping");
        client.expect("PONG ");
        let told = ["CORRECTED ", "RETRACTED ", "REACTIONS "];
        let events = client.events().to_vec();
        assert!(!events.iter().any(|line| told.iter().any(|t| line.starts_with(t))), "{events:?}");
    }
}
