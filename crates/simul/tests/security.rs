//! The server as an attacker probes it: forged and damaged tokens, login
//! from other sites, tokens replayed after logout, password change or
//! removal, files other users could read, metrics and JSONP for anyone.

use crate::support;

use std::collections::BTreeSet;

use base64::Engine as _;
use futures_util::StreamExt as _;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{
    Server, cookie, deployment_with_names, events, eventually, log_in, next_event, simul,
};

/// Invalid tokens allowed per minute in the tests that send thousands.
const MANY: (&str, &str) = ("SIMUL_SERVER__INVALID_TOKENS_PER_MINUTE", "1000000");

/// Every way a request can carry a token, and what it answers.
async fn answers_to(server: &Server, http: &reqwest::Client, token: &str) -> Vec<(u16, String)> {
    let by_cookie =
        http.get(server.url("/api/v1/me")).header("cookie", format!("LtpaToken2={token}")).send();
    let by_bearer = http.get(server.url("/api/v1/contacts")).bearer_auth(token).send();
    let jsonp = http
        .get(server.url("/stwebapi/getstatus?userId=alice&jsonp=cb"))
        .header("cookie", format!("LtpaToken2={token}"))
        .send();
    let rest = http
        .get(server.url("/stwebapi/connectweb/loggedin"))
        .header("cookie", format!("LtpaToken2={token}"))
        .send();
    let mut answers = Vec::new();
    for answer in futures_util::future::join_all([by_cookie, by_bearer, jsonp, rest]).await {
        let answer = answer.unwrap();
        answers.push((answer.status().as_u16(), answer.text().await.unwrap()));
    }
    answers
}

