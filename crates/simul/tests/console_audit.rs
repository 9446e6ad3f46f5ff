//! The audit log's filter and export, the same in the console and in
//! `simul audit`, and the policy page's unassign with `simul policy
//! unassign`, on the real binary.

use crate::support;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, COOKIE};
use serde_json::Value;
use support::console::{client, console_deployment, csrf_of, page, policy, request, submit};
use support::{Server, log_in, simul};

/// Disables and enables alice in the console, as boss.
async fn disable_and_enable_alice(server: &Server, boss: &str) {
    let card = page(server, "/console/user?id=alice", boss).await;
    let csrf = csrf_of(&card);
    for path in ["/console/user/disable", "/console/user/enable"] {
        submit(server, path, boss, &[("user", "alice"), ("csrf", &csrf)]).await;
    }
}

/// A console download as `token`'s user: content type, disposition, body.
async fn download(server: &Server, path: &str, token: &str) -> (String, String, String) {
    let response = client()
        .get(server.url(path))
        .header(COOKIE, format!("LtpaToken2={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let header = |name| response.headers()[name].to_str().unwrap().to_owned();
    let (kind, disposition) = (header(CONTENT_TYPE), header(CONTENT_DISPOSITION));
    (kind, disposition, response.text().await.unwrap())
}

#[tokio::test]
async fn the_audit_log_is_filtered_and_exported_as_the_command_does() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    disable_and_enable_alice(&server, &boss).await;

    let all = page(&server, "/console/audit", &boss).await;
    for action in ["<td>disable</td>", "<td>enable</td>", "<td>grant-admin</td>"] {
        assert!(all.contains(action), "{action}: {all}");
    }
    let disables = page(&server, "/console/audit?action=disable", &boss).await;
    assert!(disables.contains("<td>disable</td>") && !disables.contains("<td>enable</td>"));
    assert!(disables.contains("value=\"disable\""), "the filter stays in the form");
    // Who: part of the id, any case; the command line's acts are root's.
    let by_boss = page(&server, "/console/audit?actor=BOS", &boss).await;
    assert!(by_boss.contains("<td>disable</td>") && !by_boss.contains("<td>grant-admin</td>"));
    let future = page(&server, "/console/audit?since=2999-01-01T00:00:00Z", &boss).await;
    assert!(future.contains("Nothing matches this filter"), "{future}");
    let (status, body) =
        request(&server, reqwest::Method::GET, "/console/audit?since=yesterday", Some(&boss), &[])
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("neither an RFC 3339 time nor a duration like 24h"), "{body}");
    assert!(
        disables
            .contains("/console/audit/export?format=csv&amp;actor=&#38;action=disable&#38;since="),
        "the downloads carry the filter: {disables}"
    );

    let (kind, disposition, csv) =
        download(&server, "/console/audit/export?format=csv&action=disable&since=1h", &boss).await;
    assert_eq!(kind, "text/csv; charset=utf-8");
    assert!(disposition.starts_with("attachment; filename=\"simul-audit-"), "{disposition}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "at,actor,action,target,origin");
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].contains(",boss,disable,alice,console 127.0.0.1"), "{csv}");
    // The command prints the same file.
    let out = simul(dir.path(), &["audit", "--action", "disable", "--csv", "--data", "data"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), csv);

    let (kind, _, json) =
        download(&server, "/console/audit/export?format=json&actor=boss", &boss).await;
    assert_eq!(kind, "application/json");
    let entries: Value = serde_json::from_str(&json).unwrap();
    let actions: Vec<&str> =
        entries.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["enable", "disable"], "newest first");
    let out = simul(dir.path(), &["audit", "--actor", "boss", "--json", "--data", "data"]);
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), entries);
    let (status, _) = request(
        &server,
        reqwest::Method::GET,
        "/console/audit/export?format=xml",
        Some(&boss),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_policy_is_unassigned_in_the_console_or_by_command() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    assert!(policy(dir.path(), &["set", "default", "max_file_mb=1"]).0);
    assert!(policy(dir.path(), &["set", "big", "max_file_mb=20"]).0);
    assert!(policy(dir.path(), &["assign", "big", "--user", "alice", "--weight", "3"]).0);
    assert!(policy(dir.path(), &["assign", "big", "--group", "cn=staff,o=acme"]).0);
    // The limits a client reads are the caller's policy's.
    let limits = support::get_json(&server, "/api/v1/files/limits", &alice).await;
    assert_eq!(limits["max_bytes"], 20 * 1024 * 1024, "{limits}");
    assert_eq!(limits["policy"], "big");

    // The console's button on the assignment.
    let big = page(&server, "/console/policy?name=big", &boss).await;
    assert!(big.contains("<td>user alice</td>") && big.contains("data-testid=\"unassign\""));
    let form = [
        ("csrf", csrf_of(&big)),
        ("name", "big".into()),
        ("kind", "user".into()),
        ("assignee", "alice".into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let back = submit(&server, "/console/policy/unassign", &boss, &form).await;
    assert_eq!(back, "/console/policy?name=big&done=unassigned");
    let big = page(&server, &back, &boss).await;
    assert!(big.contains("Unassigned.") && !big.contains("<td>user alice</td>"), "{big}");
    let limits = support::get_json(&server, "/api/v1/files/limits", &alice).await;
    assert_eq!(limits["max_bytes"], 1024 * 1024, "back on default at once: {limits}");
    assert_eq!(limits["policy"], "default");
    // Again: not assigned any more, said on the page.
    let (status, body) =
        request(&server, reqwest::Method::POST, "/console/policy/unassign", Some(&boss), &form)
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("policy `big` is not assigned to user alice"), "{body}");

    // The command, for the group.
    let (ok, out, err) = policy(dir.path(), &["unassign", "big", "--group", "CN=Staff,O=Acme"]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "Unassigned policy big from group CN=Staff,O=Acme");
    let (ok, _, err) = policy(dir.path(), &["unassign", "big", "--group", "cn=staff,o=acme"]);
    assert!(!ok && err.contains("is not assigned to group cn=staff,o=acme"), "{err}");
    let (ok, _, err) = policy(dir.path(), &["unassign", "big"]);
    assert!(!ok && err.contains("--user"), "one of --user or --group: {err}");
    let audit = page(&server, "/console/audit?action=policy-unassign", &boss).await;
    assert!(
        audit.contains("big from user alice") && audit.contains("big from group CN=Staff,O=Acme")
    );

    assert!(policy(dir.path(), &["set", "default", "file_transfer=no"]).0);
    let limits = support::get_json(&server, "/api/v1/files/limits", &alice).await;
    assert_eq!((limits["max_bytes"].as_u64(), limits["allowed"].as_bool()), (Some(0), Some(false)));
}
