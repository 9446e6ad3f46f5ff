//! The deployment's directory (embedded or LDAP), how the server keeps it
//! fresh, and `simul directory test|search`, which check an LDAP
//! configuration before users meet it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use simul_directory::{EmbeddedRealm, LdapRealm, Realm};
use simul_store::Store;
use zeroize::Zeroizing;

use crate::Outcome;
use crate::config::{Config, DirectoryKind};
use crate::data::{DataArgs, DataDir};

/// How often the embedded realm's online users are checked for disabled
/// accounts (it caches nothing, so this is its whole refresh).
const EMBEDDED_SWEEP: Duration = Duration::from_secs(60);
/// How soon a failed LDAP refresh is tried again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);

/// The realm a deployment uses.
pub struct Directory {
    /// What front doors ask.
    pub realm: Arc<dyn Realm>,
    /// The LDAP realm, when that is the kind.
    pub ldap: Option<Arc<LdapRealm>>,
}

impl Directory {
    /// The configured realm; nothing is connected yet.
    pub fn open(config: &Config, store: &Store) -> anyhow::Result<Self> {
        Ok(match config.directory.kind {
            DirectoryKind::Embedded => {
                Self { realm: Arc::new(embedded(config, store.clone())), ldap: None }
            }
            DirectoryKind::Ldap => {
                let ldap = Arc::new(
                    LdapRealm::new(&config.directory.ldap)?.keeping_snapshot_in(store.clone()),
                );
                Self { realm: ldap.clone(), ldap: Some(ldap) }
            }
        })
    }

    /// The configured realm for a read-only check (`simul sso doctor`),
    /// and what it is, in words. LDAP is asked directly (no name cache
    /// loaded, nothing kept); the embedded realm reads the deployment's
    /// database. `None`: embedded, and `data` has no database (no
    /// deployment here).
    pub async fn for_checks(
        config: &Config,
        data: Option<&DataDir>,
    ) -> anyhow::Result<Option<(Arc<dyn Realm>, String)>> {
        if config.directory.kind == DirectoryKind::Ldap {
            let ldap = LdapRealm::new(&config.directory.ldap)?;
            let what = format!(
                "the LDAP directory {} ({})",
                ldap.settings().repository_id,
                ldap.settings().hosts.join(", ")
            );
            return Ok(Some((Arc::new(ldap), what)));
        }
        let Some(data) = data else { return Ok(None) };
        let Some(store) = data.read_only_store().await? else { return Ok(None) };
        let what = format!("the embedded realm in {}", data.root().display());
        Ok(Some((Arc::new(embedded(config, store)), what)))
    }

    /// A warning if the bind password file can be read by other users.
    pub fn exposed_secret(config: &Config) -> Option<String> {
        let file = config.directory.ldap.bind_password_file.as_ref()?;
        let mode = file_mode(file)?;
        (mode & 0o077 != 0).then(|| {
            format!(
                "{} (the LDAP bind password) is readable by other users (mode {:o}): chmod 600 {}",
                file.display(),
                mode & 0o777,
                file.display()
            )
        })
    }

    /// How long between refreshes.
    fn interval(&self) -> Duration {
        self.ldap.as_ref().map_or(EMBEDDED_SWEEP, |ldap| ldap.settings().refresh)
    }

    /// Loads the LDAP name cache at start-up, saying how it went. A
    /// directory that does not answer does not stop the server: logins
    /// fail until it does, and it is tried again every minute.
    pub async fn load(&self) -> bool {
        let Some(ldap) = &self.ldap else { return true };
        let started = Instant::now();
        match ldap.refresh().await {
            Ok(changes) => {
                println!(
                    "Directory {}: {} people from {} in {} ms",
                    ldap.settings().repository_id,
                    changes.people,
                    ldap.health().server().unwrap_or_default(),
                    started.elapsed().as_millis()
                );
                true
            }
            Err(error) => {
                eprintln!(
                    "warning: {error}\nwarning: logins fail until the directory answers; it is \
                     tried again every minute (`simul directory test` explains what is wrong)"
                );
                false
            }
        }
    }

    /// Refreshes the directory every interval and on `SIGHUP`, each time
    /// signing out whoever it no longer lets in.
    pub async fn keep_fresh(self, service: Arc<simul_service::Service>, mut healthy: bool) {
        let mut hangup = hangups();
        loop {
            let wait =
                if healthy { self.interval() } else { self.interval().min(RETRY_AFTER_FAILURE) };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                Some(()) = hangup.recv() => tracing::info!("SIGHUP: refreshing the directory"),
            }
            healthy = match self.realm.refresh().await {
                Ok(()) => true,
                Err(error) if error.is_outage() => {
                    // The realm logs outages once; this is the per-attempt detail.
                    tracing::debug!(%error, "directory refresh failed");
                    false
                }
                Err(error) => {
                    // Refused, not failed (a mass removal): say so every time.
                    tracing::error!(%error, "directory refresh refused");
                    true
                }
            };
            if healthy {
                let ended = service.end_departed_sessions().await;
                if ended > 0 {
                    tracing::info!(people = ended, "signed out people the directory no longer has");
                }
            }
        }
    }
}

/// The embedded realm of `store`, letting strangers in as configured.
fn embedded(config: &Config, store: Store) -> EmbeddedRealm {
    EmbeddedRealm::new(store).accepting_strangers(config.directory.accept_unknown_sso_users)
}

