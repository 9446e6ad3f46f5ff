//! The browser client's files, compiled into the binary so a deployment is
//! one file. Every page gets a strict Content-Security-Policy: scripts and
//! styles only from this server, no inline code, so injected markup cannot
//! run.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file: its name under `/assets/`, its media type, its bytes.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $media_type:literal) => {
        Asset {
            name: $name,
            media_type: $media_type,
            bytes: include_bytes!(concat!("../assets/", $name)),
        }
    };
}

/// The files under `/assets/`.
const ASSETS: &[Asset] = &[
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("actions.js", "text/javascript; charset=utf-8"),
    asset!("announcements.js", "text/javascript; charset=utf-8"),
    asset!("api.js", "text/javascript; charset=utf-8"),
    asset!("chat.js", "text/javascript; charset=utf-8"),
    asset!("dialogs.js", "text/javascript; charset=utf-8"),
    asset!("dom.js", "text/javascript; charset=utf-8"),
    asset!("events.js", "text/javascript; charset=utf-8"),
    asset!("files.js", "text/javascript; charset=utf-8"),
    asset!("login.js", "text/javascript; charset=utf-8"),
    asset!("message-tools.js", "text/javascript; charset=utf-8"),
    asset!("notify.js", "text/javascript; charset=utf-8"),
    asset!("password.js", "text/javascript; charset=utf-8"),
    asset!("search.js", "text/javascript; charset=utf-8"),
    asset!("sidebar.js", "text/javascript; charset=utf-8"),
    asset!("status.js", "text/javascript; charset=utf-8"),
    asset!("store.js", "text/javascript; charset=utf-8"),
    asset!("ui.js", "text/javascript; charset=utf-8"),
    asset!("widgets.js", "text/javascript; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("demo-awareness.css", "text/css; charset=utf-8"),
    asset!("files.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
];

const INDEX: &[u8] = include_bytes!("../assets/index.html");
const AWARENESS: &[u8] = include_bytes!("../assets/awareness.js");
const DEMO_AWARENESS: &[u8] = include_bytes!("../assets/demo-awareness.html");

/// The policy for the client's pages; `connect-src 'self'` covers the
/// same-origin WebSocket.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: https:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /`: the chat client.
pub(crate) async fn index() -> Response {
    page(INDEX)
}

/// `GET /demo/awareness`: a made-up intranet page showing `awareness.js`.
pub(crate) async fn demo_awareness() -> Response {
    page(DEMO_AWARENESS)
}

/// An HTML page under the strict policy.
fn page(html: &'static [u8]) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    response
}

/// `GET /awareness.js`: the awareness widget other sites' pages include
/// (no personal data in it, so it may be cached and loaded cross-origin).
pub(crate) async fn awareness() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::HeaderName::from_static("cross-origin-resource-policy"), "cross-origin"),
        ],
        AWARENESS,
    )
        .into_response()
}

/// `GET /assets/{name}`.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => ([(header::CONTENT_TYPE, asset.media_type)], asset.bytes).into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}
