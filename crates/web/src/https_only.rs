//! With `sso.requires_ssl`, the plain-HTTP listener sends browsers to
//! HTTPS instead of serving a client whose logins it must refuse (the
//! SSO cookies would be `Secure`, which a browser keeps off plain HTTP).
//! Probes and scrapers (`/healthz`, `/readyz`, `/metrics`) are still
//! answered over HTTP, and a request a trusted proxy received over HTTPS
//! is served as usual.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::ApiError;
use crate::auth::Reached;

/// Paths served over plain HTTP all the same.
const PROBES: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Redirects every other request to the same host and path over HTTPS on
/// `port` (308: a POST stays a POST).
pub(crate) async fn redirect(
    port: u16,
    reached: Reached,
    request: Request,
    next: Next,
) -> Response {
    if reached.client.https || PROBES.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let host = reached.client.host();
    if !is_host_name(host) {
        return ApiError::new(StatusCode::BAD_REQUEST, "the Host header is not a host name")
            .into_response();
    }
    let port = if port == 443 { String::new() } else { format!(":{port}") };
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!("https://{host}{port}{path}");
    (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, location)]).into_response()
}

/// A DNS name, an IPv4 address or a bracketed IPv6 address: nothing that
/// could turn the redirect into another URL.
fn is_host_name(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::is_host_name;

    #[test]
    fn only_host_names_are_redirected_to() {
        for good in ["chat.example.com", "localhost", "192.0.2.7", "[::1]"] {
            assert!(is_host_name(good), "{good}");
        }
        for bad in ["", "evil.com/x", "a@b", "[zz]", "x y", "host\\evil"] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }
}
