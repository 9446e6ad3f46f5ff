//! People: directory search (to add contacts) and business cards.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use simul_core::{Presence, UserId};
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
    /// Office or city.
    location: String,
    /// Photo URL.
    photo_url: String,
    #[serde(flatten)]
    presence: PresenceInfo,
}

impl Card {
    fn of(person: Person, presence: &Presence) -> Self {
        Self {
            person: PersonInfo::of(&person),
            title: person.title,
            phone: person.phone,
            location: person.location,
            photo_url: person.photo_url,
            presence: PresenceInfo::from(presence),
        }
    }
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
    let people = state.service.search(&query.q, SEARCH_LIMIT).await?;
    Ok(Json(people.iter().map(PersonInfo::of).collect()))
}

/// `GET /api/v1/directory/search` parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct Search {
    /// Part of an id, display name or mail address.
    #[serde(default)]
    q: String,
}

/// Most cards one batch call returns.
const MAX_CARDS: usize = 500;

/// The business cards of several users at once, by id (ids the directory
/// does not know, or disabled users, are left out): what a client needs
/// to show a contact list without one request per contact.
#[utoipa::path(get, path = "/api/v1/users", tag = "people",
    params(("id" = Vec<String>, Query, description = "A user id; repeat for more (at most 500)")),
    responses((status = 200, body = BTreeMap<String, Card>), (status = 400, body = ErrorBody)))]
pub(crate) async fn cards(
    State(state): State<Arc<AppState>>,
    _caller: Authenticated,
    RawQuery(query): RawQuery,
) -> Result<Json<BTreeMap<String, Card>>, ApiError> {
    let ids: Vec<String> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == "id")
        .map(|(_, value)| value.into_owned())
        .collect();
    if ids.len() > MAX_CARDS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("at most {MAX_CARDS} ids a call; split the list"),
        ));
    }
    let mut found = Vec::new();
    for id in &ids {
        // While LDAP is down, a name missing from the cache cannot be looked
        // up: leave it out rather than fail the whole batch.
        match state.service.person(id).await {
            Ok(Some(person)) => found.push((id.clone(), person)),
            Ok(None) => {}
            Err(error) if error.is_outage() => {}
            Err(error) => return Err(error.into()),
        }
    }
    found.retain(|(_, person)| !person.disabled);
    let presences = state
        .service
        .presences(&found.iter().map(|(_, person)| UserId::new(&person.id)).collect::<Vec<_>>());
    Ok(Json(
        found
            .into_iter()
            .zip(&presences)
            .map(|((id, person), presence)| (id, Card::of(person, presence)))
            .collect(),
    ))
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
    let user = state.service.person(&id).await?;
    let user = user.filter(|u| !u.disabled).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, format!("no user {id:?} in the directory"))
    })?;
    let presence = state.service.presences(&[UserId::new(&user.id)]).remove(0);
    Ok(Json(Card::of(user, &presence)))
}
