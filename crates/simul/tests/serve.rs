//! `simul serve` started as a user starts it, driven over HTTP: login by
//! password and by LTPA tokens from "another server", CSRF, logout.

use crate::support;

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{
    Server, cookie, deployment, deployment_with_names, events, eventually, export_keys, get_json,
    log_in, mint, next_event, simul, verify_with_exported_keys,
};

#[tokio::test(flavor = "multi_thread")]
async fn login_sets_a_genuine_ltpatoken2_and_sso_tokens_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("pw"), "bob's password\n").unwrap();
    assert!(
        simul(
            d,
            &[
                "user",
                "add",
                "bob",
                "--display-name",
                "Bob Baker",
                "--password-file",
                "pw",
                "--data",
                "data"
            ]
        )
        .status
        .success()
    );
    let server = Server::start(&d.join("data"));
    let http = reqwest::Client::new();

    assert_eq!(http.get(server.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);

    let wrong = http
        .post(server.url("/api/v1/login"))
        .json(&json!({"user": "bob", "password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json::<Value>().await.unwrap()["error"], "wrong user name or password");
    let malformed = http
        .post(server.url("/api/v1/login"))
        .body("{")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    let login = http
        .post(server.url("/api/v1/login"))
        .json(&json!({"user": "bob", "password": "bob's password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let token = cookie(&login, "LtpaToken2").expect("an LtpaToken2 cookie");
    let body: Value = login.json().await.unwrap();
    assert_eq!(body["user"], json!({"id": "bob", "name": "bob", "display_name": "Bob Baker"}));
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();

    // The cookie is an LtpaToken2 that any server holding the keys accepts.
    export_keys(d);
    let verified = verify_with_exported_keys(d, &token);
    assert_eq!(
        (verified["valid"].as_bool(), verified["user"].as_str(), verified["realm"].as_str()),
        (Some(true), Some("bob"), Some("simul"))
    );

    let me = |auth: (&'static str, String)| {
        http.get(server.url("/api/v1/me")).header(auth.0, auth.1).send()
    };
    let by_cookie = me(("cookie", format!("LtpaToken2={token}"))).await.unwrap();
    assert_eq!(by_cookie.status(), StatusCode::OK);
    assert_eq!(by_cookie.json::<Value>().await.unwrap()["csrf_token"], csrf.as_str());
    assert_eq!(
        me(("authorization", format!("Bearer {token}"))).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        http.get(server.url("/api/v1/me")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // A token minted elsewhere with the shared keys: signed in without a
    // prompt. Someone the embedded realm does not hold is refused.
    let minted = mint(d, &["--user", "Bob"]);
    let sso = me(("cookie", format!("JSESSIONID=abc; LtpaToken2={minted}"))).await.unwrap();
    assert_eq!(sso.status(), StatusCode::OK);
    assert_eq!(sso.json::<Value>().await.unwrap()["user"]["id"], "bob");
    let stranger = mint(d, &["--user", "carol"]);
    let refused = me(("cookie", format!("LtpaToken2={stranger}"))).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Expired, or for another realm: refused with the one answer every
    // refused token gets.
    let not_signed_in = me(("cookie", "LtpaToken2=garbage".into())).await.unwrap();
    assert_eq!(not_signed_in.status(), StatusCode::UNAUTHORIZED);
    let not_signed_in = not_signed_in.json::<Value>().await.unwrap();
    let expired = mint(d, &["--user", "bob", "--expires-at", "1000"]);
    let refused = me(("cookie", format!("LtpaToken2={expired}"))).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json::<Value>().await.unwrap(), not_signed_in);
    let foreign = mint(d, &["--user", "bob", "--realm", "otherRealm"]);
    let refused = me(("authorization", format!("Bearer {foreign}"))).await.unwrap();
    assert_eq!(refused.json::<Value>().await.unwrap(), not_signed_in);

    // Disabling an account ends its sessions at once, whatever the token
    // says, and enabling it again does not bring them back.
    assert!(simul(d, &["user", "disable", "bob", "--data", "data"]).status.success());
    let disabled = me(("authorization", format!("Bearer {token}"))).await.unwrap();
    assert_eq!(disabled.status(), StatusCode::FORBIDDEN);
    assert!(simul(d, &["user", "enable", "bob", "--data", "data"]).status.success());
    eventually("the old token stays ended", || async {
        let enabled = me(("authorization", format!("Bearer {token}"))).await.unwrap();
        enabled.status() == StatusCode::UNAUTHORIZED
    })
    .await;
    let (token, csrf) = log_in(&server, "bob", "bob's password").await;

    // Cookie-authenticated writes need the CSRF header; bearer calls do not.
    let logout = http
        .post(server.url("/api/v1/logout"))
        .header("cookie", format!("LtpaToken2={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);
    let logout = http
        .post(server.url("/api/v1/logout"))
        .header("cookie", format!("LtpaToken2={token}"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    assert_eq!(cookie(&logout, "LtpaToken2").as_deref(), Some(""), "the cookie is cleared");
    let after = me(("cookie", format!("LtpaToken2={token}"))).await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "the token ended with the logout");
    let (token, _) = log_in(&server, "bob", "bob's password").await;
    let bearer = http.post(server.url("/api/v1/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_creates_keys_and_a_one_time_admin_password() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    // The password goes to a file only its owner can read, not to the
    // output (which ends up in service logs).
    let file = dir.path().join("data/initial-admin-password");
    let greeting = server.greeting.join("\n");
    assert!(greeting.contains(&file.display().to_string()), "{greeting}");
    let password = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert!(!greeting.contains(&password), "{greeting}");
    assert_eq!(mode_of(&file), 0o600);
    assert!(dir.path().join("data/ltpa.keys").exists());
    let http = reqwest::Client::new();
    let login = http
        .post(server.url("/api/v1/login"))
        .form(&[("user", "admin"), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let token = cookie(&login, "LtpaToken2").unwrap();
    assert_eq!(login.json::<Value>().await.unwrap()["must_change_password"], true);

    // The one-time password opens nothing but its own replacement.
    let contacts = http.get(server.url("/api/v1/contacts")).bearer_auth(&token).send().await;
    let contacts = contacts.unwrap();
    assert_eq!(contacts.status(), StatusCode::FORBIDDEN);
    let error = contacts.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("POST /api/v1/me/password"), "{error}");
    let change = |current: &str, new: &str| {
        http.post(server.url("/api/v1/me/password"))
            .bearer_auth(&token)
            .json(&json!({"current": current, "new": new}))
            .send()
    };
    assert_eq!(change("not it", "my own secret").await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(change(&password, "short").await.unwrap().status(), StatusCode::BAD_REQUEST);
    let changed = change(&password, "my own secret").await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    // The change ends every earlier token, this one too: the answer
    // carries the new one.
    let old_token = token;
    let token = cookie(&changed, "LtpaToken2").expect("a new SSO cookie");
    assert_eq!(changed.json::<Value>().await.unwrap()["must_change_password"], false);
    let old = http.get(server.url("/api/v1/me")).bearer_auth(&old_token).send().await.unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);

    let me = http.get(server.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.json::<Value>().await.unwrap()["must_change_password"], false);
    let contacts = http.get(server.url("/api/v1/contacts")).bearer_auth(&token).send().await;
    assert_eq!(contacts.unwrap().status(), StatusCode::OK);
    let old = http
        .post(server.url("/api/v1/login"))
        .json(&json!({"user": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED, "the one-time password is spent");
    // The next start removes the spent password's file.
    server.terminate();
    let _server = Server::start(&dir.path().join("data"));
    assert!(!file.exists());
}

/// A file's permission bits.
fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn password_guessing_is_rate_limited_and_answers_carry_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let http = reqwest::Client::new();
    let attempt = || {
        http.post(server.url("/api/v1/login"))
            .json(&json!({"user": "admin", "password": "guess"}))
            .send()
    };
    for _ in 0..10 {
        assert_eq!(attempt().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let limited = attempt().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(limited.headers()[name], value, "{name}");
    }
    let message = limited.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    let metrics = http.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("simul_logins_total{result=\"failed\"} 10"), "{metrics}");
    assert!(
        message.starts_with("too many failed logins for this account; try again in"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn status_changes_reach_watchers_over_the_websocket() {
    use futures_util::SinkExt as _;
    let dir = deployment(&["alice", "bob"]);
    let d = dir.path();
    let server = Server::start(&d.join("data"));
    let (alice, alice_csrf) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;

    let mut bob_events = events(&server, &bob).await;
    let watch = json!({"type": "watch", "users": ["alice"]}).to_string();
    bob_events.send(tokio_tungstenite::tungstenite::Message::Text(watch.into())).await.unwrap();
    assert_eq!(
        next_event(&mut bob_events).await,
        json!({"type": "status", "user": "alice", "status": "offline", "message": "", "idle": false})
    );

    let http = reqwest::Client::new();
    let set_status = |csrf: &str| {
        http.put(server.url("/api/v1/me/status"))
            .header("cookie", format!("LtpaToken2={alice}"))
            .header("x-csrf-token", csrf)
            .json(&json!({"status": "away", "message": "lunch"}))
            .send()
    };
    assert_eq!(
        set_status(&alice_csrf).await.unwrap().status(),
        StatusCode::CONFLICT,
        "no live session yet"
    );

    let _alice_events = events(&server, &alice).await;
    assert_eq!(next_event(&mut bob_events).await["status"], "available");
    assert_eq!(set_status("wrong").await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(set_status(&alice_csrf).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        next_event(&mut bob_events).await,
        json!({"type": "status", "user": "alice", "status": "away", "message": "lunch", "idle": false})
    );

    let awareness: Value =
        get_json(&server, "/api/v1/awareness?user=alice&user=bob&user=nobody", &bob).await;
    assert_eq!(
        awareness,
        json!({
            "alice": {"status": "away", "message": "lunch", "idle": false},
            "bob": {"status": "available", "message": "", "idle": false},
            "nobody": {"status": "offline", "message": "", "idle": false},
        })
    );
    let bad = http
        .put(server.url("/api/v1/me/status"))
        .bearer_auth(&alice)
        .json(&json!({"status": "busy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(
        bad.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("use available, away")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn instant_messages_history_and_contacts() {
    let dir = deployment(&["alice", "bob"]);
    let d = dir.path();
    let http = reqwest::Client::new();
    {
        let server = Server::start(&d.join("data"));
        let (alice, _) = log_in(&server, "alice", "long enough").await;
        let (bob, _) = log_in(&server, "bob", "long enough").await;
        let mut bob_tab_1 = events(&server, &bob).await;
        let mut bob_tab_2 = events(&server, &bob).await;
        let send = |token: &str, to: &str, body: Value| {
            http.post(server.url(&format!("/api/v1/im/{to}"))).bearer_auth(token).json(&body).send()
        };
        let sent = send(&alice, "bob", json!({"text": "hello bob"})).await.unwrap();
        assert_eq!(sent.status(), StatusCode::OK);
        assert_eq!(sent.json::<Value>().await.unwrap()["delivered"], true);
        for tab in [&mut bob_tab_1, &mut bob_tab_2] {
            let event = next_event(tab).await;
            assert_eq!(
                (event["type"].as_str(), event["from"].as_str(), event["text"].as_str()),
                (Some("im"), Some("alice"), Some("hello bob"))
            );
        }
        let reply = send(&bob, "alice", json!({"text": "hi alice"})).await.unwrap();
        assert_eq!(
            reply.json::<Value>().await.unwrap()["delivered"],
            false,
            "alice has no live session"
        );
        assert_eq!(
            next_event(&mut bob_tab_1).await["text"],
            "hi alice",
            "the sender's other sessions see it too"
        );

        let too_long = send(&alice, "bob", json!({"text": "x".repeat(10_001)})).await.unwrap();
        assert_eq!(too_long.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            too_long.json::<Value>().await.unwrap()["error"]
                .as_str()
                .unwrap()
                .contains("limit is 10000")
        );
        let empty = send(&alice, "bob", json!({"text": "  "})).await.unwrap();
        assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
        let malformed = http
            .post(server.url("/api/v1/im/bob"))
            .bearer_auth(&alice)
            .header("content-type", "application/json")
            .body("{\"text\":")
            .send()
            .await
            .unwrap();
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
        assert!(malformed.json::<Value>().await.unwrap()["error"].is_string(), "JSON error body");

        let contacts = json!({"groups": [{"name": "Team", "contacts": ["bob", "carol"]}]});
        let put = http
            .put(server.url("/api/v1/contacts"))
            .bearer_auth(&alice)
            .json(&contacts)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), StatusCode::OK);
        let unnamed = json!({"groups": [{"name": " ", "contacts": []}]});
        let put = http
            .put(server.url("/api/v1/contacts"))
            .bearer_auth(&alice)
            .json(&unnamed)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), StatusCode::BAD_REQUEST);
    }
    // History and contacts survive a restart.
    let server = Server::start(&d.join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let history: Value = get_json(&server, "/api/v1/im/bob/history", &alice).await;
    let texts: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["from"].as_str().unwrap(), m["text"].as_str().unwrap()))
        .collect();
    assert_eq!(texts, [("alice", "hello bob"), ("bob", "hi alice")]);
    let contacts: Value = get_json(&server, "/api/v1/contacts", &alice).await;
    assert_eq!(contacts, json!({"groups": [{"name": "Team", "contacts": ["bob", "carol"]}]}));
}

#[tokio::test(flavor = "multi_thread")]
async fn three_user_nway_chat() {
    let dir = deployment(&["alice", "bob", "carol", "dave"]);
    let d = dir.path();
    let server = Server::start(&d.join("data"));
    let http = reqwest::Client::new();
    let mut tokens = HashMap::new();
    let mut sockets = HashMap::new();
    for name in ["alice", "bob", "carol"] {
        let (token, _) = log_in(&server, name, "long enough").await;
        sockets.insert(name, events(&server, &token).await);
        tokens.insert(name, token);
    }
    let (dave, _) = log_in(&server, "dave", "long enough").await;
    let post = |who: &str, path: String, body: Value| {
        http.post(server.url(&path)).bearer_auth(&tokens[who]).json(&body).send()
    };

    let created = post(
        "alice",
        "/api/v1/nway".into(),
        json!({"invite": ["bob", "carol"], "topic": "Release"}),
    )
    .await
    .unwrap();
    let id = created.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    assert_eq!(
        next_event(sockets.get_mut("alice").unwrap()).await,
        json!({"type": "nway_members", "id": id, "members": ["alice"]})
    );
    for name in ["bob", "carol"] {
        assert_eq!(
            next_event(sockets.get_mut(name).unwrap()).await,
            json!({"type": "nway_invite", "id": id, "from": "alice", "topic": "Release"})
        );
    }
    for name in ["bob", "carol"] {
        assert_eq!(
            post(name, format!("/api/v1/nway/{id}/join"), json!({})).await.unwrap().status(),
            StatusCode::OK
        );
    }
    let everyone = json!({"type": "nway_members", "id": id, "members": ["alice", "bob", "carol"]});
    for name in ["alice", "bob", "carol"] {
        let socket = sockets.get_mut(name).unwrap();
        let mut last = next_event(socket).await;
        while last != everyone {
            last = next_event(socket).await;
        }
    }
    assert_eq!(
        post("bob", format!("/api/v1/nway/{id}/messages"), json!({"text": "ship it"}))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    for name in ["alice", "bob", "carol"] {
        let event = next_event(sockets.get_mut(name).unwrap()).await;
        assert_eq!(
            (event["type"].as_str(), event["from"].as_str(), event["text"].as_str()),
            (Some("nway_message"), Some("bob"), Some("ship it")),
            "{name}"
        );
    }
    let outsider = http
        .post(server.url(&format!("/api/v1/nway/{id}/messages")))
        .bearer_auth(&dave)
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(outsider.status(), StatusCode::FORBIDDEN);
    let unknown = post("alice", "/api/v1/nway/999/join".into(), json!({})).await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    assert_eq!(
        post("carol", format!("/api/v1/nway/{id}/leave"), json!({})).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        next_event(sockets.get_mut("alice").unwrap()).await,
        json!({"type": "nway_members", "id": id, "members": ["alice", "bob"]})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_websocket_carries_typing_and_messages_and_the_directory_is_searchable() {
    use futures_util::SinkExt as _;
    use tokio_tungstenite::tungstenite::Message;
    let dir = deployment_with_names(&[("alice", "Alice Anders"), ("bob", "Bob Baker")]);
    let d = dir.path();
    let server = Server::start(&d.join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let mut alice_events = events(&server, &alice).await;
    let mut bob_events = events(&server, &bob).await;

    let send = |command: Value| Message::Text(command.to_string().into());
    bob_events.send(send(json!({"type": "typing", "to": "alice", "typing": true}))).await.unwrap();
    assert_eq!(
        next_event(&mut alice_events).await,
        json!({"type": "typing", "from": "bob", "typing": true})
    );
    bob_events
        .send(send(json!({"type": "im", "to": "alice", "text": "via the socket"})))
        .await
        .unwrap();
    let event = next_event(&mut alice_events).await;
    assert_eq!(
        (event["type"].as_str(), event["text"].as_str()),
        (Some("im"), Some("via the socket"))
    );
    bob_events.send(send(json!({"type": "im", "to": "alice", "text": ""}))).await.unwrap();
    assert_eq!(
        next_event(&mut bob_events).await,
        json!({"type": "error", "error": "the message is empty"})
    );
    bob_events.send(send(json!({"type": "dance"}))).await.unwrap();
    assert_eq!(next_event(&mut bob_events).await["type"], "error");

    let http = reqwest::Client::new();
    let history: Value = get_json(&server, "/api/v1/im/bob/history", &alice).await;
    assert_eq!(history[0]["text"], "via the socket", "socket messages are kept too");
    let metrics = http.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        "simul_sessions 2",
        "simul_messages_total{kind=\"im\"} 1",
        "simul_logins_total{result=\"ok\"} 2",
        "simul_events_delivered_total{type=\"typing\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
    let found: Value = get_json(&server, "/api/v1/directory/search?q=bak", &alice).await;
    assert_eq!(found, json!([{"id": "bob", "display_name": "Bob Baker", "mail": ""}]));
}
