//! The configuration: one TOML file, every key with a default, and
//! `SIMUL_...` environment variables over both (`SIMUL_SERVER__DOMAIN`
//! sets `server.domain`: a double underscore separates the levels).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use ltpa::SsoSettings;
use serde::{Deserialize, Serialize};

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "simul-data";

/// Everything that can be configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Data directory: database, keys, certificate.
    pub data: PathBuf,
    /// Log levels, per module if wanted (`info`, `warn,simul_web=debug`).
    pub log: String,
    /// How log lines are written: `text` for people, `json` (one object
    /// a line) for a log collector.
    pub log_format: LogFormat,
    /// The community server.
    pub server: ServerConfig,
    /// The user directory.
    pub directory: DirectoryConfig,
    /// Single sign-on, as on WebSphere's "Single sign-on (SSO)" page.
    pub sso: SsoSettings,
    /// The Sametime VP front door.
    pub vp: VpConfig,
    /// The XMPP front door.
    pub xmpp: XmppConfig,
    /// Files sent in conversations.
    pub files: FilesConfig,
    /// The administration console (`/console`).
    pub console: ConsoleConfig,
}

/// `[console]`: the administration console at `/console`, for users with
/// the administrator role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Networks whose clients may reach the console (behind
    /// `server.trusted_proxies`, the browser's address); others get 404.
    /// Default: loopback only.
    pub allowed_networks: Vec<ipnet::IpNet>,
    /// Directory groups (DNs) whose members are administrators (LDAP).
    pub admin_groups: Vec<String>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self { allowed_networks: simul_web::default_metrics_networks(), admin_groups: Vec::new() }
    }
}

/// `[files]`: files sent in 1:1 and n-way chats, kept under the data
/// directory (`files/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesConfig {
    /// The largest file a user may send, in MiB (default 25).
    pub max_mb: u64,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self { max_mb: simul_service::DEFAULT_MAX_FILE_BYTES >> 20 }
    }
}

impl FilesConfig {
    /// The limit in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_mb << 20
    }
}

/// `[xmpp]`: the door for XMPP clients (Conversations, Gajim, Dino, Monal,
/// Pidgin...): user `alice` is `alice@DOMAIN` (`server.domain`). TLS uses
/// the HTTPS certificate (`server.tls_certificate`, or the self-signed one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct XmppConfig {
    /// Where clients connect and start TLS in the stream (STARTTLS,
    /// required): `0.0.0.0:5222`, XMPP's port, or `off` (the default).
    pub listen: Listen,
    /// Where clients connect with TLS from the first byte (XEP-0368):
    /// `0.0.0.0:5223`, or `off` (the default).
    pub listen_tls: Listen,
    /// Where a TLS-terminating proxy on this host (or one of
    /// `server.trusted_proxies`) hands over its clients' XMPP streams,
    /// without TLS: `127.0.0.1:5200`, or `off` (the default). Connections
    /// from any other address are closed before a byte is read.
    pub listen_cleartext: Listen,
    /// Seconds a session with stream resumption (XEP-0198) waits for its
    /// client after the connection broke, still online and keeping what
    /// arrives for it (default 300; 0: no resumption).
    pub resume_timeout: u64,
    /// In-band registration (XEP-0077): anyone who reaches the door may
    /// make an account of the embedded realm. Off by default; impossible
    /// with LDAP, which holds no accounts of Simul's making.
    pub registration: bool,
    /// The users who may run the administration commands of XMPP clients
    /// (XEP-0133: who is online, announcements, disabling accounts,
    /// ending sessions), by user id. Nobody by default.
    pub admins: Vec<String>,
}

impl Default for XmppConfig {
    fn default() -> Self {
        Self {
            listen: Listen::Off,
            listen_tls: Listen::Off,
            listen_cleartext: Listen::Off,
            resume_timeout: 300,
            registration: false,
            admins: Vec::new(),
        }
    }
}

/// `[vp]`: the door for Sametime clients (Pidgin, every Meanwhile client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VpConfig {
    /// Where it listens (`0.0.0.0:1533`, Sametime's port), or `off`: the
    /// default, as the door is being built.
    pub listen: Listen,
    /// How clients encrypt their password at login: `rc2-128` (the
    /// default: RC2 with a Diffie-Hellman key) or `rc2-40` (a handshake
    /// without key, for old clients: the RC2/40 key travels with the
    /// password, which is obfuscation only).
    pub login_cipher: LoginCipher,
}

