//! The console's changes: each is one service function (the one the
//! matching `simul` command calls), then back to the person's card with
//! a fixed sentence saying what happened (no text of the request is
//! echoed into the page).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Form, State};
use axum::http::header;
use axum::response::{IntoResponse as _, Redirect, Response};
use serde::Deserialize;
use simul_directory::DirectoryError;
use simul_service::ServiceError;
use zeroize::Zeroizing;

use super::Admin;
use crate::AppState;

/// A form naming a person (the CSRF field was checked by the guard).
#[derive(Debug, Deserialize)]
pub(super) struct UserForm {
    user: String,
}

/// `POST /console/user/disable`: the person can no longer sign in, and
/// every session of theirs ends, on every door.
pub(super) async fn disable(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Form(form): Form<UserForm>,
) -> Response {
    let done = state.service.set_disabled(&admin.actor(), &form.user, true).await;
    back(&form.user, done.map(|()| "disabled"))
}

/// `POST /console/user/enable`.
pub(super) async fn enable(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Form(form): Form<UserForm>,
) -> Response {
    let done = state.service.set_disabled(&admin.actor(), &form.user, false).await;
    back(&form.user, done.map(|()| "enabled"))
}

/// Grant (`grant=1`) or revoke the administrator role.
#[derive(Debug, Deserialize)]
pub(super) struct AdminForm {
    user: String,
    grant: String,
}

/// `POST /console/user/admin`.
pub(super) async fn set_admin(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Form(form): Form<AdminForm>,
) -> Response {
    let grant = form.grant == "1";
    let done = state.service.administration().set_admin(&admin.actor(), &form.user, grant).await;
    back(&form.user, done.map(|()| if grant { "granted" } else { "revoked" }))
}

/// A new password, with the administrator's own again.
#[derive(Deserialize)]
pub(super) struct PasswordForm {
    user: String,
    admin_password: String,
    new_password: String,
}

/// `POST /console/user/password` (embedded realm): the administrator's
/// own password first (an unattended browser must not reset anyone's),
/// checked within the login limits; the person's sessions end.
pub(super) async fn reset_password(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let PasswordForm { user, admin_password, new_password } = form;
    let (admin_password, new_password) =
        (Zeroizing::new(admin_password), Zeroizing::new(new_password));
    let form = UserForm { user };
    if !admin.confirms(&state, &admin_password).await {
        return back(&form.user, Err("wrong-password"));
    }
    let done = state.service.reset_password(&admin.actor(), &form.user, &new_password).await;
    back(&form.user, done.map(|()| "password"))
}

/// One session to end.
#[derive(Debug, Deserialize)]
pub(super) struct SessionForm {
    user: String,
    session: String,
}

/// `POST /console/user/end-session`: the client is disconnected (and may
/// sign in again).
pub(super) async fn end_session(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Form(form): Form<SessionForm>,
) -> Response {
    let ended = match form.session.parse() {
        Ok(session) => state.service.end_session(&admin.actor(), &form.user, session).await,
        Err(_) => Ok(false),
    };
    let done = match ended {
        Ok(true) => Ok("ended"),
        Ok(false) => Err("no-session"),
        Err(error) => Err(code(&error)),
    };
    back_to(&form.user, done)
}

/// Back to the card, saying what happened.
fn back(user: &str, done: Result<&'static str, impl Into<Problem>>) -> Response {
    back_to(user, done.map_err(|problem| problem.into().0))
}

fn back_to(user: &str, done: Result<&'static str, &'static str>) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("id", user);
    match done {
        Ok(notice) => query.append_pair("done", notice),
        Err(problem) => query.append_pair("error", problem),
    };
    redirect(&format!("/console/user?{}", query.finish()))
}

