//! The account: login (sets the SSO cookies), logout, who am I, and the
//! user's own password change.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, Request as HttpRequest, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use ltpa::AccessId;
use ltpa::sso::{Request, SetCookie};
use serde::Deserialize;
use serde_json::json;
use simul_directory::DirectoryError;
use simul_store::UserRecord;

use crate::auth::{Authenticated, csrf_token, host};
use crate::error::ApiJson;
use crate::{ApiError, AppState};

/// `POST /api/v1/login` body, as JSON or as an HTML form.
#[derive(Debug, Deserialize)]
pub(crate) struct Credentials {
    user: String,
    password: String,
}

impl<S: Send + Sync> FromRequest<S> for Credentials {
    type Rejection = ApiError;

    async fn from_request(request: HttpRequest, state: &S) -> Result<Self, ApiError> {
        let form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let bad = |e: &dyn std::fmt::Display| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"user\": ..., \"password\": ...}}: {e}"),
            )
        };
        if form {
            Form::<Credentials>::from_request(request, state)
                .await
                .map(|Form(c)| c)
                .map_err(|e| bad(&e))
        } else {
            Json::<Credentials>::from_request(request, state)
                .await
                .map(|Json(c)| c)
                .map_err(|e| bad(&e))
        }
    }
}

pub(crate) async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    state.login_limits.check(&credentials.user, client.ip())?;
    let user = state
        .realm
        .authenticate(&credentials.user, &credentials.password)
        .await
        .map_err(ApiError::internal)?;
    let result = if user.is_some() { "ok" } else { "failed" };
    metrics::counter!("simul_logins_total", "result" => result).increment(1);
    let user = user.ok_or_else(|| ApiError::unauthorized("wrong user name or password"))?;
    let host = host(&headers);
    let request = Request { host: &host, https: false };
    let access_id = AccessId::user(&state.realm_name, &user.id);
    let cookies = state.sso.login_cookies(
        &state.keys,
        &access_id,
        chrono::Utc::now().timestamp_millis(),
        request,
    );
    let Some(ltpa2) = cookies.first().map(|c| c.value.clone()) else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "single sign-on is disabled or requires HTTPS (sso.enabled, sso.requires_ssl)",
        ));
    };
    tracing::info!(user = %user.id, "login");
    let body = json!({
        "user": user_json(&user),
        "csrf_token": csrf_token(&state, &ltpa2),
        "must_change_password": user.must_change_password,
    });
    Ok(with_cookies(Json(body).into_response(), &cookies))
}

pub(crate) async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    _caller: Authenticated,
) -> Response {
    let host = host(&headers);
    let cookies = state.sso.logout_cookies(Request { host: &host, https: false });
    with_cookies(Json(json!({})).into_response(), &cookies)
}

pub(crate) async fn me(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = state.store.user(&caller.user).await.map_err(ApiError::internal)?;
    let must_change_password = user.as_ref().is_some_and(|u| u.must_change_password);
    let user = match user {
        Some(user) => user_json(&user),
        // A user of another application in the SSO domain, unknown here.
        None => json!({ "id": caller.user, "name": caller.user, "display_name": caller.user }),
    };
    Ok(Json(json!({
        "user": user,
        "csrf_token": csrf_token(&state, &caller.token),
        "must_change_password": must_change_password,
    })))
}

/// `POST /api/v1/me/password` body.
#[derive(Debug, Deserialize)]
pub(crate) struct PasswordChange {
    current: String,
    new: String,
}

/// `POST /api/v1/me/password`: the user replaces their own password. It
/// guesses passwords as well as login does, so it shares login's limits.
pub(crate) async fn change_password(
    State(state): State<Arc<AppState>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    caller: Authenticated,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<Json<serde_json::Value>, ApiError> {
    state.login_limits.check(&caller.user, client.ip())?;
    match state.realm.change_password(&caller.user, &change.current, &change.new).await {
        Ok(()) => {
            tracing::info!(user = %caller.user, "password changed");
            Ok(Json(json!({})))
        }
        Err(error @ DirectoryError::WrongPassword) => {
            Err(ApiError::new(StatusCode::FORBIDDEN, error.to_string()))
        }
        Err(error @ (DirectoryError::WeakPassword | DirectoryError::SamePassword)) => {
            Err(ApiError::new(StatusCode::BAD_REQUEST, error.to_string()))
        }
        Err(DirectoryError::InvalidName(_) | DirectoryError::Store(_)) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, "this account's password is not kept here"))
        }
        Err(error) => Err(ApiError::internal(error)),
    }
}

fn user_json(user: &UserRecord) -> serde_json::Value {
    json!({ "id": user.id, "name": user.id, "display_name": user.display_name })
}

fn with_cookies(mut response: Response, cookies: &[SetCookie]) -> Response {
    for cookie in cookies {
        let value = HeaderValue::from_str(&cookie.to_string())
            .expect("cookie text is a valid header value");
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
