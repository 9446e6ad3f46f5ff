//! The Sametime-compatible endpoints other applications call
//! (`/stwebapi/getstatus`, `/stwebapi/chat`) and CORS for the allowed
//! origins, on a running `simul serve`.

use crate::support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Server, deployment_with_names, events, export_keys, log_in, mint};

/// The application whose pages may call Simul in these tests.
const CONNECTIONS: &str = "https://connections.renovations.com";

fn server() -> (tempfile::TempDir, Server) {
    let dir = deployment_with_names(&[("alice", "Alice Allen"), ("bob", "Bob Builder")]);
    let config = dir.path().join("simul.toml");
    std::fs::write(&config, format!("[server]\nallowed_origins = [\"{CONNECTIONS}\"]\n")).unwrap();
    let server = Server::start_configured(&dir.path().join("data"), &config);
    (dir, server)
}

async fn get(server: &Server, path: &str, token: Option<&str>) -> reqwest::Response {
    let request = reqwest::Client::new().get(server.url(path));
    let request = match token {
        Some(token) => request.header("cookie", format!("LtpaToken2={token}")),
        None => request,
    };
    request.send().await.unwrap()
}

async fn json_of(server: &Server, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let answer = get(server, path, token).await;
    (answer.status(), answer.json().await.unwrap())
}

