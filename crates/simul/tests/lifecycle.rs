//! The server's life: HTTPS out of the box, and a clean stop on SIGTERM.

use crate::support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Server, deployment_with_names, events, get_json, log_in, next_event};

#[tokio::test(flavor = "multi_thread")]
async fn https_uses_the_self_signed_certificate_and_serves_requires_ssl_deployments() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let data = dir.path().join("data");
    let server = Server::start_with(&data, true, &[("SIMUL_SSO__REQUIRES_SSL", "true")]);
    let key = data.join("tls-key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the private key is the owner's alone");
    }
    let (https, base) = support::https_client(&server, &data);
    let credentials = json!({"user": "alice", "password": "long enough"});
    let login = https.post(format!("{base}/api/v1/login")).json(&credentials).send().await;
    let login = login.expect("the self-signed certificate verifies for localhost");
    assert_eq!(login.status(), StatusCode::OK);
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.starts_with("LtpaToken2=") && set_cookie.contains("; Secure"),
        "{set_cookie}"
    );

    // Plain HTTP sends browsers to HTTPS (a POST stays a POST) instead of
    // serving a client whose logins would be refused; probes still answer.
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build();
    let plain = plain.unwrap();
    let redirect = plain.post(server.url("/api/v1/login?x=1")).json(&credentials).send().await;
    let redirect = redirect.unwrap();
    assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
    let https_port = base.rsplit(':').next().unwrap();
    assert_eq!(
        redirect.headers()["location"],
        format!("https://127.0.0.1:{https_port}/api/v1/login?x=1").as_str()
    );
    for probe in ["/healthz", "/readyz"] {
        let answer = plain.get(server.url(probe)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{probe}");
    }
    let forged = plain.get(server.url("/")).header("host", "evil.example/x").send().await;
    assert_eq!(forged.unwrap().status(), StatusCode::BAD_REQUEST, "no redirect to another URL");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_server_cleanly_with_sessions_open() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start_with(&dir.path().join("data"), true, &[]);
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let _socket = events(&server, &alice).await;
    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    // Everything is in simul.db itself: a copy of that file alone is whole.
    let data = dir.path().join("data");
    let wal = std::fs::metadata(data.join("simul.db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the write-ahead log was folded in");
    std::fs::create_dir(dir.path().join("copy")).unwrap();
    std::fs::copy(data.join("simul.db"), dir.path().join("copy/simul.db")).unwrap();
    let listed = support::simul(dir.path(), &["user", "list", "--data", "copy"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("alice"), "{listed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_sigterm_stops_at_once_what_the_first_lets_finish() {
    use tokio::io::AsyncWriteExt as _;
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let mut server = Server::start(&dir.path().join("data"));
    // A request still arriving: the first SIGTERM gives it time to finish.
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = "POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                Content-Length: 1000\r\n\r\n{";
    slow.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.signal("-TERM");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert!(server.exited().is_none(), "the first SIGTERM waits for the request");
    server.signal("-TERM");
    support::eventually("the second SIGTERM ends the process", || {
        let exited = server.exited().is_some();
        async move { exited }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_stops_answering_pings_goes_offline() {
    use futures_util::SinkExt as _;
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob")]);
    let server = Server::start_with(
        &dir.path().join("data"),
        false,
        &[("SIMUL_SERVER__KEEPALIVE_SECONDS", "1")],
    );
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let mut alice_events = events(&server, &alice).await;
    // Bob's client is connected, then never read again: it answers no ping.
    let _silent_bob = events(&server, &bob).await;
    let watch = json!({"type": "watch", "users": ["bob"]}).to_string();
    alice_events.send(tokio_tungstenite::tungstenite::Message::text(watch)).await.unwrap();
    let first = next_event(&mut alice_events).await;
    assert_eq!(
        (first["user"].as_str(), first["status"].as_str()),
        (Some("bob"), Some("available"))
    );
    // Alice keeps reading (and so answering pings); Bob is dropped.
    let gone = next_event(&mut alice_events).await;
    assert_eq!(
        (gone["user"].as_str(), gone["status"].as_str()),
        (Some("bob"), Some("offline")),
        "{gone}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reloaded_page_keeps_its_nway_chats_and_a_departed_user_leaves_them() {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob")]);
    let grace = [("SIMUL_SERVER__KEEPALIVE_SECONDS", "1")]; // chats wait 2 s
    let server = Server::start_with(&dir.path().join("data"), false, &grace);
    let http = reqwest::Client::new();
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let mut alice_events = events(&server, &alice).await;
    let bob_events = events(&server, &bob).await;
    let created = http
        .post(server.url("/api/v1/nway"))
        .bearer_auth(&alice)
        .json(&json!({"invite": ["bob"], "topic": "Plan"}))
        .send()
        .await
        .unwrap();
    let id = created.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    let join = http.post(server.url(&format!("/api/v1/nway/{id}/join"))).bearer_auth(&bob).send();
    assert_eq!(join.await.unwrap().status(), StatusCode::OK);
    let both = json!({"type": "nway_members", "id": id, "members": ["alice", "bob"]});
    while next_event(&mut alice_events).await != both {}

    // Bob reloads: his only socket closes and a new one opens at once
    // (read in the background, so it answers the keepalive pings).
    drop(bob_events);
    let mut bob_again = events(&server, &bob).await;
    let bob_online = tokio::spawn(async move {
        use futures_util::StreamExt as _;
        while let Some(Ok(_)) = bob_again.next().await {}
    });
    let alone = json!({"type": "nway_members", "id": id, "members": ["alice"]});
    let past_the_grace_period = tokio::time::timeout(std::time::Duration::from_secs(3), async {
        loop {
            assert_ne!(next_event(&mut alice_events).await, alone, "Bob dropped on reload");
        }
    });
    assert!(past_the_grace_period.await.is_err(), "no event ends the wait");
    let chats: Value = get_json(&server, "/api/v1/nway", &bob).await;
    assert_eq!(chats[0]["members"], json!(["alice", "bob"]), "still in after the reload: {chats}");

    // Bob leaves for good: after the grace period Alice sees him go.
    bob_online.abort();
    while next_event(&mut alice_events).await != alone {}
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disabled_user_is_signed_out_at_the_next_directory_sweep() {
    use futures_util::StreamExt as _;
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob")]);
    let server = Server::start(&dir.path().join("data"));
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let mut bob_socket = events(&server, &bob).await;
    let _alice_socket = events(&server, &alice).await;

    let disabled = support::simul(dir.path(), &["user", "disable", "bob", "--data", "data"]);
    assert!(disabled.status.success());
    // The sweep runs every minute; SIGHUP runs it now.
    server.signal("-HUP");
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(Ok(message)) = bob_socket.next().await {
            if let tokio_tungstenite::tungstenite::Message::Close(frame) = message {
                return frame.map(|f| f.reason.to_string());
            }
        }
        None
    })
    .await
    .expect("bob's socket closes");
    assert_eq!(ended.as_deref(), Some("session ended by the server"));
    let awareness = get_json(&server, "/api/v1/awareness?user=bob&user=alice", &alice).await;
    assert_eq!(awareness["bob"]["status"], "offline", "{awareness}");
    assert_eq!(awareness["alice"]["status"], "available", "{awareness}");
}
