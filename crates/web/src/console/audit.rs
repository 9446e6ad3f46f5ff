//! `/console/audit`: the administrators' acts, filtered by who, what and
//! since when, and downloaded as CSV or JSON: the service function that
//! `simul audit [--since WHEN] [--actor WHO] [--action WHAT] [--json |
//! --csv]` calls, with the same filter.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use simul_service::{AuditEntry, AuditFilter};

use super::Admin;
use super::pages::{Nav, Refusal, render, time};
use crate::AppState;

/// How many acts the page shows (the download has up to
/// [`simul_service::MAX_AUDIT_ENTRIES`]).
const AUDIT_PAGE: usize = 200;

/// The kinds of act the filter suggests (what the console and the
/// commands write; any other text is matched as typed).
const ACTIONS: [&str; 22] = [
    "disable",
    "enable",
    "grant-admin",
    "revoke-admin",
    "reset-password",
    "end-session",
    "add-user",
    "remove-user",
    "policy-create",
    "policy-set",
    "policy-assign",
    "policy-unassign",
    "policy-remove",
    "rotate-ltpa-keys",
    "import-ltpa-keys",
    "export-ltpa-keys",
    "announce",
    "log-level",
    "log-level-saved",
    "diagnostics",
    "test-directory",
    "sso-settings",
];

/// The periods the filter offers, as `simul audit --since` takes them.
const PERIODS: [(&str, &str); 5] = [
    ("", "any time"),
    ("1h", "last hour"),
    ("24h", "last 24 hours"),
    ("7d", "last 7 days"),
    ("30d", "last 30 days"),
];

/// One act on the page.
struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: String,
    origin: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
pub(super) struct AuditPage {
    nav: Nav,
    query: FilterQuery,
    actions: [&'static str; ACTIONS.len()],
    periods: [(&'static str, &'static str); PERIODS.len()],
    /// The query string of the filter, for the download links.
    filter: String,
    entries: Vec<AuditRow>,
    more: bool,
    most: u32,
    error: Option<String>,
}

/// The filter as the form sends it (`since` as `simul audit` takes it).
#[derive(Debug, Default, Deserialize)]
pub(super) struct FilterQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    since: String,
}

impl FilterQuery {
    /// `actor=...&action=...&since=...`, for the download links.
    fn to_query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("actor", &self.actor)
            .append_pair("action", &self.action)
            .append_pair("since", &self.since)
            .finish()
    }

    /// The service's filter, or a sentence on what is wrong with `since`.
    fn filter(&self) -> Result<AuditFilter, String> {
        let since = self.since.trim();
        let since_ms =
            if since.is_empty() { 0 } else { simul_service::parse_since(since, Utc::now())? };
        Ok(AuditFilter {
            since_ms,
            actor: self.actor.trim().to_owned(),
            action: self.action.trim().to_owned(),
        })
    }
}

/// The acts the filter lets through, or the answer to give instead.
async fn read(state: &AppState, filter: &AuditFilter) -> Result<Vec<AuditEntry>, Response> {
    state.service.administration().audit(filter).await.map_err(|error| {
        tracing::warn!(%error, "console: cannot read the audit log");
        render(StatusCode::SERVICE_UNAVAILABLE, &Refusal::unavailable())
    })
}

/// `GET /console/audit?actor=&action=&since=`: the latest acts, newest
/// first.
pub(super) async fn page(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Query(query): Query<FilterQuery>,
) -> Response {
    let (entries, error) = match query.filter() {
        Ok(filter) => match read(&state, &filter).await {
            Ok(entries) => (entries, None),
            Err(response) => return response,
        },
        Err(error) => (Vec::new(), Some(error)),
    };
    let more = entries.len() > AUDIT_PAGE;
    let entries = entries
        .into_iter()
        .take(AUDIT_PAGE)
        .map(|entry| AuditRow {
            at: DateTime::<Utc>::from_timestamp_millis(entry.at_ms).map(time).unwrap_or_default(),
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            origin: entry.origin,
        })
        .collect();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = AuditPage {
        nav: Nav::of(&admin, "audit"),
        filter: query.to_query_string(),
        query,
        actions: ACTIONS,
        periods: PERIODS,
        entries,
        more,
        most: simul_service::MAX_AUDIT_ENTRIES,
        error,
    };
    render(status, &page)
}

/// `?format=csv|json` and the page's filter.
#[derive(Debug, Deserialize)]
pub(super) struct ExportQuery {
    #[serde(default)]
    format: String,
    #[serde(flatten)]
    filter: FilterQuery,
}

/// `GET /console/audit/export?format=csv|json&...`: the filtered acts as
/// a download (`simul audit --csv|--json` prints the same).
pub(super) async fn export(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let filter = match query.filter.filter() {
        Ok(filter) => filter,
        Err(error) => return (StatusCode::UNPROCESSABLE_ENTITY, error).into_response(),
    };
    let entries = match read(&state, &filter).await {
        Ok(entries) => entries,
        Err(response) => return response,
    };
    let (body, kind, extension) = match query.format.as_str() {
        "json" => match serde_json::to_string_pretty(&entries) {
            Ok(json) => (json, "application/json", "json"),
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        "csv" | "" => (simul_service::audit_csv(&entries), "text/csv; charset=utf-8", "csv"),
        _ => {
            return (StatusCode::BAD_REQUEST, "format is csv or json").into_response();
        }
    };
    let name = format!("simul-audit-{}.{extension}", Utc::now().format("%Y%m%d-%H%M%S"));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
