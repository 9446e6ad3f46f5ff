//! What the server writes for an administrator: JSON lines for a log
//! collector, and an access log when asked for.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Server, deployment};

async fn refused_login(server: &Server) {
    let answer = reqwest::Client::new()
        .post(server.url("/api/v1/login"))
        .json(&json!({"user": "alice", "password": "a wrong one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_log_lines_carry_the_audit_fields_at_the_top_level() {
    let dir = deployment(&["alice"]);
    let server = Server::start_with(
        &dir.path().join("data"),
        false,
        &[("SIMUL_LOG", "info"), ("SIMUL_LOG_FORMAT", "json")],
    );
    refused_login(&server).await;
    let line = server.log_line("login refused");
    let entry: Value = serde_json::from_str(&line).expect("one JSON object a line");
    assert_eq!(entry["target"], "simul::audit", "{line}");
    assert_eq!(entry["level"], "INFO", "{line}");
    assert_eq!(entry["user"], "alice", "{line}");
    assert_eq!(entry["client"], "127.0.0.1", "{line}");
    assert_eq!(entry["reason"], "bad_credentials", "{line}");
    assert!(!line.contains("a wrong one"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_access_log_is_off_by_default_and_names_each_request_without_its_query() {
    let dir = deployment(&["alice"]);
    let data = dir.path().join("data");
    let server = Server::start_with(
        &data,
        false,
        &[("SIMUL_LOG", "info"), ("SIMUL_SERVER__ACCESS_LOG", "true")],
    );
    let answer = reqwest::get(server.url("/api/v1/me?secret=in-the-query")).await.unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let line = server.log_line("simul::access");
    for field in ["method=GET", "path=\"/api/v1/me\"", "status=401", "client=127.0.0.1", "ms="] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(!line.contains("in-the-query"), "{line}");
    drop(server);

    let quiet = Server::start_with(&data, false, &[("SIMUL_LOG", "info")]);
    reqwest::get(quiet.url("/api/v1/me")).await.unwrap();
    refused_login(&quiet).await;
    // The audit line comes after the request; no access line came before it.
    let line = quiet.log_line("simul::a");
    assert!(line.contains("simul::audit"), "no access log by default: {line}");
}
