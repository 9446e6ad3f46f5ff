//! `simul serve`: set up the deployment on first start and run the server.

use std::net::SocketAddr;
use std::time::Duration;

use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use ltpa::KeyFile;
use rand_core::{OsRng, RngCore as _};
use sd_notify::NotifyState;
use simul_directory::EmbeddedRealm;
use tokio::sync::watch;

use crate::Outcome;
use crate::config::Listen;
use crate::data::{DataArgs, DataDir};
use crate::listen::{self, ConnectionLimits, Gate};
use simul_service::key_files::StoredKeys;

/// Arguments of `simul serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    deployment: DataArgs,
    /// HTTP listen address, or `off` (default: `server.http`, 127.0.0.1:8080).
    /// Port 0 picks a free port; the address is printed.
    #[arg(long, value_name = "ADDR:PORT|off")]
    http: Option<Listen>,
    /// HTTPS listen address, or `off` (default: `server.https`, 127.0.0.1:8443).
    #[arg(long, value_name = "ADDR:PORT|off")]
    https: Option<Listen>,
    /// Sametime VP listen address (Pidgin and Meanwhile clients), or `off`
    /// (default: `vp.listen`, off). Sametime's port is 1533.
    #[arg(long, value_name = "ADDR:PORT|off")]
    vp: Option<Listen>,
    /// XMPP listen address (STARTTLS), or `off` (default: `xmpp.listen`,
    /// off). XMPP's port is 5222; direct TLS is `xmpp.listen_tls`.
    #[arg(long, value_name = "ADDR:PORT|off")]
    xmpp: Option<Listen>,
}

/// How long work left on blocking threads may delay the exit.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

impl ServeArgs {
    /// Runs the server until SIGINT or SIGTERM.
    pub fn run(self) -> anyhow::Result<Outcome> {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let outcome = runtime.block_on(self.serve());
        // Work still running on blocking threads (a password hash, a slow
        // LDAP answer) must not keep a stopping server alive.
        runtime.shutdown_timeout(SHUTDOWN_TIMEOUT);
        outcome
    }

