//! The administration console (`/console`) and the admin commands, on the
//! real binary: who gets in (every route, walked from the console's own
//! route list, refuses outsiders, non-admins, other networks and the
//! path tricks of Openfire's CVE-2023-32315), CSRF and escaping, and the
//! actions with their commands and the audit log.

use crate::support;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::Value;
use support::console::{client, console_deployment, csrf_of, page, policy, request};
use support::{Server, log_in, simul};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A page only the console shows to someone it let in.
const CONSOLE_MARK: &str = "Signed in as";

/// The console's routes with the method each takes, from its router's list.
fn routes() -> Vec<(reqwest::Method, &'static str)> {
    simul_web::console::routes()
        .into_iter()
        .map(|(method, path, _)| {
            (reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap(), path)
        })
        .collect()
}

/// A request sent byte for byte as given (no client normalises the path).
async fn raw_get(server: &Server, path: &str, token: Option<&str>) -> String {
    let address = server.base.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let cookie = token.map(|t| format!("Cookie: LtpaToken2={t}\r\n")).unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n{cookie}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn every_console_route_refuses_outsiders_and_non_admins() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let routes = routes();
    assert!(routes.len() >= 9, "the walk covers the console's routes: {routes:?}");
    for (method, path) in routes {
        let (status, body) = request(&server, method.clone(), path, None, &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} signed out: {body}");
        assert!(!body.contains(CONSOLE_MARK) && body.contains("/?next=/console"), "{body}");

        let (status, body) = request(&server, method.clone(), path, Some(&alice), &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} as a non-admin: {body}");
        assert!(body.contains("You are not an administrator") && !body.contains(CONSOLE_MARK));

        // The other method, signed out: refused before the method is looked at.
        let other = if method == reqwest::Method::GET {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        };
        let (status, _) = request(&server, other, path, None, &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} by another method, signed out");

        // A token that is not one.
        let (status, _) = request(&server, method.clone(), path, Some("bogus"), &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with a bad token");

        // An admin's change without the page's CSRF token.
        if method == reqwest::Method::POST {
            let form = [("user", "alice"), ("grant", "1"), ("session", "s1")];
            let (status, body) = request(&server, method.clone(), path, Some(&boss), &form).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} without CSRF: {body}");
            let form = [("user", "alice"), ("csrf", "forged")];
            let (status, _) = request(&server, method.clone(), path, Some(&boss), &form).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} with a wrong CSRF token");
        } else {
            let (status, body) = request(&server, method.clone(), path, Some(&boss), &[]).await;
            assert!(
                status == StatusCode::OK || status == StatusCode::NOT_FOUND,
                "{path}: {status}"
            );
            // A download is no page: the admin gets the file.
            let download = path == "/console/audit/export" && body.starts_with("at,actor,");
            assert!(body.contains(CONSOLE_MARK) || download, "{path} lets the admin in");
        }
    }
    // A page of another site posting with the admin's cookies and even the
    // right token (a leaked one): refused for its origin.
    let card = page(&server, "/console/user?id=alice", &boss).await;
    for origin in ["https://evil.example", "null"] {
        let response = client()
            .post(server.url("/console/user/disable"))
            .header(COOKIE, format!("LtpaToken2={boss}"))
            .header("origin", origin)
            .form(&[("user", "alice"), ("csrf", &csrf_of(&card))])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "from {origin}");
    }
    // Nothing of it changed hands.
    let card = page(&server, "/console/user?id=alice", &boss).await;
    assert!(card.contains(">enabled<") && !card.contains("administrator</span>"), "{card}");

    // Paths that a lax matcher might take for a console page.
    let tricks = [
        "/console/../console/users",
        "/console/%2e%2e/console/users",
        "/console/%2E%2E/console",
        "/assets/../console",
        "/assets/%2e%2e/console",
        "/console;jsessionid=x",
        "/console/users;jsessionid=x",
        "//console",
        "/console//users",
        "/CONSOLE",
        "/Console/Users",
        "/console/",
        "/console/users/",
        "/console%2fusers",
        "/console/users%00",
        "/console/users?q=a#x",
        "/console/./users",
        "/api/v1/../../console",
    ];
    for path in tricks {
        for (who, token) in [("nobody", None), ("alice", Some(alice.as_str()))] {
            let answer = raw_get(&server, path, token).await;
            let status = answer.split_whitespace().nth(1).unwrap_or_default();
            assert!(
                ["400", "401", "403", "404"].contains(&status),
                "{path} as {who} answered {status}"
            );
            assert!(!answer.contains(CONSOLE_MARK), "{path} as {who} showed the console");
        }
    }
}

