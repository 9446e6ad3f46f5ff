//! Any HTTP request, as a client could send it, to the web front door's
//! whole router (in process, over a scratch SQLite store).
//!
//! Input: mode byte (method), then path, header lines and body separated
//! by NUL bytes. Half the requests carry a valid LtpaToken2 of user `alice`
//! (cookie or bearer), so they get past authentication into the handlers'
//! parsers (JSON bodies, query strings, path parameters).
//!
//! Checks: the router never panics and always answers; every answer under
//! `/api/` other than a WebSocket upgrade or a CORS preflight (OPTIONS) has
//! a status from the documented set and a JSON body, with an `error` field
//! when it is an error.

#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use ltpa::{AccessId, KeyFile, SsoSettings, UserData};
use tower::ServiceExt as _;

struct World {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    token: String,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyFile::generate("fuzz", "fuzz");
        // Valid for a day: longer than any fuzzing run.
        let expires_ms = chrono_now_ms() + 86_400_000;
        let data = UserData::for_user(&AccessId::user("fuzz", "alice"));
        let token = ltpa::ltpa2::create(&keys.keys, &data, expires_ms);
        let router = runtime.block_on(async {
            let store = simul_store::Store::open(&dir.path().join("simul.db")).await.unwrap();
            // `alice` is a user of the SSO domain this realm does not hold.
            let realm = std::sync::Arc::new(
                simul_directory::EmbeddedRealm::new(store.clone()).accepting_strangers(true),
            );
            let service =
                simul_service::Service::new(store, realm, keys.keys.clone(), "fuzz".into())
                    .await
                    .unwrap();
            let state = simul_web::AppState::new(std::sync::Arc::new(service), SsoSettings::default())
                .await
                .unwrap()
            // The fuzzed peer is a trusted proxy: its forwarding headers
            // (`Forwarded`, `X-Forwarded-*`) are parsed, not ignored.
            .with_trusted_proxies(vec!["127.0.0.0/8".parse().unwrap()]);
            simul_web::router(state)
        });
        World { runtime, router, token, _dir: dir }
    })
}

fn chrono_now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(now.as_millis()).unwrap()
}

const METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut parts = rest.splitn(3, |b| *b == 0);
    let path = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let headers = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default().to_vec();
    let path = if path.starts_with('/') { path } else { format!("/api/v1/{path}") };
    // Logging out would end the token every later input needs.
    if path.contains("logout") || path.contains("user/connect") {
        return;
    }
    let mut request = Request::builder().method(METHODS[usize::from(mode) % METHODS.len()].clone());
    let Ok(uri) = path.parse::<axum::http::Uri>() else { return };
    request = request.uri(uri);
    for line in headers.split(|b| *b == b'\n') {
        if let Some(colon) = line.iter().position(|b| *b == b':') {
            request = request.header(&line[..colon], &line[colon + 1..]);
        }
    }
    let world = world();
    match mode / 5 % 3 {
        0 => {}
        1 => request = request.header("authorization", format!("Bearer {}", world.token)),
        _ => request = request.header("cookie", format!("LtpaToken2={}", world.token)),
    }
    let Ok(mut request) = request.body(Body::from(body)) else { return };
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    // CORS preflights (any OPTIONS) answer with headers only.
    let api = path.starts_with("/api/")
        && !path.starts_with("/api/v1/openapi.json")
        && METHODS[usize::from(mode) % METHODS.len()] != Method::OPTIONS;
    world.runtime.block_on(async {
        let response = world.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap();
        if api && status != 101 {
            assert!(
                [200, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429].contains(&status.as_u16()),
                "{path}: unexpected status {status}"
            );
            let json: serde_json::Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{path}: {status} answer is not JSON ({e})"));
            if !status.is_success() {
                assert!(json["error"].is_string(), "{path}: {status} without error: {json}");
            }
        }
    });
});
