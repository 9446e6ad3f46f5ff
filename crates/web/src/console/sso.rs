//! The single sign-on page: the `[sso]` settings as WebSphere's Single
//! sign-on page has them, checked as they would be typed; the LTPA keys
//! (rotate, export, import: the service functions `simul ltpa` shares);
//! and the token tester, which runs `simul sso doctor`'s analysis.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use chrono::{Duration, Utc};
use ltpa::{Password, SsoSettings};
use serde::Deserialize;
use simul_service::ServiceError;
use simul_service::key_files::Replaced;
use simul_service::sso_doctor::Finding;
use zeroize::Zeroizing;

use super::Admin;
use super::actions::{Confirmed, RefusablePage, bad_form, refused};
use super::form::Fields;
use super::pages::{Nav, render, time};
use crate::AppState;

/// One setting, its value, and what is wrong with it.
struct SettingRow {
    label: &'static str,
    key: &'static str,
    value: String,
    problems: Vec<String>,
}

/// A key set on the page: fingerprints and dates, never a key.
struct KeyRow {
    shared: String,
    public: String,
    created: String,
    until: String,
}

/// The settings as typed into the check form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Draft {
    check: Option<String>,
    #[serde(default)]
    domains: String,
    requires_ssl: Option<String>,
    interoperability_mode: Option<String>,
    #[serde(default)]
    ltpa2_cookie_name: String,
    #[serde(default)]
    ltpa1_cookie_name: String,
    #[serde(default)]
    expiration_minutes: String,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "console/sso.html")]
pub(super) struct SsoPage {
    nav: Nav,
    csrf: String,
    host: String,
    realm: String,
    settings: Vec<SettingRow>,
    /// The form's values: the draft being checked, else the settings.
    form: FormValues,
    /// The draft's `[sso]` table, when it was checked and is right.
    snippet: Option<String>,
    checked: bool,
    current: Option<KeyRow>,
    previous: Vec<KeyRow>,
    notes: Vec<String>,
    keys_kept: bool,
    notice: Option<String>,
    error: Option<String>,
    findings: Option<Vec<Finding>>,
    problems: usize,
}

/// The check form's fields.
struct FormValues {
    domains: String,
    requires_ssl: bool,
    interoperability_mode: bool,
    ltpa2_cookie_name: String,
    ltpa1_cookie_name: String,
    expiration_minutes: String,
}

impl FormValues {
    fn of(sso: &SsoSettings) -> Self {
        Self {
            domains: sso.domains.join(" "),
            requires_ssl: sso.requires_ssl,
            interoperability_mode: sso.interoperability_mode,
            ltpa2_cookie_name: sso.ltpa2_cookie_name.clone(),
            ltpa1_cookie_name: sso.ltpa1_cookie_name.clone(),
            expiration_minutes: sso.expiration_minutes.to_string(),
        }
    }
}

/// `GET /console/sso`: the settings, the keys and the tester;
/// `?check=1&...` checks settings typed into the form.
pub(super) async fn page(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Query(draft): Query<Draft>,
) -> Response {
    let mut page = SsoPage::new(&state, &admin);
    page.notice = draft.done.as_deref().and_then(notice).map(str::to_owned);
    if draft.check.is_some() {
        page.check(&state, &draft);
    }
    render(StatusCode::OK, &page)
}

impl RefusablePage for SsoPage {
    fn current(state: &AppState, admin: &Admin) -> Self {
        Self::new(state, admin)
    }

    fn refuse(&mut self, why: String) {
        self.error = Some(why);
    }
}

