//! API errors: a status code and a JSON body `{"error": "..."}` that says
//! what went wrong and, where it can, what to do.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// What went wrong and, where it can, what to do.
    error: String,
    /// The policy that refused the request (403), as the administrator
    /// named it (`default`, `anonymous` or a custom policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<String>,
    /// The policy's setting that refused it (`nway_chat`, `file_transfer`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    setting: Option<String>,
}

/// The body of a success that has nothing to say: `{}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Done {}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    /// Seconds to wait, sent as `Retry-After` (rate limits).
    retry_after: Option<u64>,
    /// The policy that refused, and its setting.
    policy: Option<(String, &'static str)>,
}

impl ApiError {
    /// An error with a status and a message for the client.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), retry_after: None, policy: None }
    }

    /// 429: over a rate limit; clients may retry after `seconds`.
    pub fn too_many_requests(message: impl Into<String>, seconds: u64) -> Self {
        Self { retry_after: Some(seconds), ..Self::new(StatusCode::TOO_MANY_REQUESTS, message) }
    }

    /// 401: not (or no longer) authenticated.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 503: the user directory (LDAP) does not answer.
    pub(crate) fn directory_down() -> Self {
        Self {
            retry_after: Some(30),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the user directory (LDAP) does not answer; try again later (the server log has \
                 the details)",
            )
        }
    }

    /// The message for the client.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// 500: logged in full, answered without details.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; the server log has the details",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<simul_core::CoreError> for ApiError {
    fn from(error: simul_core::CoreError) -> Self {
        let status = match &error {
            simul_core::CoreError::EmptyText => StatusCode::BAD_REQUEST,
            simul_core::CoreError::TextTooLong { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            simul_core::CoreError::UnknownChat(_) => StatusCode::NOT_FOUND,
            simul_core::CoreError::NotInvited(_) | simul_core::CoreError::NotMember(_) => {
                StatusCode::FORBIDDEN
            }
            simul_core::CoreError::UnknownSession(_) => StatusCode::CONFLICT,
            simul_core::CoreError::TooManySessions { .. } => StatusCode::TOO_MANY_REQUESTS,
            simul_core::CoreError::WatchListFull { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        };
        ApiError::new(status, error.to_string())
    }
}

impl From<simul_service::ServiceError> for ApiError {
    /// The status each kind of failure has in the API.
    fn from(error: simul_service::ServiceError) -> Self {
        use simul_service::ServiceError;
        match error {
            ServiceError::Core(error) => error.into(),
            ServiceError::Store(error) => error.into(),
            ServiceError::Directory(error) => error.into(),
            ServiceError::TooMany(too_many) => too_many.into(),
            ServiceError::NoSuchUser(_) => Self::new(StatusCode::NOT_FOUND, error.to_string()),
            ServiceError::Invalid(_) => Self::new(StatusCode::BAD_REQUEST, error.to_string()),
            ServiceError::TooLarge(_) => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, error.to_string())
            }
            ServiceError::NoSuchMessage => Self::new(StatusCode::NOT_FOUND, error.to_string()),
            ServiceError::NotAuthor | ServiceError::OwnAdminRole => {
                Self::new(StatusCode::FORBIDDEN, error.to_string())
            }
            ServiceError::Policy(refusal) => Self {
                policy: Some((refusal.policy, refusal.setting.key())),
                ..Self::new(StatusCode::FORBIDDEN, refusal.message)
            },
            ServiceError::Keys(_) => {
                tracing::error!(%error, "the LTPA key files");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "the LTPA key files cannot be changed")
            }
        }
    }
}

impl From<simul_service::TokenRefused> for ApiError {
    /// 401 with one text for every bad token; 403 for an account the
    /// directory refuses; 503 while it cannot be asked.
    fn from(refusal: simul_service::TokenRefused) -> Self {
        use simul_service::TokenRefused;
        match refusal {
            TokenRefused::NotSignedIn => crate::auth::not_signed_in(),
            TokenRefused::TooMany(too_many) => too_many.into(),
            TokenRefused::Unknown | TokenRefused::Disabled => {
                Self::new(StatusCode::FORBIDDEN, refusal.to_string())
            }
            TokenRefused::DirectoryDown => Self::directory_down(),
            TokenRefused::Directory(error) => error.into(),
        }
    }
}