impl Default for VpConfig {
    fn default() -> Self {
        Self { listen: Listen::Off, login_cipher: LoginCipher::Rc2_128 }
    }
}

/// `vp.login_cipher`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoginCipher {
    /// RC2/128 over Diffie-Hellman (spec §4.5, auth type 4).
    #[default]
    #[serde(rename = "rc2-128")]
    Rc2_128,
    /// RC2/40 (auth type 2): the handshake offers no key.
    #[serde(rename = "rc2-40")]
    Rc2_40,
}

impl From<LoginCipher> for simul_vp_door::LoginCipher {
    fn from(cipher: LoginCipher) -> Self {
        match cipher {
            LoginCipher::Rc2_128 => Self::Rc2_128,
            LoginCipher::Rc2_40 => Self::Rc2_40,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data: PathBuf::from(DEFAULT_DATA_DIR),
            log: "info".into(),
            log_format: LogFormat::Text,
            server: ServerConfig::default(),
            directory: DirectoryConfig::default(),
            sso: SsoSettings::default(),
            vp: VpConfig::default(),
            xmpp: XmppConfig::default(),
            files: FilesConfig::default(),
            console: ConsoleConfig::default(),
        }
    }
}

/// `log_format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// `2026-12-05T04:20:00Z  INFO target: message key=value`.
    #[default]
    Text,
    /// `{"timestamp":...,"level":"INFO","target":...,"message":...,"key":value}`.
    Json,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The community's domain: XMPP domain and default host in generated snippets.
    pub domain: String,
    /// Where the web front door listens for HTTP (`ADDR:PORT` or `off`).
    pub http: Listen,
    /// Where it listens for HTTPS (`ADDR:PORT` or `off`).
    pub https: Listen,
    /// PEM certificate chain for HTTPS; default: a self-signed certificate
    /// that the first start creates in the data directory.
    pub tls_certificate: Option<PathBuf>,
    /// PEM private key of `tls_certificate`.
    pub tls_key: Option<PathBuf>,
    /// Seconds between pings of idle WebSockets; a client silent for two
    /// rounds is taken offline.
    pub keepalive_seconds: u64,
    /// How people reach the web door (`https://chat.example.com`, behind
    /// a proxy too), for the file links other doors hand out (XMPP HTTP
    /// upload). Default: `https://DOMAIN:PORT` of the HTTPS listener, or
    /// `http://DOMAIN:PORT` of the HTTP one if HTTPS is off.
    pub public_url: Option<String>,
    /// Origins (`https://connections.example.com`, with a port if not the
    /// default) whose pages may call the API and `/stwebapi` with the
    /// user's cookies (CORS) and open the event WebSocket.
    pub allowed_origins: Vec<String>,
    /// Networks (`10.1.2.0/24`, `192.0.2.7/32`) whose clients may read
    /// `/metrics`; default: this machine only.
    pub metrics_networks: Vec<ipnet::IpNet>,
    /// The reverse proxies or load balancers in front (addresses and
    /// networks): only their `Forwarded` and `X-Forwarded-*` headers are
    /// believed, and they are exempt from `max_connections_per_address`.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Whether `/stwebapi/getstatus` answers JSONP (`jsonp=callback`), as
    /// Connections' `sametimeAwareness` reads it; only pages of Simul and
    /// of `allowed_origins` get an answer.
    pub jsonp: bool,
    /// Whether every HTTP request is logged (target `simul::access`:
    /// method, path without the query, status, milliseconds, client).
    pub access_log: bool,
    /// Invalid SSO tokens a client address may send in a minute before
    /// its tokens are refused for a while (429).
    pub invalid_tokens_per_minute: u32,
    /// Seconds a client has to send a request's headers, and an idle
    /// keep-alive connection to send its next request, before it is closed.
    pub header_timeout_seconds: u64,
    /// Seconds a client has to finish its TLS handshake.
    pub tls_handshake_timeout_seconds: u64,
    /// Open connections one client address may hold (a proxy or a NAT
    /// holds everyone's: raise it there).
    pub max_connections_per_address: usize,
    /// Open connections in all; 0: as many as the open-files limit allows.
    pub max_connections: usize,
    /// WebSocket commands a session may send a second, on average; a
    /// session that keeps sending more is cut off.
    pub commands_per_second: u32,
    /// WebSocket commands a session may send at once.
    pub command_burst: u32,
    /// Messages (1:1 and n-way, over any door) a user may send a minute,
    /// on average.
    pub messages_per_minute: u32,
    /// Messages a user may send at once.
    pub message_burst: u32,
    /// Sessions one user may hold (tabs, devices, awareness widgets).
    pub max_sessions_per_user: usize,
    /// Users one session may watch.
    pub max_watched_per_session: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let flood = simul_service::FloodLimits::default();
        Self {
            domain: "localhost".into(),
            http: Listen::At(([127, 0, 0, 1], 8080).into()),
            https: Listen::At(([127, 0, 0, 1], 8443).into()),
            tls_certificate: None,
            tls_key: None,
            keepalive_seconds: simul_web::DEFAULT_KEEPALIVE.as_secs(),
            public_url: None,
            allowed_origins: Vec::new(),
            metrics_networks: simul_web::default_metrics_networks(),
            trusted_proxies: Vec::new(),
            jsonp: true,
            access_log: false,
            invalid_tokens_per_minute: simul_service::DEFAULT_INVALID_TOKENS_PER_MINUTE,
            header_timeout_seconds: 15,
            tls_handshake_timeout_seconds: 10,
            max_connections_per_address: 1000,
            max_connections: 0,
            commands_per_second: flood.commands_per_second,
            command_burst: flood.command_burst,
            messages_per_minute: flood.messages_per_minute,
            message_burst: flood.message_burst,
            max_sessions_per_user: flood.community.sessions_per_user,
            max_watched_per_session: flood.community.watched_per_session,
        }
    }
}

