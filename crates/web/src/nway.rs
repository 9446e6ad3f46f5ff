//! N-way chats over HTTP; their events go out on the WebSocket
//! (`nway_invite`, `nway_message`, `nway_members`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use simul_core::{ChatId, UserId};
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::{ApiJson, ApiPath, ApiQuery, Done, ErrorBody};
use crate::message_changes::{MessageState, PageExtras};
use crate::messages::{HistoryQuery, Sent, Text};
use crate::{ApiError, AppState};

/// `POST /api/v1/nway` body.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct NewChat {
    /// User ids to invite.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    invite: Vec<UserId>,
    /// The chat's topic.
    #[serde(default)]
    topic: String,
}

/// `POST /api/v1/nway/{id}/invite` body.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Invitees {
    /// User ids to invite.
    #[schema(value_type = Vec<String>)]
    users: Vec<UserId>,
}

/// A chat and its members.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChatInfo {
    /// The chat's id.
    #[schema(value_type = u64)]
    id: ChatId,
    /// Members' user ids, sorted (empty in the answer to creation).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<String>)]
    members: Vec<UserId>,
}

/// A chat the caller is in or invited to.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChatListing {
    /// The chat's id.
    id: u64,
    /// Its topic.
    topic: String,
    /// Members' user ids, sorted.
    #[schema(value_type = Vec<String>)]
    members: Vec<UserId>,
    /// Whether the caller is invited and has not answered yet.
    invited: bool,
}

/// The chats the caller is in or invited to: what a client shows after
/// signing in or reconnecting (invitations sent while it was away included).
#[utoipa::path(get, path = "/api/v1/nway", tag = "nway",
    responses((status = 200, body = Vec<ChatListing>), (status = 401, body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
) -> Json<Vec<ChatListing>> {
    let user = UserId::new(caller.user);
    let chats = state.service.chats_of(&user);
    Json(
        chats
            .into_iter()
            .map(|c| ChatListing {
                id: c.id.get(),
                topic: c.topic,
                members: c.members,
                invited: c.invited,
            })
            .collect(),
    )
}

/// Starts an n-way chat; the invitees get `nway_invite` events.
#[utoipa::path(post, path = "/api/v1/nway", tag = "nway",
    request_body = NewChat,
    responses(
        (status = 200, body = ChatInfo),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "The caller's policy does not allow \
            n-way chats (`nway_chat`) or inviting someone outside the directory \
            (`external_chat`); `policy` names it"),
        (status = 404, body = ErrorBody, description = "An invitee nobody of that name"),
    ))]
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiJson(body): ApiJson<NewChat>,
) -> Result<Json<ChatInfo>, ApiError> {
    let creator = UserId::new(caller.user);
    let id = state.service.create_chat(&creator, &body.invite, &body.topic).await?;
    Ok(Json(ChatInfo { id, members: Vec::new() }))
}

/// Invites more users to a chat the caller is in.
#[utoipa::path(post, path = "/api/v1/nway/{id}/invite", tag = "nway",
    params(("id" = u64, Path, description = "Chat id")), request_body = Invitees,
    responses((status = 200, body = Done), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn invite(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(id): ApiPath<u64>,
    ApiJson(body): ApiJson<Invitees>,
) -> Result<Json<Done>, ApiError> {
    let from = UserId::new(caller.user);
    state.service.invite(&from, ChatId::from_raw(id), &body.users).await?;
    Ok(Json(Done {}))
}

/// Accepts an invitation; every member gets `nway_members`.
#[utoipa::path(post, path = "/api/v1/nway/{id}/join", tag = "nway", params(("id" = u64, Path, description = "Chat id")),
    responses((status = 200, body = ChatInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn join(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<ChatInfo>, ApiError> {
    Ok(Json(join_chat(&state, &UserId::new(caller.user), id).await?))
}

/// Accepts an invitation: the chat and its members now.
pub(crate) async fn join_chat(
    state: &AppState,
    user: &UserId,
    id: u64,
) -> Result<ChatInfo, ApiError> {
    let chat = ChatId::from_raw(id);
    let members = state.service.join_chat(user, chat).await?;
    Ok(ChatInfo { id: chat, members })
}

/// Refuses an invitation (nobody is told).
#[utoipa::path(post, path = "/api/v1/nway/{id}/decline", tag = "nway", params(("id" = u64, Path, description = "Chat id")),
    responses((status = 200, body = Done), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn decline(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<Done>, ApiError> {
    let user = UserId::new(caller.user);
    state.service.decline_chat(&user, ChatId::from_raw(id))?;
    Ok(Json(Done {}))
}

/// Leaves a chat; the others get `nway_members`. A chat without members
/// ends. Leaving also takes a chat the caller is no longer in (ended, or
/// gone on without them) away from their conversations and its history.
#[utoipa::path(post, path = "/api/v1/nway/{id}/leave", tag = "nway", params(("id" = u64, Path, description = "Chat id")),
    responses((status = 200, body = Done), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn leave(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<Done>, ApiError> {
    let user = UserId::new(caller.user);
    state.service.leave_chat(&user, ChatId::from_raw(id)).await?;
    Ok(Json(Done {}))
}

/// Sends a message to every member (`nway_message`).
#[utoipa::path(post, path = "/api/v1/nway/{id}/messages", tag = "nway",
    params(("id" = u64, Path, description = "Chat id")), request_body = Text,
    responses((status = 200, body = Sent), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody)))]
pub(crate) async fn message(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(id): ApiPath<u64>,
    ApiJson(body): ApiJson<Text>,
) -> Result<Json<Sent>, ApiError> {
    Ok(Json(post_to_chat(&state, &UserId::new(caller.user), id, body.text).await?))
}

/// Sends a member's message to every member and keeps it in the history.
pub(crate) async fn post_to_chat(
    state: &AppState,
    from: &UserId,
    id: u64,
    text: String,
) -> Result<Sent, ApiError> {
    let (id, at) = state.service.post_to_chat(from, ChatId::from_raw(id), text).await?;
    Ok(Sent { id: Some(id.get()), to: None, at: at.to_rfc3339(), delivered: None })
}

/// One message of an n-way chat's history.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChatHistoryEntry {
    /// The message's id: later messages have higher ids.
    id: u64,
    from: String,
    text: String,
    /// RFC 3339 time stamp.
    at: String,
    #[serde(flatten)]
    state: MessageState,
}

/// What was said in a chat, for its members (someone who joins late
/// reads what they missed), oldest first: the newest page (`limit`, at
/// most 200), or the one just before message `before`, to scroll back.
#[utoipa::path(get, path = "/api/v1/nway/{id}/history", tag = "nway",
    params(("id" = u64, Path, description = "Chat id"), HistoryQuery),
    responses((status = 200, body = Vec<ChatHistoryEntry>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn history(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(id): ApiPath<u64>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<Vec<ChatHistoryEntry>>, ApiError> {
    let (from, limit) = query.page()?;
    let (user, chat) = (UserId::new(caller.user), ChatId::from_raw(id));
    let page = state.service.chat_page(&user, chat, from, limit).await?;
    let ids: Vec<u64> = page.messages.iter().map(|m| m.id).collect();
    let mut extras = PageExtras::of(&state, &ids).await?;
    Ok(Json(
        page.messages
            .into_iter()
            .map(|m| ChatHistoryEntry {
                id: m.id,
                at: m.at.to_rfc3339(),
                state: extras.state(m.id, m.edited, m.deleted),
                from: m.from,
                text: m.text,
            })
            .collect(),
    ))
}