impl From<simul_service::LoginRefused> for ApiError {
    /// 401 for every bad credential, 429 over the limits, 503 while the
    /// directory cannot be asked.
    fn from(refusal: simul_service::LoginRefused) -> Self {
        use simul_service::LoginRefused;
        match refusal {
            LoginRefused::BadCredentials => Self::unauthorized(refusal.to_string()),
            LoginRefused::TooMany(too_many) => too_many.into(),
            LoginRefused::Directory(error) => error.into(),
        }
    }
}

impl From<simul_service::TooMany> for ApiError {
    /// 429 with `Retry-After`.
    fn from(refusal: simul_service::TooMany) -> Self {
        Self::too_many_requests(refusal.message, refusal.retry_after_seconds)
    }
}

impl From<simul_store::StoreError> for ApiError {
    /// A full disk or a database locked by another process is a 503 that
    /// says so, with a log line: the request was fine, nothing was kept,
    /// and it may be sent again. Anything else unexpected is a 500.
    fn from(error: simul_store::StoreError) -> Self {
        use simul_store::Unavailable;
        let Some(unavailable) = error.unavailable() else {
            return Self::internal(error);
        };
        tracing::warn!(%error, "database unavailable");
        let message = match unavailable {
            Unavailable::DiskFull => {
                "the server's disk is full: nothing was saved; try again later"
            }
            Unavailable::Busy => {
                "the database is locked by another process (a backup?): nothing was saved; try \
                 again later"
            }
            Unavailable::Io => "the database cannot be read or written now; try again later",
        };
        Self { retry_after: Some(30), ..Self::new(StatusCode::SERVICE_UNAVAILABLE, message) }
    }
}

impl From<simul_directory::DirectoryError> for ApiError {
    /// An LDAP outage is a 503 that says so (the server log has the
    /// details), and so is a store that cannot take a write now; anything
    /// else unexpected is a 500.
    fn from(error: simul_directory::DirectoryError) -> Self {
        if let simul_directory::DirectoryError::Store(store) = error {
            return store.into();
        }
        if error.is_outage() {
            tracing::warn!(%error, "directory unavailable");
            return Self::directory_down();
        }
        Self::internal(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (policy, setting) = self.policy.unzip();
        let body = ErrorBody { error: self.message, policy, setting: setting.map(str::to_owned) };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// `Json<T>` whose rejections (malformed JSON, wrong content type, missing
/// fields) answer in the API's JSON error format.
pub(crate) struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        Json::<T>::from_request(request, state)
            .await
            .map(|Json(value)| Self(value))
            .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))
    }
}

/// Makes `$name<T>`, axum's `$extractor<T>` whose rejections answer in
/// the API's JSON error format.
macro_rules! json_rejections {
    ($(#[$doc:meta])* $name:ident, $extractor:ident) => {
        $(#[$doc])*
        pub(crate) struct $name<T>(pub T);

        impl<S: Send + Sync, T> axum::extract::FromRequestParts<S> for $name<T>
        where
            T: serde::de::DeserializeOwned + Send,
        {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut axum::http::request::Parts,
                state: &S,
            ) -> Result<Self, ApiError> {
                axum::extract::$extractor::<T>::from_request_parts(parts, state)
                    .await
                    .map(|axum::extract::$extractor(value)| Self(value))
                    .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))
            }
        }
    };
}

json_rejections!(
    /// `Path<T>` answering in JSON (a chat id that is not a number).
    ApiPath,
    Path
);
json_rejections!(
    /// `Query<T>` answering in JSON (a page bound that is not a number).
    ApiQuery,
    Query
);