/// A listen address, or `off` for a listener that is not wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Listen {
    /// Not listening.
    Off,
    /// Listening on this address (port 0: any free port).
    At(SocketAddr),
}

impl std::str::FromStr for Listen {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        text.parse().map(Self::At).map_err(|_| {
            format!("{text:?} is not ADDR:PORT (e.g. 127.0.0.1:8080, [::]:8443) or off")
        })
    }
}

impl TryFrom<String> for Listen {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl From<Listen> for String {
    fn from(listen: Listen) -> Self {
        listen.to_string()
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Off => f.write_str("off"),
            Self::At(address) => address.fmt(f),
        }
    }
}

/// `[directory]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DirectoryConfig {
    /// Where users come from.
    pub kind: DirectoryKind,
    /// Realm in users' tokens (`u:user\:REALM/ID`); it must match the
    /// other servers of the SSO domain. Default: for LDAP the primary's
    /// `host:port` (as WebSphere names a stand-alone LDAP registry), for
    /// the embedded realm the realm of the deployment's LTPA key file.
    pub realm: Option<String>,
    /// The LDAP repository (`kind = "ldap"`).
    pub ldap: simul_directory::LdapSettings,
    /// Embedded realm only: let in people with a valid SSO token whom the
    /// realm does not hold (users of the SSO domain's other applications).
    /// Off by default: a token of someone unknown, or removed, is refused.
    pub accept_unknown_sso_users: bool,
}

/// `directory.kind`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryKind {
    /// Users kept in Simul's own store (`simul user add`).
    #[default]
    Embedded,
    /// Users of an LDAP directory (`[directory.ldap]`).
    Ldap,
}

impl ServerConfig {
    /// What a session or user may send and hold.
    pub fn flood_limits(&self) -> simul_service::FloodLimits {
        simul_service::FloodLimits {
            commands_per_second: self.commands_per_second,
            command_burst: self.command_burst,
            messages_per_minute: self.messages_per_minute,
            message_burst: self.message_burst,
            community: simul_service::CommunityLimits {
                sessions_per_user: self.max_sessions_per_user,
                watched_per_session: self.max_watched_per_session,
            },
        }
    }
}

