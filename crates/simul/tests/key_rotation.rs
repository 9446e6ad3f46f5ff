//! LTPA key rotation and import while the server runs: new keys sign at
//! once, tokens of the replaced keys keep working until their date (or
//! stop at once when discarded), and nobody is signed out by a rotation.

use crate::support;

use reqwest::StatusCode;
use serde_json::Value;
use support::{Server, deployment, eventually, export_keys, log_in, mint, simul};

/// Whether the server accepts `token` as a session.
async fn accepted(server: &Server, token: &str) -> bool {
    let answer = reqwest::Client::new()
        .get(server.url("/api/v1/me"))
        .header("cookie", format!("LtpaToken2={token}"))
        .send()
        .await
        .unwrap();
    answer.status() == StatusCode::OK
}

fn run(dir: &std::path::Path, args: &[&str]) -> String {
    let out = simul(dir, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn show_json(dir: &std::path::Path) -> Value {
    serde_json::from_str(&run(dir, &["ltpa", "show", "--data", "data", "--json"])).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotation_signs_with_new_keys_and_signs_nobody_out_until_the_old_keys_are_discarded() {
    let dir = deployment(&["alice"]);
    let server = Server::start(&dir.path().join("data"));
    let (before, _) = log_in(&server, "alice", "long enough").await;
    let first_keys = show_json(dir.path())["shared_key_fingerprint"].clone();

    let out = run(dir.path(), &["ltpa", "rotate", "--data", "data", "--keep-previous", "2h"]);
    assert!(out.contains("accepted until"), "{out}");
    let shown = show_json(dir.path());
    assert_ne!(shown["shared_key_fingerprint"], first_keys);
    assert_eq!(shown["previous"][0]["shared_key_fingerprint"], first_keys);
    assert_eq!(shown["token_realm"], "simul");

    // New tokens come from the new keys (another server with only those
    // accepts them) once the server has followed the files.
    export_keys(dir.path());
    eventually("the server signs with the new keys", || async {
        let (fresh, _) = log_in(&server, "alice", "long enough").await;
        support::verify_with_exported_keys(dir.path(), &fresh)["valid"] == true
    })
    .await;
    assert!(accepted(&server, &before).await, "a session of the old keys goes on");
    let minted = mint(dir.path(), &["--user", "alice"]);
    assert!(accepted(&server, &minted).await, "tokens of the new keys are accepted");

    let out = run(dir.path(), &["ltpa", "rotate", "--data", "data", "--discard-previous"]);
    assert!(out.contains("Discarded"), "{out}");
    eventually("tokens of discarded keys are refused", || async {
        !accepted(&server, &before).await && !accepted(&server, &minted).await
    })
    .await;
    assert!(show_json(dir.path())["previous"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn imported_keys_are_used_without_a_restart_and_import_names_the_tokens_realm() {
    let dir = deployment(&["alice"]);
    let server = Server::start(&dir.path().join("data"));
    let (before, _) = log_in(&server, "alice", "long enough").await;
    std::fs::write(dir.path().join("pw"), "other cell").unwrap();
    run(
        dir.path(),
        &["ltpa", "generate", "--realm", "simul", "--password-file", "pw", "--out", "cell.keys"],
    );
    let out = run(
        dir.path(),
        &["ltpa", "import", "cell.keys", "--password-file", "pw", "--data", "data"],
    );
    assert!(out.contains("Tokens name: realm \"simul\""), "{out}");
    assert!(out.contains("accepted until"), "the replaced keys are kept: {out}");
    server.signal("-HUP");
    std::fs::write(dir.path().join("export.pw"), "other cell").unwrap();
    std::fs::copy(dir.path().join("cell.keys"), dir.path().join("x.keys")).unwrap();
    let minted = mint(dir.path(), &["--user", "alice"]);
    eventually("the imported keys are in use", || accepted(&server, &minted)).await;
    assert!(accepted(&server, &before).await, "the replaced keys still verify");
}

#[test]
fn import_says_when_the_tokens_realm_changes_and_export_writes_the_tokens_realm() {
    let dir = deployment(&["alice"]);
    let config = dir.path().join("simul.toml");
    run(dir.path(), &["ltpa", "rotate", "--data", "data"]);
    std::fs::write(dir.path().join("pw"), "cell").unwrap();
    run(
        dir.path(),
        &[
            "ltpa",
            "generate",
            "--realm",
            "defaultWIMFileBasedRealm",
            "--password-file",
            "pw",
            "--out",
            "cell.keys",
        ],
    );
    let out = run(
        dir.path(),
        &["ltpa", "import", "cell.keys", "--password-file", "pw", "--data", "data"],
    );
    assert!(out.contains("Tokens name: realm \"defaultWIMFileBasedRealm\""), "{out}");
    assert!(out.contains("directory.realm = \"simul\""), "says how to keep the old realm: {out}");

    // With a configured realm, export names it, not the file's.
    std::fs::write(&config, "[directory]\nrealm = \"ldap.example.com:389\"\n").unwrap();
    std::fs::write(dir.path().join("export.pw"), "x").unwrap();
    let args = [
        "ltpa",
        "export",
        "--config",
        "simul.toml",
        "--data",
        "data",
        "--password-file",
        "export.pw",
        "--out",
        "x.keys",
    ];
    let out = run(dir.path(), &args);
    assert!(out.contains("ldap.example.com:389"), "{out}");
    let shown =
        run(dir.path(), &["ltpa", "show", "x.keys", "--password-file", "export.pw", "--json"]);
    assert_eq!(serde_json::from_str::<Value>(&shown).unwrap()["realm"], "ldap.example.com:389");
}
