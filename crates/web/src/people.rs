//! People: directory search (to add contacts) and business cards.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use simul_core::UserId;

use crate::auth::Authenticated;
use crate::{ApiError, AppState};

/// People returned by one directory search.
const SEARCH_LIMIT: u32 = 50;

/// `GET /api/v1/directory/search?q=`: people to add as contacts.
pub(crate) async fn search(
    State(state): State<Arc<AppState>>,
    _caller: Authenticated,
    Query(query): Query<Search>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let users =
        state.store.search_users(query.q.trim(), SEARCH_LIMIT).await.map_err(ApiError::internal)?;
    Ok(Json(
        users
            .iter()
            .map(|u| json!({ "id": u.id, "display_name": u.display_name, "mail": u.mail }))
            .collect(),
    ))
}

/// `GET /api/v1/directory/search` parameters.
#[derive(Debug, Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    q: String,
}

/// `GET /api/v1/users/{id}/card`: the business card, with live status.
pub(crate) async fn card(
    State(state): State<Arc<AppState>>,
    _caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = state.store.user(&id).await.map_err(ApiError::internal)?;
    let user = user.filter(|u| !u.disabled).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, format!("no user {id:?} in the directory"))
    })?;
    let presence = state.hub.presences(&[UserId::new(&user.id)]).remove(0);
    Ok(Json(json!({
        "id": user.id,
        "display_name": user.display_name,
        "mail": user.mail,
        "title": user.title,
        "phone": user.phone,
        "photo_url": user.photo_url,
        "status": presence.status.as_str(),
        "message": presence.message,
        "idle": presence.idle,
    })))
}