impl Config {
    /// Defaults, then `file` (if given), then `SIMUL_*` variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                anyhow::bail!("configuration file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let config: Config = figment
            .merge(settings_from_environment())
            .extract()
            .map_err(|error| anyhow::anyhow!("{}", describe(error)))
            .with_context(|| match file {
                Some(file) => {
                    format!("invalid configuration in {} or SIMUL_* variables", file.display())
                }
                None => "invalid configuration in SIMUL_* variables".into(),
            })?;
        config.validate()?;
        Ok(config)
    }

    /// The realm users' tokens carry, as far as the configuration decides
    /// it: `directory.realm`, else for LDAP the primary's `host:port` (as
    /// WebSphere names a stand-alone LDAP registry). `None`: the realm of
    /// the deployment's LTPA key file.
    pub fn token_realm(&self) -> Option<String> {
        self.directory.realm.clone().or_else(|| match self.directory.kind {
            DirectoryKind::Ldap => self.directory.ldap.resolve().ok().map(|l| l.default_realm()),
            DirectoryKind::Embedded => None,
        })
    }

    /// Checks what types alone cannot; errors name the key and the fix.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.sso.validate().map_err(|error| anyhow::anyhow!("sso.{error}"))?;
        check_log_filter(&self.log)?;
        if self.server.domain.trim().is_empty() || self.server.domain.contains(['/', ' ', '@']) {
            anyhow::bail!(
                "server.domain: {:?} is not a host name (e.g. chat.example.com)",
                self.server.domain
            );
        }
        if self.server.http == Listen::Off && self.server.https == Listen::Off {
            anyhow::bail!("server.http and server.https are both off: turn one on");
        }
        if !(1..=3600).contains(&self.server.keepalive_seconds) {
            anyhow::bail!("server.keepalive_seconds: use 1 to 3600 (default 30)");
        }
        for origin in &self.server.allowed_origins {
            check_origin(origin)?;
        }
        if self.server.tls_certificate.is_some() != self.server.tls_key.is_some() {
            anyhow::bail!(
                "server.tls_certificate and server.tls_key go together: set both, or neither \
                 for a self-signed certificate"
            );
        }
        if self.xmpp.registration && self.directory.kind == DirectoryKind::Ldap {
            anyhow::bail!(
                "xmpp.registration makes accounts of the embedded realm, and with LDAP there is \
                 none: set registration = false under [xmpp] (people sign up in the directory)"
            );
        }
        match self.directory.kind {
            DirectoryKind::Ldap => drop(self.directory.ldap.resolve()?),
            DirectoryKind::Embedded if !self.directory.ldap.hosts.is_empty() => anyhow::bail!(
                "directory.ldap.hosts is set but directory.kind is \"embedded\": set kind = \"ldap\" \
                 under [directory] to use the LDAP directory, or remove [directory.ldap]"
            ),
            DirectoryKind::Embedded => {}
        }
        if self.directory.accept_unknown_sso_users && self.directory.kind == DirectoryKind::Ldap {
            anyhow::bail!(
                "directory.accept_unknown_sso_users is for the embedded realm: with LDAP, people \
                 the directory does not hold are refused (widen directory.ldap.base_dn instead)"
            );
        }
        if self.server.invalid_tokens_per_minute == 0 {
            anyhow::bail!("server.invalid_tokens_per_minute: use 1 or more (default 60)");
        }
        if !(1..=4096).contains(&self.files.max_mb) {
            anyhow::bail!("files.max_mb: use 1 to 4096 MiB (default 25)");
        }
        if self.xmpp.resume_timeout > 3600 {
            anyhow::bail!("xmpp.resume_timeout: use 0 to 3600 seconds (default 300)");
        }
        for (key, seconds) in [
            ("header_timeout_seconds", self.server.header_timeout_seconds),
            ("tls_handshake_timeout_seconds", self.server.tls_handshake_timeout_seconds),
        ] {
            if !(1..=3600).contains(&seconds) {
                anyhow::bail!("server.{key}: use 1 to 3600 seconds");
            }
        }
        for (key, value) in [
            ("max_connections_per_address", self.server.max_connections_per_address),
            ("commands_per_second", self.server.commands_per_second as usize),
            ("command_burst", self.server.command_burst as usize),
            ("messages_per_minute", self.server.messages_per_minute as usize),
            ("message_burst", self.server.message_burst as usize),
            ("max_sessions_per_user", self.server.max_sessions_per_user),
            ("max_watched_per_session", self.server.max_watched_per_session),
        ] {
            if value == 0 {
                anyhow::bail!("server.{key}: use 1 or more (0 would refuse everything)");
            }
        }
        if self.directory.realm.as_deref().is_some_and(|r| r.contains('/')) {
            anyhow::bail!(
                "directory.realm: a realm cannot contain '/' (it ends the realm in an access id)"
            );
        }
        Ok(())
    }
}