    async fn serve(self) -> anyhow::Result<Outcome> {
        let mut config = self.deployment.config()?;
        let logs = crate::logs::Logs::start(&config, self.deployment.config_file());
        let data = self.deployment.data_dir()?;
        config.directory.ldap.trust_dir = Some(data.trust_dir());
        // Held until the process ends: `simul restore` refuses to replace
        // the data of a running server.
        let _serving = data.lock_for_serving()?;
        for note in data.make_private()? {
            tracing::warn!("{note}");
        }
        let store = data.store().await?;
        let swept = store.sweep_unshared_files().await?;
        if swept > 0 {
            tracing::info!(swept, "removed the bytes of files no message has any more");
        }
        let directory = crate::directory::Directory::open(&config, &store)?;
        if let Some(warning) = crate::directory::Directory::exposed_secret(&config) {
            eprintln!("warning: {warning}");
        }
        let keys = keyring(&data, &config)?;
        let realm_name = keys.token_realm(config.token_realm());
        if directory.ldap.is_none() {
            first_admin(&store, &data).await?;
        }
        // Now that the first start made them: the key password, a
        // one-time password.
        for secret in data.secrets() {
            logs.keep_secret(&secret);
        }

        let xmpp = [
            (self.xmpp.unwrap_or(config.xmpp.listen), simul_xmpp::Transport::StartTls),
            (config.xmpp.listen_tls, simul_xmpp::Transport::DirectTls),
            (config.xmpp.listen_cleartext, simul_xmpp::Transport::Cleartext),
        ];
        let xmpp_on = xmpp.iter().any(|(listen, _)| *listen != Listen::Off);
        let https_listen = self.https.unwrap_or(config.server.https);
        // One certificate for the HTTPS and XMPP listeners, swapped for
        // both when an import replaces it.
        let served = if https_listen != Listen::Off || xmpp_on {
            let (tls, live, origin) = crate::tls::server_config(&data, &config.server)?;
            tokio::spawn(live.clone().follow());
            Some((tls, live, origin))
        } else {
            None
        };
        let tls = match (https_listen, &served) {
            (Listen::At(address), Some((tls, _, origin))) => {
                Some((address, (tls.clone(), origin.clone())))
            }
            _ => None,
        };
        let http = self.http.unwrap_or(config.server.http);
        if http == Listen::Off && tls.is_none() {
            anyhow::bail!("both HTTP and HTTPS are off: give --http or --https an address");
        }

        let requires_ssl = config.sso.requires_ssl;
        let service = simul_service::Service::new(
            store.clone(),
            directory.realm.clone(),
            keys.current.keys.clone(),
            realm_name.clone(),
        )
        .await?
        .with_tokens(config.sso.lifetime_ms(), config.sso.accepted_realms(&realm_name))
        .with_invalid_tokens_per_minute(config.server.invalid_tokens_per_minute)
        .with_flood_limits(config.server.flood_limits())
        .with_max_file_bytes(config.files.max_bytes())
        .with_admin_groups(config.console.admin_groups.clone())
        .with_key_files(data.keys())
        .with_certificates(
            crate::tls::certificate_dir(&data, &config.server),
            served.as_ref().map(|(_, live, _)| live.clone()),
        );
        service.replace_keys(keys.current.keys.clone(), keys.previous_keys());
        let service = Arc::new(service);
        tokio::spawn(crate::keyring::follow(data.clone(), service.clone(), keys));
        tokio::spawn(service.clone().follow_revocations());
        tokio::spawn(service.clone().follow_announcements());
        let healthy = directory.load().await;
        tokio::spawn(directory.keep_fresh(service.clone(), healthy));
        let facts = Arc::new(console_facts(&config));
        let state = simul_web::AppState::new(service.clone(), config.sso)
            .await?
            .with_keepalive(Duration::from_secs(config.server.keepalive_seconds))
            .with_allowed_origins(config.server.allowed_origins.clone())
            .with_metrics_networks(config.server.metrics_networks.clone())
            .with_trusted_proxies(config.server.trusted_proxies.clone())
            .with_jsonp(config.server.jsonp)
            .with_access_log(config.server.access_log)
            .with_console(config.console.allowed_networks.clone(), facts.clone())
            .with_log_control(logs)
            .with_settings_file(Arc::new(crate::config_file::ConfigFile::new(
                self.deployment.config_file(),
            )));
        let state = Arc::new(state);
        let app = simul_web::router(state.clone());
        let gate = connection_gate(&config.server);
        let (stop, stopped) = watch::channel(false);
        let mut servers = tokio::task::JoinSet::new();
        let https = match tls {
            Some((address, tls)) => Some((bind(address, "--https")?, tls)),
            None => None,
        };
        let http = match http {
            Listen::At(address) => Some(bind(address, "--http")?),
            Listen::Off => None,
        };
        let public_url = public_url(&config.server, https.as_ref().map(|h| &h.0), http.as_ref())?;
        if let Some(listener) = http {
            // Tests and scripts read this line to find the port.
            println!("Simul listening on http://{} (realm {realm_name:?})", listener.local_addr()?);
            facts.add_listener("web", format!("http://{}", listener.local_addr()?));
            let app = match &https {
                // Logins need the Secure cookies of HTTPS: browsers go there.
                Some((secure, _)) if requires_ssl => {
                    let port = secure.local_addr()?.port();
                    simul_web::redirecting_to_https(app.clone(), state, port)
                }
                _ => app.clone(),
            };
            servers.spawn(listen::serve(listener, None, app, gate.clone(), stopped.clone()));
        }
        if let Some((listener, (tls, origin))) = https {
            println!("Simul listening on https://{} ({origin})", listener.local_addr()?);
            facts.add_listener("web", format!("https://{}", listener.local_addr()?));
            let app = simul_web::over_https(app);
            servers.spawn(listen::serve(listener, Some(tls), app, gate.clone(), stopped.clone()));
        }
        if let Listen::At(address) = self.vp.unwrap_or(config.vp.listen) {
            let listener = bind(address, "--vp")?;
            // Tests and scripts read this line to find the port.
            println!("Sametime VP door listening on {}", listener.local_addr()?);
            facts.add_listener("vp", listener.local_addr()?.to_string());
            let keepalive = Duration::from_secs(config.server.keepalive_seconds);
            let settings = simul_vp_door::Settings {
                grace: keepalive * 2,
                login_cipher: config.vp.login_cipher.into(),
                keepalive,
                // The link in the text line of a file a Sametime client sends.
                files_link: simul_service::FileUrls::new(&public_url).members().into(),
            };
            let gate = gate.for_doors();
            let door =
                simul_vp_door::serve(listener, service.clone(), settings, gate, stopped.clone());
            servers.spawn(door);
        }
        if let (true, Some((tls, live, _))) = (xmpp_on, &served) {
            let door = Arc::new(
                simul_xmpp::Door::new(
                    &config.server.domain,
                    tls,
                    Duration::from_secs(config.server.keepalive_seconds * 2),
                    Duration::from_secs(config.server.keepalive_seconds),
                    Duration::from_secs(config.xmpp.resume_timeout),
                )
                .with_registration(config.xmpp.registration)
                .with_admins(config.xmpp.admins.clone())
                .with_server_end_point(live.clone())
                .with_file_urls(simul_service::FileUrls::new(&public_url))
                .with_trusted_proxies(config.server.trusted_proxies.clone()),
            );
            for (listen, transport) in xmpp {
                let Listen::At(address) = listen else { continue };
                let option = match transport {
                    simul_xmpp::Transport::StartTls => "--xmpp",
                    simul_xmpp::Transport::DirectTls => "xmpp.listen_tls",
                    simul_xmpp::Transport::Cleartext => "xmpp.listen_cleartext",
                };
                let listener = bind(address, option)?;
                // Tests and scripts read this line to find the port.
                println!("XMPP door listening on {} ({transport})", listener.local_addr()?);
                facts.add_listener("xmpp", format!("{} ({transport})", listener.local_addr()?));
                let stopped = stopped.clone();
                servers.spawn(simul_xmpp::serve(
                    listener,
                    service.clone(),
                    door.clone(),
                    transport,
                    gate.for_doors(),
                    stopped,
                ));
            }
        }
        let mut signals = StopSignals::listen()?;
        // systemd (`Type=notify`) starts what depends on Simul only now.
        tell_service_manager(&[NotifyState::Ready]);
        tokio::spawn(async move {
            signals.next().await;
            tell_service_manager(&[NotifyState::Stopping]);
            tracing::info!("stopping (a second SIGTERM or Ctrl-C stops at once)");
            let _ = stop.send(true);
            signals.next().await;
            tracing::warn!("stopping at once");
            std::process::exit(1);
        });
        while let Some(finished) = servers.join_next().await {
            finished.context("a listener panicked")?.context("a listener failed")?;
        }
        if let Err(error) = store.checkpoint_and_close().await {
            tracing::warn!(%error, "the database's write-ahead log was not folded in");
        }
        tracing::info!("stopped");
        Ok(Outcome::Success)
    }
}

