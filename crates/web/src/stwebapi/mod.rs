//! The Sametime-compatible web endpoints that other applications call:
//! the Connect client's awareness API (`/stwebapi/getstatus`), which
//! Connections' `sametimeAwareness`, Portal and iNotes pages poll, and
//! `/stwebapi/chat`, which opens a chat. See
//! `shared/specs/sametime-web-apis.md`; Simul answers them on its own
//! host, so they point at the server instead of `localhost:59449`.
//!
//! `rest.rs` has the part of Sametime 12's Chat REST flow integrators use.
//!
//! JSONP (`jsonp=callback`) is how those pages read the answer across
//! origins. The callback must be a plain JavaScript name (dotted paths
//! allowed), so that it cannot carry script; the answer starts with an
//! empty comment, so that it cannot be read as anything but script.

mod rest;

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use serde_json::{Value, json};
use simul_core::{Status, UserId};

use crate::auth::{Authenticated, Reached, is_trusted_origin};
use crate::proxy::Client;
use crate::{ApiError, AppState};

pub(crate) use rest::{chat as post_chat, connect, conversations, disconnect, logged_in, nway};

/// Longest JSONP callback name accepted.
const MAX_CALLBACK_CHARS: usize = 64;

/// The Sametime status codes of the Connect client's API.
fn status_code(status: Status) -> i32 {
    match status {
        Status::Offline => 0,
        Status::Available => 1,
        Status::Away => 2,
        Status::Dnd => 3,
        Status::InMeeting => 5,
    }
}

/// What `getstatus` answers for one person, in the Connect client's names.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Awareness {
    /// The id asked for (login name, mail or DN), as Connections sent it.
    username: String,
    /// The person's id in Simul (the DN for LDAP users).
    user_id: String,
    display_name: String,
    /// 0 offline, 1 available, 2 away, 3 do not disturb, 5 in a meeting.
    status: i32,
    status_message: String,
}

/// The parameters these endpoints take, read leniently: unknown ones are
/// ignored (`time=` is a cache breaker), as the Connect client does.
#[derive(Debug, Default)]
struct Params {
    user: Option<String>,
    callback: Option<String>,
}

impl Params {
    fn of(query: Option<String>) -> Self {
        let mut params = Self::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "userId" | "userid" | "user" => params.user = Some(value.into_owned()),
                "jsonp" | "callback" => params.callback = Some(value.into_owned()),
                _ => {}
            }
        }
        params
    }
}

/// `GET /stwebapi/getstatus?userId=ID&jsonp=CALLBACK`
pub(crate) async fn getstatus(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    reached: Reached,
    caller: Result<Authenticated, ApiError>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::of(query);
    let user = params.user.clone();
    answer(&state, &headers, &reached, caller, user, params.callback).await
}

/// `GET /stwebapi/getstatus/{id}?jsonp=CALLBACK`
pub(crate) async fn getstatus_of(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    reached: Reached,
    caller: Result<Authenticated, ApiError>,
    Path(user): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::of(query);
    answer(&state, &headers, &reached, caller, Some(user), params.callback).await
}

async fn answer(
    state: &AppState,
    headers: &HeaderMap,
    reached: &Reached,
    caller: Result<Authenticated, ApiError>,
    user: Option<String>,
    callback: Option<String>,
) -> Response {
    if callback.is_some() && !state.jsonp {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "JSONP is turned off on this server (server.jsonp): read the JSON answer with CORS \
             from an origin in server.allowed_origins",
        )
        .into_response();
    }
    let callback = match callback.map(|name| checked_callback(&name)).transpose() {
        Ok(callback) => callback,
        Err(error) => return error.into_response(),
    };
    let result = match (caller, user) {
        (_, _) if callback.is_some() && !jsonp_reader_trusted(state, headers, &reached.client) => {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this page's origin is not in server.allowed_origins",
            ))
        }
        (Err(error), _) => Err(error),
        (Ok(_), None) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "which user? getstatus?userId=ID or getstatus/ID",
        )),
        (Ok(_), Some(user)) => awareness(state, &user).await,
    };
    match (result, callback) {
        (Ok(found), None) => axum::Json(found).into_response(),
        (Err(error), None) => error.into_response(),
        // A script tag runs only a 200 answer: errors go to the callback too.
        (Ok(found), Some(callback)) => jsonp(&callback, &json!(found)),
        (Err(error), Some(callback)) => {
            jsonp(&callback, &json!({"error": error.message(), "status": -1}))
        }
    }
}