/// What `simul config check` finds beyond what [`Config::validate`]
/// refuses: settings that cannot work with the files they name or with
/// each other (errors), and settings that may be meant but usually are a
/// mistake (warnings). Each names the setting and the fix.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Review {
    /// What cannot work: `config check` fails.
    pub errors: Vec<String>,
    /// What may be intended: printed, and `config check` passes.
    pub warnings: Vec<String>,
}

impl Config {
    /// Looks at the files the configuration names and at settings that
    /// fail only together. Not part of [`validate`](Self::validate): other
    /// commands (and `serve --https`, which overrides `server.https`) must
    /// not be refused for a file that only the HTTPS listener reads.
    pub fn review(&self) -> Review {
        let mut review = Review::default();
        self.review_tls_files(&mut review);
        self.review_requires_ssl(&mut review);
        self.review_domain(&mut review);
        self.review_xmpp_domain(&mut review);
        review
    }

    /// Whether a listener needs the certificate: HTTPS, or the XMPP door.
    fn serves_tls(&self) -> bool {
        [self.server.https, self.xmpp.listen, self.xmpp.listen_tls]
            .iter()
            .any(|listen| *listen != Listen::Off)
    }

    /// The configuration as the server runs it: for LDAP, the preset's
    /// filters and attributes written in, so that they show in full.
    pub fn in_full(&self) -> Config {
        let mut full = self.clone();
        if full.directory.kind == DirectoryKind::Ldap {
            full.directory.ldap = full.directory.ldap.with_preset_defaults();
        }
        full
    }

    /// A certificate or key file that is not there: an error while HTTPS
    /// is on (the listener cannot start), a warning while it is off.
    fn review_tls_files(&self, review: &mut Review) {
        let files =
            [("tls_certificate", &self.server.tls_certificate), ("tls_key", &self.server.tls_key)];
        for (key, file) in files {
            let Some(file) = file else { continue };
            let Err(error) = std::fs::File::open(file) else { continue };
            let problem = match error.kind() {
                std::io::ErrorKind::NotFound => "does not exist".to_owned(),
                _ => format!("cannot be read ({error})"),
            };
            let text = format!(
                "server.{key}: {} {problem}: give the path of the PEM file (absolute, or relative \
                 to the directory simul runs in), or remove tls_certificate and tls_key for a \
                 self-signed certificate",
                file.display()
            );
            if self.serves_tls() {
                review.errors.push(text);
            } else {
                review.warnings.push(format!("{text} (unused: HTTPS and XMPP are off)"));
            }
        }
        if let (Some(certificate), Listen::At(_)) =
            (&self.server.tls_certificate, self.server.https)
        {
            self.review_certificate_names(certificate, review);
        }
    }

    /// `server.domain` not among the certificate's names: a warning, as
    /// users may reach Simul under another name the certificate has.
    fn review_certificate_names(&self, certificate: &Path, review: &mut Review) {
        let Ok(names) = crate::tls::certificate_names(certificate) else { return };
        let domain = &self.server.domain;
        if !names.iter().any(|name| crate::tls::name_matches(name, domain)) {
            review.warnings.push(format!(
                "server.domain {domain:?} is not among the names of server.tls_certificate \
                 {} ({}): browsers warn at https://{domain}, and the other servers' calls to it \
                 fail: use a certificate for {domain}, or set server.domain to one of its names",
                certificate.display(),
                names.join(", ")
            ));
        }
    }

