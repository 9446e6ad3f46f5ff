//! Instant messages, their history, and contact lists over HTTP.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use simul_core::{CoreError, UserId};
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
        };
        ApiError::new(status, error.to_string())
    }
}

/// Sends an instant message: delivered to every session of both users and
/// kept in the history before the call returns.
#[utoipa::path(post, path = "/api/v1/im/{user}", tag = "messages",
    params(("user" = String, Path, description = "Recipient's user id")),
    request_body = Text,
    responses(
        (status = 200, body = Sent),
        (status = 400, body = ErrorBody, description = "Empty text"),
        (status = 413, body = ErrorBody, description = "Text over 10,000 characters"),
    ))]
pub(crate) async fn send_im(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(to): ApiPath<String>,
    ApiJson(body): ApiJson<Text>,
) -> Result<Json<Sent>, ApiError> {
    let (from, recipient) = (UserId::new(&caller.user), UserId::new(&to));
    Ok(Json(deliver_im(&state, &from, &recipient, body.text).await?))
}

/// Delivers a 1:1 message to every session of both users and keeps it
/// in the history.
pub(crate) async fn deliver_im(
    state: &AppState,
    from: &UserId,
    recipient: &UserId,
    text: String,
) -> Result<Sent, ApiError> {
    let at = Utc::now();
    let delivered = state.hub.apply(|community| {
        let deliveries = community.send_im_as(from, None, recipient, &text, at)?;
        Ok((community.is_online(recipient), deliveries))
    })?;
    keep(state, from, recipient, text, at).await?;
    Ok(Sent { at: at.to_rfc3339(), delivered: Some(delivered) })
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
    let messages = state
        .store
        .im_history(&caller.user, &with, HISTORY_LIMIT)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(
        messages
            .into_iter()
            .map(|m| HistoryEntry { at: m.at.to_rfc3339(), from: m.from, to: m.to, text: m.text })
            .collect(),
    ))
}

/// Counts and stores a message that the hub delivered.
pub(crate) async fn keep(
    state: &AppState,
    from: &UserId,
    to: &UserId,
    text: String,
    at: chrono::DateTime<Utc>,
) -> Result<(), ApiError> {
    metrics::counter!("simul_messages_total", "kind" => "im").increment(1);
    let message = StoredIm { from: from.to_string(), to: to.to_string(), text, at };
    state.store.append_im(&message).await.map_err(ApiError::internal)
}

/// The caller's contact list.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts",
    responses((status = 200, body = ContactList), (status = 401, body = ErrorBody)))]
pub(crate) async fn contacts(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
) -> Result<Json<ContactList>, ApiError> {
    Ok(Json(state.store.contact_list(&caller.user).await.map_err(ApiError::internal)?))
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
    state.store.set_contact_list(&caller.user, &list).await.map_err(ApiError::internal)?;
    Ok(Json(list))
}