async fn awareness(state: &AppState, user: &str) -> Result<Awareness, ApiError> {
    let person = state.service.person(user).await?.filter(|person| !person.disabled);
    let Some(person) = person else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, format!("no such user: {user}")));
    };
    let presence = state.service.presences(&[UserId::new(&person.id)]).remove(0);
    Ok(Awareness {
        username: user.to_owned(),
        user_id: person.id,
        display_name: person.display_name,
        status: status_code(presence.status),
        status_message: presence.message,
    })
}

/// `GET /stwebapi/chat?userId=ID`: opens the web client on a chat with
/// that person (after sign-in, if need be).
pub(crate) async fn chat(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Redirect, ApiError> {
    let Some(user) = Params::of(query).user else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "which user? chat?userId=ID"));
    };
    // The client opens chats by id; a login name or mail becomes one here.
    let id = match state.service.person(&user).await {
        Ok(Some(person)) => person.id,
        _ => user,
    };
    let target: String =
        form_urlencoded::Serializer::new(String::new()).append_pair("chat", &id).finish();
    Ok(Redirect::to(&format!("/?{target}")))
}

/// A script tag of any page may load a JSONP answer with the user's
/// cookies, and CORS does not apply to scripts: answer only pages of
/// Simul itself and of `server.allowed_origins`. The `Referer` (at least
/// its origin, under browsers' default policy) names the page; when a
/// page withholds it, `Sec-Fetch-Site` (sent by current browsers) still
/// says whether it belongs to another site.
fn jsonp_reader_trusted(state: &AppState, headers: &HeaderMap, client: &Client) -> bool {
    let referer = headers.get(header::REFERER).and_then(|r| r.to_str().ok());
    match referer.and_then(origin_of) {
        Some(origin) => is_trusted_origin(state, client, origin),
        None => !matches!(
            headers.get("sec-fetch-site").map(|v| v.as_bytes()),
            Some(b"same-site" | b"cross-site")
        ),
    }
}

/// `https://host:port` of a URL.
fn origin_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..url.len() - rest.len() + authority])
}

/// The callback name if it is a JavaScript identifier path (`cb`,
/// `lconn.profiles.cb_1`); anything else could be script.
fn checked_callback(name: &str) -> Result<String, ApiError> {
    let identifier = |part: &str| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    if name.len() <= MAX_CALLBACK_CHARS && name.split('.').all(identifier) {
        Ok(name.to_owned())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "jsonp must be a JavaScript function name (letters, digits, _ and $, dotted paths \
             allowed, at most 64 characters)",
        ))
    }
}

/// `/**/callback({...});` as JavaScript.
fn jsonp(callback: &str, body: &Value) -> Response {
    // U+2028 and U+2029 end lines in older JavaScript, though valid in JSON.
    let json = body.to_string().replace('\u{2028}', "\\u2028").replace('\u{2029}', "\\u2029");
    let mut response = format!("/**/{callback}({json});").into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/javascript; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_are_plain_names() {
        for good in ["cb", "lconn.profiles.sametime.cb_12", "$", "_x1"] {
            assert_eq!(checked_callback(good).unwrap(), good);
        }
        for bad in [
            "",
            "alert(1)",
            "a;b",
            "a b",
            "1cb",
            "a..b",
            "a.",
            "x[0]",
            "</script>",
            "cb//",
            &"a".repeat(65),
        ] {
            assert!(checked_callback(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn jsonp_cannot_be_read_as_anything_but_script() {
        let response = jsonp("cb", &json!({"statusMessage": "a\u{2028}b"}));
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/javascript; charset=utf-8"
        );
    }

    #[test]
    fn origins_of_referers() {
        assert_eq!(
            origin_of("https://a.example.com:9443/x/y?z#w"),
            Some("https://a.example.com:9443")
        );
        assert_eq!(origin_of("https://a.example.com?q"), Some("https://a.example.com"));
        assert_eq!(origin_of("https://a.example.com"), Some("https://a.example.com"));
        assert_eq!(origin_of("about:blank"), None);
    }

    #[test]
    fn parameters_are_read_leniently() {
        let params = Params::of(Some("userId=bob&jsonp=cb&time=123&userId=alice".into()));
        assert_eq!(params.user.as_deref(), Some("alice"));
        assert_eq!(params.callback.as_deref(), Some("cb"));
    }
}
