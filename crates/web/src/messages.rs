//! Instant messages, their history, and contact lists over HTTP.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use simul_core::{CoreError, UserId};
use simul_store::{ContactList, StoredIm};

use crate::auth::Authenticated;
use crate::error::ApiJson;
use crate::{ApiError, AppState};

/// Messages returned by one history call.
const HISTORY_LIMIT: u32 = 200;
/// Most groups and contacts a contact list may hold.
const MAX_GROUPS: usize = 100;
const MAX_CONTACTS: usize = 2_000;

/// A message body (1:1 and n-way).
#[derive(Debug, Deserialize)]
pub(crate) struct Text {
    pub(crate) text: String,
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

/// `POST /api/v1/im/{user}`: delivered to every session of both users,
/// kept in the history before the call returns.
pub(crate) async fn send_im(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    Path(to): Path<String>,
    ApiJson(body): ApiJson<Text>,
) -> Result<Json<Value>, ApiError> {
    let (from, recipient) = (UserId::new(&caller.user), UserId::new(&to));
    let at = Utc::now();
    let delivered = state.hub.apply(|community| {
        let deliveries = community.send_im_as(&from, None, &recipient, &body.text, at)?;
        Ok((community.is_online(&recipient), deliveries))
    })?;
    keep(&state, &from, &recipient, body.text, at).await?;
    Ok(Json(json!({ "at": at.to_rfc3339(), "delivered": delivered })))
}

/// `GET /api/v1/im/{user}/history`: the latest messages with that user, oldest first.
pub(crate) async fn history(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    Path(with): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let messages = state
        .store
        .im_history(&caller.user, &with, HISTORY_LIMIT)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(
        messages
            .into_iter()
            .map(|m| json!({ "from": m.from, "to": m.to, "text": m.text, "at": m.at.to_rfc3339() }))
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

/// `GET /api/v1/contacts`.
pub(crate) async fn contacts(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
) -> Result<Json<ContactList>, ApiError> {
    Ok(Json(state.store.contact_list(&caller.user).await.map_err(ApiError::internal)?))
}

/// `PUT /api/v1/contacts`: replaces the list.
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
