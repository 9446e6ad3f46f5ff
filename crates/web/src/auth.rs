//! Who is calling: the LTPA token from the SSO cookies or from
//! `Authorization: Bearer`, and the CSRF check for cookie-authenticated
//! writes.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use base64::Engine as _;
use ltpa::sso::Request;
use ltpa::{TokenFormat, VerifyOptions};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{ApiError, AppState};

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
}

/// Marks requests that came over HTTPS (see [`crate::over_https`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OverHttps;

/// Where a request was sent: the host name (without port) and whether it
/// came over HTTPS. They decide the SSO cookies' domain and Secure flag.
#[derive(Debug)]
pub(crate) struct Reached {
    host: String,
    https: bool,
}

impl Reached {
    fn of(parts: &Parts) -> Self {
        Self { host: host(&parts.headers), https: parts.extensions.get::<OverHttps>().is_some() }
    }

    /// The request as the SSO settings see it.
    pub(crate) fn sso(&self) -> Request<'_> {
        Request { host: &self.host, https: self.https }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Reached {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts))
    }
}

/// The request's host name without port, for cookie domains.
pub fn host(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(']') => {
            name.to_owned()
        }
        _ => host.to_owned(),
    }
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
        let options = VerifyOptions::now().trusting([state.realm_name.as_str()]);
        if let Some(token) = bearer(&parts.headers) {
            let identity = state
                .verifier
                .verify(token, Some(TokenFormat::Ltpa2), &options)
                .map_err(|invalid| {
                    ApiError::unauthorized(format!("the bearer token is not valid: {invalid}"))
                })?;
            let user = check_account(state, &identity.user, parts.uri.path()).await?;
            return Ok(Self { user, token: token.to_owned() });
        }
        let cookies = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>();
        let reached = Reached::of(parts);
        let mut last_problem = None;
        for presented in state.sso.presented_tokens(&cookies.join("; "), reached.sso()) {
            for format in &presented.formats {
                match state.verifier.verify(&presented.value, Some(*format), &options) {
                    Ok(identity) => {
                        if !CSRF_EXEMPT.contains(&parts.uri.path()) {
                            check_csrf(&parts.method, &parts.headers, state, &presented.value)?;
                        }
                        let user = check_account(state, &identity.user, parts.uri.path()).await?;
                        return Ok(Self { user, token: presented.value });
                    }
                    Err(invalid) => last_problem = Some(invalid),
                }
            }
        }
        Err(ApiError::unauthorized(match last_problem {
            Some(invalid) => format!("the SSO cookie is not valid ({}): log in again", invalid),
            None => {
                "not logged in: POST /api/v1/login, or send an LtpaToken2 cookie or bearer token"
                    .to_owned()
            }
        }))
    }
}

/// Writes a cookie may make without the CSRF token: connecting with the
/// SSO cookie is how a client gets the token, and it changes nothing.
const CSRF_EXEMPT: &[&str] = &["/stwebapi/user/connect"];

/// Routes open to an account that must change its password first.
const OPEN_BEFORE_PASSWORD_CHANGE: &[&str] =
    &["/api/v1/me", "/api/v1/me/password", "/api/v1/logout"];

/// A token outlives a `simul user disable` or a removal from LDAP; the
/// realm has the last word. A one-time password gets its owner no further
/// than replacing it. The caller's id is the realm's spelling of it (a DN
/// in a WebSphere token may differ in case and spaces from the server's).
async fn check_account(state: &AppState, user: &str, path: &str) -> Result<String, ApiError> {
    let Some(record) = state.realm.person(user).await? else {
        if state.realm.refuses_strangers() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this account is not in the directory (removed, or outside directory.ldap.base_dn)",
            ));
        }
        return Ok(user.to_owned());
    };
    if record.disabled {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "this account is disabled"));
    }
    if record.must_change_password && !OPEN_BEFORE_PASSWORD_CHANGE.contains(&path) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "change your one-time password first: POST /api/v1/me/password",
        ));
    }
    Ok(record.id)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
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
