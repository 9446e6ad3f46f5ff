//! Messages after they were sent, through the web door: edits and
//! deletions by their author, reactions, read receipts and their setting,
//! each told to the other side at once and kept in the history.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{
    Server, deployment_with_names, events, get_json, log_in, next_event, next_members,
    next_of_type, post_json, request_json,
};

/// A deployment of Alice, Bob and Carol, each signed in: their tokens.
async fn alice_bob_and_carol() -> (tempfile::TempDir, Server, [String; 3]) {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")]);
    let server = Server::start(&dir.path().join("data"));
    let mut tokens = Vec::new();
    for user in ["alice", "bob", "carol"] {
        tokens.push(log_in(&server, user, "long enough").await.0);
    }
    let tokens = tokens.try_into().expect("three tokens");
    (dir, server, tokens)
}

/// The entry of message `id` in a history.
fn entry(history: &Value, id: u64) -> Value {
    history.as_array().unwrap().iter().find(|m| m["id"] == id).cloned().expect("in the history")
}

#[tokio::test(flavor = "multi_thread")]
async fn edits_deletions_and_reactions_reach_the_other_side_and_stay() {
    let (_dir, server, [alice, bob, carol]) = alice_bob_and_carol().await;
    let mut bobs = events(&server, &bob).await;
    let mut alices = events(&server, &alice).await;

    let sent = post_json(&server, "/api/v1/im/bob", &alice, &json!({"text": "lunch at 12?"})).await;
    let id = sent["id"].as_u64().unwrap();
    let path = format!("/api/v1/messages/{id}");
    let (status, _) =
        request_json(&server, Method::PATCH, &path, &alice, Some(json!({"text": "lunch at 1?"})))
            .await;
    assert_eq!(status, StatusCode::OK);
    let edited = next_of_type(&mut bobs, "message_edited").await;
    assert_eq!((&edited["message"], &edited["text"]), (&json!(id), &json!("lunch at 1?")));
    assert_eq!((&edited["from"], &edited["to"]), (&json!("alice"), &json!("bob")));
    let history = get_json(&server, "/api/v1/im/alice/history", &bob).await;
    let kept = entry(&history, id);
    assert_eq!(kept["text"], "lunch at 1?");
    assert!(kept["edited"].is_string(), "{kept}");

    // Only the author edits; a stranger learns nothing of the id.
    let edit = Some(json!({"text": "mine now"}));
    let (status, body) = request_json(&server, Method::PATCH, &path, &bob, edit.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (stranger, stranger_body) =
        request_json(&server, Method::PATCH, &path, &carol, edit.clone()).await;
    let (absent, absent_body) =
        request_json(&server, Method::PATCH, "/api/v1/messages/999999", &alice, edit.clone()).await;
    assert_eq!((stranger, absent), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(stranger_body, absent_body, "one answer for absent and not yours");
    let (status, _) =
        request_json(&server, Method::PATCH, &path, &alice, Some(json!({"text": " "}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Reactions: from either side, a small set, counted per person.
    let reactions = format!("{path}/reactions");
    let thumbs = Some(json!({"emoji": "👍", "on": true}));
    assert_eq!(
        request_json(&server, Method::PUT, &reactions, &bob, thumbs.clone()).await.0,
        StatusCode::OK
    );
    let reaction = next_of_type(&mut alices, "reaction").await;
    assert_eq!(
        (&reaction["message"], &reaction["user"], &reaction["emoji"], &reaction["on"]),
        (&json!(id), &json!("bob"), &json!("👍"), &json!(true))
    );
    request_json(&server, Method::PUT, &reactions, &bob, thumbs.clone()).await;
    request_json(&server, Method::PUT, &reactions, &alice, thumbs.clone()).await;
    let history = get_json(&server, "/api/v1/im/bob/history", &alice).await;
    assert_eq!(
        entry(&history, id)["reactions"],
        json!([{"emoji": "👍", "users": ["bob", "alice"]}])
    );
    let (status, _) = request_json(&server, Method::PUT, &reactions, &carol, thumbs.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a stranger cannot react");
    let (status, body) = request_json(
        &server,
        Method::PUT,
        &reactions,
        &bob,
        Some(json!({"emoji": "<b>", "on": true})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("👍"), "{body}");
    let off = Some(json!({"emoji": "👍", "on": false}));
    request_json(&server, Method::PUT, &reactions, &alice, off).await;
    let history = get_json(&server, "/api/v1/im/bob/history", &alice).await;
    assert_eq!(entry(&history, id)["reactions"], json!([{"emoji": "👍", "users": ["bob"]}]));

    // Deleted: nothing of the text stays, everyone is told, and it is
    // beyond editing or reacting.
    assert_eq!(
        request_json(&server, Method::DELETE, &path, &bob, None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(request_json(&server, Method::DELETE, &path, &alice, None).await.0, StatusCode::OK);
    let deleted = next_of_type(&mut bobs, "message_deleted").await;
    assert_eq!(deleted["message"], id);
    let history = get_json(&server, "/api/v1/im/alice/history", &bob).await;
    let gone = entry(&history, id);
    assert_eq!((&gone["text"], &gone["deleted"]), (&json!(""), &json!(true)), "{gone}");
    assert!(gone.get("reactions").is_none(), "{gone}");
    assert_eq!(
        request_json(&server, Method::PATCH, &path, &alice, edit).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        request_json(&server, Method::DELETE, &path, &alice, None).await.0,
        StatusCode::NOT_FOUND
    );
    let listed = get_json(&server, "/api/v1/conversations", &bob).await;
    let last = &listed[0]["last"];
    assert_eq!((&last["text"], &last["deleted"]), (&json!(""), &json!(true)), "{listed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_in_an_nway_chat_reaches_its_members_only() {
    let (_dir, server, [alice, bob, carol]) = alice_bob_and_carol().await;
    let mut bobs = events(&server, &bob).await;
    let topic = json!({"invite": ["bob"], "topic": "Plan"});
    let chat = post_json(&server, "/api/v1/nway", &alice, &topic).await["id"].as_u64().unwrap();
    post_json(&server, &format!("/api/v1/nway/{chat}/join"), &bob, &json!({})).await;
    next_members(&mut bobs, &["alice", "bob"]).await;
    let said = json!({"text": "draft"});
    let sent = post_json(&server, &format!("/api/v1/nway/{chat}/messages"), &alice, &said).await;
    let id = sent["id"].as_u64().unwrap();
    let path = format!("/api/v1/messages/{id}");
    let edit = Some(json!({"text": "final"}));
    assert_eq!(
        request_json(&server, Method::PATCH, &path, &alice, edit.clone()).await.0,
        StatusCode::OK
    );
    let edited = next_of_type(&mut bobs, "message_edited").await;
    assert_eq!((&edited["chat"], &edited["text"]), (&json!(chat), &json!("final")));
    let history = get_json(&server, &format!("/api/v1/nway/{chat}/history"), &bob).await;
    assert_eq!(entry(&history, id)["text"], "final");
    // Someone outside the chat gets the answer of a message that is not.
    let thumbs = Some(json!({"emoji": "🙏", "on": true}));
    let reactions = format!("{path}/reactions");
    assert_eq!(
        request_json(&server, Method::PUT, &reactions, &carol, thumbs).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn read_receipts_show_unless_the_reader_turns_them_off() {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob")]);
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let mut alices = events(&server, &alice).await;
    let settings = get_json(&server, "/api/v1/settings", &bob).await;
    assert_eq!(settings["read_receipts"], true, "on by default: {settings}");
    assert_eq!(settings["reactions"].as_array().unwrap().len(), 6);

    let first = post_json(&server, "/api/v1/im/bob", &alice, &json!({"text": "one"})).await;
    let first = first["id"].as_u64().unwrap();
    let mark = json!({"conversation": "im:alice", "up_to": first});
    post_json(&server, "/api/v1/conversations/read", &bob, &mark).await;
    let seen = next_of_type(&mut alices, "seen").await;
    assert_eq!(seen, json!({"type": "seen", "by": "bob", "up_to": first}));
    let listed = get_json(&server, "/api/v1/conversations", &alice).await;
    assert_eq!((&listed[0]["with"], &listed[0]["seen"]), (&json!("bob"), &json!(first)));

    // Off: Alice is told nothing more, and the list hides how far Bob read.
    let off = Some(json!({"read_receipts": false}));
    let (status, answer) = request_json(&server, Method::PUT, "/api/v1/settings", &bob, off).await;
    assert_eq!((status, &answer["read_receipts"]), (StatusCode::OK, &json!(false)));
    let second = post_json(&server, "/api/v1/im/bob", &alice, &json!({"text": "two"})).await;
    let second = second["id"].as_u64().unwrap();
    let mark = json!({"conversation": "im:alice", "up_to": second});
    post_json(&server, "/api/v1/conversations/read", &bob, &mark).await;
    // A message after the mark: had a receipt been sent, it came first.
    post_json(&server, "/api/v1/im/alice", &bob, &json!({"text": "sentinel"})).await;
    loop {
        let event = next_event(&mut alices).await;
        assert_ne!(event["type"], "seen", "{event}");
        if event["text"] == "sentinel" {
            break;
        }
    }
    let listed = get_json(&server, "/api/v1/conversations", &alice).await;
    assert!(listed[0].get("seen").is_none(), "{listed}");
}
