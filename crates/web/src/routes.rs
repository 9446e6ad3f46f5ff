//! The routes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, Request as HttpRequest, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use ltpa::AccessId;
use ltpa::sso::{Request, SetCookie};
use serde::Deserialize;
use serde_json::json;
use simul_store::UserRecord;

use crate::auth::{Authenticated, csrf_token, host};
use crate::{ApiError, AppState, messages, nway, presence, telemetry};

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(telemetry::render))
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/status", put(presence::put_status))
        .route("/api/v1/awareness", get(presence::awareness))
        .route("/api/v1/events", get(presence::events))
        .route("/api/v1/im/{user}", post(messages::send_im))
        .route("/api/v1/im/{user}/history", get(messages::history))
        .route("/api/v1/directory/search", get(messages::search))
        .route("/api/v1/contacts", get(messages::contacts).put(messages::put_contacts))
        .route("/api/v1/nway", post(nway::create))
        .route("/api/v1/nway/{id}/invite", post(nway::invite))
        .route("/api/v1/nway/{id}/join", post(nway::join))
        .route("/api/v1/nway/{id}/leave", post(nway::leave))
        .route("/api/v1/nway/{id}/messages", post(nway::message))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// `POST /api/v1/login` body, as JSON or as an HTML form.
#[derive(Debug, Deserialize)]
struct Credentials {
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

async fn login(
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
    let body = json!({ "user": user_json(&user), "csrf_token": csrf_token(&state, &ltpa2) });
    Ok(with_cookies(Json(body).into_response(), &cookies))
}

async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    _caller: Authenticated,
) -> Response {
    let host = host(&headers);
    let cookies = state.sso.logout_cookies(Request { host: &host, https: false });
    with_cookies(Json(json!({})).into_response(), &cookies)
}

async fn me(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = state.store.user(&caller.user).await.map_err(ApiError::internal)?;
    let user = match user {
        Some(user) => user_json(&user),
        // A user of another application in the SSO domain, unknown here.
        None => json!({ "id": caller.user, "name": caller.user, "display_name": caller.user }),
    };
    Ok(Json(json!({ "user": user, "csrf_token": csrf_token(&state, &caller.token) })))
}

/// Headers every answer carries: no MIME sniffing, no framing by other
/// sites, no referrer leaks, no caching of personal data.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    response
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