#[tokio::test]
async fn other_networks_do_not_see_the_console_even_as_admin() {
    let dir = console_deployment();
    let config = dir.path().join("simul.toml");
    std::fs::write(&config, "[console]\nallowed_networks = [\"192.0.2.0/24\"]\n").unwrap();
    let server = Server::start_configured(&dir.path().join("data"), &config);
    let (boss, csrf) = log_in(&server, "boss", "long enough").await;
    for (method, path) in routes() {
        // The other method too: a 405 would tell that the path exists.
        let other = if method == reqwest::Method::GET {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        };
        let (status, _) = request(&server, other.clone(), path, Some(&boss), &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{other} {path} from elsewhere");
        let form = [("user", "alice"), ("csrf", csrf.as_str())];
        let (status, body) = request(&server, method.clone(), path, Some(&boss), &form).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path} from elsewhere");
        // The answer of a path that does not exist: the console is not told.
        let (_, missing) = request(&server, method.clone(), "/nothing-here", None, &[]).await;
        assert_eq!(body.replace(path, "/nothing-here"), missing);
    }
}

#[tokio::test]
async fn a_display_name_with_markup_is_shown_as_text() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    for path in ["/console/users?q=mallory", "/console/user?id=mallory"] {
        let body = page(&server, path, &boss).await;
        assert!(body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{path}: {body}");
        assert!(!body.contains("<script>"), "{path} runs the name as markup");
    }
}

#[tokio::test]
async fn the_overview_shows_doors_sessions_and_key_fingerprints() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let (_alice, _alice_events) = support::web_user(&server, "alice").await;
    let overview = page(&server, "/console", &boss).await;
    assert!(overview.contains(env!("CARGO_PKG_VERSION")), "{overview}");
    assert!(overview.contains(&server.base), "the web door's address: {overview}");
    let out = simul(dir.path(), &["ltpa", "show", "--data", "data", "--json"]);
    let keys: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fingerprint = keys["public_key_fingerprint"].as_str().unwrap();
    assert!(overview.contains(fingerprint), "the fingerprint `simul ltpa show` prints");
    assert!(overview.contains("data-testid=\"online\">1<"), "alice is online: {overview}");
}

