//! The OpenAPI document's frame: title, security schemes, tags. The paths
//! and schemas come from the handlers' `#[utoipa::path]` annotations.

use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

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
    modifiers(&SecuritySchemes),
    security(("LtpaToken2" = []), ("bearer" = [])),
    tags(
        (name = "account", description = "Login, logout, password"),
        (name = "presence", description = "Status, awareness and the event stream"),
        (name = "messages", description = "Instant messages and history"),
        (name = "contacts", description = "The contact list"),
        (name = "people", description = "Directory search and business cards"),
        (name = "nway", description = "N-way chats"),
    )
)]
pub(crate) struct ApiDoc;

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
