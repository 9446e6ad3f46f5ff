//! Clients that send what no person sends: thousands of commands or
//! messages a second, endless watch lists, hundreds of sessions. A burst
//! a person can type goes through; a flood gets errors, then is cut off.

use crate::support;

use futures_util::{SinkExt as _, StreamExt as _};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Server, deployment_with_names, events, get_json, log_in, next_event};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread")]
async fn a_message_flood_is_refused_then_cut_off_while_a_burst_goes_through() {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob")]);
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let mut bob_events = events(&server, &bob).await;

    // A person's burst: twenty messages in a row, all delivered.
    let mut person = events(&server, &alice).await;
    for n in 0..20 {
        let im = json!({"type": "im", "to": "bob", "text": format!("line {n}")}).to_string();
        person.send(Message::text(im)).await.unwrap();
    }
    for n in 0..20 {
        assert_eq!(next_event(&mut bob_events).await["text"], format!("line {n}"));
    }
    drop(person);

    // A script: 5,000 at once. Errors come back, then the socket closes.
    let mut script = events(&server, &alice).await;
    let flood: Vec<_> = (0..5_000)
        .map(|n| {
            Ok(Message::text(
                json!({"type": "im", "to": "bob", "text": format!("spam {n}")}).to_string(),
            ))
        })
        .collect();
    let _ = script.send_all(&mut futures_util::stream::iter(flood)).await;
    let (mut errors, mut closed) = (0, None);
    while let Ok(Some(frame)) =
        tokio::time::timeout(std::time::Duration::from_secs(10), script.next()).await
    {
        match frame {
            Ok(Message::Text(text)) => {
                let event: Value = serde_json::from_str(&text).unwrap();
                if event["type"] == "error" {
                    errors += 1;
                }
            }
            Ok(Message::Close(frame)) => {
                closed = Some(frame.map(|f| f.reason.to_string()).unwrap_or_default());
                break;
            }
            Ok(_) => {}
            // The server closed with commands still unread: TCP resets,
            // and the close frame may be lost with it.
            Err(_) => {
                closed = Some("connection reset".into());
                break;
            }
        }
    }
    assert!(errors > 0, "the flood was told");
    let closed = closed.expect("the server ended the session");
    assert!(["too many commands", "connection reset"].contains(&closed.as_str()), "{closed}");
    let history = get_json(&server, "/api/v1/im/alice/history", &bob).await;
    let kept = history.as_array().unwrap().len();
    assert!((20..200).contains(&kept), "{kept} messages kept of 5,020 sent");

    // The same over HTTP: 429 with the wait.
    let http = reqwest::Client::new();
    let mut limited = None;
    for n in 0..100 {
        let sent = http
            .post(server.url("/api/v1/im/bob"))
            .bearer_auth(&alice)
            .json(&json!({"text": format!("http {n}")}))
            .send()
            .await
            .unwrap();
        if sent.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(sent);
            break;
        }
    }
    let limited = limited.expect("HTTP messages are limited too");
    assert!(limited.headers().contains_key("retry-after"));
    // Bob was never cut off by any of it.
    let im = json!({"type": "im", "to": "alice", "text": "still here"}).to_string();
    bob_events.send(Message::text(im)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_per_user_and_watched_users_per_session_are_bounded() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start_with(
        &dir.path().join("data"),
        false,
        &[
            ("SIMUL_SERVER__MAX_SESSIONS_PER_USER", "2"),
            ("SIMUL_SERVER__MAX_WATCHED_PER_SESSION", "5"),
        ],
    );
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let mut first = events(&server, &alice).await;
    let _second = events(&server, &alice).await;
    let third = reqwest::Client::new()
        .get(server.url("/api/v1/events"))
        .bearer_auth(&alice)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    let error = third.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("at most 2"), "{error}");

    let watch =
        |users: &[&str]| Message::text(json!({"type": "watch", "users": users}).to_string());
    first.send(watch(&["a", "b", "c", "d", "e", "f"])).await.unwrap();
    let refused = next_event(&mut first).await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["error"], "a session watches at most 5 users; unwatch some first");
    first.send(watch(&["a", "b", "c", "d", "e"])).await.unwrap();
    assert_eq!(next_event(&mut first).await["user"], "a", "five are fine");
}
