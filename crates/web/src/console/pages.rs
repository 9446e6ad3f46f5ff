//! The console's pages (askama templates under `templates/console`,
//! escaped by default: a display name is shown as text, whatever it holds).

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use simul_service::Person;

use super::Admin;
use crate::AppState;

/// Console pages load only this server's style sheets; no script at all.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// How many people a search shows.
const SEARCH_LIMIT: u32 = 50;

/// A page as an HTML answer under the console's policy.
pub(super) fn render(status: StatusCode, page: &impl Template) -> Response {
    let html = match page.render() {
        Ok(html) => html,
        Err(error) => {
            tracing::error!(%error, "console: a page did not render");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut response =
        (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let headers = response.headers_mut();
    headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    // Under `no-referrer` a browser's form POST says `Origin: null`, which
    // the guard refuses: the console's forms name their own origin.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// The bar every page shows: who is signed in, which page is open.
pub(super) struct Nav {
    pub(super) admin: String,
    pub(super) page: &'static str,
    /// For the sign-out form every page shows.
    pub(super) csrf: String,
}

impl Nav {
    pub(super) fn of(admin: &Admin, page: &'static str) -> Self {
        Self { admin: admin.user.clone(), page, csrf: admin.csrf.clone() }
    }
}

/// A refused console request, as a page.
#[derive(Template)]
#[template(path = "console/refused.html")]
pub(super) struct Refusal {
    title: &'static str,
    message: String,
    sign_in: bool,
}

impl Refusal {
    pub(super) fn sign_in() -> Self {
        Self {
            title: "Sign in to the console",
            message: "The console is for administrators. Sign in with your Simul account; you \
                      come back here afterwards."
                .into(),
            sign_in: true,
        }
    }

    pub(super) fn change_password() -> Self {
        Self {
            title: "Change your one-time password first",
            message: "Your password was set for you. Sign in to Simul and choose your own; then \
                      open the console again."
                .into(),
            sign_in: true,
        }
    }

    pub(super) fn not_admin(user: &str) -> Self {
        Self {
            title: "You are not an administrator",
            message: format!(
                "You are signed in as {user}, who does not have the administrator role. An \
                 administrator can give it to you (simul user admin NAME)."
            ),
            sign_in: false,
        }
    }

    pub(super) fn unavailable() -> Self {
        Self {
            title: "The console cannot tell who you are right now",
            message: "The directory or the database did not answer. Try again in a moment.".into(),
            sign_in: false,
        }
    }

    pub(super) fn bad_form() -> Self {
        Self {
            title: "That form expired",
            message: "The change was not made: it did not come from a console page of this \
                      session. Go back, reload the page and try again."
                .into(),
            sign_in: false,
        }
    }
}

/// One front door on the overview.
struct DoorRow {
    door: &'static str,
    addresses: Vec<String>,
    sessions: usize,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
pub(super) struct OverviewPage {
    nav: Nav,
    version: &'static str,
    uptime: String,
    sessions: usize,
    online: usize,
    doors: Vec<DoorRow>,
    directory: String,
    directory_ok: bool,
    store_ok: bool,
    certificate: Option<(String, String, i64)>,
    realm: String,
    shared_key: String,
    public_key: String,
    warnings: Vec<String>,
    logins_per_second: String,
    messages_per_second: String,
}

/// `GET /console`: the overview.
pub(super) async fn overview(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
) -> Response {
    let facts = &state.console.facts;
    let per_door = state.service.sessions_per_door();
    let listeners = facts.listeners().clone();
    let doors = ["web", "vp", "xmpp"]
        .into_iter()
        .filter_map(|door| {
            let addresses: Vec<String> =
                listeners.iter().filter(|l| l.door == door).map(|l| l.address.clone()).collect();
            let sessions = per_door.get(door).copied().unwrap_or_default();
            (!addresses.is_empty() || sessions > 0).then_some(DoorRow { door, addresses, sessions })
        })
        .collect();
    let readiness = state.service.readiness().await;
    let keys = state.service.keys().current();
    let mut warnings = Vec::new();
    // Read now: an import changes it while the server runs.
    let served = state.service.certificates().and_then(|c| c.server().ok().flatten());
    let certificate = served.and_then(|server| {
        let first = server.chain.first()?;
        let days = (first.not_after - Utc::now()).num_days();
        if first.expires_soon(Utc::now()) {
            warnings.push(format!(
                "The HTTPS certificate expires on {} ({days} days): import its successor on the \
                 Certificates page before browsers refuse it.",
                first.not_after.format("%Y-%m-%d")
            ));
        }
        Some((
            format!("{} certificate {}", server.origin, server.file.display()),
            first.not_after.format("%Y-%m-%d %H:%M UTC").to_string(),
            days,
        ))
    });
    if facts.embedded
        && matches!(state.service.person("admin").await, Ok(Some(admin)) if admin.must_change_password)
    {
        warnings.push(
            "The first start's one-time password of admin is still unchanged: sign in as admin \
             and choose a password."
                .into(),
        );
    }
    if !readiness.directory {
        warnings.push("The directory does not answer: sign-ins fail until it does.".into());
    }
    if !readiness.store {
        warnings.push("The database does not answer.".into());
    }
    if let Some(server) = state.service.directory_failover() {
        warnings.push(format!(
            "LDAP failover active: the primary directory server did not answer, so {server} \
             serves sign-ins. Bring the primary back; Simul returns to it at the next refresh."
        ));
    }
    match state.service.administration().keys_shared().await {
        Ok(false) if state.service.key_files().is_some() => warnings.push(
            "LTPA keys never exported: no other server of the SSO domain can accept this \
             server's tokens yet. Export them on the Single sign-on page (or simul ltpa export) \
             and import them into WebSphere or Domino."
                .into(),
        ),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "console: cannot read the audit log"),
    }
    let throughput = state.service.throughput();
    let page = OverviewPage {
        nav: Nav::of(&admin, "overview"),
        version: env!("CARGO_PKG_VERSION"),
        uptime: uptime(state.console.started.elapsed()),
        sessions: per_door.values().sum(),
        online: state.service.online_users().len(),
        doors,
        directory: facts.directory.clone(),
        directory_ok: readiness.directory,
        store_ok: readiness.store,
        certificate,
        realm: state.service.realm_name().to_owned(),
        shared_key: keys.signing.shared_key_fingerprint(),
        public_key: keys.signing.public_key_fingerprint(),
        warnings,
        logins_per_second: format!("{:.2}", throughput.logins_per_second),
        messages_per_second: format!("{:.2}", throughput.messages_per_second),
    };
    render(StatusCode::OK, &page)
}

/// `3 d 4 h`, `2 h 5 min`, `40 s`.
fn uptime(elapsed: std::time::Duration) -> String {
    let seconds = elapsed.as_secs();
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, _) => format!("{minutes} min"),
        (0, _, _) => format!("{hours} h {minutes} min"),
        _ => format!("{days} d {hours} h"),
    }
}

/// A person in a list or on their card.
pub(super) struct PersonRow {
    person: Person,
    admin: bool,
    sessions: usize,
}

#[derive(Template)]
#[template(path = "console/users.html")]
pub(super) struct UsersPage {
    nav: Nav,
    query: String,
    searched: bool,
    people: Vec<PersonRow>,
}

/// `?q=`: what to look for.
#[derive(Debug, Deserialize)]
pub(super) struct Search {
    #[serde(default)]
    q: String,
}

/// `GET /console/users?q=`: people whose name, id or mail contains the
/// query, and the person with exactly that id (disabled ones too, so that
/// they can be enabled again).
pub(super) async fn users(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Query(search): Query<Search>,
) -> Response {
    let query = search.q.trim().to_owned();
    let mut found = Vec::new();
    if !query.is_empty() {
        if let Ok(Some(person)) = state.service.person(&query).await {
            found.push(person);
        }
        match state.service.search(&query, SEARCH_LIMIT).await {
            Ok(people) => found.extend(people),
            Err(error) => tracing::warn!(%error, "console: search failed"),
        }
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|person| seen.insert(person.id.clone()));
    let mut people = Vec::with_capacity(found.len());
    for person in found {
        people.push(row(&state, person).await);
    }
    let page =
        UsersPage { nav: Nav::of(&admin, "users"), searched: !query.is_empty(), query, people };
    render(StatusCode::OK, &page)
}

async fn row(state: &AppState, person: Person) -> PersonRow {
    let admin = state.service.is_admin(&person.id).await.unwrap_or(false);
    let sessions = state.service.sessions_of(&person.id).len();
    PersonRow { person, admin, sessions }
}

/// One live session on a card.
struct SessionRow {
    id: String,
    door: &'static str,
    address: String,
    since: String,
}

#[derive(Template)]
#[template(path = "console/user.html")]
pub(super) struct UserPage {
    nav: Nav,
    csrf: String,
    row: PersonRow,
    sessions: Vec<SessionRow>,
    embedded: bool,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

/// `?id=` and what the last action did.
#[derive(Debug, Deserialize)]
pub(super) struct CardQuery {
    #[serde(default)]
    id: String,
    done: Option<String>,
    error: Option<String>,
}

/// `GET /console/user?id=`: a person's card, sessions and actions.
pub(super) async fn user(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Query(query): Query<CardQuery>,
) -> Response {
    let person = match state.service.person(&query.id).await {
        Ok(Some(person)) => person,
        _ => {
            let page = UsersPage {
                nav: Nav::of(&admin, "users"),
                query: query.id,
                searched: true,
                people: Vec::new(),
            };
            return render(StatusCode::NOT_FOUND, &page);
        }
    };
    let sessions = state
        .service
        .sessions_of(&person.id)
        .into_iter()
        .map(|(id, origin)| SessionRow {
            id: id.to_string(),
            door: origin.door,
            address: origin.address.to_string(),
            since: time(origin.since),
        })
        .collect();
    let page = UserPage {
        nav: Nav::of(&admin, "users"),
        csrf: admin.csrf.clone(),
        row: row(&state, person).await,
        sessions,
        embedded: state.console.facts.embedded,
        notice: query.done.as_deref().and_then(super::actions::notice),
        error: query.error.as_deref().and_then(super::actions::problem),
    };
    render(StatusCode::OK, &page)
}

pub(super) fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}
