//! The console's overview (logins and messages per second, the warnings
//! "LDAP failover active" and "LTPA keys never exported") and its sign-out,
//! on the real binary.

use crate::support;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use support::console::{client, console_deployment, csrf_of, page, request};
use support::{Server, log_in};

/// The number a tile of the overview shows.
fn tile<'a>(overview: &'a str, testid: &str) -> &'a str {
    let marker = format!("data-testid=\"{testid}\"");
    let start = overview.find(&marker).expect("the tile") + marker.len();
    let value = &overview[start..];
    let value = &value[value.find('>').unwrap() + 1..];
    &value[..value.find('<').unwrap()]
}

#[tokio::test]
async fn the_overview_shows_logins_and_messages_per_second() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, boss_csrf) = log_in(&server, "boss", "long enough").await;
    let overview = page(&server, "/console", &boss).await;
    assert_eq!(tile(&overview, "messages-per-second"), "0.00", "{overview}");
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    // A login is a session opened (a client's sign-in on any door, by
    // password or SSO token): both open their event streams.
    let _boss_session = support::events(&server, &boss).await;
    let _alice_session = support::events(&server, &alice).await;
    for text in ["one", "two", "three"] {
        let body = serde_json::json!({"text": text});
        let sent = client()
            .post(server.url("/api/v1/im/alice"))
            .header(COOKIE, format!("LtpaToken2={boss}"))
            .header("X-CSRF-Token", &boss_csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(sent.status().is_success(), "{}", sent.text().await.unwrap());
    }
    drop(alice);
    // The rate counts whole seconds: the one under way ends first.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let overview = page(&server, "/console", &boss).await;
    // Two logins and three messages over the last minute.
    assert_eq!(tile(&overview, "logins-per-second"), "0.03", "{overview}");
    assert_eq!(tile(&overview, "messages-per-second"), "0.05", "{overview}");
}

#[tokio::test]
async fn keys_never_exported_is_a_warning_until_they_are() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let overview = page(&server, "/console", &boss).await;
    assert!(overview.contains("LTPA keys never exported"), "{overview}");
    // `simul ltpa export --data` while the server runs: noted in the audit log.
    support::export_keys(dir.path());
    let overview = page(&server, "/console", &boss).await;
    assert!(!overview.contains("LTPA keys never exported"), "{overview}");
    let audit = page(&server, "/console/audit?action=export-ltpa-keys", &boss).await;
    assert!(audit.contains("<td>export-ltpa-keys</td>") && audit.contains("command line"));
}

#[tokio::test]
async fn ldap_failover_active_is_a_warning() {
    let slapd = simul_testkit::Slapd::start();
    // The primary refuses connections (nothing listens on port 1): the
    // failover, the real slapd, serves.
    let hosts = ["ldap://127.0.0.1:1".to_owned(), slapd.url()];
    let groups = format!("\n[console]\nadmin_groups = [{:?}]\n", simul_testkit::BUILDERS_DN);
    let (dir, config) = support::configured(&hosts, &groups);
    let server = Server::start_configured(&dir.path().join("data"), &config);
    let (alice, _) = log_in(&server, "alice", "alice-secret").await;
    let overview = page(&server, "/console", &alice).await;
    let warning = format!(
        "LDAP failover active: the primary directory server did not answer, so {} serves",
        slapd.url()
    );
    assert!(overview.contains(&warning), "{overview}");

    // With the primary first and answering, no such warning.
    let (dir, config) = support::configured(&[slapd.url()], &groups);
    let server = Server::start_configured(&dir.path().join("data"), &config);
    let (alice, _) = log_in(&server, "alice", "alice-secret").await;
    let overview = page(&server, "/console", &alice).await;
    assert!(!overview.contains("LDAP failover active"), "{overview}");
}

#[tokio::test]
async fn signing_out_ends_the_console_session() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let overview = page(&server, "/console", &boss).await;
    assert!(overview.contains("data-testid=\"sign-out\""), "every page has it: {overview}");
    let csrf = csrf_of(&overview);
    // Without the page's token it is refused, and the session stays.
    let (status, _) =
        request(&server, reqwest::Method::POST, "/console/sign-out", Some(&boss), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    page(&server, "/console", &boss).await;

    let response = client()
        .post(server.url("/console/sign-out"))
        .header(COOKIE, format!("LtpaToken2={boss}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/");
    let cleared: Vec<_> = response.headers().get_all(SET_COOKIE).iter().collect();
    assert!(
        cleared.iter().any(|c| c.to_str().unwrap().starts_with("LtpaToken2=;")),
        "the cookie is cleared: {cleared:?}"
    );
    // The token itself is ended: a copy of the cookie no longer gets in.
    let (status, _) = request(&server, reqwest::Method::GET, "/console", Some(&boss), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let me = client()
        .get(server.url("/api/v1/me"))
        .header(COOKIE, format!("LtpaToken2={boss}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}
