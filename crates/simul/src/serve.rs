//! `simul serve`: set up the deployment on first start and run the server.

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Args;
use ltpa::KeyFile;
use rand_core::{OsRng, RngCore as _};
use simul_directory::EmbeddedRealm;

use crate::Outcome;
use crate::data::{DataArgs, DataDir};

/// Arguments of `simul serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    deployment: DataArgs,
    /// HTTP listen address (port 0 picks a free port; the address is printed).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    http: SocketAddr,
}

/// Realm of freshly generated keys when `directory.realm` is not set.
const DEFAULT_REALM: &str = "simul";

impl ServeArgs {
    /// Runs the server until SIGINT or SIGTERM.
    pub fn run(self) -> anyhow::Result<Outcome> {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(self.serve())
    }

    async fn serve(self) -> anyhow::Result<Outcome> {
        let config = self.deployment.config()?;
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log))
            .init();
        let data = self.deployment.data_dir()?;
        let store = data.store().await?;
        let keys = ltpa_keys(&data, config.directory.realm.as_deref())?;
        let realm_name = config.directory.realm.clone().unwrap_or_else(|| keys.realm.clone());
        first_admin(&EmbeddedRealm::new(store.clone())).await?;

        let state =
            simul_web::AppState::new(store, keys.keys, config.sso, realm_name.clone()).await?;
        let listener = tokio::net::TcpListener::bind(self.http)
            .await
            .with_context(|| format!("cannot listen on {} (in use? change --http)", self.http))?;
        // Tests and scripts read this line to find the port.
        println!("Simul listening on http://{} (realm {realm_name:?})", listener.local_addr()?);
        let app = simul_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok(Outcome::Success)
    }
}

/// The deployment's keys, generated on first start.
fn ltpa_keys(data: &DataDir, realm: Option<&str>) -> anyhow::Result<KeyFile> {
    if data.ltpa_keys_path().exists() {
        return data.read_ltpa_keys();
    }
    let file = KeyFile::generate(realm.unwrap_or(DEFAULT_REALM), "simul");
    data.install_ltpa_keys(&file)?;
    println!(
        "Generated LTPA keys in {}; share them with `simul ltpa export`",
        data.ltpa_keys_path().display()
    );
    Ok(file)
}

/// With no users at all, creates `admin` and prints its password once.
async fn first_admin(realm: &EmbeddedRealm) -> anyhow::Result<()> {
    if !realm.users().await?.is_empty() {
        return Ok(());
    }
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    realm.add_user("admin", Some("Administrator"), None, &password).await?;
    realm.require_password_change("admin").await?;
    println!(
        "Created user admin with the one-time password {password} (shown once; the first login \
         asks for a new one, or set one with `simul user passwd admin`)"
    );
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
}
