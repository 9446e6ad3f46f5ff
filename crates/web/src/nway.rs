//! N-way chats over HTTP; their events go out on the WebSocket
//! (`nway_invite`, `nway_message`, `nway_members`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use simul_core::{ChatId, UserId};

use crate::auth::Authenticated;
use crate::error::ApiJson;
use crate::messages::Text;
use crate::{ApiError, AppState};

/// `POST /api/v1/nway` body.
#[derive(Debug, Deserialize)]
pub(crate) struct NewChat {
    #[serde(default)]
    invite: Vec<UserId>,
    #[serde(default)]
    topic: String,
}

/// `POST /api/v1/nway/{id}/invite` body.
#[derive(Debug, Deserialize)]
pub(crate) struct Invitees {
    users: Vec<UserId>,
}

pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiJson(body): ApiJson<NewChat>,
) -> Result<Json<Value>, ApiError> {
    let creator = UserId::new(caller.user);
    let chat = state.hub.apply(|c| c.create_chat(&creator, &body.invite, &body.topic))?;
    Ok(Json(json!({ "id": chat })))
}

pub(crate) async fn invite(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    Path(id): Path<u64>,
    ApiJson(body): ApiJson<Invitees>,
) -> Result<Json<Value>, ApiError> {
    let from = UserId::new(caller.user);
    state.hub.run(|c| c.invite(&from, ChatId::from_raw(id), &body.users))?;
    Ok(Json(json!({})))
}

pub(crate) async fn join(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    let user = UserId::new(caller.user);
    let chat = ChatId::from_raw(id);
    let members = state.hub.apply(|c| {
        let deliveries = c.join(&user, chat)?;
        Ok((c.chat_members(chat)?, deliveries))
    })?;
    Ok(Json(json!({ "id": chat, "members": members })))
}

/// `POST /api/v1/nway/{id}/decline`: refuses an invitation.
pub(crate) async fn decline(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    let user = UserId::new(caller.user);
    state.hub.apply(|c| c.decline(&user, ChatId::from_raw(id)).map(|()| ((), Vec::new())))?;
    Ok(Json(json!({})))
}

pub(crate) async fn leave(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    let user = UserId::new(caller.user);
    state.hub.run(|c| c.leave(&user, ChatId::from_raw(id)))?;
    Ok(Json(json!({})))
}

pub(crate) async fn message(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    Path(id): Path<u64>,
    ApiJson(body): ApiJson<Text>,
) -> Result<Json<Value>, ApiError> {
    let from = UserId::new(caller.user);
    let at = Utc::now();
    state.hub.run(|c| c.chat_message(&from, ChatId::from_raw(id), &body.text, at))?;
    Ok(Json(json!({ "at": at.to_rfc3339() })))
}
