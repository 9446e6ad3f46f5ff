//! The console's logs page on the real binary: a module's level changed
//! now (the server logs more at once) or saved into the configuration
//! file (its comments kept), a bad filter refused, the latest lines
//! filtered, and the diagnostics download, which carries no password,
//! key or secret even when log lines do.

use crate::support;

use std::os::unix::fs::PermissionsExt as _;

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use support::console::{client, console_deployment, csrf_of, page, request, submit};
use support::{Server, log_in};

/// The configuration the saving test starts from: comments and a section.
const COMMENTED: &str = "# Simul at Renovations: kept by the ops team.\nlog = \"info\" # \
                         the default\n\n[console]\n# Only the admins' subnet.\nallowed_networks \
                         = [\"127.0.0.0/8\"]\n";

/// The LDAP bind password of the diagnostics test (never to leave the process).
const BIND_PASSWORD: &str = "Bind-S3cret-\"quoted\"-pw";

/// Posts the level form with the page's CSRF token; the answer's status and body.
async fn set_level(server: &Server, boss: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let csrf = csrf_of(&page(server, "/console/logs", boss).await);
    let mut form = form.to_vec();
    form.push(("csrf", &csrf));
    request(server, reqwest::Method::POST, "/console/logs/level", Some(boss), &form).await
}

#[tokio::test]
async fn a_level_changed_now_takes_effect_at_once_and_bad_filters_change_nothing() {
    let dir = console_deployment();
    let server = Server::start_with(&dir.path().join("data"), false, &[("SIMUL_LOG", "info")]);
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    assert!(
        page(&server, "/console/logs", &boss)
            .await
            .contains("<code data-testid=\"log-filter\">info</code>")
    );

    let form = [("module", "simul_service"), ("level", "debug"), ("scope", "now")];
    let csrf = csrf_of(&page(&server, "/console/logs", &boss).await);
    let back = submit(
        &server,
        "/console/logs/level",
        &boss,
        &[form.as_slice(), &[("csrf", csrf.as_str())]].concat(),
    )
    .await;
    assert_eq!(back, "/console/logs?done=applied");
    let shown = page(&server, &back, &boss).await;
    assert!(
        shown.contains("info,simul_service=debug</code>") && shown.contains("Applied now."),
        "{shown}"
    );
    // The service now logs a refused token at debug level (its reason
    // class only, never the token).
    let refused = reqwest::Client::new()
        .get(server.url("/api/v1/me"))
        .header(COOKIE, "LtpaToken2=not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let line = server.log_line("DEBUG simul_service");
    assert!(!line.contains("not-a-token"), "{line}");
    // The latest lines, filtered, say who changed what.
    let tail = page(&server, "/console/logs?q=LOG+FILTER+CHANGED", &boss).await;
    assert!(
        tail.contains("filter=info,simul_service=debug") && tail.contains("admin=boss"),
        "{tail}"
    );
    let audit = page(&server, "/console/audit", &boss).await;
    assert!(
        audit.contains("<td>log-level</td><td><code>info,simul_service=debug</code>"),
        "{audit}"
    );

    for (filter, sentence) in [
        ("verbose", "&#34;verbose&#34; in &#34;verbose&#34; is not a level"),
        ("info,simul_web=[", "is not a log filter"),
    ] {
        let (status, body) =
            set_level(&server, &boss, &[("filter", filter), ("scope", "now")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{filter}");
        assert!(body.contains("Nothing changed: log:") && body.contains(sentence), "{body}");
        assert!(body.contains("info,simul_service=debug</code>"), "unchanged: {body}");
    }
    // Saving needs a configuration file; this server has none. Applied anyway.
    let (status, body) =
        set_level(&server, &boss, &[("filter", "info,simul_xmpp=debug"), ("scope", "saved")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("Applied now, but not saved: the server was started without --config FILE"),
        "{body}"
    );
}

#[tokio::test]
async fn a_saved_level_is_written_into_the_configuration_file_with_its_comments() {
    let dir = console_deployment();
    let config = dir.path().join("simul.toml");
    std::fs::write(&config, COMMENTED).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o640)).unwrap();
    let server = Server::start_configured(&dir.path().join("data"), &config);
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let csrf = csrf_of(&page(&server, "/console/logs", &boss).await);
    let form = [("filter", "warn,simul::audit=info"), ("scope", "saved"), ("csrf", csrf.as_str())];
    let back = submit(&server, "/console/logs/level", &boss, &form).await;
    assert_eq!(back, "/console/logs?done=saved");

    let saved = std::fs::read_to_string(&config).unwrap();
    assert_eq!(saved, COMMENTED.replace("\"info\"", "\"warn,simul::audit=info\""));
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "the file keeps its mode");
    let audit = page(&server, "/console/audit", &boss).await;
    assert!(audit.contains("<td>log-level-saved</td>"), "{audit}");
}

#[tokio::test]
async fn diagnostics_carry_no_secret_even_when_a_log_line_does() {
    let dir = console_deployment();
    let config = dir.path().join("simul.toml");
    let bind_password = toml_string(BIND_PASSWORD);
    std::fs::write(
        &config,
        format!(
            "log = \"info\"\n[directory.ldap]\nbind_dn = \"cn=simul,o=renovations\"\n\
             bind_password = {bind_password}\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let server = Server::start_configured_with(&data, &config, &[("SIMUL_LOG", "info")]);
    let ltpa_password = std::fs::read_to_string(data.join("ltpa.password")).unwrap();
    let ltpa_password = ltpa_password.trim();
    assert!(ltpa_password.len() >= 16, "a real secret to look for");
    // Secrets typed where a user name goes end up in the audit log lines.
    for secret in [BIND_PASSWORD, ltpa_password] {
        let refused = reqwest::Client::new()
            .post(server.url("/api/v1/login"))
            .json(&serde_json::json!({"user": secret, "password": "wrong"}))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    let (boss, _) = log_in(&server, "boss", "long enough").await;

    let tail = page(&server, "/console/logs?q=login+refused", &boss).await;
    assert!(tail.contains("login refused user=&#34;&#60;removed&#62;&#34;"), "{tail}");
    let csrf = csrf_of(&page(&server, "/console/logs", &boss).await);
    let response = client()
        .post(server.url("/console/logs/diagnostics"))
        .header(COOKIE, format!("LtpaToken2={boss}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment; filename=\"simul-diagnostics-"), "{disposition}");
    let text = response.text().await.unwrap();
    for part in [
        env!("CARGO_PKG_VERSION"),
        "## Configuration (secrets removed)",
        "bind_dn = \"cn=simul,o=renovations\"",
        "bind_password = \"<removed>\"",
        "## Metrics",
        "simul_logins_total",
        "login refused user=\"<removed>\"",
    ] {
        assert!(text.contains(part), "{part:?} in the diagnostics:\n{text}");
    }
    for secret in [BIND_PASSWORD, "S3cret", ltpa_password, "long enough", &boss] {
        assert!(!text.contains(secret), "{secret:?} leaked into the diagnostics:\n{text}");
    }
    let audit = page(&server, "/console/audit", &boss).await;
    assert!(audit.contains("<td>diagnostics</td>"), "{audit}");
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
