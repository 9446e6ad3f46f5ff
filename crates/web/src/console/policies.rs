//! The console's policy pages: the list, one policy's settings with a
//! form to change them, its assignments, and removal. Each change is the
//! service function `simul policy` calls ([`simul_service::Policies`]),
//! so input is checked alike and the audit log written alike. A refused
//! change shows the page again with the service's sentence (escaped) and
//! nothing changed.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use simul_service::policy::{Assignee, Setting, is_builtin};
use simul_service::{PolicyBook, ServiceError};

use super::Admin;
use super::pages::{Nav, Refusal, render};
use crate::AppState;

/// One policy in the list.
struct PolicyRow {
    name: String,
    builtin: bool,
    sets: String,
    assigned: String,
}

#[derive(Template)]
#[template(path = "console/policies.html")]
pub(super) struct PoliciesPage {
    nav: Nav,
    csrf: String,
    policies: Vec<PolicyRow>,
    notice: Option<&'static str>,
    /// Why the last change was refused (else empty).
    error: String,
    /// The create form's fields, kept after a refusal.
    new_name: String,
    new_settings: String,
}

/// One setting on a policy's page.
struct SettingRow {
    key: &'static str,
    describe: &'static str,
    value: String,
    /// Yes-or-no (a select) or a limit (a text field).
    switch: bool,
    /// The policy it comes from, if not this one (else empty).
    inherited: String,
}

/// One assignment on a policy's page.
struct AssignmentRow {
    to: String,
    /// `user` or `group`, and the id or DN: the unassign form's fields.
    kind: &'static str,
    assignee: String,
    weight: u32,
}

#[derive(Template)]
#[template(path = "console/policy.html")]
pub(super) struct PolicyPage {
    nav: Nav,
    csrf: String,
    name: String,
    builtin: bool,
    settings: Vec<SettingRow>,
    assignments: Vec<AssignmentRow>,
    notice: Option<&'static str>,
    /// Why the last change was refused (else empty).
    error: String,
}

/// `?done=` after a change.
#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    done: Option<String>,
}

/// `GET /console/policies`: every policy, what it sets, whom it is
/// assigned to, and a form that creates one.
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Query(query): Query<ListQuery>,
) -> Response {
    let notice = query.done.as_deref().and_then(notice);
    list_page(&state, &admin, StatusCode::OK, (notice, None), (String::new(), String::new())).await
}

/// The list, with what the last change did (or why it was refused) and
/// the create form's fields.
async fn list_page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    (notice, error): (Option<&'static str>, Option<String>),
    (new_name, new_settings): (String, String),
) -> Response {
    let Some(book) = book(state).await else { return unavailable() };
    let policies = book
        .policies
        .iter()
        .map(|policy| {
            let sets: Vec<String> = policy
                .settings
                .iter()
                .map(|(setting, value)| format!("{setting}={value}"))
                .collect();
            let assigned: Vec<String> = book
                .assigned(&policy.name)
                .map(|a| format!("{} (weight {})", a.to, a.weight))
                .collect();
            PolicyRow {
                name: policy.name.clone(),
                builtin: is_builtin(&policy.name),
                sets: sets.join(" "),
                assigned: assigned.join(", "),
            }
        })
        .collect();
    let page = PoliciesPage {
        nav: Nav::of(admin, "policies"),
        csrf: admin.csrf.clone(),
        policies,
        notice,
        error: error.unwrap_or_default(),
        new_name,
        new_settings,
    };
    render(status, &page)
}

/// `?name=` and what the last change did.
#[derive(Debug, Deserialize)]
pub(super) struct PolicyQuery {
    #[serde(default)]
    name: String,
    done: Option<String>,
}

/// `GET /console/policy?name=`: every setting of a policy, where each
/// value comes from, a form to change them, and its assignments.
pub(super) async fn show(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Query(query): Query<PolicyQuery>,
) -> Response {
    let notice = query.done.as_deref().and_then(notice);
    policy_page(&state, &admin, &query.name, notice, None).await
}

async fn policy_page(
    state: &AppState,
    admin: &Admin,
    name: &str,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let Some(book) = book(state).await else { return unavailable() };
    if book.get(name).is_none() {
        let error = Some(format!("There is no policy “{name}”."));
        let form = (String::new(), String::new());
        return list_page(state, admin, StatusCode::NOT_FOUND, (None, error), form).await;
    }
    let settings = book
        .settings_of(name)
        .into_iter()
        .map(|(setting, value, from)| SettingRow {
            key: setting.key(),
            describe: setting.describe(),
            value: value.to_string(),
            switch: matches!(value, simul_service::policy::Value::Switch(_)),
            inherited: if from == name { String::new() } else { from },
        })
        .collect();
    let assignments = book
        .assigned(name)
        .map(|a| {
            let (kind, assignee) = match &a.to {
                Assignee::User(id) => ("user", id.clone()),
                Assignee::Group(dn) => ("group", dn.clone()),
            };
            AssignmentRow { to: a.to.to_string(), kind, assignee, weight: a.weight }
        })
        .collect();
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let page = PolicyPage {
        nav: Nav::of(admin, "policies"),
        csrf: admin.csrf.clone(),
        name: name.to_owned(),
        builtin: is_builtin(name),
        settings,
        assignments,
        notice,
        error: error.unwrap_or_default(),
    };
    render(status, &page)
}

