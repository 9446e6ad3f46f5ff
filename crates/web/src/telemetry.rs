//! `/metrics` in the Prometheus text format: logins, messages, events
//! delivered, live sessions.

use std::sync::OnceLock;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::auth::Reached;
use crate::{ApiError, AppState};

/// The process-wide recorder (the `metrics` facade has one global slot).
pub(crate) fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; the handle
        // then renders nothing, which is visible and harmless.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        handle
    })
}

/// Installs the recorder so that counters count from the start.
pub(crate) fn install() {
    handle();
}

/// `GET /metrics`, for clients of `server.metrics_networks` (loopback by
/// default; through `server.trusted_proxies`, the client they name). A
/// request that went through a proxy Simul does not trust is not a
/// scraper on the machine, whatever its peer address: it is refused too.
pub(crate) async fn render(State(state): State<Arc<AppState>>, reached: Reached) -> Response {
    let client = &reached.client;
    let allowed = state.metrics_networks.iter().any(|network| network.contains(&client.address));
    if client.via_unknown_proxy || !allowed {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "metrics are for the networks in server.metrics_networks (default: this machine)",
        )
        .into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle().render()).into_response()
}

/// `GET /readyz`: whether this server can serve logins now, for a load
/// balancer or an orchestrator's readiness probe (`/healthz` answers as
/// long as the process does: liveness). 503 while the store does not
/// answer or the LDAP directory did not at its last contact; the body
/// names which, without addresses or errors.
pub(crate) async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let readiness = state.service.readiness().await;
    let store = if readiness.store { "ok" } else { "unavailable" };
    let directory = if readiness.directory { "ok" } else { "unreachable" };
    let ready = store == "ok" && directory == "ok";
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not_ready" },
        "store": store,
        "directory": directory,
    });
    (status, axum::Json(body)).into_response()
}
