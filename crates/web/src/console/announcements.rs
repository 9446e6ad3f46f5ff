//! `/console/announcements`: send an announcement to everyone online, a
//! directory group or chosen people (one service function, the one
//! `simul announce` calls), and the latest ones sent.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use simul_service::{Audience, MAX_ANNOUNCEMENT_CHARS, ServiceError};

use super::Admin;
use super::pages::{Nav, Refusal, render, time};
use crate::AppState;

/// One announcement in the list.
struct Row {
    at: String,
    sender: String,
    audience: String,
    text: String,
    reached: String,
}

#[derive(Template)]
#[template(path = "console/announcements.html")]
pub(super) struct AnnouncementsPage {
    nav: Nav,
    csrf: String,
    max_chars: usize,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    rows: Vec<Row>,
}

/// `?done=` or `?error=` after a send.
#[derive(Debug, Deserialize)]
pub(super) struct Outcome {
    done: Option<String>,
    error: Option<String>,
}

/// `GET /console/announcements`.
pub(super) async fn page(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Query(outcome): Query<Outcome>,
) -> Response {
    let announcements = match state.service.administration().announcements().await {
        Ok(announcements) => announcements,
        Err(error) => {
            tracing::warn!(%error, "console: cannot read the announcements");
            return render(StatusCode::SERVICE_UNAVAILABLE, &Refusal::unavailable());
        }
    };
    let rows = announcements
        .into_iter()
        .map(|announcement| Row {
            at: DateTime::<Utc>::from_timestamp_millis(announcement.at_ms)
                .map(time)
                .unwrap_or_default(),
            sender: announcement.sender,
            audience: match announcement.audience {
                Audience::Everyone => "everyone online".into(),
                Audience::Group(dn) => format!("group {dn}"),
                Audience::Users(users) => users.join(", "),
            },
            text: announcement.text,
            reached: announcement
                .reached
                .map_or_else(|| "waiting".into(), |reached| reached.to_string()),
        })
        .collect();
    let page = AnnouncementsPage {
        nav: Nav::of(&admin, "announcements"),
        csrf: admin.csrf.clone(),
        max_chars: MAX_ANNOUNCEMENT_CHARS,
        notice: outcome.done.as_deref().and_then(notice),
        error: outcome.error.as_deref().and_then(problem),
        rows,
    };
    render(StatusCode::OK, &page)
}

/// The send form (the CSRF field was checked by the guard).
#[derive(Debug, Deserialize)]
pub(super) struct SendForm {
    /// `everyone`, `group` or `users`.
    to: String,
    #[serde(default)]
    group: String,
    /// User ids separated by commas or white space.
    #[serde(default)]
    users: String,
    text: String,
}

/// `POST /console/announcements/send`: sends it, then back to the page with a
/// fixed sentence (nothing of the request is echoed).
pub(super) async fn send(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Form(form): Form<SendForm>,
) -> Response {
    let audience = match form.to.as_str() {
        "everyone" => Some(Audience::Everyone),
        "group" => Some(Audience::Group(form.group)),
        "users" => Some(Audience::Users(
            form.users
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|user| !user.is_empty())
                .map(str::to_owned)
                .collect(),
        )),
        _ => None,
    };
    let outcome = match audience {
        None => Err("audience"),
        Some(audience) => {
            match state.service.announce(&admin.actor(), audience, &form.text).await {
                Ok(()) => Ok("sent"),
                Err(error) => Err(code(&error)),
            }
        }
    };
    let query = match outcome {
        Ok(done) => format!("done={done}"),
        Err(problem) => format!("error={problem}"),
    };
    super::actions::redirect(&format!("/console/announcements?{query}"))
}

fn code(error: &ServiceError) -> &'static str {
    match error {
        ServiceError::Invalid(_) => "invalid",
        ServiceError::TooLarge(_) => "too-long",
        ServiceError::NoSuchUser(_) => "no-such-user",
        other => {
            tracing::warn!(error = %other, "console: an announcement failed");
            "failed"
        }
    }
}

fn notice(code: &str) -> Option<&'static str> {
    (code == "sent")
        .then_some("Sent. Everyone it names who is online sees it now, on every front door.")
}

fn problem(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid" => {
            "Nothing was sent: write the text, and name the group's DN or at least one user \
             for those audiences."
        }
        "too-long" => "Nothing was sent: the text is too long. Shorten it or link to a page.",
        "no-such-user" => "Nothing was sent: one of the users named does not exist.",
        "audience" => "Nothing was sent: choose everyone, a group or chosen people.",
        "failed" => "That did not work; the server log says why.",
        _ => return None,
    })
}
