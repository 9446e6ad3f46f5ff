//! The administration console at `/console`: server-rendered pages for
//! users with the administrator role. Every console route is registered
//! through [`routes`] and passes [`guard`] first: the client's network
//! (`[console] allowed_networks`), a sign-in, the role (asked afresh on
//! every request, so a revoked admin is refused at once), and for every
//! POST the page's origin and the CSRF token. Handlers only read what the
//! guard hands them ([`Admin`]): a route without the guard fails closed.

mod actions;
mod announcements;
mod audit;
mod certificates;
mod directory;
mod form;
mod guard;
mod log_control;
mod logs;
mod pages;
mod policies;
mod settings_file;
mod sso;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};

use crate::AppState;

pub(crate) use guard::Admin;
pub use log_control::LogControl;
pub use settings_file::SettingsFile;

/// What the console's overview shows that only the serving process
/// knows: its listeners and its directory.
#[derive(Debug, Default)]
pub struct ConsoleFacts {
    /// The front doors' listeners, as they were bound.
    listeners: Mutex<Vec<Listener>>,
    /// `embedded`, or `LDAP ldap://host` (never a password).
    pub directory: String,
    /// Whether the directory is the embedded realm (passwords can be reset).
    pub embedded: bool,
    /// The host name users reach this server by (`server.domain`): the
    /// SSO domains must cover it.
    pub server_domain: String,
    /// Whether the configuration names the tokens' realm
    /// (`directory.realm`, or LDAP's host:port), so that an imported key
    /// file's realm does not change it.
    pub realm_configured: bool,
    /// The LDAP repository's settings, for the directory page and its
    /// test (the bind password is never shown).
    pub ldap: Option<simul_directory::LdapSettings>,
}

/// One listener of a front door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// `web`, `vp`, `xmpp`.
    pub door: &'static str,
    /// How it listens: `http://0.0.0.0:8080`, `127.0.0.1:1533 (STARTTLS)`.
    pub address: String,
}

impl ConsoleFacts {
    /// The facts of a server with this directory; its listeners are
    /// added as they are bound.
    pub fn new(directory: String, embedded: bool) -> Self {
        Self {
            listeners: Mutex::default(),
            directory,
            embedded,
            server_domain: String::new(),
            realm_configured: false,
            ldap: None,
        }
    }

    /// What the single sign-on and directory pages show and check: the
    /// host users reach, whether the configuration names the realm, and
    /// the LDAP settings.
    pub fn with_settings(
        mut self,
        server_domain: String,
        realm_configured: bool,
        ldap: Option<simul_directory::LdapSettings>,
    ) -> Self {
        self.server_domain = server_domain;
        self.realm_configured = realm_configured;
        self.ldap = ldap;
        self
    }

    /// Notes a listener once it is bound.
    pub fn add_listener(&self, door: &'static str, address: String) {
        self.listeners().push(Listener { door, address });
    }

    fn listeners(&self) -> std::sync::MutexGuard<'_, Vec<Listener>> {
        self.listeners.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The console's settings and facts, held by the web door's state.
pub(crate) struct Console {
    /// Networks whose clients may reach the console.
    pub(crate) allowed_networks: Vec<ipnet::IpNet>,
    pub(crate) facts: Arc<ConsoleFacts>,
    /// When this process started serving (the overview's uptime).
    pub(crate) started: std::time::Instant,
    /// The process's logs, when the binary hands them over.
    pub(crate) logs: Option<Arc<dyn LogControl>>,
    /// The configuration file, when the binary hands it over.
    pub(crate) settings_file: Option<Arc<dyn SettingsFile>>,
}

impl Default for Console {
    fn default() -> Self {
        Self {
            allowed_networks: crate::default_metrics_networks(),
            facts: Arc::default(),
            started: std::time::Instant::now(),
            logs: None,
            settings_file: None,
        }
    }
}

impl Console {
    fn allows(&self, client: IpAddr) -> bool {
        let client = client.to_canonical();
        self.allowed_networks.iter().any(|network| network.contains(&client))
    }
}

/// Every console route: its method, path and handler. The router is
/// built from this list only, so a test can walk all of it.
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<Arc<AppState>>)> {
    vec![
        (Method::GET, "/console", get(pages::overview)),
        (Method::POST, "/console/sign-out", post(actions::sign_out)),
        (Method::GET, "/console/users", get(pages::users)),
        (Method::GET, "/console/user", get(pages::user)),
        (Method::GET, "/console/audit", get(audit::page)),
        (Method::GET, "/console/audit/export", get(audit::export)),
        (Method::GET, "/console/policies", get(policies::list)),
        (Method::GET, "/console/policy", get(policies::show)),
        (Method::GET, "/console/logs", get(logs::page)),
        (Method::POST, "/console/logs/level", post(logs::set_level)),
        (Method::POST, "/console/logs/diagnostics", post(logs::diagnostics)),
        (Method::GET, "/console/announcements", get(announcements::page)),
        (Method::POST, "/console/announcements/send", post(announcements::send)),
        (Method::GET, "/console/sso", get(sso::page)),
        (Method::POST, "/console/sso/settings", post(sso::save_settings)),
        (Method::POST, "/console/sso/rotate", post(sso::rotate)),
        (Method::POST, "/console/sso/export", post(sso::export)),
        (Method::POST, "/console/sso/import", post(sso::import)),
        (Method::POST, "/console/sso/doctor", post(sso::doctor)),
        (Method::GET, "/console/certificates", get(certificates::page)),
        (Method::POST, "/console/certificates/import", post(certificates::import)),
        (Method::POST, "/console/certificates/retrieve", post(certificates::retrieve)),
        (Method::POST, "/console/certificates/trust/add", post(certificates::add_signer)),
        (Method::POST, "/console/certificates/trust/remove", post(certificates::remove_signer)),
        (Method::GET, "/console/directory", get(directory::page)),
        (Method::POST, "/console/directory/test", post(directory::test)),
        (Method::POST, "/console/user/disable", post(actions::disable)),
        (Method::POST, "/console/user/enable", post(actions::enable)),
        (Method::POST, "/console/user/admin", post(actions::set_admin)),
        (Method::POST, "/console/user/password", post(actions::reset_password)),
        (Method::POST, "/console/user/end-session", post(actions::end_session)),
        (Method::POST, "/console/policy/set", post(policies::set)),
        (Method::POST, "/console/policy/assign", post(policies::assign)),
        (Method::POST, "/console/policy/unassign", post(policies::unassign)),
        (Method::POST, "/console/policy/remove", post(policies::remove)),
    ]
}

/// The console's routes, each behind the guard.
pub(crate) fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    // A wrong method is answered inside the route, behind the guard, so
    // nobody it refuses learns which console paths exist.
    let router = routes().into_iter().fold(Router::new(), |router, (_, path, handler)| {
        router.route(path, handler.fallback(crate::routes::wrong_method))
    });
    router.route_layer(axum::middleware::from_fn_with_state(state, guard::guard))
}
