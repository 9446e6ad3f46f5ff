//! Simul's web front door: the HTTP API under `/api/v1`, authenticated by
//! LTPA single sign-on. The session *is* the `LtpaToken2` cookie, so a
//! user signed in to WebSphere, Connections or Domino in the same SSO
//! domain is signed in here without a prompt, and the cookie set at login
//! is one WebSphere accepts.

mod account;
mod assets;
mod auth;
mod error;
mod https_only;
mod messages;
mod nway;
mod openapi;
mod people;
mod presence;
mod proxy;
mod revocation;
mod routes;
mod stwebapi;
mod telemetry;

use std::sync::Arc;

use ltpa::{LtpaKeys, SsoSettings};
use simul_directory::Realm;
use simul_store::Store;

pub use error::ApiError;
use simul_service::{DEFAULT_INVALID_TOKENS_PER_MINUTE, FloodLimits};

/// Everything the handlers share (no `Debug`: it holds the CSRF secret).
pub struct AppState {
    store: Store,
    realm: Arc<dyn Realm>,
    sso: SsoSettings,
    keys: simul_service::Keyring,
    realm_name: String,
    csrf_secret: Vec<u8>,
    login_limits: simul_service::LoginLimits,
    /// Invalid tokens per client address.
    token_limits: simul_service::FailureLimit<std::net::IpAddr>,
    revocations: revocation::Revocations,
    /// What sessions and users may send and hold.
    flood: FloodLimits,
    message_limits: simul_service::MessageLimits,
    hub: simul_service::Hub,
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
}

/// How often WebSockets are pinged by default; a socket silent for two
/// rounds ends its session.
pub const DEFAULT_KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(30);

/// The setting holding the secret CSRF tokens are derived from, so that
/// they survive restarts as the LTPA cookies do.
const CSRF_SECRET_SETTING: &str = "web.csrf_secret";

impl AppState {
    /// The state for a deployment: its store, its directory, LTPA keys,
    /// SSO settings and the realm name its users' tokens carry.
    pub async fn new(
        store: Store,
        realm: Arc<dyn Realm>,
        keys: LtpaKeys,
        sso: SsoSettings,
        realm_name: String,
    ) -> Result<Self, ApiError> {
        let csrf_secret = match store.setting(CSRF_SECRET_SETTING).await? {
            Some(secret) => secret,
            None => {
                let secret = ltpa::DominoSecret::generate().to_base64().to_string();
                store.set_setting(CSRF_SECRET_SETTING, &secret).await?;
                secret
            }
        };
        let last_chat = store.last_chat_id().await?;
        let revocations = revocation::Revocations::load(store.clone()).await?;
        telemetry::install();
        Ok(Self {
            realm,
            store,
            sso,
            keys: simul_service::Keyring::new(keys, Vec::new()),
            realm_name,
            csrf_secret: csrf_secret.into_bytes(),
            login_limits: simul_service::LoginLimits::default(),
            token_limits: simul_service::FailureLimit::per_minute(
                DEFAULT_INVALID_TOKENS_PER_MINUTE,
            ),
            revocations,
            flood: FloodLimits::default(),
            message_limits: simul_service::MessageLimits::new(&FloodLimits::default()),
            hub: simul_service::Hub::continuing_after(last_chat),
            keepalive: DEFAULT_KEEPALIVE,
            allowed_origins: Vec::new(),
            metrics_networks: default_metrics_networks(),
            trusted_proxies: Vec::new(),
            jsonp: true,
            access_log: false,
        })
    }

    /// Refuses tokens from a client address for a while after this many
    /// invalid ones in a minute.
    pub fn with_invalid_tokens_per_minute(mut self, per_minute: u32) -> Self {
        self.token_limits = simul_service::FailureLimit::per_minute(per_minute);
        self
    }

    /// Limits what a session or user may send and hold.
    pub fn with_flood_limits(mut self, limits: FloodLimits) -> Self {
        self.hub.set_limits(limits.community);
        self.message_limits = simul_service::MessageLimits::new(&limits);
        self.flood = limits;
        self
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

    /// From now on signs new tokens with `signing` and accepts tokens of
    /// it and of `previous`: a key rotation or import, applied while the
    /// server runs. Sessions whose tokens one of them verifies go on.
    pub fn replace_keys(&self, signing: LtpaKeys, previous: Vec<LtpaKeys>) {
        self.keys.replace(signing, previous);
    }

    /// Pings WebSockets this often instead (at least once a second).
    pub fn with_keepalive(mut self, every: std::time::Duration) -> Self {
        self.keepalive = every.max(std::time::Duration::from_secs(1));
        self
    }
}

impl AppState {
    /// Ends the sessions (awareness widgets' too) of everyone whom the realm no longer lets
    /// in (disabled, or removed from a shared directory); run after each
    /// directory refresh. Returns how many people were signed out. People
    /// the realm cannot be asked about now keep their sessions.
    pub async fn end_departed_sessions(&self) -> usize {
        let connected = self.hub.inspect(simul_core::Community::users_with_sessions);
        let mut ended = 0;
        for user in connected {
            // Only people the realm refuses outright: not those it cannot
            // be asked about now.
            let allowed = !matches!(
                simul_service::admission(self.realm.as_ref(), user.as_str()).await,
                Ok(simul_service::Admission::Unknown | simul_service::Admission::Disabled(_))
            );
            if !allowed && self.hub.end_sessions_of(&user) > 0 {
                tracing::info!(%user, "signed out: disabled or gone from the directory");
                ended += 1;
            }
        }
        ended
    }
}

impl AppState {
    /// Keeps the revoked tokens in step with the store (`simul user`
    /// writes there from another process): every second, so that a
    /// disabled or removed user's sessions end at once, and forgets
    /// logged-out tokens once they have expired. Runs until the process ends.
    pub async fn follow_revocations(self: Arc<Self>) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks: u64 = 0;
        loop {
            tick.tick().await;
            ticks += 1;
            if let Err(error) = self.revocations.catch_up().await {
                tracing::warn!(%error, "cannot read revoked tokens from the store");
            }
            if ticks.is_multiple_of(3600) {
                let now = chrono::Utc::now().timestamp_millis();
                if let Err(error) =
                    self.revocations.forget_expired(now, ltpa::token::DEFAULT_CLOCK_SKEW_MS).await
                {
                    tracing::warn!(%error, "cannot forget expired revoked tokens");
                }
            }
        }
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
