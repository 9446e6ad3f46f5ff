//! The routes.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post, put};

use crate::{AppState, account, assets, messages, nway, people, presence, telemetry};

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{name}", get(assets::asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(telemetry::render))
        .route("/api/v1/login", post(account::login))
        .route("/api/v1/logout", post(account::logout))
        .route("/api/v1/me", get(account::me))
        .route("/api/v1/me/password", post(account::change_password))
        .route("/api/v1/me/status", put(presence::put_status))
        .route("/api/v1/awareness", get(presence::awareness))
        .route("/api/v1/events", get(presence::events))
        .route("/api/v1/im/{user}", post(messages::send_im))
        .route("/api/v1/im/{user}/history", get(messages::history))
        .route("/api/v1/directory/search", get(people::search))
        .route("/api/v1/users/{id}/card", get(people::card))
        .route("/api/v1/contacts", get(messages::contacts).put(messages::put_contacts))
        .route("/api/v1/nway", post(nway::create))
        .route("/api/v1/nway/{id}/invite", post(nway::invite))
        .route("/api/v1/nway/{id}/join", post(nway::join))
        .route("/api/v1/nway/{id}/decline", post(nway::decline))
        .route("/api/v1/nway/{id}/leave", post(nway::leave))
        .route("/api/v1/nway/{id}/messages", post(nway::message))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
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
