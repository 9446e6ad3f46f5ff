//! `simul sso doctor`: one test per failure it names, with tokens made by
//! "another server" (`simul ltpa token create` with exported or foreign
//! keys) and a real https listener for the certificate check.

use crate::support;

use std::path::Path;

use support::{Server, deployment, export_keys, mint, simul};

/// A deployment with keys (a first start makes them) and its keys exported
/// as `x.keys`; its configuration puts Simul in `.renovations.com`.
fn deployed() -> tempfile::TempDir {
    let dir = deployment(&["alice"]);
    let config =
        "[server]\ndomain = \"chat.renovations.com\"\n\n[sso]\ndomains = [\".renovations.com\"]\n";
    std::fs::write(dir.path().join("simul.toml"), config).unwrap();
    drop(Server::start(&dir.path().join("data")));
    export_keys(dir.path());
    dir
}

/// `simul sso doctor ARGS --config simul.toml --data data`: exit code and stdout.
fn doctor(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["sso", "doctor"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--config", "simul.toml", "--data", "data"]);
    let out = simul(dir, &all);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let errors = String::from_utf8_lossy(&out.stderr);
    (out.status.code(), format!("{text}{errors}"))
}

#[test]
fn a_good_token_is_explained_as_working() {
    let dir = deployed();
    let token = mint(dir.path(), &["--user", "alice"]);
    let (code, text) = doctor(dir.path(), &[&token]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("format ltpa2 (opened with Simul's keys)"), "{text}");
    assert!(text.contains("user \"alice\" in realm \"simul\""), "{text}");
    assert!(text.contains("\"alice\" is in the embedded realm in data and enabled"), "{text}");
    assert!(text.contains("No problem found"), "{text}");
}

/// Every file of a directory with its size and modification time.
fn listing(dir: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let metadata = entry.metadata().unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            // A reader of a WAL database takes its read locks in the
            // shared-memory index: that file's time moves, nothing else.
            let modified = if name.ends_with("-shm") {
                std::time::UNIX_EPOCH
            } else {
                metadata.modified().unwrap()
            };
            (name, metadata.len(), modified)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_doctor_only_reads_the_deployment() {
    let dir = deployed();
    let token = mint(dir.path(), &["--user", "alice"]);
    let data = dir.path().join("data");
    let before = listing(&data);
    let (code, text) = doctor(dir.path(), &[&token]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(listing(&data), before, "nothing created, migrated or written");
}

/// `GET /api/v1/me` with a bearer token: the status the server answers.
async fn me_status(server: &Server, token: &str) -> reqwest::StatusCode {
    let answer = reqwest::Client::new().get(server.url("/api/v1/me")).bearer_auth(token).send();
    answer.await.unwrap().status()
}

#[tokio::test]
async fn a_valid_token_of_someone_the_realm_refuses_is_a_problem_as_on_the_server() {
    let dir = deployed();
    let d = dir.path();
    let bob = mint(d, &["--user", "bob"]);
    let server = Server::start_configured(&d.join("data"), &d.join("simul.toml"));
    assert_eq!(me_status(&server, &bob).await, reqwest::StatusCode::FORBIDDEN);
    let (code, text) = doctor(d, &[&bob]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("valid here: signature, time and realm check"), "{text}");
    assert!(
        text.contains(
            "\"bob\" is not in the embedded realm in data: the server refuses the token (403)"
        ),
        "{text}"
    );
    assert!(text.contains("simul user add bob"), "{text}");
    assert!(text.contains("directory.accept_unknown_sso_users = true"), "{text}");

    // Disabled: refused too, and said so.
    assert!(simul(d, &["user", "disable", "alice", "--data", "data"]).status.success());
    let alice = mint(d, &["--user", "alice"]);
    support::eventually("alice's token is refused", || async {
        me_status(&server, &alice).await == reqwest::StatusCode::FORBIDDEN
    })
    .await;
    let (code, text) = doctor(d, &[&alice]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("\"alice\" is disabled in the embedded realm in data"), "{text}");
    assert!(text.contains("`simul user enable alice`"), "{text}");
    drop(server);

    // Strangers let in on purpose: no problem, here and on the server.
    let config = std::fs::read_to_string(d.join("simul.toml")).unwrap()
        + "\n[directory]\naccept_unknown_sso_users = true\n";
    std::fs::write(d.join("simul.toml"), config).unwrap();
    let server = Server::start_configured(&d.join("data"), &d.join("simul.toml"));
    assert_eq!(me_status(&server, &bob).await, reqwest::StatusCode::OK);
    let (code, text) = doctor(d, &[&bob]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("directory.accept_unknown_sso_users = true lets them in"), "{text}");
}

#[test]
fn ldap_users_are_looked_up_in_the_directory() {
    use simul_testkit::{ALICE_DN, DAVE_DN, Slapd};
    let slapd = Slapd::start();
    let (dir, config) = support::configured(&[slapd.url()], "");
    let d = dir.path();
    drop(Server::start_configured(&d.join("data"), &config));
    export_keys(d);
    let (code, text) = doctor(d, &[&mint(d, &["--user", ALICE_DN])]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("is in the LDAP directory LDAP1"), "{text}");

    let (code, text) = doctor(d, &[&mint(d, &["--user", DAVE_DN])]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("{DAVE_DN:?} is disabled in the LDAP directory LDAP1")),
        "{text}"
    );

    let mallory = "uid=mallory,ou=people,dc=renovations,dc=com";
    let (code, text) = doctor(d, &[&mint(d, &["--user", mallory])]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(&format!("{mallory:?} is not in the LDAP directory LDAP1")), "{text}");
    assert!(text.contains("simul directory test --config FILE --user"), "{text}");
}

#[tokio::test]
async fn tokens_of_a_trusted_realm_are_accepted_by_the_server_and_the_doctor() {
    let dir = deployed();
    let d = dir.path();
    let config = "[server]\ndomain = \"chat.renovations.com\"\n\n[directory]\nrealm = \"A\"\n\n\
                  [sso]\ndomains = [\".renovations.com\"]\n";
    std::fs::write(d.join("simul.toml"), config).unwrap();
    let of_b = mint(d, &["--user", "alice", "--realm", "B"]);

    let server = Server::start_configured(&d.join("data"), &d.join("simul.toml"));
    assert_eq!(me_status(&server, &of_b).await, reqwest::StatusCode::UNAUTHORIZED);
    drop(server);
    let (code, text) = doctor(d, &[&of_b]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("names the realm \"B\", and Simul's is \"A\""), "{text}");
    assert!(text.contains("sso.trusted_realms = [\"B\"]"), "{text}");

    std::fs::write(d.join("simul.toml"), format!("{config}trusted_realms = [\"B\"]\n")).unwrap();
    let server = Server::start_configured(&d.join("data"), &d.join("simul.toml"));
    assert_eq!(me_status(&server, &of_b).await, reqwest::StatusCode::OK);
    let (code, text) = doctor(d, &[&of_b]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("trusted realms \"A\", \"B\""), "{text}");
}

#[test]
fn tokens_of_the_previous_keys_are_checked_with_them_as_the_server_does() {
    let dir = deployed();
    let d = dir.path();
    let token = mint(d, &["--user", "alice"]);
    let rotated = simul(d, &["ltpa", "rotate", "--data", "data", "--keep-previous", "1h"]);
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let (code, text) = doctor(d, &[&token]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("  and the previous keys: shared key SHA256:"), "{text}");
    assert!(text.contains("the token is valid here"), "{text}");

    let gone = simul(d, &["ltpa", "rotate", "--data", "data", "--discard-previous"]);
    assert!(gone.status.success(), "{}", String::from_utf8_lossy(&gone.stderr));
    let (code, text) = doctor(d, &[&token]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("was made with other LTPA keys than Simul's"), "{text}");
}

#[test]
fn each_token_problem_is_named_with_its_fix() {
    let dir = deployed();
    let d = dir.path();
    let cases: Vec<(String, &str, &str)> = vec![
        (
            mint(d, &["--user", "alice", "--realm", "defaultWIMFileBasedRealm"]),
            "names the realm \"defaultWIMFileBasedRealm\", and Simul's is \"simul\"",
            "set directory.realm = \"defaultWIMFileBasedRealm\"",
        ),
        (
            mint(d, &["--user", "alice", "--expires-at", "1000"]),
            "expired",
            "keep the token lifetime equal on all servers",
        ),
        (
            mint(d, &["--user", "alice", "--created-at", "4102444800"]),
            "later than any token Simul makes (sso.expiration_minutes = 120)",
            "set both clocks by NTP",
        ),
        ("not a token at all".to_owned(), "is not an LTPA token", "copy the whole cookie value"),
    ];
    for (token, problem, fix) in &cases {
        let (code, text) = doctor(d, &[token]);
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains(problem), "{problem:?} in:\n{text}");
        assert!(text.contains(fix), "{fix:?} in:\n{text}");
    }

    // Keys of another cell.
    std::fs::write(d.join("other.pw"), "other").unwrap();
    let generated = simul(
        d,
        &[
            "ltpa",
            "generate",
            "--realm",
            "simul",
            "--password-file",
            "other.pw",
            "--out",
            "other.keys",
        ],
    );
    assert!(generated.status.success());
    let create = simul(
        d,
        &[
            "ltpa",
            "token",
            "create",
            "--keys",
            "other.keys",
            "--password-file",
            "other.pw",
            "--user",
            "alice",
        ],
    );
    let foreign = String::from_utf8(create.stdout).unwrap();
    let (code, text) = doctor(d, &[foreign.trim()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("was made with other LTPA keys than Simul's"), "{text}");
    assert!(text.contains("simul ltpa import FILE"), "{text}");
}

#[test]
fn cookie_headers_and_har_files_are_read_like_a_browser_sends_them() {
    let dir = deployed();
    let d = dir.path();
    let token = mint(d, &["--user", "alice"]);
    let header = format!("JSESSIONID=0000abc; LtpaToken2={token}");
    let (code, text) = doctor(d, &["--cookie-header", &header]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("The cookie LtpaToken2:"), "{text}");

    // Only a version-1 cookie, which Simul does not read by default.
    let v1 = mint(d, &["--user", "alice", "--format", "ltpa1"]);
    let (code, text) = doctor(d, &["--cookie-header", &format!("LtpaToken={v1}")]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("sso.interoperability_mode = true"), "{text}");

    // A HAR from Connections: its URL is examined too; the cookie was Secure
    // but the page is http.
    let har = serde_json::json!({"log": {"entries": [
        {"request": {"url": "http://connections.renovations.com/homepage", "cookies": [], "headers": []},
         "response": {"cookies": [{"name": "LtpaToken2", "value": token, "secure": true}]}},
        {"request": {"url": "http://connections.renovations.com/profiles",
                     "cookies": [{"name": "LtpaToken2", "value": token}], "headers": []},
         "response": {"cookies": []}},
    ]}});
    std::fs::write(d.join("connections.har"), har.to_string()).unwrap();
    let (code, text) = doctor(d, &["--har", "connections.har"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("The application at http://connections.renovations.com"), "{text}");
    assert!(text.contains("are both in the SSO domain .renovations.com"), "{text}");
    assert!(
        text.contains("the cookie LtpaToken2 is Secure but the application is on http://"),
        "{text}"
    );

    std::fs::write(d.join("empty.har"), r#"{"log": {"entries": []}}"#).unwrap();
    let (code, text) = doctor(d, &["--har", "empty.har"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("no request in empty.har carries an LtpaToken2 or LtpaToken cookie"),
        "{text}"
    );
}

#[test]
fn no_ltpa_cookie_at_all_is_the_problem_with_its_usual_causes() {
    let dir = deployed();
    let d = dir.path();
    let (code, text) =
        doctor(d, &["--cookie-header", "JSESSIONID=0000secretsession:-1; WASReqURL=x"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "no LTPA cookie arrived: the Cookie header has only JSESSIONID, WASReqURL, and no \
             LtpaToken2 or LtpaToken"
        ),
        "{text}"
    );
    for cause in [
        "its domain does not cover this host",
        "sso.domains ([\".renovations.com\"])",
        "its Path is not /",
        "it is Secure and the page is http://",
        "set sso.ltpa2_cookie_name (or sso.ltpa1_cookie_name) to that name",
    ] {
        assert!(text.contains(cause), "{cause:?} in:\n{text}");
    }
    assert!(!text.contains("secretsession"), "names only, never values:\n{text}");
    assert!(!text.contains("No problem found"), "{text}");

    // A HAR where Portal set its LtpaToken2 host-only and under /wps: the
    // browser never sent it back, to Portal's other pages or to Simul.
    let har = serde_json::json!({"log": {"entries": [
        {"request": {"url": "https://portal.renovations.com/wps/login", "cookies": [], "headers": []},
         "response": {"cookies": [{"name": "LtpaToken2", "value": "secret-token-value",
                                   "path": "/wps", "domain": "portal.renovations.com",
                                   "secure": true}]}},
        {"request": {"url": "https://chat.renovations.com/api/v1/me", "headers": [],
                     "cookies": [{"name": "JSESSIONID", "value": "0000secretsession"}]},
         "response": {"cookies": []}},
    ]}});
    std::fs::write(d.join("portal.har"), har.to_string()).unwrap();
    let (code, text) = doctor(d, &["--har", "portal.har"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "no request in portal.har carries an LtpaToken2 or LtpaToken cookie (only JSESSIONID)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "the cookie LtpaToken2 that portal.renovations.com sets is for the domain \
             portal.renovations.com: the browser does not send it to Simul's server.domain \
             \"chat.renovations.com\""
        ),
        "{text}"
    );
    assert!(text.contains("the cookie LtpaToken2 has Path=/wps"), "{text}");
    assert!(!text.contains("secret"), "names only, never values:\n{text}");
}

#[test]
fn a_token_under_the_other_formats_cookie_name_is_a_naming_problem() {
    let dir = deployed();
    let d = dir.path();
    let v2 = mint(d, &["--user", "alice"]);
    let (code, text) = doctor(d, &["--cookie-header", &format!("LtpaToken={v2}")]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "the cookie LtpaToken holds an LtpaToken2 token: the other server sends it under the \
             name LtpaToken"
        ),
        "{text}"
    );
    for setting in [
        "in Simul sso.ltpa2_cookie_name (now \"LtpaToken2\"",
        "com.ibm.websphere.security.customSSOCookieName",
        "<webAppSecurity ssoCookieName=",
    ] {
        assert!(text.contains(setting), "{setting:?} in:\n{text}");
    }
    assert!(!text.contains("does not read now"), "not a format problem:\n{text}");
    assert!(!text.contains("is not an LTPA token"), "not a format problem:\n{text}");

    let v1 = mint(d, &["--user", "alice", "--format", "ltpa1"]);
    let (code, text) = doctor(d, &["--cookie-header", &format!("LtpaToken2={v1}")]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "the cookie LtpaToken2 holds a version-1 LtpaToken token: the other server sends it \
             under the name LtpaToken2"
        ),
        "{text}"
    );
    assert!(text.contains("com.ibm.websphere.security.customLTPACookieName"), "{text}");
    assert!(text.contains("\"Interoperability mode\""), "{text}");
}

#[test]
fn an_application_outside_the_sso_domain_is_pointed_out() {
    let dir = deployed();
    let (code, text) = doctor(dir.path(), &["--url", "https://127.0.0.1:1/"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("127.0.0.1 is not in any of sso.domains [\".renovations.com\"]"),
        "{text}"
    );
    assert!(text.contains("no TLS answer from 127.0.0.1:1"), "{text}");
    let (code, text) = doctor(dir.path(), &["--url", "ftp://example.com"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("is not an http:// or https:// address"), "{text}");
}

#[test]
fn an_untrusted_certificate_shows_its_chain_and_how_to_trust_it() {
    let dir = deployed();
    let server = Server::start_with(&dir.path().join("data"), true, &[]);
    let https = server.https_base.clone().unwrap().replace("127.0.0.1", "localhost");
    let (code, text) = doctor(dir.path(), &["--url", &https, "--save-chain", "signer.pem"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("is not trusted here"), "{text}");
    assert!(text.contains("Retrieve from port"), "{text}");
    assert!(text.contains("certificate 0: subject"), "{text}");
    let saved = std::fs::read_to_string(dir.path().join("signer.pem")).unwrap();
    let served = std::fs::read_to_string(dir.path().join("data/tls-certificate.pem")).unwrap();
    assert_eq!(saved.trim(), served.trim(), "the chain saved is the one the server sent");
}

#[test]
fn cookie_names_domains_and_plain_http_are_checked() {
    let dir = deployed();
    let d = dir.path();
    let token = mint(d, &["--user", "alice"]);
    // A renamed cookie on the other server.
    let (code, text) = doctor(d, &["--cookie-header", &format!("LtpaToken2_portal={token}")]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("make sso.ltpa2_cookie_name"), "{text}");

    // Simul's own host outside the domain the other application shares.
    let config = "[server]\ndomain = \"chat.example.net\"\n\n[sso]\ndomains = [\".renovations.com\", \".example.net\"]\nrequires_ssl = true\n";
    std::fs::write(d.join("simul.toml"), config).unwrap();
    let (code, text) = doctor(d, &["--url", "http://connections.renovations.com/"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("connections.renovations.com is in the SSO domain .renovations.com, but Simul's server.domain \"chat.example.net\" is not"),
        "{text}"
    );
    assert!(
        text.contains(
            "sso.requires_ssl is on, so Simul's cookies are Secure, and this address is http://"
        ),
        "{text}"
    );
}
