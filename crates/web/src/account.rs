//! The account: login (sets the SSO cookies), logout, who am I, and the
//! user's own password change.

use std::sync::Arc;

use axum::extract::{FromRequest, Request as HttpRequest, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use ltpa::AccessId;
use ltpa::sso::SetCookie;
use serde::{Deserialize, Serialize};
use simul_directory::{DirectoryError, Person};
use simul_service::ServiceError;
use simul_store::StoreError;
use utoipa::ToSchema;

use crate::auth::{Authenticated, Reached, csrf_token};
use crate::error::{ApiJson, Done, ErrorBody};
use crate::{ApiError, AppState};

/// `POST /api/v1/login` body, as JSON or as an HTML form.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Credentials {
    /// Login name.
    user: String,
    /// Password.
    password: String,
}

/// Who the caller is, as login and `GET /api/v1/me` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionInfo {
    user: UserInfo,
    /// Send it as `X-CSRF-Token` on cookie-authenticated writes.
    csrf_token: String,
    /// The password was set by someone else (the first admin's one-time
    /// password): nothing but `POST /api/v1/me/password` works until then.
    must_change_password: bool,
}

/// A user as the API names them.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserInfo {
    /// The user id (login name, or the DN for LDAP users).
    id: String,
    /// The same as `id` (the name to log in with).
    name: String,
    /// The name shown to others.
    display_name: String,
}

impl UserInfo {
    fn of(user: &Person) -> Self {
        Self { id: user.id.clone(), name: user.id.clone(), display_name: user.display_name.clone() }
    }

    /// A user of another application in the SSO domain, unknown here
    /// (`directory.accept_unknown_sso_users`).
    fn unknown(id: &str) -> Self {
        Self { id: id.to_owned(), name: id.to_owned(), display_name: id.to_owned() }
    }
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

/// Logs in with a password and sets the SSO cookies: a genuine
/// `LtpaToken2` (and `LtpaToken` in interoperability mode).
#[utoipa::path(post, path = "/api/v1/login", tag = "account",
    request_body(content(
        (Credentials = "application/json"),
        (Credentials = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, body = SessionInfo, description = "Logged in; `Set-Cookie: LtpaToken2=...`"),
        (status = 401, body = ErrorBody, description = "Wrong user name or password"),
        (status = 429, body = ErrorBody, description = "Too many attempts for this account or address"),
    ))]
pub(crate) async fn login(
    State(state): State<Arc<AppState>>,
    reached: Reached,
    credentials: Credentials,
) -> Result<Response, ApiError> {
    let (user, cookies, csrf) =
        password_login(&state, &reached, &credentials.user, &credentials.password).await?;
    let body = SessionInfo {
        user: UserInfo::of(&user),
        csrf_token: csrf,
        must_change_password: user.must_change_password,
    };
    Ok(with_cookies(Json(body).into_response(), &cookies))
}

/// A password login, limited per account and address: the person, the
/// SSO cookies to set and the CSRF token that goes with them. Shared by
/// `POST /api/v1/login` and the Sametime-compatible `user/connect`.
pub(crate) async fn password_login(
    state: &AppState,
    reached: &Reached,
    name: &str,
    password: &str,
) -> Result<(Person, Vec<SetCookie>, String), ApiError> {
    // A page of another site must not sign the browser in (as the
    // attacker, into every application of the SSO domain).
    if !reached.trusted_origin {
        simul_service::audit_refused_login(name, reached.client.address, "foreign_origin");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "sign in from Simul's own page: this page's origin is not in server.allowed_origins",
        ));
    }
    let user = state.service.log_in(name, password, reached.client.address).await?;
    let (cookies, csrf) = issue_tokens(state, reached, &user.id)?;
    Ok((user, cookies, csrf))
}

/// New SSO cookies for `user` and the CSRF token that goes with them.
fn issue_tokens(
    state: &AppState,
    reached: &Reached,
    user: &str,
) -> Result<(Vec<SetCookie>, String), ApiError> {
    let access_id = AccessId::user(state.service.realm_name(), user);
    let cookies = state.sso().login_cookies(
        &state.service.keys().current().signing,
        &access_id,
        chrono::Utc::now().timestamp_millis(),
        reached.sso(),
    );
    let Some(ltpa2) = cookies.first().map(|c| c.value.clone()) else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "single sign-on is disabled or requires HTTPS (sso.enabled, sso.requires_ssl)",
        ));
    };
    let csrf = csrf_token(state, &ltpa2);
    Ok((cookies, csrf))
}

