//! `simul serve` and `simul directory` on an LDAP directory: a real slapd
//! on loopback (simul-testkit) with the fixture people and groups.

use crate::support;

use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use reqwest::StatusCode;
use serde_json::{Value, json};
use simul_testkit::{ALICE_DN, BOB_DN, BUILDERS_DN, ROOT_DN, SUFFIX, Slapd, closed_port};
use support::{
    REALM, Server, configured, events, export_keys, get_json, mint, simul,
    verify_with_exported_keys,
};

async fn login(server: &Server, user: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url("/api/v1/login"))
        .json(&json!({"user": user, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn token_of(server: &Server, user: &str, password: &str) -> String {
    let answer = login(server, user, password).await;
    assert_eq!(answer.status(), StatusCode::OK, "{user} logs in");
    support::cookie(&answer, "LtpaToken2").unwrap()
}

async fn status_of(server: &Server, path: &str, token: &str) -> StatusCode {
    let answer = reqwest::Client::new().get(server.url(path)).bearer_auth(token).send().await;
    answer.unwrap().status()
}

#[tokio::test]
async fn ldap_users_log_in_with_their_dn_in_the_token_and_find_each_other() {
    let slapd = Slapd::start();
    let (dir, config) = configured(&[slapd.url()], "");
    let server = Server::start_configured(&dir.path().join("data"), &config);
    assert!(
        server.greeting.iter().any(|line| line.starts_with("Directory LDAP1: 6 people")),
        "{:?}",
        server.greeting
    );
    assert!(!server.greeting.iter().any(|l| l.contains("one-time password")), "no embedded admin");

    // By uid and by mail; the token's user is the DN in the configured realm.
    let answer = login(&server, "alice", "alice-secret").await;
    assert_eq!(answer.status(), StatusCode::OK);
    let token = support::cookie(&answer, "LtpaToken2").unwrap();
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["user"]["id"], ALICE_DN);
    assert_eq!(body["user"]["display_name"], "Alice Allen");
    assert_eq!(login(&server, "bob@renovations.com", "bob-secret").await.status(), StatusCode::OK);
    assert_eq!(login(&server, "alice", "wrong").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login(&server, "alice", "").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login(&server, "*", "alice-secret").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login(&server, "dave", "dave-secret").await.status(), StatusCode::UNAUTHORIZED);

    export_keys(dir.path());
    let verified = verify_with_exported_keys(dir.path(), &token);
    assert_eq!(verified["user"], ALICE_DN);
    assert_eq!(verified["realm"], REALM);

    // "Add contact" search and the business card come from the directory.
    let found = get_json(&server, "/api/v1/directory/search?q=build", &token).await;
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["id"], BOB_DN);
    let card_path = format!("/api/v1/users/{}/card", urlencode(BOB_DN));
    let card = get_json(&server, &card_path, &token).await;
    assert_eq!(
        (&card["display_name"], &card["title"], &card["phone"]),
        (&json!("Bob Builder"), &json!("Builder"), &json!("+1 617 555 0102")),
        "{card}"
    );
    assert_eq!(card["location"], "Cambridge", "{card}");
    let zoe = get_json(&server, "/api/v1/directory/search?q=%C3%85ngstr%C3%B6m", &token).await;
    assert_eq!(zoe[0]["display_name"], "Zoë Ångström-Łukasiewicz");

    // WebSphere spells DNs its own way: the same person, the server's spelling.
    let minted = mint(dir.path(), &["--user", "UID=Bob, OU=People, DC=renovations, DC=com"]);
    let me = get_json(&server, "/api/v1/me", &minted).await;
    assert_eq!(me["user"]["id"], BOB_DN);
    // A token of another realm is refused (with the one answer every
    // refused token gets; `simul sso doctor` tells why).
    let foreign = mint(dir.path(), &["--user", BOB_DN, "--realm", "defaultWIMFileBasedRealm"]);
    assert_eq!(status_of(&server, "/api/v1/me", &foreign).await, StatusCode::UNAUTHORIZED);
    // Someone the directory does not have is refused too.
    let stranger = mint(dir.path(), &["--user", "uid=mallory,ou=people,dc=renovations,dc=com"]);
    assert_eq!(status_of(&server, "/api/v1/me", &stranger).await, StatusCode::FORBIDDEN);

    // Passwords live in LDAP.
    let change = reqwest::Client::new()
        .post(server.url("/api/v1/me/password"))
        .bearer_auth(&token)
        .json(&json!({"current": "alice-secret", "new": "something else"}))
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn people_disabled_or_removed_in_ldap_are_signed_out_at_the_refresh() {
    let slapd = Slapd::start();
    let (dir, config) = configured(&[slapd.url()], "");
    let server = Server::start_configured(&dir.path().join("data"), &config);
    let bob = token_of(&server, "bob", "bob-secret").await;
    let alice = token_of(&server, "alice", "alice-secret").await;
    let mut bob_events = events(&server, &bob).await;

    slapd.modify(&format!(
        "dn: {BOB_DN}\nchangetype: modify\nadd: employeeType\nemployeeType: disabled\n"
    ));
    // Until the refresh, the cache (and so bob's session) stands.
    assert_eq!(status_of(&server, "/api/v1/me", &bob).await, StatusCode::OK);
    server.signal("-HUP");
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match bob_events.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => break frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("bob's session ends after the refresh");
    assert_eq!(closed.unwrap().reason.as_str(), "session ended by the server");
    let refused = get_json(&server, "/api/v1/me", &bob).await;
    assert_eq!(refused["error"], "this account is disabled");
    assert_eq!(login(&server, "bob", "bob-secret").await.status(), StatusCode::UNAUTHORIZED);

    // A second refresh (a sync) must not bring him back.
    server.signal("-HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(status_of(&server, "/api/v1/me", &bob).await, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&server, "/api/v1/me", &alice).await, StatusCode::OK);

    // Removed: refused as no longer in the directory.
    slapd.modify(&format!("dn: {ALICE_DN}\nchangetype: delete\n"));
    server.signal("-HUP");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while status_of(&server, "/api/v1/me", &alice).await == StatusCode::OK {
        assert!(tokio::time::Instant::now() < deadline, "alice is refused after the refresh");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = get_json(&server, "/api/v1/me", &alice).await;
    assert!(refused["error"].as_str().unwrap().contains("not in the directory"), "{refused}");
}

#[tokio::test]
async fn while_ldap_is_down_sessions_go_on_and_logins_fail_clearly() {
    let mut slapd = Slapd::start();
    let (dir, config) = configured(&[slapd.url()], "");
    let server = Server::start_configured(&dir.path().join("data"), &config);
    let alice = token_of(&server, "alice", "alice-secret").await;
    let mut socket = events(&server, &alice).await;
    let ready = || async { reqwest::get(server.url("/readyz")).await.unwrap() };
    assert_eq!(ready().await.status(), StatusCode::OK);

    slapd.stop();
    let failed = login(&server, "bob", "bob-secret").await;
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(failed.headers()["retry-after"], "30");
    let error: Value = failed.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("directory (LDAP) does not answer"),
        "{error}"
    );
    // Alice carries on: her token, her card, her events.
    assert_eq!(status_of(&server, "/api/v1/me", &alice).await, StatusCode::OK);
    let card = format!("/api/v1/users/{}/card", urlencode(BOB_DN));
    assert_eq!(get_json(&server, &card, &alice).await["display_name"], "Bob Builder");
    // A batch with someone the cache lacks still answers with the rest.
    let batch = format!(
        "/api/v1/users?id={}&id={}",
        urlencode(BOB_DN),
        urlencode("uid=newbie,ou=people,dc=renovations,dc=com")
    );
    let cards = get_json(&server, &batch, &alice).await;
    assert_eq!(cards.as_object().map(|c| c.len()), Some(1), "{cards}");
    assert_eq!(cards[BOB_DN]["display_name"], "Bob Builder");
    let watch = json!({"type": "watch", "users": [BOB_DN]}).to_string();
    socket.send(tokio_tungstenite::tungstenite::Message::Text(watch.into())).await.unwrap();
    let status = support::next_event(&mut socket).await;
    assert_eq!((&status["user"], &status["status"]), (&json!(BOB_DN), &json!("offline")));
    let metrics = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with("simul_directory_up{repository=\"LDAP1\"} 0")),
        "{metrics}"
    );
    // Alive, but not ready for logins: a load balancer sends them elsewhere.
    assert_eq!(reqwest::get(server.url("/healthz")).await.unwrap().status(), StatusCode::OK);
    let not_ready = ready().await;
    assert_eq!(not_ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = not_ready.json().await.unwrap();
    assert_eq!(body, json!({"status": "not_ready", "store": "ok", "directory": "unreachable"}));

    // A refresh that fails keeps everyone as they were.
    server.signal("-HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(status_of(&server, "/api/v1/me", &alice).await, StatusCode::OK);

    slapd.restart();
    assert_eq!(login(&server, "bob", "bob-secret").await.status(), StatusCode::OK);
    assert_eq!(ready().await.status(), StatusCode::OK);
    let metrics = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("simul_directory_up{repository=\"LDAP1\"} 1"), "{metrics}");
}

#[tokio::test]
async fn the_failover_answers_when_the_primary_is_down() {
    let mut primary = Slapd::start();
    let secondary = Slapd::start();
    let (dir, config) = configured(&[primary.url(), secondary.url()], "");
    primary.stop();
    let server = Server::start_configured(&dir.path().join("data"), &config);
    assert!(
        server.greeting.iter().any(|l| l.contains(&format!("6 people from {}", secondary.url()))),
        "{:?}",
        server.greeting
    );
    assert_eq!(login(&server, "alice", "alice-secret").await.status(), StatusCode::OK);
}

#[test]
fn directory_test_shows_what_simul_would_use() {
    let slapd = Slapd::start();
    let (dir, config) = configured(&[slapd.url()], "");
    std::fs::write(dir.path().join("alice.pw"), "alice-secret\n").unwrap();
    let config = config.to_str().unwrap();
    let out = simul(
        dir.path(),
        &[
            "directory",
            "test",
            "--config",
            config,
            "--user",
            "alice",
            "--password-file",
            "alice.pw",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("warning"), "the bind password file is 0600: {text}");
    for expected in [
        format!("Repository LDAP1 (preset openldap), realm \"{REALM}\" (directory.realm)"),
        format!("{} answers", slapd.url()),
        format!("6 people under {SUFFIX} (bound as {ROOT_DN}"),
        format!("alice is {ALICE_DN}"),
        "display name  Alice Allen".to_owned(),
        "location      Boston".to_owned(),
        format!("token user    user:{REALM}/{ALICE_DN}"),
        "groups  3 (nested included)".to_owned(),
        "cn=everyone,ou=groups,dc=renovations,dc=com".to_owned(),
        "login   the password is right".to_owned(),
        "All checks passed.".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} in:\n{text}");
    }

    let ambiguous = simul(
        dir.path(),
        &["directory", "test", "--config", config, "--user", "carol@renovations.com"],
    );
    let text = String::from_utf8_lossy(&ambiguous.stdout);
    assert_eq!(ambiguous.status.code(), Some(1), "{text}");
    assert!(text.contains("matches 2 people by mail"), "{text}");

    let group = simul(
        dir.path(),
        &["directory", "test", "--config", config, "--group", simul_testkit::BUILDERS_DN],
    );
    let text = String::from_utf8_lossy(&group.stdout);
    assert!(group.status.success(), "{text}");
    assert!(text.contains(&format!("{}: 2 members", simul_testkit::BUILDERS_DN)), "{text}");
    assert!(text.contains(&format!("      {BOB_DN}")), "{text}");
    let not_a_group =
        simul(dir.path(), &["directory", "test", "--config", config, "--group", BOB_DN]);
    assert_eq!(not_a_group.status.code(), Some(1));

    let found = simul(dir.path(), &["directory", "search", "carol", "--config", config]);
    let text = String::from_utf8_lossy(&found.stdout);
    assert!(text.contains("Carol One\tcarol@renovations.com\tuid=carol1,"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[test]
fn directory_test_names_what_is_wrong() {
    let slapd = Slapd::start();
    let dead = format!("ldap://127.0.0.1:{}", closed_port());
    let (dir, config) = configured(&[dead.clone(), slapd.url()], "");
    let run = |config: &Path| {
        let out = simul(dir.path(), &["directory", "test", "--config", config.to_str().unwrap()]);
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    // The failover saves the load, but the dead primary is a failed check.
    let (code, text) = run(&config);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(&format!("FAILED  server  {dead}: ")), "{text}");
    assert!(text.contains(&format!("through {})", slapd.url())), "{text}");

    let (_keep_dead, only_dead) = configured(std::slice::from_ref(&dead), "");
    let (code, text) = run(&only_dead);
    assert_eq!(code, Some(1));
    assert!(text.contains(&format!("no server answered ({dead}: ")), "{text}");

    let (_keep_bind, bad_bind) = configured(&[slapd.url()], "");
    std::fs::write(bad_bind.with_file_name("bind.pw"), "wrong\n").unwrap();
    let (code, text) = run(&bad_bind);
    assert_eq!(code, Some(1));
    assert!(text.contains("refused the bind as cn=admin"), "{text}");
    assert!(text.contains("invalidCredentials"), "{text}");

    let (_keep_base, no_base) = configured(&[slapd.url()], "");
    let toml = std::fs::read_to_string(&no_base)
        .unwrap()
        .replace(&format!("base_dn = \"{SUFFIX}\""), "base_dn = \"dc=nowhere,dc=com\"");
    std::fs::write(&no_base, toml).unwrap();
    let (code, text) = run(&no_base);
    assert_eq!(code, Some(1));
    assert!(text.contains("\"dc=nowhere,dc=com\" does not exist on the server"), "{text}");

    // A bind password others can read is pointed out.
    use std::os::unix::fs::PermissionsExt as _;
    let readable = no_base.with_file_name("bind.pw");
    std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, text) = run(&no_base);
    assert!(text.contains("readable by other users (mode 644): chmod 600"), "{text}");
}

#[test]
fn embedded_user_commands_refuse_an_ldap_deployment() {
    let (dir, config) = configured(&["ldap://127.0.0.1:389".to_owned()], "");
    let out = simul(
        dir.path(),
        &["user", "disable", "bob", "--config", config.to_str().unwrap(), "--data", "data"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("users come from the LDAP directory"));

    let embedded = tempfile::tempdir().unwrap();
    let out = simul(embedded.path(), &["directory", "test"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("set kind = \"ldap\""));
}

#[test]
fn configuration_mistakes_are_named() {
    let (dir, config) = configured(&["ldap.example.com".to_owned()], "");
    let out = simul(dir.path(), &["config", "check", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(
        error.contains("directory.ldap.hosts: \"ldap.example.com\" is not an LDAP URL"),
        "{error}"
    );

    let (dir, config) = configured(&["ldap://ldap.example.com".to_owned()], "");
    std::fs::remove_file(dir.path().join("bind.pw")).unwrap();
    let out = simul(dir.path(), &["config", "check", "--config", config.to_str().unwrap()]);
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("directory.ldap.bind_password_file: cannot read"), "{error}");

    // LDAP settings without kind = "ldap" would be ignored: say so.
    let toml = std::fs::read_to_string(&config).unwrap().replace("kind = \"ldap\"\n", "");
    std::fs::write(&config, toml).unwrap();
    let out = simul(dir.path(), &["config", "check", "--config", config.to_str().unwrap()]);
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("directory.kind is \"embedded\": set kind = \"ldap\""), "{error}");

    // The bind password never shows, not even in the full configuration.
    let (dir, config) = configured(&["ldap://ldap.example.com".to_owned()], "");
    let out = simul(dir.path(), &["config", "check", "--config", config.to_str().unwrap()]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!shown.contains(simul_testkit::ROOT_PASSWORD), "{shown}");
    // Nor when it comes from the environment instead of a file.
    let toml = std::fs::read_to_string(&config).unwrap();
    let toml: String = toml
        .lines()
        .filter(|l| !l.starts_with("bind_password_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&config, toml).unwrap();
    let with_env = std::process::Command::new(support::SIMUL)
        .args(["config", "check", "--config", config.to_str().unwrap()])
        .env("SIMUL_DIRECTORY__LDAP__BIND_PASSWORD", "env-secret")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&with_env.stdout);
    assert!(with_env.status.success(), "{}", String::from_utf8_lossy(&with_env.stderr));
    assert!(shown.contains("bind_password = \"<redacted>\""), "{shown}");
    assert!(!shown.contains("env-secret"), "{shown}");
}

/// Percent-encodes everything but letters and digits (a DN in a path).
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(
            |b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            },
        )
        .collect()
}

#[tokio::test]
async fn messages_reach_people_by_any_name_and_nothing_is_kept_for_nobody() {
    let slapd = Slapd::start();
    let (dir, config) = configured(&[slapd.url()], "");
    let server = Server::start_configured(&dir.path().join("data"), &config);
    let alice = token_of(&server, "alice", "alice-secret").await;
    let bob = token_of(&server, "bob", "bob-secret").await;
    let mut bob_events = events(&server, &bob).await;
    let http = reqwest::Client::new();
    let send = |to: &str| {
        http.post(server.url(&format!("/api/v1/im/{}", urlencode(to))))
            .bearer_auth(&alice)
            .json(&json!({"text": format!("to {to}")}))
            .send()
    };
    // A login name, a mail address, WebSphere's spelling of the DN: bob.
    for name in ["bob", "bob@renovations.com", "UID=Bob, OU=People, DC=renovations, DC=com"] {
        let sent = send(name).await.unwrap();
        assert_eq!(sent.status(), StatusCode::OK, "{name}");
        let sent: Value = sent.json().await.unwrap();
        assert_eq!((&sent["to"], &sent["delivered"]), (&json!(BOB_DN), &json!(true)), "{name}");
        let event = support::next_event(&mut bob_events).await;
        assert_eq!((&event["type"], &event["text"]), (&json!("im"), &json!(format!("to {name}"))));
    }
    // Nobody, or someone disabled: 404, and nothing is kept.
    for name in ["nobody", "uid=mallory,ou=people,dc=renovations,dc=com", "dave"] {
        let refused = send(name).await.unwrap();
        assert_eq!(refused.status(), StatusCode::NOT_FOUND, "{name}");
        let path = format!("/api/v1/im/{}/history", urlencode(name));
        assert_eq!(get_json(&server, &path, &alice).await, json!([]), "{name}");
    }
    let kept =
        get_json(&server, &format!("/api/v1/im/{}/history", urlencode(ALICE_DN)), &bob).await;
    assert_eq!(kept.as_array().map(Vec::len), Some(3), "{kept}");

    // The WebSocket command resolves the same way, and says so when it cannot.
    let mut alice_events = events(&server, &alice).await;
    let im = json!({"type": "im", "to": "bob", "text": "over the socket"}).to_string();
    alice_events.send(tokio_tungstenite::tungstenite::Message::text(im)).await.unwrap();
    let event = support::next_event(&mut bob_events).await;
    assert_eq!((&event["from"], &event["text"]), (&json!(ALICE_DN), &json!("over the socket")));
    let im = json!({"type": "im", "to": "nobody", "text": "lost?"}).to_string();
    alice_events.send(tokio_tungstenite::tungstenite::Message::text(im)).await.unwrap();
    let error = support::next_event(&mut alice_events).await;
    assert_eq!(
        (&error["type"], &error["error"]),
        (&json!("error"), &json!("no such user: nobody"))
    );
}

#[tokio::test]
async fn after_a_restart_while_ldap_is_down_known_people_are_still_known() {
    let mut slapd = Slapd::start();
    let (dir, config) = configured(&[slapd.url()], "");
    let data = dir.path().join("data");
    let server = Server::start_configured(&data, &config);
    let alice = token_of(&server, "alice", "alice-secret").await;
    drop(server);

    // LDAP goes down, and Simul restarts meanwhile.
    slapd.stop();
    let server = Server::start_configured(&data, &config);
    assert_eq!(status_of(&server, "/api/v1/me", &alice).await, StatusCode::OK);
    let card =
        get_json(&server, &format!("/api/v1/users/{}/card", urlencode(BOB_DN)), &alice).await;
    assert_eq!(card["display_name"], "Bob Builder", "{card}");
    let im = reqwest::Client::new()
        .post(server.url("/api/v1/im/bob"))
        .bearer_auth(&alice)
        .json(&json!({"text": "still reachable"}))
        .send()
        .await
        .unwrap();
    assert_eq!(im.status(), StatusCode::OK, "a known person is reached by login name");
    // Logins need LDAP itself.
    assert_eq!(login(&server, "bob", "bob-secret").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    drop(server);

    // A deployment that would rather refuse tokens until LDAP can say who
    // is still in it.
    let (_strict_dir, strict) = configured(&[slapd.url()], "accept_tokens_while_down = false");
    let server = Server::start_configured(&data, &strict);
    assert_eq!(status_of(&server, "/api/v1/me", &alice).await, StatusCode::SERVICE_UNAVAILABLE);
    slapd.restart();
    server.signal("-HUP");
    support::eventually("tokens are accepted once LDAP answers", || async {
        status_of(&server, "/api/v1/me", &alice).await == StatusCode::OK
    })
    .await;
}

#[tokio::test]
async fn an_announcement_to_a_group_reaches_its_members_nested_ones_too_and_nobody_else() {
    let slapd = Slapd::start();
    let (dir, config) = configured(&[slapd.url()], "");
    let server = Server::start_configured(&dir.path().join("data"), &config);
    let mut signed_in = Vec::new();
    for (user, password) in
        [("alice", "alice-secret"), ("bob", "bob-secret"), ("zoe", "zoe-secret")]
    {
        let token = token_of(&server, user, password).await;
        signed_in.push(events(&server, &token).await);
    }
    let [alice, bob, zoe] = &mut signed_in[..] else { unreachable!() };
    let config = config.to_str().unwrap();

    // cn=builders: bob directly, alice through cn=site-managers.
    let sent = simul(
        dir.path(),
        &[
            "announce",
            "--group",
            BUILDERS_DN,
            "Scaffolding goes up",
            "--data",
            "data",
            "--config",
            config,
        ],
    );
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));
    for member in [&mut *bob, &mut *alice] {
        let event = support::next_of_type(member, "announcement").await;
        assert_eq!(event["text"], "Scaffolding goes up", "{event}");
    }
    // Zoe is in no group: the first announcement she gets is the next one
    // to everyone.
    let sent =
        simul(dir.path(), &["announce", "Lunch is served", "--data", "data", "--config", config]);
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));
    let event = support::next_of_type(zoe, "announcement").await;
    assert_eq!(event["text"], "Lunch is served", "{event}");
}