/// `POST /console/policy/set`: `name`, and either `settings` (the create
/// form's `KEY=VALUE ...`) or one field per setting (the policy page's
/// form, every field filled in with what applies now: only those changed
/// are set, so that what a custom policy takes from `default` stays so).
pub(super) async fn set(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_owned());
    let name = field("name").unwrap_or_default();
    let Some(book) = book(&state).await else { return unavailable() };
    let pairs: Vec<String> = match field("settings") {
        Some(text) => text.split_whitespace().map(str::to_owned).collect(),
        None => {
            let now = book.settings_of(&name);
            fields
                .iter()
                .filter_map(|(key, value)| {
                    let setting = Setting::from_key(key)?;
                    let current = now.iter().find(|(s, ..)| *s == setting)?.1.to_string();
                    (value.trim() != current).then(|| format!("{key}={}", value.trim()))
                })
                .collect()
        }
    };
    let creating = field("settings").is_some();
    if pairs.is_empty() && !creating {
        return redirect(&format!("/console/policy?name={}", encode(&name)), "unchanged");
    }
    match state.service.policies().set(&admin.actor(), &name, &pairs[..]).await {
        Ok(created) => {
            let done = if created { "created" } else { "set" };
            redirect(&format!("/console/policy?name={}", encode(&name)), done)
        }
        Err(error) if creating => {
            let form = (name, field("settings").unwrap_or_default());
            let refused = (None, Some(sentence(&error)));
            list_page(&state, &admin, StatusCode::BAD_REQUEST, refused, form).await
        }
        Err(error) => policy_page(&state, &admin, &name, None, Some(sentence(&error))).await,
    }
}

/// An assignment to make.
#[derive(Debug, Deserialize)]
pub(super) struct AssignForm {
    name: String,
    /// `user` or `group`.
    kind: String,
    assignee: String,
    #[serde(default)]
    weight: String,
}

/// `POST /console/policy/assign`: a custom policy to a user or group.
pub(super) async fn assign(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Form(form): Form<AssignForm>,
) -> Response {
    let weight = match form.weight.trim() {
        "" => Ok(0),
        text => text.parse::<u32>().map_err(|_| {
            format!("The weight “{text}” is not a whole number from 0 to {}.", u32::MAX)
        }),
    };
    let to = match form.kind.as_str() {
        "group" => Assignee::Group(form.assignee.clone()),
        _ => Assignee::User(form.assignee.clone()),
    };
    let done = match weight {
        Ok(weight) => state
            .service
            .policies()
            .assign(&admin.actor(), &form.name, to, weight)
            .await
            .map_err(|error| sentence(&error)),
        Err(error) => Err(error),
    };
    match done {
        Ok(_) => redirect(&format!("/console/policy?name={}", encode(&form.name)), "assigned"),
        Err(error) => policy_page(&state, &admin, &form.name, None, Some(error)).await,
    }
}

/// An assignment to take away: `kind` and `assignee` as the page lists
/// them.
#[derive(Debug, Deserialize)]
pub(super) struct UnassignForm {
    name: String,
    /// `user` or `group`.
    kind: String,
    assignee: String,
}

/// `POST /console/policy/unassign`: a custom policy taken away from a user
/// or group.
pub(super) async fn unassign(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Form(form): Form<UnassignForm>,
) -> Response {
    let to = match form.kind.as_str() {
        "group" => Assignee::Group(form.assignee),
        _ => Assignee::User(form.assignee),
    };
    match state.service.policies().unassign(&admin.actor(), &form.name, to).await {
        Ok(_) => redirect(&format!("/console/policy?name={}", encode(&form.name)), "unassigned"),
        Err(error) => policy_page(&state, &admin, &form.name, None, Some(sentence(&error))).await,
    }
}

/// A policy to remove.
#[derive(Debug, Deserialize)]
pub(super) struct RemoveForm {
    name: String,
}

/// `POST /console/policy/remove`: a custom policy and its assignments.
pub(super) async fn remove(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Form(form): Form<RemoveForm>,
) -> Response {
    match state.service.policies().remove(&admin.actor(), &form.name).await {
        Ok(()) => redirect("/console/policies", "removed"),
        Err(error) => policy_page(&state, &admin, &form.name, None, Some(sentence(&error))).await,
    }
}

/// The policies, or `None` (logged) if the store does not answer.
async fn book(state: &AppState) -> Option<PolicyBook> {
    match state.service.policies().book().await {
        Ok(book) => Some(book),
        Err(error) => {
            tracing::warn!(%error, "console: cannot read the policies");
            None
        }
    }
}

fn unavailable() -> Response {
    render(StatusCode::SERVICE_UNAVAILABLE, &Refusal::unavailable())
}

/// What to tell the administrator of a refused change: the service's
/// sentence for their input, else a fixed one (the log says more).
fn sentence(error: &ServiceError) -> String {
    match error {
        ServiceError::Invalid(_) | ServiceError::NoSuchUser(_) => error.to_string(),
        other => {
            tracing::warn!(error = %other, "console: a policy change failed");
            "That did not work; the server log says why.".into()
        }
    }
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Back to a page after a change, with `done=` saying what happened.
fn redirect(to: &str, done: &str) -> Response {
    let separator = if to.contains('?') { '&' } else { '?' };
    super::actions::redirect(&format!("{to}{separator}done={done}"))
}

/// The sentence for a `done=` code.
fn notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "Policy created. Assign it to users or groups below.",
        "set" => "Saved. Every front door applies it from now on.",
        "unchanged" => "Nothing was changed.",
        "assigned" => "Assigned. It applies from now on.",
        "unassigned" => "Unassigned. They are back on their next heaviest policy from now on.",
        "removed" => "Policy removed. Its users are back on their next heaviest policy.",
        _ => return None,
    })
}