    /// SSO cookies only over HTTPS, and no HTTPS: an error when no request
    /// can come over HTTPS at all, a warning when a TLS proxy may say so.
    fn review_requires_ssl(&self, review: &mut Review) {
        if !self.sso.requires_ssl || self.server.https != Listen::Off {
            return;
        }
        if self.server.trusted_proxies.is_empty() {
            review.errors.push(
                "sso.requires_ssl = true, but server.https is off and no server.trusted_proxies \
                 terminate TLS: no request reaches Simul over HTTPS, so it never sets nor reads \
                 the SSO cookies and nobody signs in with a browser: set server.https to an \
                 ADDR:PORT (or run `simul serve --https ADDR:PORT`), list the reverse proxy that \
                 terminates TLS in server.trusted_proxies, or set sso.requires_ssl = false"
                    .to_owned(),
            );
        } else {
            review.warnings.push(
                "sso.requires_ssl = true and server.https is off: the SSO cookies work only \
                 through the proxies of server.trusted_proxies, which must send \
                 X-Forwarded-Proto: https (or Forwarded: proto=https)"
                    .to_owned(),
            );
        }
    }

    /// `server.domain` outside `sso.domains`: a warning, as users may reach
    /// Simul under another name inside the SSO domain.
    /// XMPP addresses are `user@server.domain`: `localhost` is right for
    /// a trial only.
    fn review_xmpp_domain(&self, review: &mut Review) {
        let xmpp = [self.xmpp.listen, self.xmpp.listen_tls, self.xmpp.listen_cleartext];
        let xmpp_on = xmpp.iter().any(|l| *l != Listen::Off);
        if !xmpp_on || self.server.domain != "localhost" {
            return;
        }
        review.warnings.push(
            "the XMPP door is on and server.domain is \"localhost\": users are alice@localhost, \
             which no client elsewhere can reach; set server.domain to your XMPP domain (the one \
             in users' addresses, such as example.com)"
                .to_owned(),
        );
    }

    fn review_domain(&self, review: &mut Review) {
        let domain = &self.server.domain;
        if self.sso.domains.is_empty() || self.sso.cookie_domain(domain).is_some() {
            return;
        }
        review.warnings.push(format!(
            "server.domain {domain:?} is outside sso.domains {:?}: users who reach Simul at \
             {domain} get host-only cookies, which the other applications never see (nor Simul \
             theirs), and the snippets of `simul integrate` point there: set server.domain to \
             Simul's host name inside the SSO domain, or add its domain to sso.domains",
            self.sso.domains
        ));
    }
}

/// The levels a log filter may name.
const LOG_LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// A log filter is levels, for everything (`info`) or for a module
/// (`warn,simul_web=debug`). A bare word that is no level (`verbose`) is
/// valid to `tracing` as a module name, and then nothing else is logged,
/// errors included: refused.
pub(crate) fn check_log_filter(filter: &str) -> anyhow::Result<()> {
    let example = "like \"info\" or \"warn,simul_web=debug\" (levels: off, error, warn, info, \
                   debug, trace)";
    tracing_subscriber::EnvFilter::try_new(filter).map_err(|error| {
        anyhow::anyhow!("log: {filter:?} is not a log filter {example} ({error})")
    })?;
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = directive.rsplit_once('=').map_or(directive, |(_, level)| level);
        let known = LOG_LEVELS.contains(&level.to_ascii_lowercase().as_str())
            || matches!(level, "0" | "1" | "2" | "3" | "4" | "5");
        if !directive.contains('[') && !known {
            anyhow::bail!("log: {level:?} in {filter:?} is not a level: write a filter {example}");
        }
    }
    Ok(())
}

/// An origin is a scheme, a host and maybe a port: no path, no wildcard
/// (the user's cookies go with these requests).
fn check_origin(origin: &str) -> anyhow::Result<()> {
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    let valid = rest.is_some_and(|authority| {
        !authority.is_empty()
            && authority
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    });
    if valid {
        Ok(())
    } else {
        anyhow::bail!(
            "server.allowed_origins: {origin:?} is not an origin: write https://HOST or \
             https://HOST:PORT, without a path or wildcard (e.g. https://connections.example.com)"
        )
    }
}

/// `SIMUL_*` variables that name a section or key of the configuration
/// (`SIMUL_SERVER__DOMAIN`, `SIMUL_LOG`). Others, such as a script's own
/// `SIMUL_BIN`, are not settings and are left alone; a misspelt key
/// inside a known section (`SIMUL_SERVER__DOMIAN`) is still an error.
fn settings_from_environment() -> Env {
    let defaults = toml::Value::try_from(Config::default()).expect("the defaults serialize");
    let sections: Vec<String> =
        defaults.as_table().map(|table| table.keys().cloned().collect()).unwrap_or_default();
    Env::prefixed("SIMUL_").split("__").filter(move |key| {
        let top = key.as_str().split('.').next().unwrap_or_default();
        sections.iter().any(|section| section.eq_ignore_ascii_case(top))
    })
}