/// Ends the caller's token (in Simul, until it expires; other servers of
/// the SSO domain keep accepting it until then, as WebSphere does) and
/// clears the SSO cookies.
#[utoipa::path(post, path = "/api/v1/logout", tag = "account",
    responses((status = 200, body = Done), (status = 401, body = ErrorBody)))]
pub(crate) async fn logout(
    State(state): State<Arc<AppState>>,
    reached: Reached,
    caller: Authenticated,
) -> Result<Response, ApiError> {
    end_session(&state, &reached, &caller, Json(Done {}).into_response()).await
}

/// Ends the caller's token and clears the SSO cookies in `response`:
/// logout for the API and for the Sametime-compatible endpoints.
pub(crate) async fn end_session(
    state: &AppState,
    reached: &Reached,
    caller: &Authenticated,
    response: Response,
) -> Result<Response, ApiError> {
    state.service.log_out(&caller.stamp).await?;
    Ok(with_cookies(response, &state.sso().logout_cookies(reached.sso())))
}

/// Who is logged in (by the SSO cookie or bearer token), and the CSRF token.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = SessionInfo), (status = 401, body = ErrorBody)))]
pub(crate) async fn me(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
) -> Result<Json<SessionInfo>, ApiError> {
    let user = state.service.person(&caller.user).await?;
    let must_change_password = user.as_ref().is_some_and(|u| u.must_change_password);
    let user = user.as_ref().map_or_else(|| UserInfo::unknown(&caller.user), UserInfo::of);
    let csrf_token = csrf_token(&state, &caller.token);
    Ok(Json(SessionInfo { user, csrf_token, must_change_password }))
}

/// `POST /api/v1/me/password` body.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct PasswordChange {
    /// The password now.
    current: String,
    /// The password from now on (at least 8 characters).
    new: String,
}

/// The user replaces their own password (embedded realm). Every token
/// issued before ends, this one too: the answer carries new SSO cookies
/// and the CSRF token that goes with them. It can guess passwords as well
/// as login can, so it shares login's limits.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "account",
    request_body = PasswordChange,
    responses(
        (status = 200, body = SessionInfo, description = "Changed; `Set-Cookie: LtpaToken2=...` replaces the session"),
        (status = 400, body = ErrorBody, description = "New password too short or unchanged"),
        (status = 403, body = ErrorBody, description = "Current password wrong"),
        (status = 409, body = ErrorBody, description = "The password is kept in LDAP, not here"),
        (status = 429, body = ErrorBody),
    ))]
pub(crate) async fn change_password(
    State(state): State<Arc<AppState>>,
    reached: Reached,
    caller: Authenticated,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<Response, ApiError> {
    let changed = state
        .service
        .change_password(&caller.user, &change.current, &change.new, reached.client.address)
        .await;
    match changed {
        Ok(()) => {
            let (cookies, csrf_token) = issue_tokens(&state, &reached, &caller.user)?;
            let user = state.service.person(&caller.user).await?;
            let user = user.as_ref().map_or_else(|| UserInfo::unknown(&caller.user), UserInfo::of);
            let body = SessionInfo { user, csrf_token, must_change_password: false };
            Ok(with_cookies(Json(body).into_response(), &cookies))
        }
        Err(ServiceError::Directory(error)) => Err(password_refused(error)),
        Err(error) => Err(error.into()),
    }
}

/// What the API answers when the realm keeps a password as it was.
fn password_refused(error: DirectoryError) -> ApiError {
    match error {
        DirectoryError::WrongPassword => ApiError::new(StatusCode::FORBIDDEN, error.to_string()),
        DirectoryError::Unsupported(_) => ApiError::new(StatusCode::CONFLICT, error.to_string()),
        DirectoryError::WeakPassword | DirectoryError::SamePassword => {
            ApiError::new(StatusCode::BAD_REQUEST, error.to_string())
        }
        DirectoryError::InvalidName(_) | DirectoryError::Store(StoreError::NoSuchUser(_)) => {
            ApiError::new(StatusCode::NOT_FOUND, "this account's password is not kept here")
        }
        error => error.into(),
    }
}

/// The response with these `Set-Cookie` headers.
pub(crate) fn with_cookies(mut response: Response, cookies: &[SetCookie]) -> Response {
    for cookie in cookies {
        let value = HeaderValue::from_str(&cookie.to_string())
            .expect("cookie text is a valid header value");
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
