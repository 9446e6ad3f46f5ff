//! The caller's conversations over HTTP: the list a client shows beside
//! the contacts, with unread counts, and marking one read.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use simul_core::{Conversation, MessageId, UserId};
use simul_service::ConversationSummary;
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::{ApiJson, Done, ErrorBody};
use crate::files::FileInfo;
use crate::{ApiError, AppState};

/// One conversation of the caller.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConversationEntry {
    /// `im:<user id>` or `nway:<chat id>`.
    conversation: String,
    /// The other user (1:1 conversations).
    #[serde(skip_serializing_if = "Option::is_none")]
    with: Option<String>,
    /// The chat's id and topic (n-way chats).
    #[serde(skip_serializing_if = "Option::is_none")]
    chat: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topic: Option<String>,
    /// The latest message (absent: nothing said in the chat yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    last: Option<LastEntry>,
    /// Messages from others after what the caller read, on any device.
    unread: u32,
    /// How far the other person of a 1:1 conversation read it (a read
    /// receipt; absent when they have not or keep it to themselves).
    #[serde(skip_serializing_if = "Option::is_none")]
    seen: Option<u64>,
    /// N-way chats: whether the caller is in it now. `false`: it ended,
    /// or went on without them; theirs to read (history, files, search)
    /// until they leave it (`POST /api/v1/nway/{id}/leave`), not to
    /// write to.
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<bool>,
}

/// The latest message of a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LastEntry {
    id: u64,
    from: String,
    text: String,
    /// RFC 3339 time stamp.
    at: String,
    /// The file it carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<FileInfo>,
    /// Deleted by its author (its text is empty); absent if not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
}

impl ConversationEntry {
    fn of(summary: ConversationSummary) -> Self {
        let (with, chat, topic) = match &summary.conversation {
            Conversation::Im(user) => (Some(user.to_string()), None, None),
            Conversation::Nway(chat) => (None, Some(chat.get()), Some(summary.topic)),
        };
        let last = summary.last.map(|m| LastEntry {
            id: m.id.get(),
            from: m.from.to_string(),
            text: m.text,
            at: m.at.to_rfc3339(),
            file: None,
            deleted: m.deleted,
        });
        let conversation = summary.conversation.to_string();
        let seen = summary.seen.map(MessageId::get);
        let member = chat.map(|_| summary.member);
        Self { conversation, with, chat, topic, last, unread: summary.unread, seen, member }
    }
}

/// The caller's conversations, the latest first: 1:1 ones (at most 200),
/// the n-way chats they are in, and those they took part in and did not
/// leave (at most 200, `member: false`: a restart ends every chat), each
/// with its latest message and how many messages are unread.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "messages",
    responses((status = 200, body = Vec<ConversationEntry>), (status = 401, body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
) -> Result<Json<Vec<ConversationEntry>>, ApiError> {
    let list = state.service.conversations(&UserId::new(caller.user)).await?;
    let latest: Vec<u64> =
        list.iter().filter_map(|c| c.last.as_ref().map(|m| m.id.get())).collect();
    let files = state.service.attachments(&latest).await?;
    let mut entries: Vec<ConversationEntry> = list.into_iter().map(ConversationEntry::of).collect();
    for last in entries.iter_mut().filter_map(|entry| entry.last.as_mut()) {
        last.file = files.get(&last.id).map(|file| FileInfo::of(file));
    }
    Ok(Json(entries))
}

/// What `POST /api/v1/conversations/read` takes.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ReadMark {
    /// `im:<user id>` or `nway:<chat id>`.
    conversation: String,
    /// The id of the last message read.
    up_to: u64,
}

/// The caller read a conversation up to a message: its messages up to
/// there are no longer unread, on any of their devices (their other
/// sessions get a `read` event). A mark never moves back.
#[utoipa::path(post, path = "/api/v1/conversations/read", tag = "messages",
    request_body = ReadMark,
    responses((status = 200, body = Done), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn read(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiJson(mark): ApiJson<ReadMark>,
) -> Result<Json<Done>, ApiError> {
    let conversation: Conversation = mark
        .conversation
        .parse()
        .map_err(|error: String| ApiError::new(axum::http::StatusCode::BAD_REQUEST, error))?;
    let up_to = MessageId::from_raw(mark.up_to);
    state.service.mark_read(&UserId::new(caller.user), conversation, up_to).await?;
    Ok(Json(Done {}))
}
