//! The part of Sametime 12's Chat REST flow that integrators call
//! (monitoring webhooks, portal pages): connect, check, send 1:1 and
//! n-way messages, disconnect. Forms or query parameters in, JSON out,
//! as those clients send and read them.
//!
//! `user/connect` answers the CSRF token as `rtc4webNonce` and in the
//! `x-csrf-token` header; later cookie-authenticated calls send it back as
//! `Rtc4web-Nonce` (or `X-CSRF-Token`), which `Authenticated` checks. The
//! session is the `LtpaToken2` cookie, as everywhere in Simul: there are
//! no `sametimeJwt` cookies, and `sid` is the user's id.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use simul_core::UserId;

use crate::account::{end_session, password_login, with_cookies};
use crate::auth::{Authenticated, CSRF_HEADER, Reached, csrf_token};
use crate::{ApiError, AppState};

/// Parameters from the query string and a form body together (these
/// clients use either).
fn params(query: Option<String>, body: &str) -> Vec<(String, String)> {
    let query = query.unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .chain(form_urlencoded::parse(body.as_bytes()))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().rev().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// The answer to a connect: the nonce in the body and in the header.
fn connected(user: &str, display_name: &str, nonce: &str) -> Response {
    let body =
        json!({"rtc4webNonce": nonce, "sid": user, "userId": user, "displayName": display_name});
    let mut response = Json(body).into_response();
    if let Ok(value) = HeaderValue::from_str(nonce) {
        response.headers_mut().insert(CSRF_HEADER, value);
    }
    response
}

/// `POST /stwebapi/user/connect?username=..&password=..` (or the same as
/// a form): logs in and sets the SSO cookies. Without a user name, the SSO
/// cookie of another application of the domain connects.
pub(crate) async fn connect(
    State(state): State<Arc<AppState>>,
    reached: Reached,
    caller: Result<Authenticated, ApiError>,
    RawQuery(query): RawQuery,
    body: String,
) -> Result<Response, ApiError> {
    let params = params(query, &body);
    if let Some(name) = param(&params, "username") {
        let password = param(&params, "password").unwrap_or_default();
        let (user, cookies, nonce) = password_login(&state, &reached, name, password).await?;
        return Ok(with_cookies(connected(&user.id, &user.display_name, &nonce), &cookies));
    }
    let caller = caller.map_err(|_| {
        ApiError::unauthorized("give username and password, or send the LtpaToken2 cookie")
    })?;
    let person = state.service.person(&caller.user).await?;
    let display_name = person.map_or_else(|| caller.user.clone(), |p| p.display_name);
    Ok(connected(&caller.user, &display_name, &csrf_token(&state, &caller.token)))
}

/// `DELETE /stwebapi/user/connect`: logs out as `POST /api/v1/logout` does.
pub(crate) async fn disconnect(
    State(state): State<Arc<AppState>>,
    reached: Reached,
    caller: Authenticated,
) -> Result<Response, ApiError> {
    end_session(&state, &reached, &caller, Json(json!({})).into_response()).await
}

/// `GET /stwebapi/connectweb/loggedin`: whether the caller is connected.
pub(crate) async fn logged_in(caller: Result<Authenticated, ApiError>) -> Response {
    match caller {
        Ok(caller) => Json(json!({"loggedIn": true, "userId": caller.user})).into_response(),
        Err(error) => {
            let body = json!({"loggedIn": false, "error": error.message()});
            (StatusCode::UNAUTHORIZED, Json(body)).into_response()
        }
    }
}

/// `POST /stwebapi/chat` (form `userId`, `msg`): a 1:1 message. `userId`
/// may be a login name, mail or DN; `typing` alone is accepted and ignored.
pub(crate) async fn chat(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    RawQuery(query): RawQuery,
    body: String,
) -> Result<Json<Value>, ApiError> {
    let params = params(query, &body);
    let Some(to) = param(&params, "userId") else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "which user? give userId"));
    };
    let Some(text) = param(&params, "msg").filter(|m| !m.trim().is_empty()) else {
        if param(&params, "typing").is_some() {
            return Ok(Json(json!({})));
        }
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "no message: give msg"));
    };
    let sent =
        crate::messages::deliver_im(&state, &UserId::new(&caller.user), None, to, text.to_owned())
            .await?;
    Ok(Json(json!({"userId": sent.to, "sent": sent})))
}

/// `POST /stwebapi/chat/nway` (form `placeid`, then `msg`): without a
/// message it enters the chat (accepts the invitation); with one it posts.
pub(crate) async fn nway(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    RawQuery(query): RawQuery,
    body: String,
) -> Result<Json<Value>, ApiError> {
    let params = params(query, &body);
    let Some(place) = param(&params, "placeid").and_then(|p| p.trim().parse::<u64>().ok()) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "which chat? give placeid (an n-way chat id, GET /api/v1/nway lists them)",
        ));
    };
    let user = UserId::new(&caller.user);
    match param(&params, "msg").filter(|m| !m.trim().is_empty()) {
        Some(text) => {
            let sent = crate::nway::post_to_chat(&state, &user, place, text.to_owned()).await?;
            Ok(Json(json!({"placeid": place, "sent": sent})))
        }
        None => Ok(Json(json!(crate::nway::join_chat(&state, &user, place).await?))),
    }
}

/// Most conversations `convomap/conversations` lists.
const MAX_CONVERSATIONS: usize = 500;

/// `GET /stwebapi/convomap/conversations?maxSize=N`: the caller's n-way
/// chats (`NWAY_TEXT`, the chat id in `with`, invitations included) and
/// then the people they exchanged 1:1 messages with (`IM`), latest first.
pub(crate) async fn conversations(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = params(query, "");
    let max = param(&params, "maxSize")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(200)
        .min(MAX_CONVERSATIONS);
    let user = UserId::new(&caller.user);
    let mut list: Vec<Value> = state
        .service
        .chats_of(&user)
        .into_iter()
        .map(|chat| {
            json!({"type": "NWAY_TEXT", "with": chat.id, "topic": chat.topic,
                   "members": chat.members, "invited": chat.invited})
        })
        .collect();
    let partners = state.service.im_partners(&caller.user, max as u32).await?;
    list.extend(partners.into_iter().map(
        |(partner, at)| json!({"type": "IM", "with": partner, "lastActivity": at.to_rfc3339()}),
    ));
    list.truncate(max);
    Ok(Json(json!({"conversations": list})))
}
