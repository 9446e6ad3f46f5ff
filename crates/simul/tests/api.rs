//! The API's description and the smaller routes: the OpenAPI document,
//! business cards, declining n-way invitations, the client's pages.

use crate::support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Server, deployment_with_names, events, get_json, log_in, next_event, post_json};

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_every_route_of_the_contract() {
    let dir = deployment_with_names(&[]);
    let server = Server::start(&dir.path().join("data"));
    let answer = reqwest::get(server.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let document: Value = answer.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."), "{}", document["openapi"]);
    for (path, method) in [
        ("/api/v1/login", "post"),
        ("/api/v1/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/me/password", "post"),
        ("/api/v1/me/status", "put"),
        ("/api/v1/awareness", "get"),
        ("/api/v1/events", "get"),
        ("/api/v1/contacts", "get"),
        ("/api/v1/contacts", "put"),
        ("/api/v1/im/{user}", "post"),
        ("/api/v1/im/{user}/history", "get"),
        ("/api/v1/conversations", "get"),
        ("/api/v1/conversations/read", "post"),
        ("/api/v1/messages/{id}", "patch"),
        ("/api/v1/messages/{id}", "delete"),
        ("/api/v1/messages/{id}/reactions", "put"),
        ("/api/v1/settings", "get"),
        ("/api/v1/settings", "put"),
        ("/api/v1/directory/search", "get"),
        ("/api/v1/users", "get"),
        ("/api/v1/users/{id}/card", "get"),
        ("/api/v1/nway", "get"),
        ("/api/v1/nway", "post"),
        ("/api/v1/nway/{id}/invite", "post"),
        ("/api/v1/nway/{id}/join", "post"),
        ("/api/v1/nway/{id}/decline", "post"),
        ("/api/v1/nway/{id}/leave", "post"),
        ("/api/v1/nway/{id}/messages", "post"),
        ("/api/v1/nway/{id}/history", "get"),
        ("/api/v1/search", "get"),
    ] {
        let operation = &document["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not described");
        assert!(operation["responses"]["200"].is_object() || path == "/api/v1/events", "{path}");
    }
    let schemas = &document["components"]["schemas"];
    for (schema, field) in [
        ("SessionInfo", "csrf_token"),
        ("PresenceInfo", "status"),
        ("ContactList", "groups"),
        ("Card", "title"),
        ("ErrorBody", "error"),
    ] {
        assert!(
            schemas[schema]["properties"][field].is_object() || schemas[schema]["allOf"].is_array(),
            "{schema}.{field}: {}",
            schemas[schema]
        );
    }
    // Errors any operation can give before its handler runs are listed too.
    let put_contacts = &document["paths"]["/api/v1/contacts"]["put"]["responses"];
    for code in ["401", "413", "415", "422"] {
        assert!(put_contacts[code].is_object(), "PUT /api/v1/contacts lacks {code}");
    }
    assert!(document["paths"]["/api/v1/nway/{id}/join"]["post"]["responses"]["400"].is_object());
    assert!(
        document["paths"]["/api/v1/login"]["post"]["responses"]["401"]["description"]
            .as_str()
            .unwrap()
            .contains("Wrong user name")
    );
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(
        schemes["LtpaToken2"],
        json!({"type": "apiKey", "in": "cookie", "name": "LtpaToken2"})
    );
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
}

#[tokio::test(flavor = "multi_thread")]
async fn business_cards_carry_the_directory_fields_and_live_status() {
    let dir = deployment_with_names(&[("alice", "Alice Archer"), ("bob", "Bob Builder")]);
    let server = Server::start(&dir.path().join("data"));
    let http = reqwest::Client::new();
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let _bob_online = events(&server, &bob).await;

    let card = |id: &str| {
        http.get(server.url(&format!("/api/v1/users/{id}/card"))).bearer_auth(&alice).send()
    };
    let answer = card("bob").await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let bob_card: Value = answer.json().await.unwrap();
    assert_eq!(bob_card["id"], "bob");
    assert_eq!(bob_card["display_name"], "Bob Builder");
    assert_eq!(bob_card["status"], "available");
    for field in ["mail", "title", "phone", "photo_url", "message"] {
        assert!(bob_card[field].is_string(), "{field}: {bob_card}");
    }
    let nobody = card("nobody").await.unwrap();
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);
    let error = nobody.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("\"nobody\""), "{error}");
    let anonymous = http.get(server.url("/api/v1/users/bob/card")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // Many at once, unknown ids left out.
    let cards = get_json(&server, "/api/v1/users?id=bob&id=alice&id=nobody", &alice).await;
    assert_eq!(cards["bob"], bob_card);
    assert_eq!(cards["alice"]["display_name"], "Alice Archer");
    assert!(cards.get("nobody").is_none(), "{cards}");
    let too_many: String = (0..501).map(|i| format!("id=u{i}&")).collect();
    let answer = http.get(server.url(&format!("/api/v1/users?{too_many}"))).bearer_auth(&alice);
    assert_eq!(answer.send().await.unwrap().status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declined_invitation_cannot_be_accepted_later() {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob")]);
    let server = Server::start(&dir.path().join("data"));
    let http = reqwest::Client::new();
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let mut bob_events = events(&server, &bob).await;
    let created: Value =
        post_json(&server, "/api/v1/nway", &alice, &json!({"invite": ["bob"], "topic": "Lunch"}))
            .await;
    let id = created["id"].as_u64().unwrap();
    assert_eq!(next_event(&mut bob_events).await["type"], "nway_invite");
    let act = |what: &str| {
        http.post(server.url(&format!("/api/v1/nway/{id}/{what}"))).bearer_auth(&bob).send()
    };
    assert_eq!(act("decline").await.unwrap().status(), StatusCode::OK);
    assert_eq!(act("join").await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(act("decline").await.unwrap().status(), StatusCode::FORBIDDEN, "only once");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_is_served_with_a_strict_content_security_policy() {
    let dir = deployment_with_names(&[]);
    let server = Server::start(&dir.path().join("data"));
    let page = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    for directive in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains("/assets/app.js"), "{html}");

    let script = reqwest::get(server.url("/assets/app.js")).await.unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let missing = reqwest::get(server.url("/assets/../Cargo.toml")).await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_limit_are_refused_before_parsing() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let huge = json!({"groups": [{"name": "x".repeat(300 * 1024), "contacts": []}]});
    let answer = reqwest::Client::new()
        .put(server.url("/api/v1/contacts"))
        .bearer_auth(&alice)
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error = answer.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(error.to_lowercase().contains("length limit"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn late_joiners_read_the_nway_history_and_chat_ids_survive_restarts() {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob"), ("dave", "Dave")]);
    let data = dir.path().join("data");
    let http = reqwest::Client::new();
    let first_id = {
        let server = Server::start(&data);
        let (alice, _) = log_in(&server, "alice", "long enough").await;
        let (bob, _) = log_in(&server, "bob", "long enough").await;
        let (dave, _) = log_in(&server, "dave", "long enough").await;
        let _alice_online = events(&server, &alice).await;
        let post = |token: &str, path: String, body: Value| {
            http.post(server.url(&path)).bearer_auth(token).json(&body).send()
        };
        let created =
            post(&alice, "/api/v1/nway".into(), json!({"invite": ["bob"], "topic": "Plan"}));
        let id = created.await.unwrap().json::<Value>().await.unwrap()["id"].as_u64().unwrap();
        for text in ["first", "second"] {
            let sent = post(&alice, format!("/api/v1/nway/{id}/messages"), json!({"text": text}));
            assert_eq!(sent.await.unwrap().status(), StatusCode::OK);
        }
        let history = |token: &str| {
            http.get(server.url(&format!("/api/v1/nway/{id}/history"))).bearer_auth(token).send()
        };
        assert_eq!(history(&bob).await.unwrap().status(), StatusCode::FORBIDDEN, "not yet joined");
        let listed = |token: &str| http.get(server.url("/api/v1/nway")).bearer_auth(token).send();
        let pending: Value = listed(&bob).await.unwrap().json().await.unwrap();
        assert_eq!(
            pending,
            json!([{"id": id, "topic": "Plan", "members": ["alice"], "invited": true}]),
            "an invitation waits for Bob even if he missed the event"
        );
        assert_eq!(
            post(&bob, format!("/api/v1/nway/{id}/join"), json!({})).await.unwrap().status(),
            StatusCode::OK
        );
        let said: Value = history(&bob).await.unwrap().json().await.unwrap();
        let texts: Vec<(&str, &str)> = said
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["from"].as_str().unwrap(), m["text"].as_str().unwrap()))
            .collect();
        assert_eq!(texts, [("alice", "first"), ("alice", "second")]);
        let joined: Value = listed(&bob).await.unwrap().json().await.unwrap();
        assert_eq!(joined[0]["members"], json!(["alice", "bob"]));
        assert_eq!(joined[0]["invited"], false);
        assert_eq!(listed(&dave).await.unwrap().json::<Value>().await.unwrap(), json!([]));
        let outsider = history(&dave).await.unwrap();
        assert_eq!(outsider.status(), StatusCode::FORBIDDEN);
        id
    };
    let server = Server::start(&data);
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let created = http
        .post(server.url("/api/v1/nway"))
        .bearer_auth(&alice)
        .json(&json!({"invite": [], "topic": "Again"}))
        .send()
        .await
        .unwrap();
    let id = created.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    assert!(id > first_id, "chat ids do not repeat after a restart: {id} after {first_id}");
}

#[tokio::test(flavor = "multi_thread")]
async fn histories_scroll_back_page_by_page_and_message_ids_go_on_after_a_restart() {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob")]);
    let data = dir.path().join("data");
    let env = [("SIMUL_SERVER__MESSAGE_BURST", "1000")];
    let http = reqwest::Client::new();
    let (chat, last_id) = {
        let server = Server::start_with(&data, false, &env);
        let (alice, _) = log_in(&server, "alice", "long enough").await;
        let _online = events(&server, &alice).await;
        let topic = json!({"invite": [], "topic": "Log"});
        let chat = post_json(&server, "/api/v1/nway", &alice, &topic).await["id"].as_u64().unwrap();
        let mut ids = Vec::new();
        for n in 1..=450 {
            let text = json!({"text": format!("m{n}")});
            let sent = post_json(&server, "/api/v1/im/bob", &alice, &text).await;
            ids.push(sent["id"].as_u64().unwrap());
            let said =
                post_json(&server, &format!("/api/v1/nway/{chat}/messages"), &alice, &text).await;
            ids.push(said["id"].as_u64().unwrap());
        }
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "one sequence for 1:1 and n-way messages");

        // Scrolling back, 200 at a time, without a gap or a repeat.
        for history in ["/api/v1/im/bob/history", &format!("/api/v1/nway/{chat}/history")] {
            let mut texts = Vec::new();
            let mut before: Option<u64> = None;
            loop {
                let path = match before {
                    Some(id) => format!("{history}?before={id}&limit=200"),
                    None => history.to_owned(),
                };
                let page = get_json(&server, &path, &alice).await;
                let page = page.as_array().unwrap();
                let page_ids: Vec<u64> = page.iter().map(|m| m["id"].as_u64().unwrap()).collect();
                assert!(page_ids.windows(2).all(|w| w[0] < w[1]), "oldest first in a page");
                texts.splice(0..0, page.iter().map(|m| m["text"].as_str().unwrap().to_owned()));
                if page.len() < 200 {
                    break;
                }
                before = page_ids.first().copied();
            }
            let expected: Vec<String> = (1..=450).map(|n| format!("m{n}")).collect();
            assert_eq!(texts, expected, "{history}");
        }
        let short = get_json(&server, "/api/v1/im/bob/history?limit=3", &alice).await;
        assert_eq!(short.as_array().unwrap().len(), 3);
        for bad in ["limit=0", "limit=201", "before=x"] {
            let answer = http
                .get(server.url(&format!("/api/v1/im/bob/history?{bad}")))
                .bearer_auth(&alice)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{bad}");
            assert!(answer.json::<Value>().await.unwrap()["error"].is_string(), "{bad}");
        }
        (chat, *ids.last().unwrap())
    };
    let server = Server::start(&data);
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let sent = post_json(&server, "/api/v1/im/bob", &alice, &json!({"text": "after"})).await;
    assert!(sent["id"].as_u64().unwrap() > last_id, "ids do not repeat after a restart");
    assert!(chat > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn conversations_come_latest_first_with_unread_counts_every_device_shares() {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")]);
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let (carol, _) = log_in(&server, "carol", "long enough").await;
    let mut laptop = events(&server, &alice).await;
    let say = |from: &str, to: &str, text: &str| {
        let (from, path, text) =
            (from.to_owned(), format!("/api/v1/im/{to}"), json!({"text": text}));
        let server = &server;
        async move { post_json(server, &path, &from, &text).await["id"].as_u64().unwrap() }
    };
    let one = say(&bob, "alice", "one").await;
    let two = say(&bob, "alice", "two").await;
    say(&carol, "alice", "hi").await;
    say(&alice, "carol", "hello carol").await;
    let topic = json!({"invite": ["bob"], "topic": "Plan"});
    let chat = post_json(&server, "/api/v1/nway", &alice, &topic).await["id"].as_u64().unwrap();
    post_json(&server, &format!("/api/v1/nway/{chat}/join"), &bob, &json!({})).await;
    let text = json!({"text": "in the chat"});
    post_json(&server, &format!("/api/v1/nway/{chat}/messages"), &bob, &text).await;

    let listed = get_json(&server, "/api/v1/conversations", &alice).await;
    let summary: Vec<(String, String, u64)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let last = c["last"]["text"].as_str().unwrap().to_owned();
            (c["conversation"].as_str().unwrap().to_owned(), last, c["unread"].as_u64().unwrap())
        })
        .collect();
    let expected = [
        (format!("nway:{chat}"), "in the chat".to_owned(), 1),
        ("im:carol".to_owned(), "hello carol".to_owned(), 1),
        ("im:bob".to_owned(), "two".to_owned(), 2),
    ];
    assert_eq!(summary, expected, "{listed}");
    assert_eq!((&listed[0]["topic"], &listed[1]["with"]), (&json!("Plan"), &json!("carol")));

    // Read on the phone: the laptop hears it, and the count is gone.
    let mut phone = events(&server, &alice).await;
    let mark = json!({"conversation": "im:bob", "up_to": two});
    post_json(&server, "/api/v1/conversations/read", &alice, &mark).await;
    for device in [&mut laptop, &mut phone] {
        let read = loop {
            let event = next_event(device).await;
            if event["type"] == "read" {
                break event;
            }
        };
        assert_eq!(read, json!({"type": "read", "conversation": "im:bob", "up_to": two}));
    }
    let unread_with_bob = || async {
        let listed = get_json(&server, "/api/v1/conversations", &alice).await;
        let bob = listed.as_array().unwrap().iter().find(|c| c["with"] == "bob").cloned();
        bob.unwrap()["unread"].as_u64().unwrap()
    };
    assert_eq!(unread_with_bob().await, 0);
    // A late mark from a slower device does not bring messages back.
    let older = json!({"conversation": "im:bob", "up_to": one});
    post_json(&server, "/api/v1/conversations/read", &alice, &older).await;
    assert_eq!(unread_with_bob().await, 0);

    for bad in ["bob", "nway:x", "im:"] {
        let answer = reqwest::Client::new()
            .post(server.url("/api/v1/conversations/read"))
            .bearer_auth(&alice)
            .json(&json!({"conversation": bad, "up_to": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(answer.json::<Value>().await.unwrap()["error"].is_string(), "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_upgrades_from_other_origins_are_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let own_origin = server.base.clone();
    let other_port = own_origin.rsplit_once(':').map(|(host, _)| format!("{host}:1")).unwrap();
    for (origin, allowed) in
        [(own_origin.as_str(), true), (other_port.as_str(), false), ("https://evil.example", false)]
    {
        let mut request =
            server.url("/api/v1/events").replacen("http", "ws", 1).into_client_request().unwrap();
        let headers = request.headers_mut();
        headers.insert("cookie", format!("LtpaToken2={alice}").parse().unwrap());
        headers.insert("origin", origin.parse().unwrap());
        let result = tokio_tungstenite::connect_async(request).await;
        match result {
            Ok(_) => assert!(allowed, "{origin} was let in"),
            Err(tokio_tungstenite::tungstenite::Error::Http(answer)) => {
                assert!(!allowed, "{origin} was refused");
                assert_eq!(answer.status(), StatusCode::FORBIDDEN);
            }
            Err(other) => panic!("{origin}: {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_wrong_methods_and_bad_path_parameters_answer_in_json() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start(&dir.path().join("data"));
    let http = reqwest::Client::new();
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let bad_id = http.post(server.url("/api/v1/nway/-1/join")).bearer_auth(&alice).send().await;
    let bad_id = bad_id.unwrap();
    assert_eq!(bad_id.status(), StatusCode::BAD_REQUEST);
    let error = bad_id.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("Invalid URL"), "{error}");
    for (method, path, status, says) in [
        (
            reqwest::Method::GET,
            "/api/v1/nope",
            StatusCode::NOT_FOUND,
            "no such route: GET /api/v1/nope",
        ),
        (
            reqwest::Method::DELETE,
            "/api/v1/contacts",
            StatusCode::METHOD_NOT_ALLOWED,
            "does not take DELETE",
        ),
    ] {
        let answer = http.request(method, server.url(path)).send().await.unwrap();
        assert_eq!(answer.status(), status, "{path}");
        let error = answer.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(says), "{path}: {error}");
    }
    // The event stream asked for without a WebSocket upgade (found by fuzzing).
    let plain = http.get(server.url("/api/v1/events")).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::BAD_REQUEST);
    assert!(plain.json::<Value>().await.unwrap()["error"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_websocket_message_ends_that_session_only() {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message;
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let mut other_tab = events(&server, &alice).await;
    let mut socket = events(&server, &alice).await;
    let huge = json!({"type": "im", "to": "bob", "text": "x".repeat(100 * 1024)}).to_string();
    let _ = socket.send(Message::text(huge)).await;
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    });
    ended.await.expect("the server closes the socket");
    let watch = json!({"type": "watch", "users": ["alice"]}).to_string();
    other_tab.send(Message::text(watch)).await.unwrap();
    let status = next_event(&mut other_tab).await;
    assert_eq!(status["status"], "available", "the other session lives on: {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn contacts_keep_their_aliases_and_an_alias_goes_with_its_contact() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start(&dir.path().join("data"));
    let http = reqwest::Client::new();
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let put = |body: Value| {
        http.put(server.url("/api/v1/contacts")).bearer_auth(&alice).json(&body).send()
    };
    let list = json!({
        "groups": [{"name": "Team", "contacts": ["bob", "carol"]}],
        "aliases": {"bob": "  Smith, Bob ", "carol": " ", "dave": "Not a contact"},
    });
    let kept: Value = put(list).await.unwrap().json().await.unwrap();
    let expected = json!({
        "groups": [{"name": "Team", "contacts": ["bob", "carol"]}],
        "aliases": {"bob": "Smith, Bob"},
    });
    assert_eq!(kept, expected);
    assert_eq!(get_json(&server, "/api/v1/contacts", &alice).await, expected);

    let long = json!({"groups": [{"name": "Team", "contacts": ["bob"]}],
        "aliases": {"bob": "x".repeat(101)}});
    let refused = put(long).await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let error = refused.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("at most 100 characters"), "{error}");

    // A list without aliases, as clients that do not know them send it,
    // keeps those of the contacts still listed; an empty map clears them.
    let plain = json!({"groups": [{"name": "Team", "contacts": ["bob"]}]});
    let kept: Value = put(plain).await.unwrap().json().await.unwrap();
    assert_eq!(kept["aliases"], json!({"bob": "Smith, Bob"}));
    let cleared = json!({"groups": [{"name": "Team", "contacts": ["bob"]}], "aliases": {}});
    let kept: Value = put(cleared).await.unwrap().json().await.unwrap();
    assert_eq!(kept, json!({"groups": [{"name": "Team", "contacts": ["bob"]}]}));
}
