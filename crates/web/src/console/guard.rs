//! The console's door: who may see it, checked on every request.

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use subtle::ConstantTimeEq as _;

use super::form::Fields;
use super::pages::{Refusal, render};
use crate::AppState;
use crate::auth::{Reached, csrf_token, presented_tokens};

/// The largest form a console page sends: a certificate import (a
/// PKCS#12 file with a long chain and an RSA-4096 key is some 10 KiB).
pub(super) const MAX_FORM_BYTES: usize = 64 * 1024;

/// The form field carrying the CSRF token (the one the API takes in
/// `X-CSRF-Token`, derived from the sign-in token).
pub(crate) const CSRF_FIELD: &str = "csrf";

/// The administrator a console request is from, as the guard found them.
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    /// Their user id.
    pub(crate) user: String,
    /// The client's address (behind trusted proxies), for the audit log.
    pub(crate) client: IpAddr,
    /// The CSRF token the page's forms carry.
    pub(crate) csrf: String,
    /// The sign-in token's stamp, to end it when they sign out.
    pub(crate) stamp: simul_service::TokenStamp,
}

impl Admin {
    /// Who acts and from where, for the audit log.
    pub(crate) fn actor(&self) -> simul_service::Actor {
        simul_service::Actor { who: self.user.clone(), origin: format!("console {}", self.client) }
    }

    /// Whether `password` is this administrator's own, checked as a
    /// sign-in (within the login limits): what the console asks before a
    /// password reset and a key export or import, so that an unattended
    /// browser cannot do them.
    pub(crate) async fn confirms(&self, state: &crate::AppState, password: &str) -> bool {
        state.service.log_in(&self.user, password, self.client).await.is_ok()
    }
}

/// Lets a request through to a console page only from an allowed network
/// (else the answer of a path that does not exist: the console's presence
/// is not told to the world), signed in (else 401 with a sign-in link),
/// with a password that need not be changed first, as an administrator
/// now (else 403), and for a POST from a page of this site with the form's
/// CSRF token (else 403).
pub(crate) async fn guard(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let reached = Reached::of(&parts, &state);
    if !state.console.allows(reached.client.address) {
        return crate::routes::no_such_route(parts.method, parts.uri).await.into_response();
    }
    let presented = presented_tokens(&parts, &state, &reached);
    let accepted = match state.service.accept_token(presented, reached.client.address).await {
        Ok(accepted) => accepted,
        Err(_) => return render(StatusCode::UNAUTHORIZED, &Refusal::sign_in()),
    };
    if accepted.must_change_password {
        return render(StatusCode::FORBIDDEN, &Refusal::change_password());
    }
    match state.service.is_admin(&accepted.user).await {
        Ok(true) => {}
        Ok(false) => return render(StatusCode::FORBIDDEN, &Refusal::not_admin(&accepted.user)),
        Err(error) => {
            tracing::warn!(%error, "console: cannot tell whether someone is an administrator");
            return render(StatusCode::SERVICE_UNAVAILABLE, &Refusal::unavailable());
        }
    }
    let csrf = csrf_token(&state, &accepted.token);
    let body = if parts.method == Method::GET || parts.method == Method::HEAD {
        body
    } else {
        // Cookies ride along on requests from other sites: a change must
        // come from a page of this one and carry the token only its pages
        // hold.
        let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
            return render(StatusCode::PAYLOAD_TOO_LARGE, &Refusal::bad_form());
        };
        let fields = Fields::read(&parts.headers, bytes.clone()).await;
        let given = fields.as_ref().map_or(&[][..], |fields| fields.bytes(CSRF_FIELD));
        if !reached.trusted_origin || !bool::from(given.ct_eq(csrf.as_bytes())) {
            return render(StatusCode::FORBIDDEN, &Refusal::bad_form());
        }
        Body::from(bytes)
    };
    let stamp = accepted.stamp;
    parts.extensions.insert(Admin {
        user: accepted.user,
        client: reached.client.address,
        csrf,
        stamp,
    });
    next.run(Request::from_parts(parts, body)).await
}
