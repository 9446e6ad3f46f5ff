//! Messages after they were sent, over HTTP: editing and deleting one's
//! own, reacting to anyone's in one's conversations, the state history
//! entries carry (edited, deleted, reactions), the event frames that tell
//! the others, and the read-receipts setting.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use simul_core::{MessageChange, MessageId, Place, UserId};
use simul_service::REACTIONS;
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::{ApiJson, ApiPath, Done, ErrorBody};
use crate::files::FileInfo;
use crate::messages::Text;
use crate::{ApiError, AppState};

/// What became of a message after it was sent, as history entries show it.
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct MessageState {
    /// When its author last edited it (RFC 3339); absent if never.
    #[serde(skip_serializing_if = "Option::is_none")]
    edited: Option<String>,
    /// Deleted by its author (its text is empty); absent if not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
    /// Who reacted with which emoji; absent if nobody did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reactions: Vec<Reaction>,
    /// The file the message carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<FileInfo>,
}

/// The people who reacted to a message with one emoji.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Reaction {
    emoji: String,
    /// User ids, in the order they reacted.
    users: Vec<String>,
}

/// What the messages of a history page carry besides their rows: their
/// reactions and files, each read once for the whole page.
pub(crate) struct PageExtras {
    reactions: HashMap<u64, Vec<Reaction>>,
    files: HashMap<u64, std::sync::Arc<simul_core::Attachment>>,
}

impl PageExtras {
    /// The reactions to these messages and the files they carry.
    pub(crate) async fn of(state: &AppState, ids: &[u64]) -> Result<Self, ApiError> {
        let files = state.service.attachments(ids).await?;
        let ids: Vec<MessageId> = ids.iter().copied().map(MessageId::from_raw).collect();
        let mut reactions: HashMap<u64, Vec<Reaction>> = HashMap::new();
        for tally in state.service.reactions(&ids).await? {
            let reaction = Reaction { emoji: tally.emoji, users: tally.users };
            reactions.entry(tally.message).or_default().push(reaction);
        }
        Ok(Self { reactions, files })
    }

    /// The state of message `id`, edited at `edited` (if ever), deleted
    /// or not.
    pub(crate) fn state(
        &mut self,
        id: u64,
        edited: Option<DateTime<Utc>>,
        deleted: bool,
    ) -> MessageState {
        MessageState {
            edited: edited.map(|at| at.to_rfc3339()),
            deleted,
            reactions: self.reactions.remove(&id).unwrap_or_default(),
            file: self.files.get(&id).map(|file| FileInfo::of(file)),
        }
    }
}

/// The event frame of a changed message: `message_edited`,
/// `message_deleted` or `reaction`, naming the message and where it was
/// said (`from` and `to` of a 1:1 message, or the n-way `chat`).
pub(crate) fn change_frame(place: &Place, id: MessageId, change: &MessageChange) -> Value {
    let mut frame = match change {
        MessageChange::Edited { text, at } => {
            json!({"type": "message_edited", "text": text, "edited": at.to_rfc3339()})
        }
        MessageChange::Deleted => json!({"type": "message_deleted"}),
        MessageChange::Reaction { user, emoji, on } => {
            json!({"type": "reaction", "user": user, "emoji": emoji, "on": on})
        }
    };
    frame["message"] = json!(id);
    match place {
        Place::Im { from, to } => {
            frame["from"] = json!(from);
            frame["to"] = json!(to);
        }
        Place::Nway(chat) => frame["chat"] = json!(chat),
    }
    frame
}

/// Replaces the text of one of the caller's messages; everyone in the
/// conversation gets a `message_edited` event, and the history shows the
/// new text with the time of the edit.
#[utoipa::path(patch, path = "/api/v1/messages/{id}", tag = "messages",
    params(("id" = u64, Path, description = "Message id")),
    request_body = Text,
    responses(
        (status = 200, body = Done),
        (status = 400, body = ErrorBody, description = "Empty text, or a message that carries a file (delete it instead)"),
        (status = 403, body = ErrorBody, description = "Someone else's message"),
        (status = 404, body = ErrorBody, description = "No such message in the caller's conversations (or deleted)"),
        (status = 413, body = ErrorBody, description = "Text over 10,000 characters"),
        (status = 429, body = ErrorBody, description = "Too many messages (server.messages_per_minute)"),
    ))]