/// figment's errors, one per line, each with its key.
fn describe(error: figment::Error) -> String {
    error.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_complete_and_valid() {
        let config = Config::default();
        config.validate().unwrap();
        assert_eq!(config.data, PathBuf::from("simul-data"));
        assert_eq!(config.sso.ltpa2_cookie_name, "LtpaToken2");
        assert_eq!(config.server.http.to_string(), "127.0.0.1:8080");
        assert_eq!(config.server.https.to_string(), "127.0.0.1:8443");
    }

    #[test]
    fn log_filters_name_levels() {
        for good in ["info", "warn,simul_web=debug", "OFF", "simul_web::auth=trace", ""] {
            check_log_filter(good).unwrap();
        }
        for bad in ["verbose", "info,simul_web=loud", "warn,simul_web"] {
            let error = check_log_filter(bad).unwrap_err().to_string();
            assert!(
                error.contains("(levels: off, error, warn, info, debug, trace)"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn allowed_origins_are_origins() {
        for good in ["https://connections.example.com", "http://portal.example.com:10039"] {
            check_origin(good).unwrap();
        }
        for bad in [
            "*",
            "https://",
            "connections.example.com",
            "https://a.example.com/x",
            "https://*.example.com",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_login_cipher_is_one_of_two_names() {
        let load = |toml: &str| {
            Figment::from(Serialized::defaults(Config::default()))
                .merge(Toml::string(toml))
                .extract::<Config>()
                .map_err(describe)
        };
        assert_eq!(load("").unwrap().vp.login_cipher, LoginCipher::Rc2_128);
        let old = load("[vp]\nlogin_cipher = \"rc2-40\"").unwrap();
        assert_eq!(old.vp.login_cipher, LoginCipher::Rc2_40);
        let error = load("[vp]\nlogin_cipher = \"rc2-56\"").unwrap_err();
        assert!(error.contains("`rc2-128`") && error.contains("`rc2-40`"), "{error}");
        assert!(error.contains("vp.login_cipher"), "{error}");
    }

    #[test]
    fn the_xmpp_door_needs_the_certificate_and_a_real_domain() {
        let mut config = Config::default();
        config.server.https = Listen::Off;
        config.server.tls_certificate = Some("/nonexistent/cert.pem".into());
        config.server.tls_key = Some("/nonexistent/key.pem".into());
        let review = config.review();
        assert!(review.errors.is_empty(), "{review:?}");
        config.xmpp.listen = "0.0.0.0:5222".parse().unwrap();
        let review = config.review();
        assert_eq!(review.errors.len(), 2, "{review:?}");
        assert!(review.warnings.iter().any(|w| w.contains("alice@localhost")), "{review:?}");
        config.server.domain = "example.com".into();
        assert!(!config.review().warnings.iter().any(|w| w.contains("alice@localhost")));
    }

    #[test]
    fn the_resumption_window_is_at_most_an_hour() {
        let mut config = Config::default();
        assert_eq!(config.xmpp.resume_timeout, 300);
        for good in [0, 3600] {
            config.xmpp.resume_timeout = good;
            config.validate().unwrap();
        }
        config.xmpp.resume_timeout = 3601;
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("xmpp.resume_timeout"), "{error}");
    }

    #[test]
    fn xmpp_registration_is_for_the_embedded_realm_only() {
        let mut config = Config::default();
        config.xmpp.registration = true;
        config.validate().unwrap();
        config.directory.kind = DirectoryKind::Ldap;
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("set registration = false under [xmpp]"), "{error}");
    }

    #[test]
    fn listen_addresses_are_addresses_or_off() {
        assert_eq!("OFF".parse::<Listen>().unwrap(), Listen::Off);
        assert_eq!("[::]:8443".parse::<Listen>().unwrap().to_string(), "[::]:8443");
        let error = "localhost:80".parse::<Listen>().unwrap_err();
        assert!(error.contains("is not ADDR:PORT"), "{error}");
    }
}
