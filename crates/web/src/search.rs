//! Full-text search across the caller's conversations over HTTP.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use simul_core::{MessageId, UserId};
use simul_service::{SearchHit, SearchPage};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiQuery, ErrorBody};
use crate::{ApiError, AppState};

/// What to look for, and which page of results.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    /// The words (at most 256 characters, 16 words): a message matches
    /// when it holds all of them, the last one also as the start of a
    /// longer word. Case and accents do not count; punctuation separates
    /// words.
    #[param(max_length = 256)]
    q: String,
    /// Only messages older than this id (the next page); none: the newest.
    before: Option<u64>,
    /// Most results (1 to 100; 50 when absent).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// Results a page holds when the caller does not say.
const DEFAULT_LIMIT: u32 = 50;

/// A message the search found.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SearchResult {
    /// Where it was said: `im:<the other user's id>` or `nway:<chat id>`.
    conversation: String,
    /// The message's id (its conversation's history pages by it).
    id: u64,
    /// Who wrote it.
    from: String,
    text: String,
    /// RFC 3339 time stamp.
    at: String,
}

impl From<SearchHit> for SearchResult {
    fn from(hit: SearchHit) -> Self {
        Self {
            conversation: hit.conversation.to_string(),
            id: hit.id.get(),
            from: hit.from.to_string(),
            text: hit.text,
            at: hit.at.to_rfc3339(),
        }
    }
}

/// The caller's messages that hold every word of `q`, newest first: 1:1
/// messages they sent or received and those of the group chats they are
/// in now. The next page: `before` the last result's id.
#[utoipa::path(get, path = "/api/v1/search", tag = "messages", params(SearchQuery),
    responses(
        (status = 200, body = Vec<SearchResult>),
        (status = 400, body = ErrorBody,
            description = "No word in q (empty, or punctuation only), q over 256 characters or 16 words, or limit out of range"),
        (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "Too many searches; wait as Retry-After says"),
    ))]
pub(crate) async fn search(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<Vec<SearchResult>>, ApiError> {
    let page = SearchPage {
        before: query.before.map(MessageId::from_raw),
        limit: query.limit.unwrap_or(DEFAULT_LIMIT),
    };
    let hits = state.service.search_messages(&UserId::new(caller.user), &query.q, page).await?;
    Ok(Json(hits.into_iter().map(SearchResult::from).collect()))
}
