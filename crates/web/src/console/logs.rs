//! `/console/logs`: log levels per module, now (lost at restart) or also
//! saved to the configuration file; the latest lines matching a filter;
//! and the diagnostics download (configuration without secrets, version,
//! recent lines, metrics). All through the binary's [`LogControl`].

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use chrono::Utc;
use serde::Deserialize;

use super::log_control::LogControl;
use super::pages::{Nav, Refusal, render};
use super::{Admin, Console};
use crate::AppState;

/// How many matching lines the page shows.
const TAIL_LINES: usize = 200;

/// How many recent lines the diagnostics carry.
const DIAGNOSTICS_LINES: usize = 2_000;

/// The modules an administrator usually tunes, for the per-module form
/// (`*` is every module without a level of its own).
const MODULES: [&str; 12] = [
    "*",
    "simul",
    "simul::audit",
    "simul::access",
    "simul_web",
    "simul_service",
    "simul_vp_door",
    "simul_xmpp",
    "simul_directory",
    "simul_store",
    "simul_core",
    "ldap3",
];

/// The levels, most quiet first.
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

#[derive(Template)]
#[template(path = "console/logs.html")]
pub(super) struct LogsPage {
    nav: Nav,
    csrf: String,
    available: bool,
    filter: String,
    /// Each module's name and its label.
    modules: Vec<(&'static str, &'static str)>,
    /// Each level and whether the form starts on it.
    levels: Vec<(&'static str, bool)>,
    query: String,
    lines: Vec<String>,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// `?q=` (the lines' filter) and what the last change did.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    q: String,
    done: Option<String>,
}

impl Console {
    fn log_control(&self) -> Option<&dyn LogControl> {
        self.logs.as_deref()
    }
}

/// `GET /console/logs`.
pub(super) async fn page(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Query(query): Query<PageQuery>,
) -> Response {
    let notice = query.done.as_deref().and_then(notice);
    logs_page(&state, &admin, query.q, notice, None)
}

/// The page, with what the last change did.
fn logs_page(
    state: &AppState,
    admin: &Admin,
    query: String,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let control = state.console.log_control();
    let page = LogsPage {
        nav: Nav::of(admin, "logs"),
        csrf: admin.csrf.clone(),
        available: control.is_some(),
        filter: control.map(LogControl::filter).unwrap_or_default(),
        modules: MODULES
            .iter()
            .map(|module| (*module, if *module == "*" { "every other module" } else { module }))
            .collect(),
        levels: LEVELS.iter().map(|level| (*level, *level == "info")).collect(),
        lines: control.map(|c| c.recent(query.trim(), TAIL_LINES)).unwrap_or_default(),
        query,
        notice,
        error: error.clone(),
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    render(status, &page)
}

/// The level form: a whole filter, or one module's level; applied now,
/// or also saved (`scope=saved`). The guard checked the CSRF field.
#[derive(Debug, Deserialize)]
pub(super) struct LevelForm {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    module: Option<String>,
    #[serde(default)]
    level: Option<String>,
    scope: String,
}

/// `POST /console/logs/level`: back to the page when it worked; the page
/// with the sentence saying why (status 422) when it did not.
pub(super) async fn set_level(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Form(form): Form<LevelForm>,
) -> Response {
    let refused = |problem: String| logs_page(&state, &admin, String::new(), None, Some(problem));
    let Some(control) = state.console.log_control() else {
        return refused("This server does not let the console change its logs.".into());
    };
    let filter = match (&form.module, &form.level, &form.filter) {
        (Some(module), Some(level), _) => with_directive(&control.filter(), module, level),
        (_, _, Some(filter)) => filter.trim().to_owned(),
        _ => return refused("Nothing changed: give a filter, or a module and a level.".into()),
    };
    if let Err(problem) = control.apply(&filter) {
        return refused(format!("Nothing changed: {problem}"));
    }
    let save = form.scope == "saved";
    let saved = if save { Some(control.save(&filter)) } else { None };
    let action = if matches!(saved, Some(Ok(_))) { "log-level-saved" } else { "log-level" };
    if let Err(error) = state.service.administration().record(&admin.actor(), action, &filter).await
    {
        tracing::warn!(%error, "console: the audit log was not written");
    }
    tracing::info!(%filter, admin = %admin.user, action, "log filter changed");
    match saved {
        Some(Err(problem)) => refused(format!("Applied now, but not saved: {problem}")),
        Some(Ok(_)) => back("saved"),
        None => back("applied"),
    }
}

/// Back to the page, saying what happened.
fn back(done: &'static str) -> Response {
    super::actions::redirect(&format!("/console/logs?done={done}"))
}

fn notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "applied" => "Applied now. A restart goes back to the configuration's levels.",
        "saved" => "Applied now and saved to the configuration file for the next start.",
        _ => return None,
    })
}

/// `filter` with `module` at `level` (`*`: the level of every module
/// without one of its own), its other directives kept in order.
fn with_directive(filter: &str, module: &str, level: &str) -> String {
    let module = module.trim();
    let everything = module.is_empty() || module == "*";
    let mut directives: Vec<String> = filter
        .split(',')
        .map(str::trim)
        .filter(|directive| !directive.is_empty())
        .filter(|directive| match directive.split_once('=') {
            Some((target, _)) => everything || target != module,
            None => !everything,
        })
        .map(str::to_owned)
        .collect();
    if everything {
        directives.insert(0, level.trim().to_owned());
    } else {
        directives.push(format!("{module}={}", level.trim()));
    }
    directives.join(",")
}

/// `POST /console/logs/diagnostics`: one text file to hand to support,
/// with every secret the process knows removed.
pub(super) async fn diagnostics(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
) -> Response {
    let Some(control) = state.console.log_control() else {
        return render(StatusCode::NOT_FOUND, &Refusal::unavailable());
    };
    let now = Utc::now();
    let mut text = format!(
        "# Simul diagnostics\n\ngenerated: {}\nversion: {}\nplatform: {} {}\nuptime_seconds: \
         {}\nlog filter: {}\nsessions per door: {:?}\n\n## Configuration (secrets removed)\n\n{}\n",
        now.to_rfc3339(),
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        state.console.started.elapsed().as_secs(),
        control.filter(),
        state.service.sessions_per_door(),
        control.configuration(),
    );
    text.push_str("## Metrics\n\n");
    text.push_str(&crate::telemetry::handle().render());
    let lines = control.recent("", DIAGNOSTICS_LINES);
    text.push_str(&format!("\n## The latest {} log lines\n\n", lines.len()));
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    if let Err(error) =
        state.service.administration().record(&admin.actor(), "diagnostics", "").await
    {
        tracing::warn!(%error, "console: the audit log was not written");
    }
    let name = format!("simul-diagnostics-{}.txt", now.format("%Y%m%dT%H%M%SZ"));
    let disposition = format!("attachment; filename=\"{name}\"");
    let mut response = (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        // Last: whatever reached the text (a metric label, a line) is scrubbed.
        control.scrub(&text),
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::with_directive;

    #[test]
    fn one_module_changes_and_the_rest_stays() {
        assert_eq!(with_directive("info", "simul_web", "debug"), "info,simul_web=debug");
        assert_eq!(
            with_directive("info,simul_web=debug,simul_xmpp=warn", "simul_web", "trace"),
            "info,simul_xmpp=warn,simul_web=trace"
        );
        assert_eq!(with_directive("info,simul_web=debug", "*", "warn"), "warn,simul_web=debug");
        assert_eq!(with_directive("", "simul::audit", "off"), "simul::audit=off");
    }
}
