//! Files over HTTP without a sign-in, for clients that have none to
//! give: XMPP's HTTP upload (XEP-0363). The XMPP door reserves a file and
//! hands its client two URLs; this module serves both.
//!
//! - `PUT /api/v1/uploads/{id}/{secret}/{name}` takes the bytes of a
//!   reserved file, once, exactly as many as reserved.
//! - `GET /api/v1/files/{id}/{capability}/{name}` hands the file to the
//!   holder of a member's link (see `simul_service::FileUrls`), while
//!   that member may read it.
//!
//! Both answer 404 alike for what does not exist and what the URL does
//! not open. Any site may embed the file (CORP `cross-origin`: the URL is
//! the whole credential, no cookie is read); browser-based XMPP clients
//! may PUT from `server.allowed_origins` (CORS, like the rest of the API).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;

use crate::error::{ApiPath, ErrorBody};
use crate::files::{FileBytes, Pace, in_time, serve};
use crate::{ApiError, AppState};

/// Takes the bytes of a reserved file (XEP-0363's PUT): 201 once they
/// all came. The file goes to its conversation when its uploader sends
/// the message with its link.
#[utoipa::path(put, path = "/api/v1/uploads/{id}/{secret}/{name}", tag = "files",
    params(
        ("id" = String, Path, description = "The reserved file's id"),
        ("secret" = String, Path, description = "The upload's secret, from the slot"),
        ("name" = String, Path, description = "The file's name (not read)"),
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Received; the file waits for its message"),
        (status = 400, body = ErrorBody, description = "Fewer bytes than reserved"),
        (status = 404, body = ErrorBody, description = "No such reservation awaiting its bytes"),
        (status = 408, body = ErrorBody, description = "The upload stalled for 30 s, or took over 30 minutes"),
        (status = 413, body = ErrorBody, description = "More bytes than reserved"),
    ))]
pub(crate) async fn put(
    State(state): State<Arc<AppState>>,
    ApiPath((id, secret, _name)): ApiPath<(String, String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let mut upload = state
        .service
        .reserved_upload(&id, &secret)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such upload"))?;
    let pace = Pace::starting_now();
    let mut body = body.into_data_stream();
    let broke_off = |_| ApiError::new(StatusCode::BAD_REQUEST, "the upload broke off");
    while let Some(chunk) =
        in_time(&pace, async { body.next().await.transpose() }, broke_off).await?
    {
        upload.write(&chunk).await?;
    }
    state.service.finish_reserved(upload)?;
    Ok(StatusCode::CREATED.into_response())
}

/// A file for the holder of a member's link: the download the members
/// signed in to the web get (`GET /api/v1/files/{id}`), embeddable
/// from any site.
#[utoipa::path(get, path = "/api/v1/files/{id}/{capability}/{name}", tag = "files",
    params(
        ("id" = String, Path, description = "The file's id"),
        ("capability" = String, Path, description = "The member's link token"),
        ("name" = String, Path, description = "The file's name (not read)"),
    ),
    responses(
        (status = 200, response = FileBytes),
        (status = 404, body = ErrorBody, description = "No such file, or the link opens nothing"),
    ))]
pub(crate) async fn get(
    State(state): State<Arc<AppState>>,
    ApiPath((id, capability, _name)): ApiPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    let found = state.service.file_by_capability(&id, &capability).await?;
    serve(found, "cross-origin").await
}
