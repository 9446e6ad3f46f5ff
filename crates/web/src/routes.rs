//! The routes. API routes are registered with their OpenAPI description
//! (`routes!`), so `/api/v1/openapi.json` cannot miss one.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use utoipa::{Modify as _, OpenApi as _};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Reached;
use crate::openapi::{ApiDoc, GenericErrors};
use crate::{
    ApiError, AppState, account, assets, conversations, files, links, message_changes, messages,
    nway, people, presence, stwebapi, telemetry,
};

/// The largest request body: a full contact list (2,000 ids) fits; a
/// message is at most 10,000 characters. (`POST /api/v1/files` reads its
/// body as a stream under its own limit, `[files] max_mb`.)
const MAX_BODY_BYTES: usize = 256 * 1024;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let (api, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(account::login))
        .routes(routes!(account::logout))
        .routes(routes!(account::me))
        .routes(routes!(account::change_password))
        .routes(routes!(presence::put_status))
        .routes(routes!(presence::awareness))
        .routes(routes!(presence::events))
        .routes(routes!(messages::send_im))
        .routes(routes!(messages::history))
        .routes(routes!(conversations::list))
        .routes(routes!(conversations::read))
        .routes(routes!(message_changes::edit, message_changes::delete))
        .routes(routes!(message_changes::react))
        .routes(routes!(message_changes::settings, message_changes::put_settings))
        .routes(routes!(messages::contacts, messages::put_contacts))
        .routes(routes!(people::search))
        .routes(routes!(people::cards))
        .routes(routes!(people::card))
        .routes(routes!(nway::list, nway::create))
        .routes(routes!(nway::invite))
        .routes(routes!(nway::join))
        .routes(routes!(nway::decline))
        .routes(routes!(nway::leave))
        .routes(routes!(nway::message))
        .routes(routes!(nway::history))
        .routes(routes!(crate::search::search))
        .routes(routes!(files::upload))
        .routes(routes!(files::limits))
        .routes(routes!(files::download))
        .routes(routes!(links::put))
        .routes(routes!(links::get))
        .split_for_parts();
    GenericErrors.modify(&mut document);
    let document = Arc::new(document);
    let app = api
        .route("/api/v1/openapi.json", get(move || async move { Json(document.as_ref().clone()) }))
        .route("/", get(assets::index))
        .route("/awareness.js", get(assets::awareness))
        .route("/demo/awareness", get(assets::demo_awareness))
        .route("/assets/{name}", get(assets::asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(telemetry::ready))
        .route("/metrics", get(telemetry::render))
        .route("/stwebapi/getstatus", get(stwebapi::getstatus))
        .route("/stwebapi/getstatus/{id}", get(stwebapi::getstatus_of))
        .route("/stwebapi/chat", get(stwebapi::chat).post(stwebapi::post_chat))
        .route("/stwebapi/chat/nway", post(stwebapi::nway))
        .route("/stwebapi/user/connect", post(stwebapi::connect).delete(stwebapi::disconnect))
        .route("/stwebapi/connectweb/loggedin", get(stwebapi::logged_in))
        .route("/stwebapi/convomap/conversations", get(stwebapi::conversations))
        .merge(crate::console::router(state.clone()))
        .fallback(no_such_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors(&state.allowed_origins))
        .layer(axum::middleware::map_response(security_headers));
    let app = if state.access_log {
        app.layer(axum::middleware::from_fn_with_state(state.clone(), access_log))
    } else {
        app
    };
    app.with_state(state)
}

/// One line per request, after the answer: method, path (the query is
/// left out: it can hold names and callback text), status, time taken and
/// the client's address behind trusted proxies.
async fn access_log(
    reached: Reached,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().clone();
    let path = loggable(request.uri().path());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        target: "simul::access",
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        client = %reached.client.address,
        "request"
    );
    response
}

/// A path as the access log shows it: the secret of an upload URL and
/// the capability of a file link are credentials, left out.
fn loggable(path: &str) -> String {
    for start in [simul_service::UPLOADS_PATH, simul_service::FILES_PATH] {
        if let Some(rest) = path.strip_prefix(start) {
            let parts: Vec<&str> = rest.splitn(3, '/').collect();
            if let [id, _secret, name] = parts[..] {
                return format!("{start}{id}/…/{name}");
            }
        }
    }
    path.to_owned()
}

/// CORS for the allowed origins only, with the user's cookies: their pages
/// (Connections, Portal, iNotes) show awareness and chat from this server.
/// Other sites get no CORS headers, so their pages cannot read answers.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> =
        origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::HeaderName::from_static(crate::auth::CSRF_HEADER),
            header::HeaderName::from_static("x-st-csrf-token"),
            header::HeaderName::from_static("rtc4web-nonce"),
        ])
        .expose_headers([header::HeaderName::from_static(crate::auth::CSRF_HEADER)])
        .max_age(std::time::Duration::from_secs(600))
}

/// API clients read JSON errors, for paths that do not exist too.
pub(crate) async fn no_such_route(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no such route: {method} {} (see /api/v1/openapi.json)", uri.path()),
    )
}

pub(crate) async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not take {method} (see /api/v1/openapi.json)", uri.path()),
    )
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
