//! Who is calling: the LTPA token from the SSO cookies or from
//! `Authorization: Bearer`, the CSRF check for cookie-authenticated
//! writes, and where a browser request comes from.
//!
//! Every token that is not accepted gets one answer ([`not_signed_in`]),
//! in about the same time, and counts against its address's limit: the
//! answers of a server that opens tokens must not tell an attacker
//! anything about the key that opened them.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use base64::Engine as _;
use ltpa::TokenFormat;
use ltpa::sso::Request;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::proxy::Client;
use crate::{ApiError, AppState};
use simul_service::TokenStamp;

/// Header carrying the CSRF token on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Every header a CSRF token may come in, Simul's first.
const CSRF_HEADERS: &[&str] = &[CSRF_HEADER, "rtc4web-nonce", "x-st-csrf-token"];

/// An authenticated caller.
#[derive(Debug)]
pub struct Authenticated {
    /// The user's id (login name; the DN for LDAP users), as the realm
    /// spells it.
    pub user: String,
    /// The token that authenticated the call.
    pub token: String,
    /// What identifies that token, to end it at logout and to check it
    /// again later (open WebSockets).
    pub(crate) stamp: TokenStamp,
}

/// Marks requests that came over HTTPS (see [`crate::over_https`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OverHttps;

/// Where a request was sent and from where, as the browser made it
/// (through trusted proxies, see [`crate::proxy`]): the client's address
/// for the limits and the logs, the host and scheme, which decide the SSO
/// cookies' domain and Secure flag, and whether a browser sent it from a
/// page Simul trusts.
#[derive(Debug)]
pub(crate) struct Reached {
    pub(crate) client: Client,
    /// Not from a page of another site: from Simul's own origin, from
    /// `server.allowed_origins`, or not from a browser page at all.
    pub(crate) trusted_origin: bool,
}

impl Reached {
    pub(crate) fn of(parts: &Parts, state: &AppState) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        let https = parts.extensions.get::<OverHttps>().is_some();
        let client = Client::of(peer, https, &parts.headers, &state.trusted_proxies);
        let trusted_origin = trusted_origin(state, &parts.headers, &client);
        Self { client, trusted_origin }
    }

    /// The request as the SSO settings see it.
    pub(crate) fn sso(&self) -> Request<'_> {
        Request { host: self.client.host(), https: self.client.https }
    }
}

impl FromRequestParts<Arc<AppState>> for Reached {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts, state))
    }
}

/// Whether a request may act with the user's cookies as far as its origin
/// goes: browsers send `Origin` on every cross-origin POST and WebSocket
/// upgrade, and it must then be Simul's own (same host and port) or one of
/// `server.allowed_origins`. Without `Origin`, `Sec-Fetch-Site` (sent by
/// current browsers) must not name another site; scripts send neither.
fn trusted_origin(state: &AppState, headers: &HeaderMap, client: &Client) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        let site = headers.get("sec-fetch-site").map(|v| v.as_bytes());
        return !matches!(site, Some(b"cross-site" | b"same-site"));
    };
    origin.to_str().is_ok_and(|origin| is_trusted_origin(state, client, origin))
}

/// Whether `origin` (`https://host[:port]`) is Simul's own (the host and
/// port the browser asked for) or one of `server.allowed_origins`.
pub(crate) fn is_trusted_origin(state: &AppState, client: &Client, origin: &str) -> bool {
    if state.allowed_origins.iter().any(|allowed| allowed.eq_ignore_ascii_case(origin)) {
        return true;
    }
    // `null` (sandboxed frames, some redirects) has no authority: refused.
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(&client.authority))
}

/// The CSRF token that goes with an LTPA token: a keyed hash, so it needs
/// no server-side session and survives restarts.
pub fn csrf_token(state: &AppState, token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(&state.csrf_secret);
    hasher.update([0]);
    hasher.update(token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hasher.finalize())
}

impl FromRequestParts<Arc<AppState>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        // Where the request came from, worked out once: the cookies' host
        // and the client's address for the limit both need it.
        let reached = Reached::of(parts, state);
        let presented = presented_tokens(parts, state, &reached);
        let accepted = state.service.accept_token(presented, reached.client.address).await?;
        // Cookies ride along on cross-site requests; bearer tokens do not.
        let by_cookie = bearer(&parts.headers).is_none();
        if by_cookie && !(parts.method == Method::POST && CSRF_EXEMPT.contains(&parts.uri.path())) {
            check_csrf(&parts.method, &parts.headers, state, &accepted.token)?;
        }
        // A one-time password gets its owner no further than replacing it.
        if accepted.must_change_password && !OPEN_BEFORE_PASSWORD_CHANGE.contains(&parts.uri.path())
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "change your one-time password first: POST /api/v1/me/password",
            ));
        }
        Ok(Self { user: accepted.user, token: accepted.token, stamp: accepted.stamp })
    }
}

/// The tokens a request presents, each with the formats it may be in:
/// the bearer token, else the SSO cookies (best first).
pub(crate) fn presented_tokens(
    parts: &Parts,
    state: &AppState,
    reached: &Reached,
) -> Vec<(String, Vec<TokenFormat>)> {
    if let Some(token) = bearer(&parts.headers) {
        return vec![(token.to_owned(), vec![TokenFormat::Ltpa2])];
    }
    let cookies = parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>();
    state
        .sso()
        .presented_tokens(&cookies.join("; "), reached.sso())
        .into_iter()
        .map(|presented| (presented.value, presented.formats))
        .collect()
}

/// 401 for a request without an accepted token: always this text.
pub(crate) fn not_signed_in() -> ApiError {
    ApiError::unauthorized(
        "not signed in, or the sign-in has ended: log in (POST /api/v1/login), or send an \
         LtpaToken2 cookie or bearer token",
    )
}

/// Writes a cookie may make without the CSRF token (POSTs only):
/// connecting with the SSO cookie is how a client gets the token, and it
/// changes nothing.
const CSRF_EXEMPT: &[&str] = &["/stwebapi/user/connect"];

/// Routes open to an account that must change its password first.
const OPEN_BEFORE_PASSWORD_CHANGE: &[&str] =
    &["/api/v1/me", "/api/v1/me/password", "/api/v1/logout"];

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Cookies ride along on cross-site requests; a write must also prove the
/// page could read the CSRF token (from login or `GET /api/v1/me`).
fn check_csrf(
    method: &Method,
    headers: &HeaderMap,
    state: &AppState,
    token: &str,
) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let expected = csrf_token(state, token);
    // Sametime's REST clients send the same token as `Rtc4web-Nonce` or
    // `X-ST-CSRF-Token` (what `/stwebapi/user/connect` hands out).
    let given = CSRF_HEADERS
        .iter()
        .find_map(|name| headers.get(*name))
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if bool::from(given.ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "missing or wrong X-CSRF-Token header: send the csrf_token from login or GET /api/v1/me",
        ))
    }
}