/// A JSONP answer: its content type and the JSON inside `/**/cb(...);`.
async fn jsonp_of(server: &Server, path: &str, token: Option<&str>) -> Value {
    let answer = get(server, path, token).await;
    assert_eq!(answer.status(), StatusCode::OK, "a script tag runs only 200 answers");
    assert_eq!(answer.headers()["content-type"], "application/javascript; charset=utf-8");
    let text = answer.text().await.unwrap();
    let inner = text.strip_prefix("/**/cb(").and_then(|t| t.strip_suffix(");"));
    serde_json::from_str(inner.unwrap_or_else(|| panic!("not JSONP for cb: {text}"))).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn getstatus_answers_as_the_connect_client_did() {
    let (_dir, server) = server();
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;

    let (status, offline) = json_of(&server, "/stwebapi/getstatus?userId=bob", Some(&alice)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        offline,
        json!({"username": "bob", "userId": "bob", "displayName": "Bob Builder",
               "status": 0, "statusMessage": ""})
    );

    let _socket = events(&server, &bob).await;
    let (_, available) = json_of(&server, "/stwebapi/getstatus/Bob?time=1", Some(&alice)).await;
    assert_eq!((&available["status"], &available["userId"]), (&json!(1), &json!("bob")));

    let busy = json!({"status": "dnd", "message": "On site until 3"});
    let put = reqwest::Client::new().put(server.url("/api/v1/me/status")).bearer_auth(&bob);
    assert!(put.json(&busy).send().await.unwrap().status().is_success());
    let answer = jsonp_of(&server, "/stwebapi/getstatus?userId=bob&jsonp=cb", Some(&alice)).await;
    assert_eq!(
        (&answer["status"], &answer["statusMessage"]),
        (&json!(3), &json!("On site until 3"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn getstatus_errors_are_json_or_reach_the_callback() {
    let (dir, server) = server();
    let (alice, _) = log_in(&server, "alice", "long enough").await;

    let (status, unknown) =
        json_of(&server, "/stwebapi/getstatus?userId=nobody", Some(&alice)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(unknown["error"], "no such user: nobody");
    let unknown = jsonp_of(&server, "/stwebapi/getstatus/nobody?jsonp=cb", Some(&alice)).await;
    assert_eq!(
        (&unknown["status"], &unknown["error"]),
        (&json!(-1), &json!("no such user: nobody"))
    );

    // Not logged in: the page's users see "unknown", not a prompt.
    let (status, _) = json_of(&server, "/stwebapi/getstatus?userId=bob", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let anonymous = jsonp_of(&server, "/stwebapi/getstatus?userId=bob&jsonp=cb", None).await;
    assert_eq!(anonymous["status"], -1);

    // A callback that is not a plain name could be script: refused, as JSON.
    for bad in ["alert(1)", "cb;alert(1)", "%3C%2Fscript%3E", "x%5B0%5D"] {
        let answer =
            get(&server, &format!("/stwebapi/getstatus?userId=bob&jsonp={bad}"), Some(&alice))
                .await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(answer.headers()["content-type"], "application/json", "{bad}");
    }
    let (status, _) = json_of(&server, "/stwebapi/getstatus", Some(&alice)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Signed in to another application of the SSO domain: no prompt at all.
    export_keys(dir.path());
    let connections_user = mint(dir.path(), &["--user", "alice"]);
    let (status, bob) =
        json_of(&server, "/stwebapi/getstatus?userId=bob", Some(&connections_user)).await;
    assert_eq!((status, &bob["displayName"]), (StatusCode::OK, &json!("Bob Builder")));
}

#[tokio::test(flavor = "multi_thread")]
async fn allowed_origins_get_cors_with_cookies_and_others_get_none() {
    let (_dir, server) = server();
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, server.url("/api/v1/awareness"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "x-csrf-token")
            .send()
    };
    let allowed = preflight(CONNECTIONS).await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(headers["access-control-allow-origin"], CONNECTIONS);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert!(headers["access-control-allow-headers"].to_str().unwrap().contains("x-csrf-token"));
    let other = preflight("https://evil.example.net").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let answer = http
        .get(server.url("/stwebapi/getstatus?userId=bob"))
        .header("origin", CONNECTIONS)
        .header("cookie", format!("LtpaToken2={alice}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["access-control-allow-origin"], CONNECTIONS);
    assert!(answer.headers()["vary"].to_str().unwrap().to_lowercase().contains("origin"));

    // The event WebSocket opens from an allowed origin, and only from one.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    for (origin, opens) in [(CONNECTIONS, true), ("https://evil.example.net", false)] {
        let url = server.url("/api/v1/events").replacen("http", "ws", 1);
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert("cookie", format!("LtpaToken2={alice}").parse().unwrap());
        request.headers_mut().insert("origin", origin.parse().unwrap());
        let opened = tokio_tungstenite::connect_async(request).await.is_ok();
        assert_eq!(opened, opens, "{origin}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_links_open_the_web_client_on_that_chat() {
    let (_dir, server) = server();
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = http.get(server.url("/stwebapi/chat?userId=Bob")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()["location"], "/?chat=bob", "the login name became the id");
    let unknown =
        http.get(server.url("/stwebapi/chat?userId=uid%3Dx%2Co%3Dy")).send().await.unwrap();
    assert_eq!(unknown.headers()["location"], "/?chat=uid%3Dx%2Co%3Dy");
    let missing = http.get(server.url("/stwebapi/chat")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chat_rest_flow_connects_sends_and_disconnects() {
    let (_dir, server) = server();
    let http = reqwest::Client::new();
    let wrong = http.post(server.url("/stwebapi/user/connect?username=alice&password=nope"));
    assert_eq!(wrong.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Connect as a monitoring webhook does: query parameters, nonce back.
    let connect =
        http.post(server.url("/stwebapi/user/connect?username=alice&password=long%20enough"));
    let connected = connect.send().await.unwrap();
    assert_eq!(connected.status(), StatusCode::OK);
    let cookie = support::cookie(&connected, "LtpaToken2").expect("the SSO cookie");
    let header_nonce = connected.headers()["x-csrf-token"].to_str().unwrap().to_owned();
    let body: Value = connected.json().await.unwrap();
    assert_eq!((&body["rtc4webNonce"], &body["userId"]), (&json!(header_nonce), &json!("alice")));

    let logged_in = get(&server, "/stwebapi/connectweb/loggedin", Some(&cookie)).await;
    assert_eq!(logged_in.json::<Value>().await.unwrap()["loggedIn"], true);
    let (status, anonymous) = json_of(&server, "/stwebapi/connectweb/loggedin", None).await;
    assert_eq!((status, &anonymous["loggedIn"]), (StatusCode::UNAUTHORIZED, &json!(false)));

    // A 1:1 message by form, with the nonce; without it, refused (CSRF).
    let send = |nonce: Option<&str>| {
        let request = http
            .post(server.url("/stwebapi/chat"))
            .header("cookie", format!("LtpaToken2={cookie}"))
            .form(&[("userId", "Bob"), ("msg", "Disk full on web01")]);
        match nonce {
            Some(nonce) => request.header("Rtc4web-Nonce", nonce),
            None => request,
        }
        .send()
    };
    assert_eq!(send(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    let sent = send(Some(&header_nonce)).await.unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    assert_eq!(sent.json::<Value>().await.unwrap()["userId"], "bob");
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let history = support::get_json(&server, "/api/v1/im/alice/history", &bob).await;
    assert_eq!(history[0]["text"], "Disk full on web01", "{history}");

    // N-way: Bob is invited, enters with placeid, then posts.
    let chat = support::post_json(
        &server,
        "/api/v1/nway",
        &alice_token(&server).await,
        &json!({"invite": ["bob"], "topic": "Outage"}),
    )
    .await;
    let place = chat["id"].to_string();
    let bob_nonce = support::get_json(&server, "/api/v1/me", &bob).await["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let nway = |form: Vec<(&'static str, String)>| {
        http.post(server.url("/stwebapi/chat/nway"))
            .header("cookie", format!("LtpaToken2={bob}"))
            .header("rtc4web-nonce", bob_nonce.clone())
            .form(&form)
            .send()
    };
    let entered: Value =
        nway(vec![("placeid", place.clone())]).await.unwrap().json().await.unwrap();
    assert_eq!(entered["members"], json!(["alice", "bob"]), "{entered}");
    let posted = nway(vec![("placeid", place), ("msg", "On it".into())]).await.unwrap();
    assert_eq!(posted.status(), StatusCode::OK);

    // Bob's conversations: the n-way chat, then Alice's 1:1 messages.
    let map = support::get_json(
        &server,
        "/stwebapi/convomap/conversations?maxSize=200&isolated=true",
        &bob,
    )
    .await;
    let list = map["conversations"].as_array().unwrap();
    assert_eq!(
        (&list[0]["type"], &list[0]["topic"]),
        (&json!("NWAY_TEXT"), &json!("Outage")),
        "{map}"
    );
    assert_eq!((&list[1]["type"], &list[1]["with"]), (&json!("IM"), &json!("alice")), "{map}");
    let one = support::get_json(&server, "/stwebapi/convomap/conversations?maxSize=1", &bob).await;
    assert_eq!(one["conversations"].as_array().unwrap().len(), 1);

    // Connecting with only the SSO cookie hands out the nonce too.
    let by_cookie = http
        .post(server.url("/stwebapi/user/connect"))
        .header("cookie", format!("LtpaToken2={bob}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.json::<Value>().await.unwrap()["rtc4webNonce"], json!(bob_nonce));

    // Disconnecting is a write like any other: a page of another site
    // cannot log the user out, and the token ends with it.
    let disconnect = |nonce: Option<&str>| {
        let request = http
            .delete(server.url("/stwebapi/user/connect"))
            .header("cookie", format!("LtpaToken2={cookie}"));
        match nonce {
            Some(nonce) => request.header("Rtc4web-Nonce", nonce),
            None => request,
        }
        .send()
    };
    assert_eq!(disconnect(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    let bye = disconnect(Some(&header_nonce)).await.unwrap();
    assert_eq!(bye.status(), StatusCode::OK);
    assert_eq!(support::cookie(&bye, "LtpaToken2").as_deref(), Some(""), "the cookie is cleared");
    let after = get(&server, "/stwebapi/connectweb/loggedin", Some(&cookie)).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "the token ended with the session");
}

/// Alice's token from a fresh login (the n-way chat's creator).
async fn alice_token(server: &Server) -> String {
    log_in(server, "alice", "long enough").await.0
}
