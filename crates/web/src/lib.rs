//! Simul's web front door: the HTTP API under `/api/v1`, authenticated by
//! LTPA single sign-on. The session *is* the `LtpaToken2` cookie, so a
//! user signed in to WebSphere, Connections or Domino in the same SSO
//! domain is signed in here without a prompt, and the cookie set at login
//! is one WebSphere accepts.

mod account;
mod assets;
mod auth;
pub mod console;
mod conversations;
mod error;
mod files;
mod https_only;
mod links;
mod message_changes;
mod messages;
mod nway;
mod openapi;
mod people;
mod presence;
mod proxy;
mod routes;
mod search;
mod stwebapi;
mod telemetry;

use std::sync::Arc;

use ltpa::SsoSettings;
use simul_service::Service;

pub use error::ApiError;

/// Everything the handlers share (no `Debug`: it holds the CSRF secret).
pub struct AppState {
    /// The community, shared with the other front doors.
    service: Arc<Service>,
    /// The SSO settings in use, and as the console last saved them.
    sso: std::sync::RwLock<SsoState>,
    csrf_secret: Vec<u8>,
    keepalive: std::time::Duration,
    /// Origins (`https://host[:port]`) whose pages may call the API with
    /// the user's cookies and open the event WebSocket.
    allowed_origins: Vec<String>,
    /// Networks whose clients may read `/metrics`.
    metrics_networks: Vec<ipnet::IpNet>,
    /// Reverse proxies whose forwarding headers are believed.
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Whether `/stwebapi/getstatus` answers JSONP.
    jsonp: bool,
    /// Whether every request is logged (`simul::access`).
    access_log: bool,
    /// The administration console's settings and facts.
    console: console::Console,
}

/// The SSO settings in use, and as saved (they differ until a restart).
struct SsoState {
    running: Arc<SsoSettings>,
    saved: Arc<SsoSettings>,
}

/// How often WebSockets are pinged by default; a socket silent for two
/// rounds ends its session.
pub const DEFAULT_KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(30);

/// The setting holding the secret CSRF tokens are derived from, so that
/// they survive restarts as the LTPA cookies do.
const CSRF_SECRET_SETTING: &str = "web.csrf_secret";

impl AppState {
    /// The web front door of `service`, with the SSO settings that shape
    /// its cookies.
    pub async fn new(service: Arc<Service>, sso: SsoSettings) -> Result<Self, ApiError> {
        let csrf_secret = service.kept_secret(CSRF_SECRET_SETTING).await?;
        telemetry::install();
        Ok(Self {
            service,
            sso: std::sync::RwLock::new(SsoState {
                saved: Arc::new(sso.clone()),
                running: Arc::new(sso),
            }),
            csrf_secret: csrf_secret.into_bytes(),
            keepalive: DEFAULT_KEEPALIVE,
            allowed_origins: Vec::new(),
            metrics_networks: default_metrics_networks(),
            trusted_proxies: Vec::new(),
            jsonp: true,
            access_log: false,
            console: console::Console::default(),
        })
    }

    /// Lets clients of these networks read `/metrics` (default: loopback).
    pub fn with_metrics_networks(mut self, networks: Vec<ipnet::IpNet>) -> Self {
        self.metrics_networks = networks;
        self
    }

    /// Believes the forwarding headers (`Forwarded`, `X-Forwarded-For`,
    /// `-Proto`, `-Host`) of these peers: the reverse proxies in front.
    pub fn with_trusted_proxies(mut self, proxies: Vec<ipnet::IpNet>) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Logs every request (target `simul::access`), or not (the default).
    pub fn with_access_log(mut self, on: bool) -> Self {
        self.access_log = on;
        self
    }

    /// Turns JSONP answers of `/stwebapi/getstatus` on or off.
    pub fn with_jsonp(mut self, jsonp: bool) -> Self {
        self.jsonp = jsonp;
        self
    }

    /// Lets pages of these origins (`https://connections.example.com`)
    /// call the API and `/stwebapi` with the user's cookies (CORS) and
    /// open the event WebSocket: the applications that show awareness.
    pub fn with_allowed_origins(mut self, origins: Vec<String>) -> Self {
        self.allowed_origins = origins;
        self
    }

    /// The console (`/console`) answers clients of these networks only, and
    /// shows these facts on its overview.
    pub fn with_console(
        mut self,
        allowed_networks: Vec<ipnet::IpNet>,
        facts: std::sync::Arc<console::ConsoleFacts>,
    ) -> Self {
        self.console.allowed_networks = allowed_networks;
        self.console.facts = facts;
        self
    }

    /// Lets the console save settings into the configuration file.
    pub fn with_settings_file(mut self, file: Arc<dyn console::SettingsFile>) -> Self {
        self.console.settings_file = Some(file);
        self
    }

    /// The SSO settings in use now.
    pub(crate) fn sso(&self) -> Arc<SsoSettings> {
        self.sso.read().unwrap_or_else(std::sync::PoisonError::into_inner).running.clone()
    }

    /// The SSO settings as the configuration file has them: those in use,
    /// and what the console saved that waits for a restart.
    pub(crate) fn saved_sso(&self) -> Arc<SsoSettings> {
        self.sso.read().unwrap_or_else(std::sync::PoisonError::into_inner).saved.clone()
    }

    /// Takes `saved` (just written to the configuration file): in use from
    /// the next request on, except requiring SSL and the expiry, which
    /// the listeners and the tokens already issued were set up under.
    /// Whether some of it waits for a restart.
    pub(crate) fn apply_sso(&self, saved: SsoSettings) -> bool {
        let mut state = self.sso.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let running = SsoSettings {
            requires_ssl: state.running.requires_ssl,
            expiration_minutes: state.running.expiration_minutes,
            ..saved.clone()
        };
        let waits = running != saved;
        *state = SsoState { running: Arc::new(running), saved: Arc::new(saved) };
        waits
    }

    /// Lets the console change and read the process's logs.
    pub fn with_log_control(mut self, logs: std::sync::Arc<dyn console::LogControl>) -> Self {
        self.console.logs = Some(logs);
        self
    }

    /// Pings WebSockets this often instead (at least once a second).
    pub fn with_keepalive(mut self, every: std::time::Duration) -> Self {
        self.keepalive = every.max(std::time::Duration::from_secs(1));
        self
    }
}

/// Loopback only: Prometheus on the same machine.
pub fn default_metrics_networks() -> Vec<ipnet::IpNet> {
    ["127.0.0.0/8", "::1/128"].iter().map(|n| n.parse().expect("a valid network")).collect()
}

/// The same application for an HTTPS listener: it knows its requests came
/// encrypted, so it logs users in when `sso.requires_ssl` is on (its
/// cookies are then `Secure`, as WebSphere's are).
pub fn over_https(router: axum::Router) -> axum::Router {
    router.layer(axum::Extension(auth::OverHttps))
}

/// The same application for a plain-HTTP listener of a deployment with
/// `sso.requires_ssl`: browsers are sent to the HTTPS listener on
/// `https_port`, whose cookies they can keep.
pub fn redirecting_to_https(
    router: axum::Router,
    state: Arc<AppState>,
    https_port: u16,
) -> axum::Router {
    let redirect = axum::middleware::from_fn_with_state(state, move |reached, request, next| {
        https_only::redirect(https_port, reached, request, next)
    });
    router.layer(redirect)
}

/// The HTTP application. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()`: login limits
/// are kept per client address.
pub fn router(state: impl Into<Arc<AppState>>) -> axum::Router {
    routes::router(state.into())
}
