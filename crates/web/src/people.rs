//! People: directory search (to add contacts) and business cards.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use simul_core::UserId;
use simul_directory::Person;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::error::{ApiPath, ErrorBody};
use crate::presence::PresenceInfo;
use crate::{ApiError, AppState};

/// People returned by one directory search.
const SEARCH_LIMIT: u32 = 50;

/// A person found in the directory.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PersonInfo {
    /// User id.
    id: String,
    /// Name shown to others.
    display_name: String,
    /// E-mail address (may be empty).
    mail: String,
}

/// A business card: who someone is, how to reach them, their status now.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Card {
    #[serde(flatten)]
    person: PersonInfo,
    /// Job title.
    title: String,
    /// Telephone.
    phone: String,
    /// Photo URL.
    photo_url: String,
    #[serde(flatten)]
    presence: PresenceInfo,
}

impl PersonInfo {
    fn of(user: &Person) -> Self {
        Self {
            id: user.id.clone(),
            display_name: user.display_name.clone(),
            mail: user.mail.clone(),
        }
    }
}

/// People whose id, name or mail contains the query (enabled users, at
/// most 50), to add as contacts.
#[utoipa::path(get, path = "/api/v1/directory/search", tag = "people", params(Search),
    responses((status = 200, body = Vec<PersonInfo>), (status = 401, body = ErrorBody)))]
pub(crate) async fn search(
    State(state): State<Arc<AppState>>,
    _caller: Authenticated,
    Query(query): Query<Search>,
) -> Result<Json<Vec<PersonInfo>>, ApiError> {
    let people = state.realm.search(&query.q, SEARCH_LIMIT).await.map_err(ApiError::internal)?;
    Ok(Json(people.iter().map(PersonInfo::of).collect()))
}

/// `GET /api/v1/directory/search` parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct Search {
    /// Part of an id, display name or mail address.
    #[serde(default)]
    q: String,
}

/// A user's business card, with their live status.
#[utoipa::path(get, path = "/api/v1/users/{id}/card", tag = "people",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = Card), (status = 404, body = ErrorBody)))]
pub(crate) async fn card(
    State(state): State<Arc<AppState>>,
    _caller: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Card>, ApiError> {
    let user = state.realm.person(&id).await.map_err(ApiError::internal)?;
    let user = user.filter(|u| !u.disabled).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, format!("no user {id:?} in the directory"))
    })?;
    let presence = state.hub.presences(&[UserId::new(&user.id)]).remove(0);
    Ok(Json(Card {
        person: PersonInfo::of(&user),
        title: user.title,
        phone: user.phone,
        photo_url: user.photo_url,
        presence: PresenceInfo::from(&presence),
    }))
}
