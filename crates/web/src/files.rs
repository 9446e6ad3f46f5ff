//! Files over HTTP: `POST /api/v1/files` sends one into a 1:1 or n-way
//! conversation, streamed to the store under `[files] max_mb` (never held
//! whole in memory), and `GET /api/v1/files/{id}` hands it to the
//! conversation's members as a download that a browser neither renders
//! nor sniffs (images excepted, so that chats preview them), under a
//! sandboxing Content-Security-Policy in case it is opened anyway.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use simul_core::{Attachment, ChatId, UserId};
use simul_service::{FILES_PATH, FileTarget, FileUpload};
use utoipa::ToSchema;

use crate::auth::{Authenticated, Reached};
use crate::error::{ApiPath, ErrorBody};
use crate::{ApiError, AppState};

/// The media types served as themselves, so that `<img>` shows them:
/// raster images, which browsers do not run. Everything else (SVG and
/// HTML included, which can carry script) is served as
/// `application/octet-stream`.
const PREVIEWED_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];
/// Room for the form around the file: its boundaries, headers and fields.
const FORM_OVERHEAD_BYTES: u64 = 64 * 1024;
/// An upload that sends nothing for this long is dropped (a slow client
/// holds a connection and a temporary file, not the server).
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// However it trickles, an upload ends after this long: 25 MB at
/// 15 kB/s (a poor mobile link) still fits.
const UPLOAD_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// A file, as an attachment: octet-stream but for the previewed images.
#[derive(utoipa::ToResponse)]
#[expect(dead_code, reason = "it describes the download for the OpenAPI document only")]
pub(crate) enum FileBytes {
    Octets(#[content("application/octet-stream")] Vec<u8>),
    Png(#[content("image/png")] Vec<u8>),
    Jpeg(#[content("image/jpeg")] Vec<u8>),
    Gif(#[content("image/gif")] Vec<u8>),
    Webp(#[content("image/webp")] Vec<u8>),
}

/// A file as messages, events and history entries carry it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FileInfo {
    /// The file's id.
    id: String,
    /// Its name, as the sender gave it (without any path).
    name: String,
    /// Its size in bytes.
    size: u64,
    /// The media type the sender declared (served as
    /// `application/octet-stream` unless a PNG, JPEG, GIF or WebP image).
    #[serde(rename = "type")]
    content_type: String,
    /// Where the conversation's members download it (relative to the server).
    url: String,
}

impl FileInfo {
    pub(crate) fn of(file: &Attachment) -> Self {
        Self {
            id: file.id.clone(),
            name: file.name.clone(),
            size: file.size,
            content_type: file.content_type.clone(),
            url: format!("{FILES_PATH}{}", file.id),
        }
    }
}

/// An event frame with the file its message carries, if any, as `file`.
pub(crate) fn with_file(mut frame: Value, file: Option<&Attachment>) -> Value {
    if let (Some(file), Value::Object(fields)) = (file, &mut frame) {
        let info = serde_json::to_value(FileInfo::of(file)).unwrap_or_default();
        fields.insert("file".into(), info);
    }
    frame
}

/// What `POST /api/v1/files` takes: `to` or `chat` first, then `file`.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "it describes the form for the OpenAPI document only")]
pub(crate) struct FileForm {
    /// The recipient of a 1:1 file: user id, login name or mail.
    to: Option<String>,
    /// The n-way chat the file goes to (the caller is a member).
    chat: Option<u64>,
    /// The file, with its name (`filename`) and media type.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// What a sent file became.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FileSent {
    /// The id of the message that carries it.
    id: u64,
    /// The absolute URL of the file, for the conversation's members.
    url: String,
    /// The file.
    file: FileInfo,
    /// RFC 3339 time stamp.
    at: String,
}

/// Sends a file into a 1:1 conversation (`to`) or an n-way chat
/// (`chat`), as a message that carries it: web clients show it as a
/// file, other doors as a line with its name, size and URL. The form's
/// `to` or `chat` field comes before `file`, so that a file nobody may
/// receive is refused before it is read. Files are kept under the data
/// directory, at most `[files] max_mb` each.
#[utoipa::path(post, path = "/api/v1/files", tag = "files",
    request_body(content = FileForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, body = FileSent),
        (status = 400, body = ErrorBody, description = "Not a form with `to` or `chat`, then `file` (not empty)"),
        (status = 403, body = ErrorBody, description = "Not a member of that n-way chat (or no such chat); or the caller's policy does not allow files (`file_transfer`) or one this large (`max_file_mb`): `policy` names it"),
        (status = 404, body = ErrorBody, description = "Nobody of that name"),
        (status = 408, body = ErrorBody, description = "The upload stalled for 30 s, or took over 30 minutes"),
        (status = 413, body = ErrorBody, description = "The file is over `[files] max_mb`"),
        (status = 415, body = ErrorBody, description = "The body is not multipart/form-data"),
        (status = 429, body = ErrorBody, description = "Too many messages (server.messages_per_minute)"),
    ))]
pub(crate) async fn upload(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    reached: Reached,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<FileSent>, ApiError> {
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| multer::parse_boundary(value).ok())
        .ok_or_else(|| {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send a multipart/form-data body")
        })?;
    let limit = state.service.max_file_bytes();
    let constraints =
        multer::Constraints::new().allowed_fields(vec!["to", "chat", "file"]).size_limit(
            multer::SizeLimit::new()
                .whole_stream(limit.saturating_add(FORM_OVERHEAD_BYTES))
                .for_field("to", 1024)
                .for_field("chat", 32),
        );
    let mut form =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let user = UserId::new(caller.user);
    let pace = Pace::starting_now();
    let refused = |error| form_error(error, limit);
    let mut target = None;
    while let Some(mut field) = in_time(&pace, form.next_field(), refused).await? {
        let name = field.name().unwrap_or_default().to_owned();
        if name != "file" {
            if target.is_some() {
                return Err(bad_form("give `to` or `chat`, once"));
            }
            let text = in_time(&pace, field.text(), refused).await?;
            target = Some(match name.as_str() {
                "to" => FileTarget::Im(text),
                "chat" => FileTarget::Nway(ChatId::from_raw(
                    text.trim().parse().map_err(|_| bad_form("`chat` is a chat id"))?,
                )),
                _ => return Err(bad_form("the form takes `to` or `chat`, and `file`")),
            });
            continue;
        }
        let Some(target) = target.take() else {
            return Err(bad_form("give `to` or `chat` before `file`"));
        };
        // Browsers write a name's quotes as %22 in the form (HTML's
        // multipart/form-data encoding); line breaks go anyway.
        let file_name = field.file_name().unwrap_or("file").replace("%22", "\"");
        let declared = field.content_type().map(ToString::to_string).unwrap_or_default();
        let mut upload = state.service.file_upload(&user, target).await?;
        while let Some(chunk) = in_time(&pace, field.chunk(), refused).await? {
            upload.write(&chunk).await?;
        }
        let link = format!("{}{FILES_PATH}", origin(&reached));
        let sent =
            state.service.send_file(&user, None, upload, (&file_name, &declared), &link).await?;
        return Ok(Json(FileSent {
            id: sent.id.get(),
            url: format!("{link}{}", sent.file.id),
            file: FileInfo::of(&sent.file),
            at: sent.at.to_rfc3339(),
        }));
    }
    Err(bad_form("the form has no `file`"))
}

/// What the caller may send.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FileLimits {
    /// The largest file the caller may send, in bytes: the server's
    /// `[files] max_mb`, or their policy's `max_file_mb` when lower; 0
    /// when their policy allows no files.
    max_bytes: u64,
    /// Whether the caller's policy lets them send files (`file_transfer`).
    allowed: bool,
    /// The policy that sets `max_bytes` (or refuses files), when it is
    /// not the server's limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<String>,
}