/// `POST /console/sso/settings`: the checked settings written into the
/// configuration file and applied now where a running server can (the
/// cookies' domains and names, interoperability mode); requiring SSL and
/// the tokens' lifetime apply after a restart (the listeners are set up,
/// and live tokens were issued, under the old ones). Settings with a
/// problem are shown beside their fields and nothing is written.
pub(super) async fn save_settings(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Form(draft): Form<Draft>,
) -> Response {
    let mut page = SsoPage::new(&state, &admin);
    let Some(typed) = page.check(&state, &draft) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let Some(file) = &state.console.settings_file else {
        return refused::<SsoPage>(
            &state,
            &admin,
            "This server cannot write its configuration: not saved.",
        );
    };
    if let Err(why) = file.save_sso(&typed) {
        page.error = Some(format!("Not saved: {why}. Nothing changed."));
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let restart = state.apply_sso(typed);
    let said = page.snippet.as_deref().unwrap_or_default().replace('\n', " ");
    if let Err(error) =
        state.service.administration().record(&admin.actor(), "sso-settings", said.trim()).await
    {
        tracing::warn!(%error, "console: the audit log was not written");
    }
    done(if restart { "saved-restart" } else { "saved" })
}

impl SsoPage {
    fn new(state: &AppState, admin: &Admin) -> Self {
        let host = state.console.facts.server_domain.clone();
        let sso = state.sso();
        let problems = sso.review(&host);
        let row = |label, key, value: String| SettingRow {
            label,
            key,
            value,
            problems: problems
                .iter()
                .filter(|problem| problem.setting == key)
                .map(|problem| problem.problem.clone())
                .collect(),
        };
        let yes = |on: bool| if on { "yes" } else { "no" }.to_owned();
        let domains = if sso.domains.is_empty() {
            "none: host-only cookies".to_owned()
        } else {
            sso.domains.join(" ")
        };
        let settings = vec![
            row("Enabled", "enabled", yes(sso.enabled)),
            row("Domain names", "domains", domains),
            row("Requires SSL", "requires_ssl", yes(sso.requires_ssl)),
            row("Interoperability mode", "interoperability_mode", yes(sso.interoperability_mode)),
            row("LtpaToken2 cookie name", "ltpa2_cookie_name", sso.ltpa2_cookie_name.clone()),
            row("LtpaToken cookie name", "ltpa1_cookie_name", sso.ltpa1_cookie_name.clone()),
            row("Expiry (minutes)", "expiration_minutes", sso.expiration_minutes.to_string()),
            row("HttpOnly cookies", "http_only", yes(sso.http_only)),
            row("Trusted realms", "trusted_realms", sso.trusted_realms.join(" ")),
        ];
        let mut page = Self {
            nav: Nav::of(admin, "sso"),
            csrf: admin.csrf.clone(),
            host,
            realm: state.service.realm_name().to_owned(),
            settings,
            // What a change starts from: the file's settings, so that
            // saving again keeps what waits for a restart.
            form: FormValues::of(&state.saved_sso()),
            snippet: None,
            checked: false,
            current: None,
            previous: Vec::new(),
            notes: Vec::new(),
            keys_kept: state.service.key_files().is_some(),
            notice: None,
            error: None,
            findings: None,
            problems: 0,
        };
        page.read_keys(state);
        page
    }

    /// The key sets as the files hold them now.
    fn read_keys(&mut self, state: &AppState) {
        let Some(files) = state.service.key_files() else {
            let keys = state.service.keys().current();
            self.current = Some(KeyRow {
                shared: keys.signing.shared_key_fingerprint(),
                public: keys.signing.public_key_fingerprint(),
                created: String::new(),
                until: String::new(),
            });
            return;
        };
        match files.read(Utc::now()) {
            Ok(ring) => {
                let row = |file: &ltpa::KeyFile, until: String| KeyRow {
                    shared: file.keys.shared_key_fingerprint(),
                    public: file.keys.public_key_fingerprint(),
                    created: format!("{} on {}", file.creation_date, file.creation_host),
                    until,
                };
                self.current = Some(row(&ring.current, String::new()));
                self.previous = ring
                    .previous
                    .iter()
                    .map(|set| row(&set.file, time(set.not_use_after)))
                    .collect();
                self.notes = ring.notes;
            }
            Err(error) => self.error = Some(format!("The key files cannot be read: {error:#}")),
        }
    }

    /// Checks the typed settings against this server's host: every
    /// problem beside its field, or the `[sso]` table to put into the
    /// configuration and the settings typed (`None` with any problem).
    fn check(&mut self, state: &AppState, draft: &Draft) -> Option<SsoSettings> {
        self.checked = true;
        self.form = FormValues {
            domains: draft.domains.clone(),
            requires_ssl: draft.requires_ssl.is_some(),
            interoperability_mode: draft.interoperability_mode.is_some(),
            ltpa2_cookie_name: draft.ltpa2_cookie_name.trim().to_owned(),
            ltpa1_cookie_name: draft.ltpa1_cookie_name.trim().to_owned(),
            expiration_minutes: draft.expiration_minutes.trim().to_owned(),
        };
        let mut typed = SsoSettings {
            domains: SsoSettings::parse_domains(&draft.domains),
            requires_ssl: self.form.requires_ssl,
            interoperability_mode: self.form.interoperability_mode,
            ltpa2_cookie_name: self.form.ltpa2_cookie_name.clone(),
            ltpa1_cookie_name: self.form.ltpa1_cookie_name.clone(),
            ..SsoSettings::clone(&state.saved_sso())
        };
        let mut problems: Vec<(&'static str, String)> = Vec::new();
        match self.form.expiration_minutes.parse::<u32>() {
            Ok(minutes) => typed.expiration_minutes = minutes,
            Err(_) => problems.push((
                "expiration_minutes",
                "write the token lifetime in whole minutes (WebSphere's default is 120)".into(),
            )),
        }
        problems.extend(
            typed.review(&self.host).into_iter().map(|problem| (problem.setting, problem.problem)),
        );
        for row in &mut self.settings {
            row.problems = problems
                .iter()
                .filter(|(key, _)| *key == row.key)
                .map(|(_, p)| p.clone())
                .collect();
        }
        let unshown: Vec<String> = problems
            .iter()
            .filter(|(key, _)| !self.settings.iter().any(|row| row.key == *key))
            .map(|(key, problem)| format!("{key}: {problem}"))
            .collect();
        if !unshown.is_empty() {
            self.error = Some(unshown.join(" "));
        }
        if !problems.is_empty() {
            return None;
        }
        self.snippet = Some(snippet(&typed));
        Some(typed)
    }
}

/// The `[sso]` keys the page checks, as TOML (JSON strings are TOML
/// basic strings).
fn snippet(sso: &SsoSettings) -> String {
    let text = |value: &str| serde_json::Value::from(value).to_string();
    let domains: Vec<String> = sso.domains.iter().map(|domain| text(domain)).collect();
    format!(
        "[sso]\ndomains = [{}]\nrequires_ssl = {}\ninteroperability_mode = {}\n\
         ltpa2_cookie_name = {}\nltpa1_cookie_name = {}\nexpiration_minutes = {}\n",
        domains.join(", "),
        sso.requires_ssl,
        sso.interoperability_mode,
        text(&sso.ltpa2_cookie_name),
        text(&sso.ltpa1_cookie_name),
        sso.expiration_minutes
    )
}

/// What becomes of the replaced keys, as the forms offer it.
fn replaced(choice: &str) -> Replaced {
    let keep = match choice {
        "discard" => return Replaced::Discard,
        "1d" => Duration::days(1),
        "12h" => Duration::hours(12),
        _ => Duration::days(7),
    };
    Replaced::KeepUntil(Utc::now() + keep)
}

/// `POST /console/sso/rotate`: a new key set; the replaced one is
/// accepted for the time chosen (or discarded).
pub(super) async fn rotate(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(fields) = Fields::read(&headers, body).await else {
        return bad_form::<SsoPage>(&state, &admin);
    };
    match state.service.rotate_keys(&admin.actor(), replaced(fields.text("keep"))).await {
        Ok(_) => done("rotated"),
        Err(error) => failed(&state, &admin, &error),
    }
}

/// `POST /console/sso/import`: an uploaded `ltpa.keys` with its
/// password, after the administrator's own password.
pub(super) async fn import(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Confirmed(fields, _): Confirmed<SsoPage>,
) -> Response {
    let file = fields.bytes("file");
    if file.is_empty() {
        return refused::<SsoPage>(
            &state,
            &admin,
            "Choose the ltpa.keys file to import: nothing was changed.",
        );
    }
    let password = Password::new(fields.text("password"));
    let before = state.service.realm_name().to_owned();
    let actor = admin.actor();
    let imported =
        state.service.import_keys(&actor, file, &password, replaced(fields.text("keep"))).await;
    match imported {
        Ok((file, _)) if file.realm != before && !state.console.facts.realm_configured => {
            let mut page = SsoPage::new(&state, &admin);
            page.notice = Some(format!(
                "Imported. This server signs with the new keys now. The file was made for realm \
                 {:?} and tokens carry {before:?} until simul serve restarts; after a restart they \
                 carry {:?} and everyone signs in again. To keep {before:?}, set directory.realm \
                 = {before:?} in the configuration.",
                file.realm, file.realm
            ));
            render(StatusCode::OK, &page)
        }
        Ok(_) => done("imported"),
        Err(error) => failed(&state, &admin, &error),
    }
}

/// `POST /console/sso/export`: the keys as a file protected by a new
/// password, after the administrator's own password.
pub(super) async fn export(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Confirmed(fields, _): Confirmed<SsoPage>,
) -> Response {
    let (password, again) = (fields.text("password"), fields.text("password_again"));
    if password.is_empty() || password != again {
        return refused::<SsoPage>(
            &state,
            &admin,
            "Type the file's new password twice, the same both times: nothing was exported.",
        );
    }
    match state.service.export_keys(&admin.actor(), &Password::new(password)).await {
        Ok(bytes) => download(bytes),
        Err(error) => failed(&state, &admin, &error),
    }
}

/// `POST /console/sso/doctor`: `simul sso doctor` on a pasted token or
/// `Cookie` header, with this server's keys, realms and directory.
pub(super) async fn doctor(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(fields) = Fields::read(&headers, body).await else {
        return bad_form::<SsoPage>(&state, &admin);
    };
    let pasted = Zeroizing::new(fields.text("token").trim().to_owned());
    let mut page = SsoPage::new(&state, &admin);
    if pasted.is_empty() {
        page.error = Some("Paste a token or a Cookie header to test.".into());
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    // Named as the command names it.
    let directory = match &state.console.facts.ldap {
        Some(ldap) => {
            format!("the LDAP directory {} ({})", ldap.repository_id, ldap.hosts.join(", "))
        }
        None => "the embedded realm".to_owned(),
    };
    let ldap = state.console.facts.ldap.is_some();
    let mut findings = state.service.sso_doctor(&state.sso(), &pasted, &directory, ldap).await;
    page.problems = findings.problems();
    page.findings = Some(findings.take());
    render(StatusCode::OK, &page)
}

/// The ltpa.keys file, as a download nobody caches.
fn download(bytes: Zeroizing<Vec<u8>>) -> Response {
    let mut response = (StatusCode::OK, bytes.to_vec()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"ltpa.keys\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Back to the page, saying what was done.
fn done(code: &'static str) -> Response {
    super::actions::redirect(&format!("/console/sso?done={code}"))
}

/// The sentence for a `done=` code.
fn notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "rotated" => {
            "New keys made. This server signs with them now and accepts the replaced keys' \
             tokens for the time chosen. Export them for the other servers of the SSO domain."
        }
        "saved" => {
            "Saved to the configuration file and in use now. Give the other servers of the SSO \
             domain the same domain, cookie names and expiry."
        }
        "saved-restart" => {
            "Saved to the configuration file. The cookies' domains and names are in use now; \
             requiring SSL and the expiry apply when simul serve restarts."
        }
        "imported" => {
            "Imported. This server signs with the new keys now and accepts the replaced keys' \
             tokens for the time chosen."
        }
        _ => return None,
    })
}

/// A refusal of the service, in its own words (which never hold a key
/// or a password), else the log's.
fn failed(state: &AppState, admin: &Admin, error: &ServiceError) -> Response {
    let why = match error {
        ServiceError::Invalid(why) => format!("{why}. Nothing was changed."),
        ServiceError::Keys(why) => format!("{why}. The keys in use stay."),
        other => {
            tracing::warn!(error = %other, "console: a key action failed");
            "That did not work; the server log says why. Nothing was changed.".to_owned()
        }
    };
    refused::<SsoPage>(state, admin, &why)
}
