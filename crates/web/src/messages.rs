//! Instant messages, their history, and contact lists over HTTP.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use simul_core::{SessionId, UserId};
use simul_service::{HistoryPage, PageStart};
use simul_store::{ContactGroup, ContactList};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::message_changes::{MessageState, PageExtras};
use crate::{ApiError, AppState};

/// Most messages one history call returns (1:1 and n-way), and how many
/// when the caller does not say.
pub(crate) const HISTORY_LIMIT: u32 = 200;

/// Which page of a history (1:1 or n-way): the newest, or the one before
/// a message.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// Only messages older than this id (scrolling back); none: the
    /// newest.
    before: Option<u64>,
    /// Most messages on the page (1 to 200; 200 when absent).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

impl HistoryQuery {
    /// Where the page starts and how long it is.
    pub(crate) fn page(&self) -> Result<(PageStart, u32), ApiError> {
        let limit = self.limit.unwrap_or(HISTORY_LIMIT);
        if !(1..=HISTORY_LIMIT).contains(&limit) {
            let text = format!("limit is a number from 1 to {HISTORY_LIMIT}");
            return Err(ApiError::new(StatusCode::BAD_REQUEST, text));
        }
        Ok((self.before.map_or(PageStart::Newest, PageStart::Before), limit))
    }
}

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
    /// The message's id, in the order the server accepted messages (1:1
    /// messages only; the same as in the history and the `im` event).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<u64>,
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
    /// The message's id: later messages have higher ids.
    id: u64,
    from: String,
    to: String,
    text: String,
    /// RFC 3339 time stamp.
    at: String,
    #[serde(flatten)]
    state: MessageState,
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

/// Sends a 1:1 message for `from` (see [`simul_service::Service::send_im`])
/// and says so in the API's terms.
pub(crate) async fn deliver_im(
    state: &AppState,
    from: &UserId,
    origin: Option<SessionId>,
    to: &str,
    text: String,
) -> Result<Sent, ApiError> {
    let sent = state.service.send_im(from, origin, to, text).await?;
    Ok(Sent {
        id: Some(sent.id.get()),
        to: Some(sent.to.to_string()),
        at: sent.at.to_rfc3339(),
        delivered: Some(sent.delivered),
    })
}

/// A page of the messages with that user, oldest first: the newest
/// (`limit`, at most 200), or those just before message `before`, to
/// scroll back.
#[utoipa::path(get, path = "/api/v1/im/{user}/history", tag = "messages",
    params(("user" = String, Path, description = "The other user's id"), HistoryQuery),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub(crate) async fn history(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(with): ApiPath<String>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    let (from, limit) = query.page()?;
    let page = HistoryPage { with: Some(with), from, limit, ..HistoryPage::default() };
    let page = state.service.im_page(&caller.user, &page).await?;
    let ids: Vec<u64> = page.messages.iter().map(|m| m.id).collect();
    let mut extras = PageExtras::of(&state, &ids).await?;
    Ok(Json(
        page.messages
            .into_iter()
            .map(|m| HistoryEntry {
                id: m.id,
                at: m.at.to_rfc3339(),
                state: extras.state(m.id, m.edited, m.deleted),
                from: m.from,
                to: m.to,
                text: m.text,
            })
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
    Ok(Json(state.service.contact_list(&caller.user).await?))
}

/// A new contact list, as `PUT /api/v1/contacts` takes it.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ContactListChange {
    /// The groups, in the user's order.
    groups: Vec<ContactGroup>,
    /// Names given to contacts, by user id. Absent: the aliases of the
    /// contacts still listed are kept, so a client that does not know
    /// aliases loses none of those set in a Sametime or XMPP client.
    #[serde(default)]
    aliases: Option<BTreeMap<String, String>>,
}

/// Replaces the caller's contact list.
#[utoipa::path(put, path = "/api/v1/contacts", tag = "contacts",
    request_body = ContactListChange,
    responses(
        (status = 200, body = ContactList),
        (status = 400, body = ErrorBody, description = "A group without a name, or an alias over 100 characters"),
        (status = 413, body = ErrorBody, description = "Over 100 groups or 2,000 contacts"),
    ))]
pub(crate) async fn put_contacts(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiJson(change): ApiJson<ContactListChange>,
) -> Result<Json<ContactList>, ApiError> {
    let aliases = match change.aliases {
        Some(aliases) => aliases,
        None => state.service.contact_list(&caller.user).await?.aliases,
    };
    let list = ContactList { groups: change.groups, aliases };
    Ok(Json(state.service.set_contact_list(&caller.user, list).await?))
}
