//! Simul behind a real nginx (Debian's package), as Sametime sits behind
//! IBM HTTP Server or an F5: every request comes from the proxy's
//! address, and `server.trusted_proxies` makes Simul see the clients.

use crate::support;

use std::net::IpAddr;

use futures_util::StreamExt as _;
use reqwest::StatusCode;
use serde_json::json;
use simul_testkit::{Nginx, Slapd, crowd_ldif};
use support::{Server, configured};

/// People in the directory, all signing in through the proxy.
const PEOPLE: usize = 2_000;

/// A client whose connections come from the loopback address `from`.
fn client_from(from: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::from(from)).build().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_nginx_everyone_signs_in_and_guessing_is_limited_per_client() {
    let slapd = Slapd::start_with(&crowd_ldif(PEOPLE));
    let (dir, config) = configured(&[slapd.url()], "");
    let server = Server::start_configured_with(
        &dir.path().join("data"),
        &config,
        &[("SIMUL_SERVER__TRUSTED_PROXIES", "[\"127.0.0.1/32\"]")],
    );
    let upstream = server.base.trim_start_matches("http://").to_owned();
    let nginx = Nginx::start(&upstream);
    let login = |http: &reqwest::Client, user: String, password: String| {
        http.post(format!("{}/api/v1/login", nginx.url()))
            .json(&json!({"user": user, "password": password}))
            .send()
    };

    // Nine o'clock: the whole company signs in through the proxy.
    let office = client_from([127, 0, 0, 2]);
    let statuses: Vec<StatusCode> = futures_util::stream::iter(0..PEOPLE)
        .map(|i| {
            let uid = format!("person{i:06}");
            let answer = login(&office, uid.clone(), format!("{uid}-secret"));
            async move { answer.await.unwrap().status() }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let signed_in = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(signed_in, PEOPLE, "{:?}", statuses.iter().find(|s| **s != StatusCode::OK));

    // One client behind the proxy guesses passwords: 30 wrong, then 429.
    let guesser = client_from([127, 0, 0, 3]);
    for i in 0..30 {
        let answer = login(&guesser, format!("person{i:06}"), "guess".into()).await.unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "guess {i}");
    }
    // (A slow machine forgets a failure every 2 s: a few more may pass.)
    let mut limited = None;
    for i in 30..45 {
        let answer = login(&guesser, format!("person{i:06}"), "guess".into()).await.unwrap();
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(answer);
            break;
        }
    }
    let limited = limited.expect("guessing is limited");
    let error = limited.json::<serde_json::Value>().await.unwrap()["error"].to_string();
    assert!(error.contains("for this address"), "{error}");
    // Others behind the same proxy are not: a typo is a typo.
    let colleague = client_from([127, 0, 0, 4]);
    let typo = login(&colleague, "person000050".into(), "tyop".into()).await.unwrap();
    assert_eq!(typo.status(), StatusCode::UNAUTHORIZED);
    let right = login(&colleague, "person000050".into(), "person000050-secret".into());
    assert_eq!(right.await.unwrap().status(), StatusCode::OK);

    // The event WebSocket goes through the proxy too (its origin is the
    // proxy's, which the forwarded host names).
    let answer = login(&colleague, "bob".into(), "bob-secret".into()).await.unwrap();
    let token = support::cookie(&answer, "LtpaToken2").unwrap();
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let mut request = format!("{}/api/v1/events", nginx.url().replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert("cookie", format!("LtpaToken2={token}").parse().unwrap());
    request.headers_mut().insert("origin", nginx.url().parse().unwrap());
    let (mut socket, _) =
        tokio_tungstenite::connect_async(request).await.expect("upgrade through nginx");
    assert_eq!(support::next_event(&mut socket).await["type"], "ready");
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarding_headers_from_anyone_else_are_ignored() {
    let dir = support::deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start(&dir.path().join("data"));
    let http = reqwest::Client::new();
    // Claiming HTTPS gets no Secure cookie (it would be lost over plain HTTP).
    let claimed = http
        .post(server.url("/api/v1/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"user": "alice", "password": "long enough"}))
        .send()
        .await
        .unwrap();
    let set_cookie = claimed.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    // A client that claims a new address with every guess is still one client.
    for i in 0..30 {
        let answer = http
            .post(server.url("/api/v1/login"))
            .header("x-forwarded-for", format!("192.0.2.{i}"))
            .json(&json!({"user": format!("nobody{i}"), "password": "guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    // (A slow machine forgets a failure every 2 s: a few more may pass.)
    let mut limited = false;
    for i in 30..45 {
        let answer = http
            .post(server.url("/api/v1/login"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({"user": format!("nobody{i}"), "password": "guess"}))
            .send()
            .await
            .unwrap();
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "a new address in every header does not escape the limit");
}