#[tokio::test(flavor = "multi_thread")]
async fn every_damaged_token_gets_the_same_answer() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start_with(&dir.path().join("data"), false, &[MANY]);
    let http = reqwest::Client::new();
    let (token, _) = log_in(&server, "alice", "long enough").await;
    let base64 = base64::engine::general_purpose::STANDARD;
    let bytes = base64.decode(&token).unwrap();
    assert!(bytes.len() >= 32 && bytes.len() % 16 == 0, "AES blocks: {}", bytes.len());

    // The padding oracle changed one byte of the second-to-last block
    // through all its values; here every such token, then every byte of
    // the token flipped, then tokens of other shapes.
    let mut damaged = Vec::new();
    for position in bytes.len() - 32..bytes.len() - 16 {
        for delta in 1..=255u8 {
            let mut copy = bytes.clone();
            copy[position] ^= delta;
            damaged.push(base64.encode(copy));
        }
    }
    for position in 0..bytes.len() {
        let mut copy = bytes.clone();
        copy[position] ^= 0x80;
        damaged.push(base64.encode(copy));
    }
    damaged.extend(
        [
            base64.encode(&bytes[..bytes.len() - 16]),
            base64.encode(&bytes[16..]),
            token[..token.len() - 1].to_owned(),
            format!("{token}AAAA"),
            "not base64 at all!".to_owned(),
            base64.encode(b"0123456789abcdef"),
        ]
        .into_iter(),
    );
    let total = damaged.len();
    let answers: BTreeSet<(u16, String)> = futures_util::stream::iter(damaged)
        .map(|token| {
            let (server, http) = (&server, &http);
            async move { answers_to(server, http, &token).await }
        })
        .buffer_unordered(16)
        .flat_map(futures_util::stream::iter)
        .collect()
        .await;

    // One answer per route, the same for every damaged token, and the same
    // as for no token at all.
    let without_token: BTreeSet<_> = answers_to(&server, &http, "").await.into_iter().collect();
    assert_eq!(answers, without_token, "{total} damaged tokens");
    for (status, body) in &answers {
        assert!(*status == 401 || body.contains("\"status\":-1"), "{status} {body}");
        for leak in ["decrypt", "UTF-8", "separator", "padding", "signature", "realm"] {
            assert!(!body.contains(leak), "{body}");
        }
    }
    let metrics = http.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let counted = metrics
        .lines()
        .find_map(|line| line.strip_prefix("simul_invalid_tokens_total "))
        .and_then(|n| n.parse::<usize>().ok());
    assert_eq!(counted, Some(total * 4), "every refused token is counted");
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_tokens_of_every_kind_get_the_same_answer() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let d = dir.path();
    let server = Server::start_with(&d.join("data"), false, &[MANY]);
    let http = reqwest::Client::new();
    support::export_keys(d);
    let expired = support::mint(d, &["--user", "alice", "--expires-at", "1000"]);
    let foreign = support::mint(d, &["--user", "alice", "--realm", "otherRealm"]);
    std::fs::write(d.join("other.pw"), "other").unwrap();
    let other_keys = simul(
        d,
        &["ltpa", "generate", "--realm", "simul", "--password-file", "other.pw", "--out", "o.keys"],
    );
    assert!(other_keys.status.success());
    let out = simul(
        d,
        &[
            "ltpa",
            "token",
            "create",
            "--keys",
            "o.keys",
            "--password-file",
            "other.pw",
            "--user",
            "alice",
        ],
    );
    let other_key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let (logged_out, csrf) = log_in(&server, "alice", "long enough").await;
    let logout = http
        .post(server.url("/api/v1/logout"))
        .header("cookie", format!("LtpaToken2={logged_out}"))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);

    let reference = answers_to(&server, &http, "").await;
    for (what, token) in [
        ("expired", expired),
        ("another realm", foreign),
        ("other keys", other_key),
        ("logged out", logged_out),
    ] {
        assert_eq!(answers_to(&server, &http, &token).await, reference, "{what}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_tokens_are_throttled_per_address() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start_with(
        &dir.path().join("data"),
        false,
        &[("SIMUL_SERVER__INVALID_TOKENS_PER_MINUTE", "5")],
    );
    let http = reqwest::Client::new();
    let (token, _) = log_in(&server, "alice", "long enough").await;
    let me = |token: String| http.get(server.url("/api/v1/me")).bearer_auth(token).send();
    // Valid tokens do not count.
    for _ in 0..10 {
        assert_eq!(me(token.clone()).await.unwrap().status(), StatusCode::OK);
    }
    for _ in 0..5 {
        assert_eq!(me("forged".into()).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let limited = me("forged".into()).await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    // Requests without a token cost nothing and are told to sign in.
    let anonymous = http.get(server.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_of_other_sites_cannot_sign_a_browser_in() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start_with(
        &dir.path().join("data"),
        false,
        &[("SIMUL_SERVER__ALLOWED_ORIGINS", "[\"https://portal.example.com\"]")],
    );
    let http = reqwest::Client::new();
    let own = server.base.clone();
    let login = |origin: Option<&str>, site: Option<&str>| {
        let mut request = http
            .post(server.url("/api/v1/login"))
            .form(&[("user", "alice"), ("password", "long enough")]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    for (origin, site, expected) in [
        (Some("https://evil.example.net"), Some("cross-site"), StatusCode::FORBIDDEN),
        (Some("null"), Some("cross-site"), StatusCode::FORBIDDEN),
        (None, Some("cross-site"), StatusCode::FORBIDDEN),
        (None, Some("same-site"), StatusCode::FORBIDDEN),
        (Some(own.as_str()), Some("same-origin"), StatusCode::OK),
        (Some("https://portal.example.com"), Some("same-site"), StatusCode::OK),
        // A script: no browser headers at all.
        (None, None, StatusCode::OK),
    ] {
        let answer = login(origin, site).await.unwrap();
        assert_eq!(answer.status(), expected, "{origin:?} {site:?}");
        assert_eq!(cookie(&answer, "LtpaToken2").is_some(), expected == StatusCode::OK);
    }
    // The Sametime-compatible login too.
    let connect = http
        .post(server.url("/stwebapi/user/connect"))
        .header("origin", "https://evil.example.net")
        .form(&[("username", "alice"), ("password", "long enough")])
        .send()
        .await
        .unwrap();
    assert_eq!(connect.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_logins_are_logged_for_fail2ban_and_passwords_never() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start_with(&dir.path().join("data"), false, &[("SIMUL_LOG", "info")]);
    let http = reqwest::Client::new();
    let attempt = |user: &str, password: &str| {
        http.post(server.url("/api/v1/login"))
            .json(&json!({"user": user, "password": password}))
            .send()
    };
    assert_eq!(
        attempt("alice", "secret-guess-1").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let line = server.log_line("login refused");
    assert!(line.contains("simul::audit"), "{line}");
    assert!(line.contains(r#"user="alice""#), "{line}");
    assert!(line.contains("client=127.0.0.1"), "{line}");
    assert!(line.contains("reason=\"bad_credentials\""), "{line}");
    assert!(!line.contains("secret-guess"), "{line}");
    // A name cannot forge a line of its own.
    attempt("mallory\nINFO simul::audit: login user=\"admin\"", "x").await.unwrap();
    let line = server.log_line("login refused");
    assert!(line.contains(r#"user="mallory\nINFO"#), "escaped: {line}");
    attempt("alice", "long enough").await.unwrap();
    let line = server.log_line("simul::audit: login");
    assert!(line.contains(r#"user="alice""#) && line.contains("client=127.0.0.1"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_failed_logins_count_against_an_address() {
    let names: Vec<String> = (0..40).map(|n| format!("user{n}")).collect();
    let users: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), n.as_str())).collect();
    let dir = deployment_with_names(&users);
    let server = Server::start(&dir.path().join("data"));
    // 40 people behind one address sign in within a minute.
    for name in &names {
        log_in(&server, name, "long enough").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_users_tokens_end_even_if_the_name_comes_back() {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob")]);
    let d = dir.path();
    let server = Server::start_with(
        &d.join("data"),
        false,
        &[("SIMUL_DIRECTORY__ACCEPT_UNKNOWN_SSO_USERS", "true")],
    );
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let status = |token: String| {
        let request = reqwest::Client::new().get(server.url("/api/v1/me")).bearer_auth(token);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(status(bob.clone()).await, StatusCode::OK);
    assert!(simul(d, &["user", "remove", "bob", "--data", "data"]).status.success());
    // Strangers are welcome in this deployment, but not bob's old token.
    eventually("the removal reaches the server", || async {
        status(bob.clone()).await == StatusCode::UNAUTHORIZED
    })
    .await;
    let args = ["user", "add", "bob", "--password-file", "pw", "--data", "data"];
    assert!(simul(d, &args).status.success());
    assert_eq!(status(bob).await, StatusCode::UNAUTHORIZED);
    support::export_keys(d);
    let stranger = support::mint(d, &["--user", "carol"]);
    assert_eq!(status(stranger).await, StatusCode::OK, "accept_unknown_sso_users");
}

#[tokio::test(flavor = "multi_thread")]
async fn disabling_or_logging_out_ends_open_websockets_at_once() {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob")]);
    let d = dir.path();
    let server = Server::start(&d.join("data"));
    let (alice, alice_csrf) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let mut alice_socket = events(&server, &alice).await;
    let mut bob_socket = events(&server, &bob).await;

    assert!(simul(d, &["user", "disable", "bob", "--data", "data"]).status.success());
    assert_closed(&mut bob_socket).await;

    let logout = reqwest::Client::new()
        .post(server.url("/api/v1/logout"))
        .header("cookie", format!("LtpaToken2={alice}"))
        .header("x-csrf-token", alice_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    assert_closed(&mut alice_socket).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_ends_when_the_token_it_was_opened_with_expires() {
    use tokio_tungstenite::tungstenite::Message;
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let d = dir.path();
    let server = Server::start(&d.join("data"));
    support::export_keys(d);
    // Expired 57 s ago: still taken for 3 s, within the minute of clock
    // skew that servers of an SSO domain allow each other.
    let expired_at = (chrono::Utc::now().timestamp_millis() - 57_000).to_string();
    let short = support::mint(d, &["--user", "alice", "--expires-at", &expired_at]);
    let mut socket = events(&server, &short).await;
    let reason = loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(15), socket.next());
        match next.await.expect("closed once the token expired") {
            Some(Ok(Message::Close(Some(frame)))) => break frame.reason.to_string(),
            Some(Ok(_)) => {}
            other => panic!("closed without a reason: {other:?}"),
        }
    };
    assert_eq!(reason, "the sign-in expired: sign in again");
    // The same token opens nothing any more.
    let refused = reqwest::Client::new().get(server.url("/api/v1/me")).bearer_auth(&short);
    assert_eq!(refused.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

/// The server closes the socket (well before a keepalive round).
async fn assert_closed(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) {
    use tokio_tungstenite::tungstenite::Message;
    let deadline = std::time::Duration::from_secs(10);
    loop {
        match tokio::time::timeout(deadline, socket.next()).await.expect("closed in time") {
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
            Some(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_data_directory_is_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let data = dir.path().join("data");
    let server = Server::start_with(&data, true, &[]);
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let _online = events(&server, &alice).await;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let files: Vec<_> = std::fs::read_dir(&data).unwrap().map(|e| e.unwrap().path()).collect();
    for name in ["simul.db", "simul.db-wal", "simul.db-shm", "ltpa.keys", "tls-certificate.pem"] {
        assert!(files.contains(&data.join(name)), "{name} in {files:?}");
    }
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    drop(server);

    // A deployment made by an earlier version: opened up, then started.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(data.join("simul.db"), std::fs::Permissions::from_mode(0o644))
        .unwrap();
    let server = Server::start(&data);
    let said = server.greeting.join("\n");
    assert!(!said.contains('\x1b'), "no terminal colours in a pipe: {said:?}");
    assert!(said.contains("is open to other users (mode 755): chmod 700"), "{said}");
    assert!(said.contains("simul.db was readable by other users (mode 644)"), "{said}");
    assert_eq!(mode(&data.join("simul.db")), 0o600);
    drop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn cookies_set_over_https_are_secure() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let data = dir.path().join("data");
    let server = Server::start_with(&data, true, &[]);
    let (https, base) = support::https_client(&server, &data);
    let credentials = json!({"user": "alice", "password": "long enough"});
    let login = https.post(format!("{base}/api/v1/login")).json(&credentials).send().await;
    let set_cookie = login.unwrap().headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    let plain = reqwest::Client::new().post(server.url("/api/v1/login")).json(&credentials);
    let set_cookie =
        plain.send().await.unwrap().headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(!set_cookie.contains("Secure"), "plain HTTP cannot keep a Secure cookie: {set_cookie}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_for_the_configured_networks() {
    let dir = deployment_with_names(&[]);
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let http = reqwest::Client::new();
    assert_eq!(http.get(server.url("/metrics")).send().await.unwrap().status(), StatusCode::OK);
    let proxied = http.get(server.url("/metrics")).header("x-forwarded-for", "192.0.2.1");
    assert_eq!(proxied.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    drop(server);
    let elsewhere = [("SIMUL_SERVER__METRICS_NETWORKS", "[\"192.0.2.0/24\"]")];
    let server = Server::start_with(&data, false, &elsewhere);
    let refused = http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let error = refused.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("server.metrics_networks"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn jsonp_answers_only_trusted_pages_and_can_be_turned_off() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let data = dir.path().join("data");
    let portal = ("SIMUL_SERVER__ALLOWED_ORIGINS", "[\"https://portal.example.com\"]");
    let server = Server::start_with(&data, false, &[portal]);
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let http = reqwest::Client::new();
    let jsonp = |referer: Option<&str>, site: Option<&str>| {
        let mut request = http
            .get(server.url("/stwebapi/getstatus?userId=alice&jsonp=cb"))
            .header("cookie", format!("LtpaToken2={alice}"));
        if let Some(referer) = referer {
            request = request.header("referer", referer);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let refused = "/**/cb({\"error\":\"this page's origin is not in server.allowed_origins\"";
    for (referer, site, answered) in [
        (Some("https://portal.example.com/wps/myportal"), Some("same-site"), true),
        (Some("https://evil.example.net/"), Some("cross-site"), false),
        (Some("https://intranet.example.com/"), Some("same-site"), false),
        (None, Some("cross-site"), false),
        (None, Some("same-site"), false),
        (None, None, true),
    ] {
        let answer = jsonp(referer, site).await;
        assert_eq!(answer.contains("\"displayName\":\"Alice\""), answered, "{referer:?}: {answer}");
        assert_eq!(answer.starts_with(refused), !answered, "{referer:?}: {answer}");
    }
    drop(server);
    let server = Server::start_with(&data, false, &[portal, ("SIMUL_SERVER__JSONP", "false")]);
    let off = http
        .get(server.url("/stwebapi/getstatus?userId=alice&jsonp=cb"))
        .header("cookie", format!("LtpaToken2={alice}"))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::FORBIDDEN);
    let plain = http
        .get(server.url("/stwebapi/getstatus?userId=alice"))
        .header("cookie", format!("LtpaToken2={alice}"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.json::<Value>().await.unwrap()["displayName"], "Alice");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_change_ends_the_other_sessions() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start(&dir.path().join("data"));
    let (laptop, _) = log_in(&server, "alice", "long enough").await;
    let (phone, _) = log_in(&server, "alice", "long enough").await;
    let mut phone_socket = events(&server, &phone).await;
    let http = reqwest::Client::new();
    let changed = http
        .post(server.url("/api/v1/me/password"))
        .bearer_auth(&laptop)
        .json(&json!({"current": "long enough", "new": "a brand new one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let renewed = cookie(&changed, "LtpaToken2").unwrap();
    let body: Value = changed.json().await.unwrap();
    assert!(body["csrf_token"].is_string(), "{body}");
    assert_closed(&mut phone_socket).await;
    for (token, expected) in [
        (&phone, StatusCode::UNAUTHORIZED),
        (&laptop, StatusCode::UNAUTHORIZED),
        (&renewed, StatusCode::OK),
    ] {
        let me = http.get(server.url("/api/v1/me")).bearer_auth(token).send().await.unwrap();
        assert_eq!(me.status(), expected);
    }
    // The renewed session opens a socket as usual.
    let mut socket = events(&server, &renewed).await;
    let watch = json!({"type": "watch", "users": ["alice"]}).to_string();
    futures_util::SinkExt::send(&mut socket, tokio_tungstenite::tungstenite::Message::text(watch))
        .await
        .unwrap();
    assert_eq!(next_event(&mut socket).await["status"], "available");
}