/// What the console's overview shows of this deployment: its directory
/// (never a password).
fn console_facts(config: &crate::config::Config) -> simul_web::console::ConsoleFacts {
    let embedded = config.directory.kind != crate::config::DirectoryKind::Ldap;
    let directory = if embedded {
        "embedded".to_owned()
    } else {
        format!("LDAP {}", config.directory.ldap.hosts.join(", "))
    };
    let ldap = (!embedded).then(|| config.directory.ldap.clone());
    simul_web::console::ConsoleFacts::new(directory, embedded).with_settings(
        config.server.domain.clone(),
        config.token_realm().is_some(),
        ldap,
    )
}

/// Tells systemd how the service is (nothing without `NOTIFY_SOCKET`).
fn tell_service_manager(state: &[NotifyState]) {
    if let Err(error) = sd_notify::notify(state) {
        tracing::warn!(%error, "cannot tell the service manager (NOTIFY_SOCKET)");
    }
}

/// A listening socket, or an error that names the option to change.
fn bind(address: SocketAddr, option: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let listener = std::net::TcpListener::bind(address)
        .with_context(|| format!("cannot listen on {address} (in use? change {option})"))?;
    listener.set_nonblocking(true)?;
    Ok(tokio::net::TcpListener::from_std(listener)?)
}

/// How people reach the web door (`server.public_url`, else the domain
/// with the port of the HTTPS listener, or of the HTTP one).
fn public_url(
    server: &crate::config::ServerConfig,
    https: Option<&tokio::net::TcpListener>,
    http: Option<&tokio::net::TcpListener>,
) -> anyhow::Result<String> {
    if let Some(url) = &server.public_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            anyhow::bail!(
                "server.public_url {url:?} is no web address: give one like https://chat.example.com"
            );
        }
        return Ok(url.clone());
    }
    let (scheme, listener) = match (https, http) {
        (Some(https), _) => ("https", https),
        (None, Some(http)) => ("http", http),
        (None, None) => anyhow::bail!("both HTTP and HTTPS are off"),
    };
    let port = listener.local_addr()?.port();
    Ok(format!("{scheme}://{}:{port}", server.domain))
}

