//! The OpenAPI document's frame: title, security schemes, tags. The paths
//! and schemas come from the handlers' `#[utoipa::path]` annotations.

use utoipa::Modify;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, ResponseBuilder};

/// The document `GET /api/v1/openapi.json` serves.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Simul API",
        description = "Awareness, instant messages and n-way chats. Authenticate with the \
            LtpaToken2 cookie that login sets (or that WebSphere, Liberty or Domino set with the \
            shared LTPA keys), or with `Authorization: Bearer <LtpaToken2>`. Cookie-authenticated \
            writes need the `X-CSRF-Token` header from login or `GET /api/v1/me`."
    ),
    components(responses(crate::files::FileBytes)),
    modifiers(&SecuritySchemes),
    security(("LtpaToken2" = []), ("bearer" = [])),
    tags(
        (name = "account", description = "Login, logout, password"),
        (name = "presence", description = "Status, awareness and the event stream"),
        (name = "messages", description = "Instant messages and history"),
        (name = "contacts", description = "The contact list"),
        (name = "people", description = "Directory search and business cards"),
        (name = "nway", description = "N-way chats"),
        (name = "files", description = "Files sent in conversations"),
    )
)]
pub(crate) struct ApiDoc;

/// Documents, once for every operation, the errors any of them can give
/// before its handler runs: 401 for no valid token and 403 for an account
/// that may not use it (or a policy that refuses the request) and 429 for too many invalid tokens (login
/// excepted), 503 while LDAP or the database is unavailable, 400
/// for a malformed path parameter, and 400, 413, 415 and 422 for a body
/// that is not the JSON it expects (axum's own distinctions). Apply it to
/// the finished document: the paths arrive after [`ApiDoc`]'s modifiers ran.
pub(crate) struct GenericErrors;

impl Modify for GenericErrors {
    fn modify(&self, openapi: &mut OpenApi) {
        let error = || {
            ResponseBuilder::new()
                .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorBody"))))
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                let mut add = |code: &str, description: &str| {
                    responses
                        .entry(code.to_owned())
                        .or_insert_with(|| error().description(description).build().into());
                };
                if path != "/api/v1/login" {
                    add("401", "Not logged in, or the token is not valid");
                    add(
                        "429",
                        "Too many invalid tokens from this address (or, where the operation \
                         sends, too many messages); wait as Retry-After says",
                    );
                    add(
                        "403",
                        "The account is disabled, gone from the directory, or must change its \
                         one-time password first; or the user's policy does not allow the \
                         request (the body's `policy` and `setting` name them)",
                    );
                }
                add(
                    "503",
                    "The directory (LDAP) does not answer, or the database cannot take a write \
                     (disk full, locked by another process); see the server log",
                );
                if path.contains('{') {
                    add("400", "A path parameter is malformed");
                }
                if operation.request_body.is_some() {
                    add("400", "The body is not valid JSON");
                    add("413", "The body is over 256 KiB");
                    add("415", "The body is not JSON (Content-Type)");
                    add("422", "The JSON lacks a field or has one of the wrong type");
                }
            }
        }
    }
}

/// Adds the two ways to present an LTPA token.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "LtpaToken2",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("LtpaToken2"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("LtpaToken2")
                    .build(),
            ),
        );
    }
}
