//! The server at the sizes real communities have: one session watching
//! 10,000 people (a portal page, a huge contact list) is one reply per
//! watch, not a flood that gets the session cut off.

use crate::support;

use futures_util::SinkExt as _;
use serde_json::json;
use support::{Server, deployment_with_names, events, log_in, next_event};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread")]
async fn a_session_watching_ten_thousand_people_stays_and_follows_changes() {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob")]);
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let mut socket = events(&server, &alice).await;
    let _bob_online = events(&server, &bob).await;

    // Five commands of 2,000 ids (a command is at most 64 KiB), bob last.
    let mut everyone: Vec<String> = (0..9_999).map(|n| format!("user{n:05}")).collect();
    everyone.push("bob".into());
    for part in everyone.chunks(2_000) {
        let watch = json!({"type": "watch", "users": part}).to_string();
        socket.send(Message::text(watch)).await.unwrap();
    }
    for (n, expected) in everyone.iter().enumerate() {
        let event = next_event(&mut socket).await;
        assert_eq!(
            (event["type"].as_str(), event["user"].as_str()),
            (Some("status"), Some(expected.as_str())),
            "event {n}"
        );
        let status = if expected == "bob" { "available" } else { "offline" };
        assert_eq!(event["status"], status, "{event}");
    }

    // The session is still there, and live changes reach it.
    let change = reqwest::Client::new()
        .put(server.url("/api/v1/me/status"))
        .bearer_auth(&bob)
        .json(&json!({"status": "away", "message": "lunch"}))
        .send()
        .await
        .unwrap();
    assert!(change.status().is_success());
    let event = next_event(&mut socket).await;
    assert_eq!((event["user"].as_str(), event["status"].as_str()), (Some("bob"), Some("away")));
}