/// The connection limits of the configuration, the total below the
/// open-files limit (raised to its hard limit first).
fn connection_gate(server: &crate::config::ServerConfig) -> Arc<Gate> {
    let open_files = match crate::listen::raise_open_files_limit() {
        Ok((soft, hard)) => {
            tracing::info!(soft, hard, "open files limit");
            Some(soft)
        }
        Err(error) => {
            tracing::warn!(%error, "cannot read or raise the open files limit");
            None
        }
    };
    let room = open_files.map_or(usize::MAX, crate::listen::connections_for);
    let total = match server.max_connections {
        0 => room,
        wanted if wanted > room => {
            tracing::warn!(
                "server.max_connections = {wanted} is more than the open files limit leaves \
                 room for; {room} it is (raise LimitNOFILE or ulimit -n)"
            );
            room
        }
        wanted => wanted,
    };
    let limits = ConnectionLimits {
        header_timeout: Duration::from_secs(server.header_timeout_seconds),
        tls_handshake_timeout: Duration::from_secs(server.tls_handshake_timeout_seconds),
        per_address: server.max_connections_per_address,
        total,
    };
    Gate::new(limits, server.trusted_proxies.clone())
}

/// The deployment's key sets, generated on first start, and a warning
/// when the key file names another realm than the tokens carry (the
/// file's realm is what Domino takes as the "LDAP realm" of imported keys).
fn keyring(data: &DataDir, config: &crate::config::Config) -> anyhow::Result<StoredKeys> {
    let files = data.keys();
    if !files.current_path().exists() {
        let file = KeyFile::generate(&files.deployment_realm(config.token_realm())?, "simul");
        files.install(&file)?;
        println!(
            "Generated LTPA keys in {}; share them with `simul ltpa export`",
            files.current_path().display()
        );
    }
    let keys = files.read(chrono::Utc::now())?;
    for note in &keys.notes {
        tracing::warn!("{note}");
    }
    let realm = keys.token_realm(config.token_realm());
    if realm != keys.current.realm {
        tracing::warn!(
            "tokens carry realm {realm:?} (directory.realm, or the LDAP server's host:port) but \
             {} was made for realm {:?}: `simul ltpa export` writes {realm:?}, give the other \
             servers that file",
            files.current_path().display(),
            keys.current.realm
        );
    }
    Ok(keys)
}

/// With no users at all, creates `admin` with a one-time password in a
/// file of the data directory (standard output ends up in service logs),
/// and says where. The file goes once the password has been replaced.
async fn first_admin(store: &simul_store::Store, data: &DataDir) -> anyhow::Result<()> {
    let realm = EmbeddedRealm::new(store.clone());
    if !realm.users().await?.is_empty() {
        let spent = realm.user("admin").await?.is_none_or(|admin| !admin.must_change_password);
        if spent && let Some(path) = data.remove_initial_admin_password()? {
            tracing::info!("removed {}: that password was replaced", path.display());
        }
        return Ok(());
    }
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    realm.add_user("admin", Some("Administrator"), None, &password).await?;
    realm.require_password_change("admin").await?;
    store.set_admin("admin", true, chrono::Utc::now().timestamp_millis()).await?;
    let path = data.write_initial_admin_password(&password)?;
    println!(
        "Created user admin; its one-time password is in {} (readable by this user only). The \
         first login asks for a new one; or set one now with `simul user passwd admin --data {}` \
         (it asks for it).",
        path.display(),
        data.root().display()
    );
    Ok(())
}

/// SIGINT and SIGTERM, listened to from the moment this is made: a stop
/// requested right after the readiness notification is not missed (the
/// signals' default action would end the process uncleanly).
#[cfg(unix)]
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl StopSignals {
    fn listen() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
        let terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        Ok(Self { interrupt, terminate })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
impl StopSignals {
    fn listen() -> anyhow::Result<Self> {
        Ok(Self)
    }

    async fn next(&mut self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