pub(crate) async fn edit(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(id): ApiPath<u64>,
    ApiJson(body): ApiJson<Text>,
) -> Result<Json<Done>, ApiError> {
    let user = UserId::new(caller.user);
    state.service.edit_message(&user, None, MessageId::from_raw(id), body.text).await?;
    Ok(Json(Done {}))
}

/// Deletes one of the caller's messages: its text and reactions are gone;
/// the history keeps its place as a deleted message, and everyone in the
/// conversation gets a `message_deleted` event.
#[utoipa::path(delete, path = "/api/v1/messages/{id}", tag = "messages",
    params(("id" = u64, Path, description = "Message id")),
    responses(
        (status = 200, body = Done),
        (status = 403, body = ErrorBody, description = "Someone else's message"),
        (status = 404, body = ErrorBody, description = "No such message in the caller's conversations (or deleted)"),
    ))]
pub(crate) async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<Done>, ApiError> {
    let user = UserId::new(caller.user);
    state.service.delete_message(&user, None, MessageId::from_raw(id)).await?;
    Ok(Json(Done {}))
}

/// What `PUT /api/v1/messages/{id}/reactions` takes.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ReactionChange {
    /// One of 👍 ❤️ 😂 😮 😢 🙏.
    emoji: String,
    /// Add (`true`) or take back (`false`) the caller's reaction.
    on: bool,
}

/// Adds or takes back the caller's reaction to a message of one of their
/// conversations; everyone in it gets a `reaction` event.
#[utoipa::path(put, path = "/api/v1/messages/{id}/reactions", tag = "messages",
    params(("id" = u64, Path, description = "Message id")),
    request_body = ReactionChange,
    responses(
        (status = 200, body = Done),
        (status = 400, body = ErrorBody, description = "Not one of the emoji offered"),
        (status = 404, body = ErrorBody, description = "No such message in the caller's conversations (or deleted)"),
        (status = 429, body = ErrorBody, description = "Too many messages (server.messages_per_minute)"),
    ))]
pub(crate) async fn react(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(id): ApiPath<u64>,
    ApiJson(change): ApiJson<ReactionChange>,
) -> Result<Json<Done>, ApiError> {
    let user = UserId::new(caller.user);
    let id = MessageId::from_raw(id);
    state.service.react(&user, None, id, &change.emoji, change.on).await?;
    Ok(Json(Done {}))
}

/// The caller's own settings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Settings {
    /// Whether the other person of a 1:1 conversation sees how far the
    /// caller read it (on by default).
    read_receipts: bool,
    /// The emoji messages can be reacted with.
    reactions: Vec<String>,
}

/// What `PUT /api/v1/settings` changes.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct SettingsChange {
    /// Let the other person of a 1:1 conversation see how far the caller
    /// read it.
    read_receipts: bool,
}

/// The caller's own settings.
#[utoipa::path(get, path = "/api/v1/settings", tag = "account",
    responses((status = 200, body = Settings), (status = 401, body = ErrorBody)))]
pub(crate) async fn settings(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
) -> Result<Json<Settings>, ApiError> {
    let read_receipts = state.service.read_receipts(&UserId::new(caller.user)).await?;
    Ok(Json(Settings { read_receipts, reactions: offered() }))
}

/// Changes the caller's own settings.
#[utoipa::path(put, path = "/api/v1/settings", tag = "account",
    request_body = SettingsChange,
    responses((status = 200, body = Settings), (status = 401, body = ErrorBody)))]
pub(crate) async fn put_settings(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiJson(change): ApiJson<SettingsChange>,
) -> Result<Json<Settings>, ApiError> {
    let user = UserId::new(caller.user);
    state.service.set_read_receipts(&user, change.read_receipts).await?;
    Ok(Json(Settings { read_receipts: change.read_receipts, reactions: offered() }))
}

fn offered() -> Vec<String> {
    REACTIONS.iter().map(|r| (*r).to_owned()).collect()
}