/// The largest file the caller may send, for clients to say so before
/// they send one.
#[utoipa::path(get, path = "/api/v1/files/limits", tag = "files",
    responses((status = 200, body = FileLimits), (status = 401, body = ErrorBody)))]
pub(crate) async fn limits(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
) -> Result<Json<FileLimits>, ApiError> {
    let allowance = state.service.file_allowance(&UserId::new(&caller.user)).await?;
    Ok(Json(FileLimits {
        max_bytes: allowance.max_bytes,
        allowed: allowance.allowed,
        policy: allowance.policy,
    }))
}

/// A file of a conversation the caller is in, as a download. 404 alike
/// for a file that does not exist and one that is not the caller's.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files",
    params(("id" = String, Path, description = "The file's id (from its message)")),
    responses(
        (status = 200, response = FileBytes),
        (status = 404, body = ErrorBody, description = "No such file among the caller's conversations"),
    ))]
pub(crate) async fn download(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let found = state.service.file(&UserId::new(caller.user), &id).await?;
    serve(found, "same-origin").await
}

/// A kept file as a download (see the module's comment), or 404;
/// `resource_policy` says which sites may embed it (CORP).
pub(crate) async fn serve(
    found: Option<(Arc<Attachment>, std::path::PathBuf)>,
    resource_policy: &str,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "no such file");
    let (file, path) = found.ok_or_else(not_found)?;
    let bytes = tokio::fs::File::open(&path).await.map_err(|error| {
        tracing::error!(file = %file.id, %error, "a kept file cannot be read");
        not_found()
    })?;
    let served = if PREVIEWED_TYPES.contains(&file.content_type.as_str()) {
        file.content_type.as_str()
    } else {
        "application/octet-stream"
    };
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(bytes)).into_response();
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_TYPE, served.to_owned()),
        (header::CONTENT_LENGTH, file.size.to_string()),
        (header::CONTENT_DISPOSITION, content_disposition(&file.name)),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".to_owned()),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            resource_policy.to_owned(),
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_str(&value).map_err(ApiError::internal)?);
    }
    Ok(response)
}

