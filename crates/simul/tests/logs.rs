//! What the server writes for an administrator: JSON lines for a log
//! collector, and an access log when asked for.

use crate::support;

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
    // The credentials in the path of an upload or a file link stay out.
    for path in ["/api/v1/uploads/f00d/s3cr3t/a.png", "/api/v1/files/f00d/c4p4b1l1ty/a.png"] {
        let status = if path.contains("uploads") {
            reqwest::Client::new().put(server.url(path)).body("x").send().await.unwrap().status()
        } else {
            reqwest::get(server.url(path)).await.unwrap().status()
        };
        assert_eq!(status, StatusCode::NOT_FOUND);
        let line = server.log_line("simul::access");
        let shown = path.replace("s3cr3t", "…").replace("c4p4b1l1ty", "…");
        assert!(line.contains(&format!("path=\"{shown}\"")), "{line}");
        assert!(!line.contains("s3cr3t") && !line.contains("c4p4b1l1ty"), "{line}");
    }
    drop(server);

    let quiet = Server::start_with(&data, false, &[("SIMUL_LOG", "info")]);
    reqwest::get(quiet.url("/api/v1/me")).await.unwrap();
    refused_login(&quiet).await;
    // The audit line comes after the request; no access line came before it.
    let line = quiet.log_line("simul::a");
    assert!(line.contains("simul::audit"), "no access log by default: {line}");
}
