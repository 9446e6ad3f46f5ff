//! Instant messages, their history, and contact lists over HTTP.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use simul_core::{CoreError, SessionId, UserId};
use simul_store::{ContactList, StoredIm};
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::{ApiJson, ApiPath, ErrorBody};
use crate::{ApiError, AppState};

/// Messages returned by one history call (1:1 and n-way).
pub(crate) const HISTORY_LIMIT: u32 = 200;
/// Most groups and contacts a contact list may hold.
const MAX_GROUPS: usize = 100;
const MAX_CONTACTS: usize = 2_000;

/// A message body (1:1 and n-way).
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Text {
    /// The message (at most 10,000 characters).
    #[schema(min_length = 1, max_length = 10000, pattern = "\\S")]
    pub(crate) text: String,
}

/// When a message was sent (RFC 3339).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Sent {
    /// The recipient's user id, as the directory spells it (1:1 messages
    /// only; the path may name them by login name, mail or another
    /// spelling of the DN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) to: Option<String>,
    /// RFC 3339 time stamp.
    pub(crate) at: String,
    /// Whether the recipient had a session open (1:1 messages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) delivered: Option<bool>,
}

/// One message of a 1:1 history.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HistoryEntry {
    from: String,
    to: String,
    text: String,
    /// RFC 3339 time stamp.
    at: String,
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        let status = match &error {
            CoreError::EmptyText => StatusCode::BAD_REQUEST,
            CoreError::TextTooLong { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            CoreError::UnknownChat(_) => StatusCode::NOT_FOUND,
            CoreError::NotInvited(_) | CoreError::NotMember(_) => StatusCode::FORBIDDEN,
            CoreError::UnknownSession(_) => StatusCode::CONFLICT,
            CoreError::TooManySessions { .. } => StatusCode::TOO_MANY_REQUESTS,
            CoreError::WatchListFull { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        };
        ApiError::new(status, error.to_string())
    }
}

/// Sends an instant message: delivered to every session of both users and
/// kept in the history before the call returns.
#[utoipa::path(post, path = "/api/v1/im/{user}", tag = "messages",
    params(("user" = String, Path, description = "Recipient: user id, login name or mail")),
    request_body = Text,
    responses(
        (status = 200, body = Sent),
        (status = 400, body = ErrorBody, description = "Empty text"),
        (status = 404, body = ErrorBody, description = "Nobody of that name"),
        (status = 413, body = ErrorBody, description = "Text over 10,000 characters"),
        (status = 429, body = ErrorBody, description = "Too many messages (server.messages_per_minute)"),
    ))]
pub(crate) async fn send_im(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(to): ApiPath<String>,
    ApiJson(body): ApiJson<Text>,
) -> Result<Json<Sent>, ApiError> {
    Ok(Json(deliver_im(&state, &UserId::new(&caller.user), None, &to, body.text).await?))
}

/// Delivers a 1:1 message to every session of both users (but `origin`,
/// the session it came from) and keeps it in the history. The recipient
/// is first found in the directory by whatever name was given, so that
/// nothing is stored for a name nobody reads.
pub(crate) async fn deliver_im(
    state: &AppState,
    from: &UserId,
    origin: Option<SessionId>,
    to: &str,
    text: String,
) -> Result<Sent, ApiError> {
    state.service.message_limits().check(from.as_str())?;
    let recipient = recipient(state, to).await?;
    let at = Utc::now();
    let delivered = state.service.hub().apply(|community| {
        let deliveries = community.send_im_as(from, origin, &recipient, &text, at)?;
        Ok((community.is_online(&recipient), deliveries))
    })?;
    metrics::counter!("simul_messages_total", "kind" => "im").increment(1);
    let message = StoredIm { from: from.to_string(), to: recipient.to_string(), text, at };
    state.service.store().append_im(&message).await?;
    Ok(Sent { to: Some(recipient.to_string()), at: at.to_rfc3339(), delivered: Some(delivered) })
}

/// The user a message or invitation for `name` goes to: the directory's
/// id for a login name, a mail address or any spelling of a DN; 404 for
/// a name the directory does not have (or a disabled account). Where the
/// realm lets in people it does not hold (`accept_unknown_sso_users`),
/// an unknown name is taken as such a person's id.
pub(crate) async fn recipient(state: &AppState, name: &str) -> Result<UserId, ApiError> {
    match state.service.realm().person(name).await? {
        Some(person) if !person.disabled => Ok(UserId::new(person.id)),
        None if !state.service.realm().refuses_strangers() && !name.trim().is_empty() => {
            Ok(UserId::new(name))
        }
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, format!("no such user: {name}"))),
    }
}

/// The latest 200 messages with that user, oldest first.
#[utoipa::path(get, path = "/api/v1/im/{user}/history", tag = "messages",
    params(("user" = String, Path, description = "The other user's id")),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 401, body = ErrorBody)))]
pub(crate) async fn history(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(with): ApiPath<String>,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    let messages = state.service.store().im_history(&caller.user, &with, HISTORY_LIMIT).await?;
    Ok(Json(
        messages
            .into_iter()
            .map(|m| HistoryEntry { at: m.at.to_rfc3339(), from: m.from, to: m.to, text: m.text })
            .collect(),
    ))
}

/// The caller's contact list.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts",
    responses((status = 200, body = ContactList), (status = 401, body = ErrorBody)))]
pub(crate) async fn contacts(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
) -> Result<Json<ContactList>, ApiError> {
    Ok(Json(state.service.store().contact_list(&caller.user).await?))
}

/// Replaces the caller's contact list.
#[utoipa::path(put, path = "/api/v1/contacts", tag = "contacts",
    request_body = ContactList,
    responses(
        (status = 200, body = ContactList),
        (status = 400, body = ErrorBody, description = "A group without a name"),
        (status = 413, body = ErrorBody, description = "Over 100 groups or 2,000 contacts"),
    ))]
pub(crate) async fn put_contacts(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiJson(list): ApiJson<ContactList>,
) -> Result<Json<ContactList>, ApiError> {
    let contacts: usize = list.groups.iter().map(|g| g.contacts.len()).sum();
    if list.groups.len() > MAX_GROUPS || contacts > MAX_CONTACTS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a contact list holds at most {MAX_GROUPS} groups and {MAX_CONTACTS} contacts"),
        ));
    }
    if list.groups.iter().any(|g| g.name.trim().is_empty()) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "every group needs a name"));
    }
    state.service.store().set_contact_list(&caller.user, &list).await?;
    Ok(Json(list))
}