/// `attachment` with the name twice (RFC 6266): `filename` in plain
/// ASCII for old clients (anything else, quotes and backslashes too,
/// becomes `_`), and `filename*` as UTF-8, percent-encoded but for RFC
/// 5987's attr-chars.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%') || c == ' ' { c } else { '_' }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// `https://host[:port]` as the client reached the server (through
/// trusted proxies), for the absolute URL in a file's message; a host
/// that is no host name becomes `localhost`.
fn origin(reached: &Reached) -> String {
    let authority = &reached.client.authority;
    let plausible = !authority.is_empty()
        && authority.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    let scheme = if reached.client.https { "https" } else { "http" };
    format!("{scheme}://{}", if plausible { authority } else { "localhost" })
}

/// When an upload must have ended.
pub(crate) struct Pace {
    deadline: tokio::time::Instant,
}

impl Pace {
    /// An upload that starts now.
    pub(crate) fn starting_now() -> Self {
        Self { deadline: tokio::time::Instant::now() + UPLOAD_DEADLINE }
    }
}

/// Waits for the next piece of an upload, at most [`IDLE_TIMEOUT`] and
/// not past the upload's deadline; `refused` says what a failed read means.
pub(crate) async fn in_time<T, E>(
    pace: &Pace,
    next: impl Future<Output = Result<T, E>>,
    refused: impl FnOnce(E) -> ApiError,
) -> Result<T, ApiError> {
    let until = pace.deadline.min(tokio::time::Instant::now() + IDLE_TIMEOUT);
    match tokio::time::timeout_at(until, next).await {
        Err(_) => Err(ApiError::new(StatusCode::REQUEST_TIMEOUT, "the upload stalled")),
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(refused(error)),
    }
}

/// The answer to a form multer refused.
fn form_error(error: multer::Error, limit: u64) -> ApiError {
    match error {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            FileUpload::too_large(limit).into()
        }
        multer::Error::UnknownField { .. } => bad_form("the form takes `to` or `chat`, and `file`"),
        error => bad_form(&format!("the form cannot be read: {error}")),
    }
}

fn bad_form(why: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, why)
}
