//! The console's single sign-on and directory pages on the real binary:
//! LTPA keys imported from the real products' files (and refused, with a
//! sentence, when damaged, of another kind or under another password),
//! exported and rotated; the settings check; the token tester (the
//! doctor's analysis); and "Test connection" against a real slapd, which
//! reports what `simul directory test` reports. Every route is also in
//! `tests/console.rs`'s walk, which takes them from the router's list.

use crate::support;

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION};
use serde_json::Value;
use support::console::{client, csrf_of, page};
use support::files::{BOUNDARY, Part, form};
use support::{Server, deployment_with_names, log_in, simul};

/// The password of boss, the administrator, and of alice.
const PASSWORD: &str = "long enough";

/// The real products' key files (origins and passwords in their README).
fn vector(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ltpa/tests/vectors").join(name)
}

/// A deployment with an administrator `boss` and a user `alice`.
fn deployment() -> tempfile::TempDir {
    let dir = deployment_with_names(&[("alice", "Alice Liddell")]);
    let out = simul(
        dir.path(),
        &["user", "add", "boss", "--admin", "--password-file", "pw", "--data", "data"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// Posts a URL-encoded console form (with the page's CSRF token).
async fn post(
    server: &Server,
    path: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = csrf_of(&page(server, "/console/sso", token).await);
    let mut fields = fields.to_vec();
    fields.push(("csrf", &csrf));
    client()
        .post(server.url(path))
        .header(COOKIE, format!("LtpaToken2={token}"))
        .form(&fields)
        .send()
        .await
        .unwrap()
}

/// Uploads a key file to the import form: status and page.
async fn import(
    server: &Server,
    token: &str,
    file: &[u8],
    password: &str,
    admin_password: &str,
) -> (StatusCode, String) {
    let csrf = csrf_of(&page(server, "/console/sso", token).await);
    let parts = [
        Part::Text("csrf", &csrf),
        Part::Text("password", password),
        Part::Text("admin_password", admin_password),
        Part::Text("keep", "7d"),
        Part::File("ltpa.keys", "application/octet-stream", file),
    ];
    let response = client()
        .post(server.url("/console/sso/import"))
        .header(COOKIE, format!("LtpaToken2={token}"))
        .header(CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(form(&parts))
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A key file's shared-key fingerprint, as `simul ltpa show` gives it.
fn fingerprint(dir: &Path, file: &Path, password: &str) -> String {
    std::fs::write(dir.join("file.pw"), password).unwrap();
    let file = file.display().to_string();
    let out = simul(dir, &["ltpa", "show", &file, "--password-file", "file.pw", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    shown["shared_key_fingerprint"].as_str().unwrap().to_owned()
}

/// The deployment's current shared key, as `simul ltpa show --data` reads it.
fn deployment_fingerprint(dir: &Path) -> String {
    let out = simul(dir, &["ltpa", "show", "--data", "data", "--json"]);
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    shown["shared_key_fingerprint"].as_str().unwrap().to_owned()
}

/// Text as the console's pages show it (askama's HTML escaping).
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The audit log's actions, newest first.
fn audited(dir: &Path) -> Vec<String> {
    let out = simul(dir, &["audit", "--json", "--data", "data"]);
    let entries: Value = serde_json::from_slice(&out.stdout).unwrap();
    entries.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_products_key_files_are_imported_and_bad_ones_change_nothing() {
    let dir = deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", PASSWORD).await;
    let products = [
        ("websphere-2013.keys", "password"),
        ("connections-2020.keys", "lotus123"),
        ("liberty-2026.keys", "WebAS"),
    ];
    for (name, password) in products {
        let bytes = std::fs::read(vector(name)).unwrap();
        let (status, body) = import(&server, &boss, &bytes, password, PASSWORD).await;
        assert!(status == StatusCode::SEE_OTHER || status == StatusCode::OK, "{name}: {body}");
        let expected = fingerprint(dir.path(), &vector(name), password);
        assert_eq!(deployment_fingerprint(dir.path()), expected, "{name} is the deployment's now");
        let sso = page(&server, "/console/sso", &boss).await;
        assert!(
            sso.contains(&format!("data-testid=\"current-shared-key\">{expected}<")),
            "{name}: the page shows the imported keys"
        );
    }
    let liberty = fingerprint(dir.path(), &vector("liberty-2026.keys"), "WebAS");
    // The server signs with the imported keys at once: a new sign-in's
    // token verifies with Liberty's file.
    let (token, _) = log_in(&server, "alice", PASSWORD).await;
    std::fs::write(dir.path().join("liberty.pw"), "WebAS").unwrap();
    let keys = vector("liberty-2026.keys").display().to_string();
    let verify = ["ltpa", "token", "verify", &token, "--keys", &keys, "--password-file"];
    let out = simul(dir.path(), &[&verify[..], &["liberty.pw", "--realm", "simul"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    let websphere = std::fs::read(vector("websphere-2013.keys")).unwrap();
    let mut corrupt = String::from_utf8(websphere.clone()).unwrap();
    let at = corrupt.find("com.ibm.websphere.ltpa.3DESKey=").unwrap() + 40;
    corrupt.replace_range(at..at + 8, "!!!!!!!!");
    let cases: [(&str, Vec<u8>, &str, &str, &str); 5] = [
        ("a wrong password", websphere.clone(), "not the password", PASSWORD, "wrong password"),
        ("a damaged file", corrupt.into_bytes(), "password", PASSWORD, "not valid Base64"),
        (
            "a certificate",
            b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_vec(),
            "password",
            PASSWORD,
            "is not an LTPA key file",
        ),
        ("no file", Vec::new(), "password", PASSWORD, "Choose the ltpa.keys file"),
        (
            "the admin's wrong password",
            websphere,
            "password",
            "guess",
            "Your own password was wrong",
        ),
    ];
    for (what, bytes, password, admin_password, sentence) in cases {
        let (status, body) = import(&server, &boss, &bytes, password, admin_password).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
        assert!(body.contains(sentence), "{what}: {body}");
        assert!(!body.contains(password) || password == "password", "{what} echoes no password");
        assert_eq!(deployment_fingerprint(dir.path()), liberty, "{what} changed the keys");
    }
    let actions = audited(dir.path());
    assert_eq!(actions.iter().filter(|a| *a == "import-ltpa-keys").count(), 3, "{actions:?}");
}

#[tokio::test]
async fn an_export_asks_for_the_admins_password_and_opens_with_the_new_one() {
    let dir = deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", PASSWORD).await;
    let tries = [
        (("file secret", "file secret", "guess"), "Your own password was wrong"),
        (("file secret", "other", PASSWORD), "the same both times"),
    ];
    for ((password, again, admin), sentence) in tries {
        let fields = [("password", password), ("password_again", again), ("admin_password", admin)];
        let response = post(&server, "/console/sso/export", &boss, &fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response.text().await.unwrap().contains(sentence));
    }
    let fields = [
        ("password", "file secret"),
        ("password_again", "file secret"),
        ("admin_password", PASSWORD),
    ];
    let response = post(&server, "/console/sso/export", &boss, &fields).await;
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert_eq!(disposition, "attachment; filename=\"ltpa.keys\"");
    let exported = dir.path().join("exported.keys");
    std::fs::write(&exported, response.bytes().await.unwrap()).unwrap();
    let shown = fingerprint(dir.path(), &exported, "file secret");
    assert_eq!(shown, deployment_fingerprint(dir.path()));
    assert!(audited(dir.path()).contains(&"export-ltpa-keys".to_owned()));
}

#[tokio::test]
async fn rotating_signs_with_new_keys_and_keeps_the_old_tokens() {
    let dir = deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", PASSWORD).await;
    let before = deployment_fingerprint(dir.path());
    let response = post(&server, "/console/sso/rotate", &boss, &[("keep", "1d")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/console/sso?done=rotated");
    let after = deployment_fingerprint(dir.path());
    assert_ne!(before, after);
    // The old token still opens the console; the page lists both sets.
    let sso = page(&server, "/console/sso?done=rotated", &boss).await;
    assert!(sso.contains("New keys made."), "{sso}");
    assert!(sso.contains(&format!("current-shared-key\">{after}<")), "{sso}");
    assert!(sso.contains(&format!("<td>previous</td><td><code>{before}</code>")), "{sso}");
    assert!(audited(dir.path()).contains(&"rotate-ltpa-keys".to_owned()));
}

#[tokio::test]
async fn the_token_tester_runs_the_doctors_analysis() {
    let dir = deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", PASSWORD).await;
    let (alice, _) = log_in(&server, "alice", PASSWORD).await;
    let websphere = std::fs::read_to_string(vector("websphere-2013.ltpatoken2")).unwrap();
    let cases = [
        (alice.clone(), "is valid here: signature, time and realm check"),
        (format!("Cookie: JSESSIONID=abc; LtpaToken2={alice}"), "alice"),
        ("Cookie: JSESSIONID=abc".to_owned(), "no LTPA cookie arrived"),
        (websphere.trim().to_owned(), "was made with other LTPA keys than Simul"),
    ];
    for (pasted, finding) in cases {
        let response = post(&server, "/console/sso/doctor", &boss, &[("token", &pasted)]).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.text().await.unwrap();
        assert!(body.contains(finding), "{pasted}: {body}");
        assert!(!body.contains(&pasted), "the page does not echo the token");
    }
    // What the command says of the same token, the page says too.
    let out = simul(dir.path(), &["sso", "doctor", &alice, "--data", "data"]);
    let said = String::from_utf8_lossy(&out.stdout);
    let response = post(&server, "/console/sso/doctor", &boss, &[("token", &alice)]).await;
    let shown = response.text().await.unwrap();
    // The command names the data directory it was pointed at; the page,
    // the server's own realm.
    let said = said.replace("the embedded realm in data", "the embedded realm");
    for line in said.lines().filter(|line| line.trim_start().starts_with("ok ")) {
        let what = escaped(line.trim_start().trim_start_matches("ok").trim());
        assert!(shown.contains(&what), "{what:?} not in the page");
    }
}

#[tokio::test]
async fn the_settings_check_names_a_dotless_domain_and_one_beside_the_host() {
    let dir = deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", PASSWORD).await;
    let check = |domains: &str, minutes: &str| {
        format!(
            "/console/sso?check=1&ltpa2_cookie_name=LtpaToken2&ltpa1_cookie_name=LtpaToken\
             &expiration_minutes={minutes}&domains={domains}"
        )
    };
    let sso = page(&server, &check("example.com", "120"), &boss).await;
    assert!(sso.contains("has no leading dot"), "{sso}");
    assert!(sso.contains("covers this server&#39;s host"), "{sso}");
    assert!(!sso.contains("data-testid=\"sso-snippet\""));
    let sso = page(&server, &check("", "soon"), &boss).await;
    assert!(sso.contains("whole minutes"), "{sso}");
    let sso = page(&server, &check("", "120"), &boss).await;
    assert!(sso.contains("data-testid=\"sso-snippet\">[sso]"), "{sso}");
    assert!(sso.contains("restart"), "{sso}");
}

#[tokio::test]
async fn test_connection_reports_what_the_directory_test_command_reports() {
    let slapd = simul_testkit::Slapd::start();
    let groups = format!("\n[console]\nadmin_groups = [{:?}]\n", simul_testkit::BUILDERS_DN);
    let (dir, config) = support::configured(&[slapd.url()], &groups);
    let server = Server::start_configured(&dir.path().join("data"), &config);
    let (alice, _) = log_in(&server, "alice", "alice-secret").await;
    let shown = page(&server, "/console/directory", &alice).await;
    assert!(shown.contains(simul_testkit::ROOT_DN), "the bind DN is shown");
    assert!(shown.contains("set (from"), "{shown}");
    assert!(!shown.contains(simul_testkit::ROOT_PASSWORD), "never the bind password");

    let csrf = csrf_of(&shown);
    let fields = [
        ("csrf", csrf.as_str()),
        ("user", "alice"),
        ("password", "alice-secret"),
        ("group", simul_testkit::BUILDERS_DN),
    ];
    let response = client()
        .post(server.url("/console/directory/test"))
        .header(COOKIE, format!("LtpaToken2={alice}"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tested = response.text().await.unwrap();
    assert!(!tested.contains("alice-secret"), "the password is not shown again");
    std::fs::write(dir.path().join("alice.pw"), "alice-secret\n").unwrap();
    let config = config.display().to_string();
    let out = simul(
        dir.path(),
        &["directory", "test", "--config", &config, "--user", "alice"]
            .into_iter()
            .chain(["--password-file", "alice.pw", "--group", simul_testkit::BUILDERS_DN])
            .collect::<Vec<_>>(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let said = String::from_utf8_lossy(&out.stdout);
    let mut checks = 0;
    for line in said.lines().filter(|line| line.starts_with("  ok ")) {
        // `  ok      load    12 people under ... (3 ms)`: the check and its text.
        let rest = line["  ok ".len()..].trim_start();
        let (name, what) = rest.split_once(' ').unwrap();
        let what = what.trim_start().rsplit_once(" (").unwrap().0;
        assert!(tested.contains(&format!("<td>{name}</td>")), "{name} in the page");
        assert!(tested.contains(&escaped(what)), "{what:?} in the page: {tested}");
        checks += 1;
    }
    assert!(checks >= 5, "server, load, user, groups, login, group: {said}");
    assert!(tested.contains("the password is right"), "{tested}");

    let fields = [("csrf", csrf.as_str()), ("user", "alice"), ("password", "wrong")];
    let response = client()
        .post(server.url("/console/directory/test"))
        .header(COOKIE, format!("LtpaToken2={alice}"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let tested = response.text().await.unwrap();
    assert!(tested.contains("refused: wrong password"), "{tested}");
    drop(slapd);
}

#[tokio::test]
async fn the_embedded_realm_has_no_connection_to_test() {
    let dir = deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", PASSWORD).await;
    let shown = page(&server, "/console/directory", &boss).await;
    assert!(shown.contains("embedded") && !shown.contains("Test connection</button>"));
    let csrf = csrf_of(&page(&server, "/console/sso", &boss).await);
    let response = client()
        .post(server.url("/console/directory/test"))
        .header(COOKIE, format!("LtpaToken2={boss}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("no LDAP server to test"));
}

/// A console page with this `Cookie` header: status and body.
async fn with_cookie(server: &Server, path: &str, cookie: &str) -> (StatusCode, String) {
    let response = client().get(server.url(path)).header(COOKIE, cookie).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn checked_settings_are_saved_to_the_configuration_and_applied_now() {
    let dir = deployment();
    let config = dir.path().join("simul.toml");
    let before = "# The deployment's settings\n[server]\ndomain = \"chat.example.com\" # users \
                  reach us here\n\n[sso]\n# as the WebSphere cell has it\nltpa2_cookie_name = \
                  \"LtpaToken2\" # WebSphere's default\n";
    std::fs::write(&config, before).unwrap();
    let server = Server::start_configured(&dir.path().join("data"), &config);
    let (boss, _) = log_in(&server, "boss", PASSWORD).await;
    let settings = |domains: &'static str, minutes: &'static str| {
        [
            ("check", "1"),
            ("domains", domains),
            ("ltpa2_cookie_name", "SimulToken2"),
            ("ltpa1_cookie_name", "LtpaToken"),
            ("expiration_minutes", minutes),
        ]
    };
    // A problem: shown beside the field, nothing written, nothing applied.
    let refused =
        post(&server, "/console/sso/settings", &boss, &settings("example.com", "60")).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("has no leading dot"));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    page(&server, "/console/sso", &boss).await;

    let saved =
        post(&server, "/console/sso/settings", &boss, &settings(".example.com", "60")).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(saved.headers()[LOCATION], "/console/sso?done=saved-restart");
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(after.starts_with("# The deployment's settings\n[server]\n"), "{after}");
    assert!(after.contains("# as the WebSphere cell has it\n"), "{after}");
    assert!(after.contains("ltpa2_cookie_name = \"SimulToken2\" # WebSphere's default\n"));
    assert!(
        after.contains("domains = [\".example.com\"]") && after.contains("expiration_minutes = 60")
    );

    // The cookies' names apply now: the old cookie no longer signs anyone in.
    let (status, _) = with_cookie(&server, "/console/sso", &format!("LtpaToken2={boss}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let login = reqwest::Client::new()
        .post(server.url("/api/v1/login"))
        .json(&serde_json::json!({"user": "boss", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let token = support::cookie(&login, "SimulToken2").expect("the new cookie name");
    let cookie = format!("SimulToken2={token}");
    let (_, sso) = with_cookie(&server, "/console/sso?done=saved-restart", &cookie).await;
    assert!(sso.contains("requiring SSL and the expiry apply when simul serve restarts"), "{sso}");
    assert!(sso.contains("<td>.example.com</td>"), "in use now: {sso}");
    // The expiry waits for a restart: 120 in use, the saved 60 in the form,
    // so that the next save keeps it.
    assert!(sso.contains("<td>120</td>"), "{sso}");
    assert!(sso.contains("name=\"expiration_minutes\" value=\"60\""), "{sso}");
    let (_, audit) = with_cookie(&server, "/console/audit?action=sso-settings", &cookie).await;
    assert!(audit.contains("<td>sso-settings</td>") && audit.contains("SimulToken2"), "{audit}");
}

#[tokio::test]
async fn without_a_configuration_file_nothing_is_saved() {
    let dir = deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", PASSWORD).await;
    let fields = [
        ("check", "1"),
        ("domains", ""),
        ("ltpa2_cookie_name", "SimulToken2"),
        ("ltpa1_cookie_name", "LtpaToken"),
        ("expiration_minutes", "120"),
    ];
    let refused = post(&server, "/console/sso/settings", &boss, &fields).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.unwrap();
    assert!(body.contains("Not saved: the server was started without --config FILE"), "{body}");
    // Still LtpaToken2.
    page(&server, "/console/sso", &boss).await;
}