#[cfg(unix)]
fn file_mode(file: &std::path::Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(file).ok().map(|m| m.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_file: &std::path::Path) -> Option<u32> {
    None
}

/// `SIGHUP`s as a stream (none where there are no signals).
fn hangups() -> tokio::sync::mpsc::Receiver<()> {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    #[cfg(unix)]
    tokio::spawn(async move {
        let kind = tokio::signal::unix::SignalKind::hangup();
        let Ok(mut signal) = tokio::signal::unix::signal(kind) else { return };
        while signal.recv().await.is_some() {
            // A refresh already asked for covers this one too.
            let _ = sender.try_send(());
        }
    });
    #[cfg(not(unix))]
    drop(sender);
    receiver
}

/// `simul directory`.
#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Check the LDAP configuration: reach each server, bind, load the
    /// people under the base entries, and show what Simul would use for a
    /// user (DN, realm, card, groups), with timings
    ///
    /// Exit status 0 when every check passes, 1 when one fails, 2 for a
    /// configuration Simul cannot read.
    #[command(after_help = "Examples:\n  \
        simul directory test --config /etc/simul/simul.toml\n  \
        simul directory test --config simul.toml --user jdoe\n  \
        simul directory test --config simul.toml --user jdoe@example.com --password-file pw\n  \
        simul directory test --config simul.toml --group 'cn=staff,ou=groups,dc=example,dc=com'")]
    Test(TestArgs),
    /// Search the LDAP directory itself (not Simul's cache) by name, mail
    /// or login name, as "add contact" would
    Search(SearchArgs),
}

/// Arguments of `simul directory test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    deployment: DataArgs,
    /// A user to look up by login name, mail or DN.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// Also check this user's password (first line of FILE) by binding as them.
    #[arg(long, value_name = "FILE", requires = "user")]
    password_file: Option<PathBuf>,
    /// A group (its DN) whose members to list, however many (Active
    /// Directory's range retrieval is followed past 1,500).
    #[arg(long, value_name = "DN")]
    group: Option<String>,
}

/// Arguments of `simul directory search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Part of a display name, mail address or login name.
    query: String,
    /// Most people to show.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    #[command(flatten)]
    deployment: DataArgs,
}

impl DirectoryCommand {
    /// Runs the command on a small runtime of its own.
    pub fn run(self) -> anyhow::Result<Outcome> {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
            match self {
                Self::Test(args) => args.run().await,
                Self::Search(args) => args.run().await,
            }
        })
    }
}

/// The LDAP realm of the configuration, or an error saying how to set one.
fn ldap_realm(deployment: &DataArgs) -> anyhow::Result<(Config, LdapRealm)> {
    let mut config = deployment.config()?;
    // The signers `simul trust add` kept, as the server trusts them.
    config.directory.ldap.trust_dir = deployment.existing_data_dir()?.map(|data| data.trust_dir());
    if config.directory.kind != DirectoryKind::Ldap {
        bail!(
            "directory.kind is \"embedded\" (the default): set kind = \"ldap\" and the \
             [directory.ldap] keys (hosts, base_dn, bind_dn, bind_password_file) in the file \
             given with --config"
        );
    }
    let realm = LdapRealm::new(&config.directory.ldap)?;
    Ok((config, realm))
}

impl TestArgs {
    async fn run(self) -> anyhow::Result<Outcome> {
        let (config, ldap) = ldap_realm(&self.deployment)?;
        let password = self.password_file.as_ref().map(read_password).transpose()?;
        let settings = ldap.settings();
        let realm_name = config.token_realm().unwrap_or_else(|| settings.default_realm());
        let realm_origin = match config.directory.realm {
            Some(_) => "directory.realm",
            None => "the primary's host:port; set directory.realm to the other servers' realm name",
        };
        println!(
            "Repository {} (preset {}), realm {realm_name:?} ({realm_origin})",
            settings.repository_id,
            config.directory.ldap.preset.name()
        );
        if let Some(warning) = Directory::exposed_secret(&config) {
            println!("  warning {warning}");
        }
        let test = simul_service::DirectoryTest {
            user: self.user.as_deref(),
            password: password.as_deref().map(String::as_str),
            group: self.group.as_deref(),
        };
        let checks = test.run(&ldap, &realm_name).await;
        for check in &checks {
            print_check(check);
        }
        let failures = checks.iter().filter(|check| !check.passed()).count();
        Ok(if failures == 0 {
            println!("All checks passed.");
            Outcome::Success
        } else {
            println!("{failures} check(s) failed.");
            Outcome::Invalid
        })
    }
}

/// One check as the command has always printed it.
fn print_check(check: &simul_service::Check) {
    let name = check.name;
    match check.took {
        Some(took) => println!("  ok      {name:<7} {} ({} ms)", check.what, took.as_millis()),
        None => println!("  FAILED  {name:<7} {}", check.what),
    }
    for line in &check.details {
        println!("      {line}");
    }
}

impl SearchArgs {
    async fn run(self) -> anyhow::Result<Outcome> {
        let (_, ldap) = ldap_realm(&self.deployment)?;
        let people = ldap.search_directory(&self.query, self.limit).await?;
        if people.is_empty() {
            println!("Nobody matches {:?}.", self.query);
        }
        for person in people {
            let state = if person.disabled { "\tdisabled" } else { "" };
            println!("{}\t{}\t{}{state}", person.display_name, person.mail, person.id);
        }
        Ok(Outcome::Success)
    }
}

fn read_password(file: &PathBuf) -> anyhow::Result<Zeroizing<String>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?,
    );
    Ok(Zeroizing::new(text.lines().next().unwrap_or_default().to_owned()))
}