/// Back to a page after a change (never kept in a cache: it says what
/// happened just now).
pub(super) fn redirect(location: &str) -> Response {
    let mut response = Redirect::to(location).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

/// A console page that can be shown again with why a change was refused.
pub(super) trait RefusablePage: askama::Template + Sized {
    /// The page as it is now, for this administrator.
    fn current(state: &AppState, admin: &Admin) -> Self;
    /// Shows `why` above it.
    fn refuse(&mut self, why: String);
}

/// The page again, with the reason nothing changed (422).
pub(super) fn refused<P: RefusablePage>(state: &AppState, admin: &Admin, why: &str) -> Response {
    let mut page = P::current(state, admin);
    page.refuse(why.to_owned());
    super::pages::render(axum::http::StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// A form that did not parse (a damaged multipart body).
pub(super) fn bad_form<P: RefusablePage>(state: &AppState, admin: &Admin) -> Response {
    refused::<P>(state, admin, "That form could not be read: reload the page and try again.")
}

/// The fields of a change that asks for the administrator's own password
/// again (`admin_password`, checked as a sign-in), as an extractor: a
/// form that does not parse or a wrong password answers with the page `P`
/// saying why nothing changed.
pub(super) struct Confirmed<P>(
    pub(super) super::form::Fields,
    pub(super) std::marker::PhantomData<P>,
);

impl<P: RefusablePage> axum::extract::FromRequest<Arc<AppState>> for Confirmed<P> {
    type Rejection = Response;

    async fn from_request(
        request: axum::extract::Request,
        state: &Arc<AppState>,
    ) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        // The guard put it there: a request without it never gets here.
        let Some(admin) = parts.extensions.get::<Admin>() else {
            return Err(axum::http::StatusCode::FORBIDDEN.into_response());
        };
        let bytes = axum::body::to_bytes(body, super::guard::MAX_FORM_BYTES).await;
        let fields = match bytes {
            Ok(bytes) => super::form::Fields::read(&parts.headers, bytes).await,
            Err(_) => None,
        };
        let Some(fields) = fields else { return Err(bad_form::<P>(state, admin)) };
        if !admin.confirms(state, fields.text("admin_password")).await {
            return Err(refused::<P>(
                state,
                admin,
                "Your own password was wrong: nothing was changed.",
            ));
        }
        Ok(Self(fields, std::marker::PhantomData))
    }
}

/// A failure's code in the card's address.
struct Problem(&'static str);

impl From<ServiceError> for Problem {
    fn from(error: ServiceError) -> Self {
        Self(code(&error))
    }
}

impl From<&'static str> for Problem {
    fn from(code: &'static str) -> Self {
        Self(code)
    }
}

fn code(error: &ServiceError) -> &'static str {
    match error {
        ServiceError::NoSuchUser(_) => "no-such-user",
        ServiceError::OwnAdminRole => "own-role",
        ServiceError::Directory(DirectoryError::WeakPassword) => "weak-password",
        ServiceError::Directory(DirectoryError::Unsupported(_)) => "unsupported",
        other => {
            tracing::warn!(error = %other, "console: an action failed");
            "failed"
        }
    }
}

/// The sentence for a `done=` code.
pub(super) fn notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "disabled" => "Disabled. Every session of theirs has ended, on every front door.",
        "enabled" => "Enabled. They can sign in again.",
        "granted" => "They are now an administrator.",
        "revoked" => "They are no longer an administrator.",
        "password" => "Password set. Their sessions have ended; tell them the new password.",
        "ended" => "Session ended.",
        _ => return None,
    })
}

/// The sentence for an `error=` code.
pub(super) fn problem(code: &str) -> Option<&'static str> {
    Some(match code {
        "no-such-user" => "There is no such user.",
        "own-role" => "You cannot revoke your own administrator role.",
        "weak-password" => "That password is too weak: use at least 8 characters.",
        "unsupported" => "The directory does not allow this here: change it in the directory.",
        "wrong-password" => "Your own password was wrong: nothing was changed.",
        "no-session" => "That session had already ended.",
        "failed" => "That did not work; the server log says why.",
        _ => return None,
    })
}

/// `POST /console/sign-out`: ends the administrator's sign-in token (the
/// console's session, and the chat client's in this browser, which
/// shares it) and clears the SSO cookies; back to the sign-in page.
pub(super) async fn sign_out(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    reached: crate::auth::Reached,
) -> Response {
    if let Err(error) = state.service.log_out(&admin.stamp).await {
        tracing::warn!(%error, "console: cannot end a sign-in");
        return super::pages::render(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            &super::pages::Refusal::unavailable(),
        );
    }
    let cookies = state.sso().logout_cookies(reached.sso());
    crate::account::with_cookies(redirect("/"), &cookies)
}