#[tokio::test]
async fn disabling_in_the_console_signs_the_user_out_and_is_audited() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let (_alice, mut alice_events) = support::web_user(&server, "alice").await;
    let card = page(&server, "/console/user?id=alice", &boss).await;
    assert!(card.contains("<td>web</td>") && card.contains("127.0.0.1"), "her session: {card}");

    let form = [("user", "alice"), ("csrf", &csrf_of(&card))];
    let response = client()
        .post(server.url("/console/user/disable"))
        .header(COOKIE, format!("LtpaToken2={boss}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(back, "/console/user?id=alice&done=disabled");
    // Her web session ends (events may come first; the stream then closes).
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        use futures_util::StreamExt as _;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            match alice_events.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    });
    closed.await.expect("alice's session ends");
    let card = page(&server, &back, &boss).await;
    assert!(card.contains("Disabled. Every session") && card.contains(">disabled<"), "{card}");
    let refused = reqwest::Client::new()
        .post(server.url("/api/v1/login"))
        .json(&serde_json::json!({"user": "alice", "password": "long enough"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // The audit log, in the console and from the command line.
    let audit = page(&server, "/console/audit", &boss).await;
    assert!(audit.contains("<td>boss</td><td>disable</td><td><code>alice</code></td>"), "{audit}");
    let out = simul(dir.path(), &["audit", "--since", "1h", "--json", "--data", "data"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let entries: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &entries[0];
    assert_eq!(
        (first["actor"].as_str(), first["action"].as_str()),
        (Some("boss"), Some("disable"))
    );
    assert!(first["origin"].as_str().unwrap().starts_with("console 127.0.0.1"), "{first}");
    let text = simul(dir.path(), &["audit", "--data", "data"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("\tgrant-admin\tboss\tcommand line"), "`user add --admin`: {text}");
}

#[tokio::test]
async fn ending_one_session_leaves_the_others() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let (alice, mut first) = support::web_user(&server, "alice").await;
    let mut second = support::events(&server, &alice).await;
    let card = page(&server, "/console/user?id=alice", &boss).await;
    let start = card.find("name=\"session\" value=\"").unwrap() + 22;
    let session = card[start..].split('"').next().unwrap().to_owned();
    let form = [("user", "alice"), ("session", session.as_str()), ("csrf", &csrf_of(&card))];
    let (status, _) =
        request(&server, reqwest::Method::POST, "/console/user/end-session", Some(&boss), &form)
            .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Someone else's session id, or one that ended: one answer.
    let (_, back) =
        request(&server, reqwest::Method::POST, "/console/user/end-session", Some(&boss), &form)
            .await;
    let _ = back;
    let card = page(&server, "/console/user?id=alice", &boss).await;
    assert_eq!(card.matches("name=\"session\"").count(), 1, "one session is left: {card}");
    // Her token still works: she may sign in again.
    support::get_json(&server, "/api/v1/me", &alice).await;
    drop((first.close(None).await, second.close(None).await));
}

#[tokio::test]
async fn the_role_is_granted_and_revoked_by_command_while_the_server_runs() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (status, _) = request(&server, reqwest::Method::GET, "/console", Some(&alice), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let out = simul(dir.path(), &["user", "admin", "alice", "--data", "data"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Asked on every request: the same sign-in is let in at once.
    page(&server, "/console", &alice).await;
    let out = simul(dir.path(), &["user", "admin", "alice", "--revoke", "--data", "data"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "alice is no longer an administrator");
    let (status, _) = request(&server, reqwest::Method::GET, "/console", Some(&alice), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "revoked at once");
    let out = simul(dir.path(), &["user", "admin", "nobody", "--data", "data"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no such user"));

    // In the console: grant, and no admin revokes themselves.
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let card = page(&server, "/console/user?id=alice", &boss).await;
    let csrf = csrf_of(&card);
    let form = [("user", "alice"), ("grant", "1"), ("csrf", csrf.as_str())];
    request(&server, reqwest::Method::POST, "/console/user/admin", Some(&boss), &form).await;
    page(&server, "/console", &alice).await;
    let form = [("user", "boss"), ("grant", "0"), ("csrf", csrf.as_str())];
    request(&server, reqwest::Method::POST, "/console/user/admin", Some(&boss), &form).await;
    let card = page(&server, "/console/user?id=boss&error=own-role", &boss).await;
    assert!(card.contains("administrator</span>"), "boss keeps the role: {card}");
}

#[tokio::test]
async fn a_password_reset_needs_the_admins_own_password() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let card = page(&server, "/console/user?id=alice", &boss).await;
    let csrf = csrf_of(&card);
    let reset = |admin_password: &'static str| {
        let form = [
            ("user", "alice".to_owned()),
            ("csrf", csrf.clone()),
            ("admin_password", admin_password.to_owned()),
            ("new_password", "a brand new one".to_owned()),
        ];
        let (server, boss) = (&server, boss.clone());
        async move {
            let response = client()
                .post(server.url("/console/user/password"))
                .header(COOKIE, format!("LtpaToken2={boss}"))
                .form(&form)
                .send()
                .await
                .unwrap();
            response.headers()[LOCATION].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(reset("wrong guess").await, "/console/user?id=alice&error=wrong-password");
    log_in(&server, "alice", "long enough").await;
    assert_eq!(reset("long enough").await, "/console/user?id=alice&done=password");
    log_in(&server, "alice", "a brand new one").await;
}

#[tokio::test]
async fn the_first_start_admin_is_an_administrator_who_must_change_the_password_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let password = std::fs::read_to_string(dir.path().join("data/initial-admin-password")).unwrap();
    let (admin, _) = log_in(&server, "admin", password.trim()).await;
    let (status, body) =
        request(&server, reqwest::Method::GET, "/console", Some(&admin), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("Change your one-time password first"), "{body}");
    let out = simul(dir.path(), &["audit", "--json", "--data", "data"]);
    assert!(out.status.success());
    drop(server);
}

#[tokio::test]
async fn members_of_the_admin_groups_in_ldap_are_administrators() {
    let slapd = simul_testkit::Slapd::start();
    let groups = format!("\n[console]\nadmin_groups = [{:?}]\n", simul_testkit::BUILDERS_DN);
    let (dir, config) = support::configured(&[slapd.url()], &groups);
    let server = Server::start_configured(&dir.path().join("data"), &config);
    // Alice is a builder through the site managers (a nested group).
    let (alice, _) = log_in(&server, "alice", "alice-secret").await;
    let overview = page(&server, "/console", &alice).await;
    assert!(overview.contains("LDAP ldap://127.0.0.1"), "{overview}");
    let (carol, _) = log_in(&server, "carol1", "carol1-secret").await;
    let (status, _) = request(&server, reqwest::Method::GET, "/console", Some(&carol), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "carol is in no admin group");
    // Found through the directory's search, with the group's role.
    let users = page(&server, "/console/users?q=alice", &alice).await;
    assert!(users.contains("Alice Allen</a> <span class=\"c-badge\">admin</span>"), "{users}");
}

/// Alice asks to start an n-way chat with bob: the status and answer.
async fn start_chat(server: &Server, alice: &str) -> (StatusCode, Value) {
    let body = serde_json::json!({"invite": ["boss"], "topic": "plans"});
    support::request_json(server, reqwest::Method::POST, "/api/v1/nway", alice, Some(body)).await
}

#[tokio::test]
async fn policies_set_in_the_console_or_by_command_apply_to_the_running_server() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    assert_eq!(start_chat(&server, &alice).await.0, StatusCode::OK);

    // The console's form for `default`: every setting as it is, one changed.
    let form_page = page(&server, "/console/policy?name=default", &boss).await;
    assert!(form_page.contains("may start n-way chats"), "{form_page}");
    let csrf = csrf_of(&form_page);
    let mut form = vec![("csrf", csrf.as_str()), ("name", "default")];
    form.extend([("external_chat", "yes"), ("max_contacts", "unlimited"), ("nway_chat", "no")]);
    form.extend([("history_days", "unlimited"), ("file_transfer", "yes")]);
    form.extend([("max_file_mb", "unlimited"), ("meetings", "yes"), ("rooms_create", "yes")]);
    let (status, _) =
        request(&server, reqwest::Method::POST, "/console/policy/set", Some(&boss), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let shown = page(&server, "/console/policy?name=default&done=set", &boss).await;
    assert!(shown.contains("Saved.") && shown.contains("value=\"no\" selected"), "{shown}");

    // The web API refuses with the policy's name, at once.
    let (status, refused) = start_chat(&server, &alice).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["policy"], "default");
    assert_eq!(refused["setting"], "nway_chat");
    assert_eq!(refused["error"], "the policy `default` does not allow n-way chats (nway_chat)");

    // Commands while the server runs: a heavier custom policy for alice.
    let (ok, out, err) = policy(dir.path(), &["set", "planners", "nway_chat=yes", "max_file_mb=5"]);
    assert!(ok && out.contains("Created policy planners"), "{out}{err}");
    let (ok, out, err) =
        policy(dir.path(), &["assign", "planners", "--user", "alice", "--weight", "10"]);
    assert!(ok && out.contains("to user alice with weight 10"), "{out}{err}");
    assert_eq!(start_chat(&server, &alice).await.0, StatusCode::OK, "planners lets alice");
    let (ok, out, _) = policy(dir.path(), &["show", "planners"]);
    assert!(ok && out.contains("nway_chat     yes"), "{out}");
    assert!(
        out.contains("history_days  unlimited  how many days back")
            && out.contains("(from default)"),
        "{out}"
    );
    assert!(out.contains("assigned to user alice with weight 10"), "{out}");
    let (ok, out, _) = policy(dir.path(), &["list"]);
    assert!(ok && out.contains("default\tnway_chat=no\t-"), "{out}");
    assert!(out.contains("planners\tnway_chat=yes max_file_mb=5\tuser alice (weight 10)"), "{out}");

    // Bad input, on both: a sentence naming the fix, nothing changed.
    let (ok, _, err) =
        policy(dir.path(), &["set", "default", "nway_chat=yes", "history_days=soon"]);
    assert!(!ok && err.contains("history_days takes a whole number"), "{err}");
    let (ok, _, err) = policy(dir.path(), &["assign", "default", "--user", "alice"]);
    assert!(!ok && err.contains("built in"), "{err}");
    let (ok, _, err) = policy(dir.path(), &["assign", "planners", "--user", "nobody"]);
    assert!(!ok && err.contains("no such user"), "{err}");
    let (ok, _, err) = policy(dir.path(), &["show", "nosuch"]);
    assert!(!ok && err.contains("simul policy list"), "{err}");
    let bad = [("csrf", csrf.as_str()), ("name", "x<b>"), ("settings", "nway_chat=maybe")];
    let (status, body) =
        request(&server, reqwest::Method::POST, "/console/policy/set", Some(&boss), &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("`x&#60;b&#62;` is no policy name"), "escaped, naming the fix: {body}");
    let bad = [("csrf", csrf.as_str()), ("name", "later"), ("settings", "nway_chat=maybe")];
    let (_, body) =
        request(&server, reqwest::Method::POST, "/console/policy/set", Some(&boss), &bad).await;
    assert!(body.contains("nway_chat takes yes or no"), "{body}");
    let bad = [("csrf", csrf.as_str()), ("name", "planners"), ("kind", "user")];
    let bad = [bad.as_slice(), &[("assignee", "alice"), ("weight", "heavy")]].concat();
    let (status, body) =
        request(&server, reqwest::Method::POST, "/console/policy/assign", Some(&boss), &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("is not a whole number"), "{body}");
    assert_eq!(start_chat(&server, &alice).await.0, StatusCode::OK, "nothing changed");
    let list = page(&server, "/console/policies", &boss).await;
    assert!(!list.contains("later") && list.contains("user alice (weight 10)"), "{list}");

    // A non-admin cannot assign herself a policy, even with a token of hers.
    let (_, alice_csrf) = log_in(&server, "alice", "long enough").await;
    let own = [("csrf", alice_csrf.as_str()), ("name", "planners"), ("kind", "user")];
    let own = [own.as_slice(), &[("assignee", "alice"), ("weight", "99")]].concat();
    let (status, _) =
        request(&server, reqwest::Method::POST, "/console/policy/assign", Some(&alice), &own).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Removed in the console: alice is back on `default`.
    let remove = [("csrf", csrf.as_str()), ("name", "planners")];
    let (status, _) =
        request(&server, reqwest::Method::POST, "/console/policy/remove", Some(&boss), &remove)
            .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(start_chat(&server, &alice).await.0, StatusCode::FORBIDDEN);

    let audit = page(&server, "/console/audit", &boss).await;
    for act in [
        "<td>boss</td><td>policy-set</td><td><code>default nway_chat=no</code>",
        "<td>policy-create</td><td><code>planners nway_chat=yes max_file_mb=5</code>",
        "<td>policy-assign</td><td><code>planners to user alice weight 10</code>",
        "<td>boss</td><td>policy-remove</td><td><code>planners</code>",
    ] {
        assert!(audit.contains(act), "{act} in {audit}");
    }
    assert!(!audit.contains("weight 99"), "{audit}");
}
