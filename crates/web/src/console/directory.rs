//! The directory page: the LDAP repository's settings (never its bind
//! password) and "Test connection", which runs what `simul directory
//! test` runs ([`simul_service::DirectoryTest`]) on a connection of its
//! own, so the server's name cache is not touched.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use simul_directory::{LdapRealm, LdapSettings};
use simul_service::{Check, DirectoryTest};
use zeroize::Zeroizing;

use super::Admin;
use super::form::Fields;
use super::pages::{Nav, render};
use crate::AppState;

/// One check's result as the page lists it.
struct CheckRow {
    name: &'static str,
    passed: bool,
    what: String,
    took_ms: u128,
    details: Vec<String>,
}

impl From<Check> for CheckRow {
    fn from(check: Check) -> Self {
        Self {
            name: check.name,
            passed: check.passed(),
            took_ms: check.took.map_or(0, |took| took.as_millis()),
            what: check.what,
            details: check.details,
        }
    }
}

#[derive(Template)]
#[template(path = "console/directory.html")]
pub(super) struct DirectoryPage {
    nav: Nav,
    csrf: String,
    /// `embedded`, or the LDAP servers.
    directory: String,
    answering: bool,
    realm: String,
    /// The settings, label and value; empty for the embedded realm.
    settings: Vec<(&'static str, String)>,
    error: Option<String>,
    /// What the test asked about, shown again (never the password).
    user: String,
    group: String,
    checks: Option<Vec<CheckRow>>,
}

impl DirectoryPage {
    async fn new(state: &AppState, admin: &Admin) -> Self {
        let facts = &state.console.facts;
        let mut page = Self {
            nav: Nav::of(admin, "directory"),
            csrf: admin.csrf.clone(),
            directory: facts.directory.clone(),
            answering: state.service.readiness().await.directory,
            realm: state.service.realm_name().to_owned(),
            settings: Vec::new(),
            error: None,
            user: String::new(),
            group: String::new(),
            checks: None,
        };
        if let Some(ldap) = &facts.ldap {
            match settings(ldap) {
                Ok(rows) => page.settings = rows,
                Err(error) => page.error = Some(error),
            }
        }
        page
    }
}

/// The settings with the preset's defaults filled in, as the realm uses
/// them; the bind password only as whether there is one.
fn settings(ldap: &LdapSettings) -> Result<Vec<(&'static str, String)>, String> {
    let resolved = ldap.resolve().map_err(|error| error.to_string())?;
    let bind_password = match (&ldap.bind_password_file, &resolved.bind) {
        (Some(file), Some(_)) => format!("set (from {})", file.display()),
        (None, Some(_)) => "set".to_owned(),
        (_, None) => "none".to_owned(),
    };
    let or_none = |value: Option<String>| value.unwrap_or_else(|| "none".to_owned());
    Ok(vec![
        ("Repository", resolved.repository_id.clone()),
        ("Preset", ldap.preset.name().to_owned()),
        ("Servers (primary first)", resolved.hosts.join(" ")),
        ("StartTLS", if resolved.starttls { "yes" } else { "no" }.to_owned()),
        ("Trusted signers", or_none(resolved.ca_file.as_ref().map(|f| f.display().to_string()))),
        (
            "Bind DN",
            resolved.bind.as_ref().map_or_else(|| "anonymous".to_owned(), |(dn, _)| dn.clone()),
        ),
        ("Bind password", bind_password),
        ("Base entries", resolved.bases.join(" ; ")),
        ("Login attributes", resolved.login_attributes.join(", ")),
        ("User filter", resolved.user_filter.clone()),
        ("Group filter", resolved.group_filter.clone()),
        ("Member attributes", resolved.group_member_attributes.join(", ")),
        ("Disabled filter", or_none(resolved.disabled_filter.clone())),
        ("Refresh", format!("every {} minutes", resolved.refresh.as_secs() / 60)),
        ("Timeout", format!("{} s", resolved.timeout.as_secs())),
        (
            "Tokens while down",
            if resolved.accept_tokens_while_down { "accepted (cached people)" } else { "refused" }
                .to_owned(),
        ),
    ])
}

/// `GET /console/directory`.
pub(super) async fn page(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
) -> Response {
    render(StatusCode::OK, &DirectoryPage::new(&state, &admin).await)
}

/// `POST /console/directory/test`: "Test connection", optionally with a
/// person (and their password) and a group.
pub(super) async fn test(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut page = DirectoryPage::new(&state, &admin).await;
    let Some(ldap) = &state.console.facts.ldap else {
        page.error = Some(
            "This server uses the embedded realm: there is no LDAP server to test. Set \
             directory.kind = \"ldap\" and [directory.ldap] in the configuration."
                .into(),
        );
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let fields = Fields::read(&headers, body).await;
    let text = |name: &str| fields.as_ref().map_or("", |f| f.text(name)).trim().to_owned();
    let (user, group) = (text("user"), text("group"));
    let password = Zeroizing::new(fields.as_ref().map_or("", |f| f.text("password")).to_owned());
    let realm = match LdapRealm::new(ldap) {
        Ok(realm) => realm,
        Err(error) => {
            page.error = Some(error.to_string());
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let test = DirectoryTest {
        user: Some(user.as_str()).filter(|user| !user.is_empty()),
        password: Some(password.as_str()).filter(|p| !p.is_empty() && !user.is_empty()),
        group: Some(group.as_str()).filter(|group| !group.is_empty()),
    };
    let checks = test.run(&realm, state.service.realm_name()).await;
    if let Err(error) =
        state.service.administration().record(&admin.actor(), "test-directory", &user).await
    {
        tracing::warn!(%error, "console: the directory test was not written to the audit log");
    }
    page.checks = Some(checks.into_iter().map(CheckRow::from).collect());
    (page.user, page.group) = (user, group);
    render(StatusCode::OK, &page)
}
