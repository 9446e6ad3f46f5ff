//! `simul user add|list|passwd|disable|enable|remove|admin`: the embedded
//! realm. The administrator's acts are the console's functions
//! ([`Administration`]), so both write the audit log alike.

use std::io::{IsTerminal as _, Read as _};
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use simul_directory::EmbeddedRealm;
use simul_service::{Actor, Administration};
use simul_store::Store;
use zeroize::Zeroizing;

use crate::Outcome;
use crate::data::DataArgs;

/// Users of the embedded realm (they work while the server runs).
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add {
        /// Login name (letters, digits, '.', '_', '-'; stored in lower case).
        name: String,
        /// Name shown to others (default: the login name).
        #[arg(long)]
        display_name: Option<String>,
        /// E-mail address.
        #[arg(long)]
        mail: Option<String>,
        /// Give the user the administrator role (the console).
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        password: NewUserPassword,
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// List users, one a line: login name, display name, mail, state.
    List {
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Set a user's password.
    Passwd {
        /// Login name.
        name: String,
        #[command(flatten)]
        password: NewUserPassword,
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Disable a user: they can no longer log in.
    Disable {
        /// Login name.
        name: String,
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Enable a disabled user again.
    Enable {
        /// Login name.
        name: String,
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Give a user the administrator role (the console), or take it away.
    Admin {
        /// Login name.
        name: String,
        /// Take the role away instead.
        #[arg(long)]
        revoke: bool,
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Remove a user.
    Remove {
        /// Login name.
        name: String,
        #[command(flatten)]
        deployment: DataArgs,
    },
}

/// Where a user's new password comes from (never argv).
#[derive(Debug, Args)]
pub struct NewUserPassword {
    /// Read the password from standard input (first line).
    #[arg(long, conflicts_with = "password_file")]
    password_stdin: bool,
    /// Read the password from FILE (first line).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

impl NewUserPassword {
    fn read(&self) -> anyhow::Result<Zeroizing<String>> {
        let mut text = Zeroizing::new(String::new());
        if let Some(file) = &self.password_file {
            *text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
        } else if self.password_stdin {
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the password from standard input")?;
        } else if std::io::stdin().is_terminal() {
            let first = Zeroizing::new(rpassword::prompt_password("New password: ")?);
            let again = Zeroizing::new(rpassword::prompt_password("New password (again): ")?);
            if *first != *again {
                bail!("the two passwords differ");
            }
            return Ok(first);
        } else {
            bail!("no password given: use --password-stdin or --password-file FILE");
        }
        Ok(Zeroizing::new(text.lines().next().unwrap_or_default().to_owned()))
    }
}

/// Runs a command's `work` on a small runtime of its own.
pub(crate) fn on_runtime(
    work: impl std::future::Future<Output = anyhow::Result<Outcome>>,
) -> anyhow::Result<Outcome> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(work)
}

impl UserCommand {
    /// Runs the command on a small runtime of its own.
    pub fn run(self) -> anyhow::Result<Outcome> {
        on_runtime(self.run_async())
    }

    async fn run_async(self) -> anyhow::Result<Outcome> {
        // A password is read before the database is opened: a mistyped
        // one must not leave a new deployment behind.
        let password = match &self {
            Self::Add { password, .. } | Self::Passwd { password, .. } => password.read()?,
            _ => Zeroizing::default(),
        };
        let store = match &self {
            Self::Add { deployment, .. } => new_or_existing_store(deployment).await?,
            Self::List { deployment }
            | Self::Passwd { deployment, .. }
            | Self::Disable { deployment, .. }
            | Self::Enable { deployment, .. }
            | Self::Admin { deployment, .. }
            | Self::Remove { deployment, .. } => existing_store(deployment).await?,
        };
        let realm = EmbeddedRealm::new(store.clone());
        let done = self.run_on(&store, &realm, &password).await;
        // Closed before the process ends, the last connection folds the
        // write-ahead log into the database and removes it and the
        // shared-memory file (unless a running server has them open).
        realm.close().await;
        done
    }

    /// Carries the command out on `realm` (of `store`); `password` is the
    /// one read for `add` and `passwd` (empty for the others).
    async fn run_on(
        self,
        store: &Store,
        realm: &EmbeddedRealm,
        password: &str,
    ) -> anyhow::Result<Outcome> {
        let admin = Administration::new(store, realm);
        let actor = command_line_actor();
        match self {
            Self::Add { name, display_name, mail, admin: make_admin, .. } => {
                let user = realm
                    .add_user(&name, display_name.as_deref(), mail.as_deref(), password)
                    .await?;
                admin.record(&actor, "add-user", &user.id).await?;
                println!("Added user {} ({})", user.id, user.display_name);
                if make_admin {
                    admin.set_admin(&actor, &user.id, true).await?;
                    println!("{} is an administrator", user.id);
                }
            }
            Self::List { .. } => {
                for user in realm.users().await? {
                    let state = if user.disabled { "disabled" } else { "enabled" };
                    println!("{}\t{}\t{}\t{state}", user.id, user.display_name, user.mail);
                }
            }
            Self::Passwd { name, .. } => {
                admin.reset_password(&actor, &name, password).await?;
                println!("Changed the password of {name}");
            }
            Self::Disable { name, .. } => {
                admin.set_disabled(&actor, &name, true).await?;
                println!("Disabled {name}");
            }
            Self::Enable { name, .. } => {
                admin.set_disabled(&actor, &name, false).await?;
                println!("Enabled {name}");
            }
            Self::Admin { name, revoke, .. } => {
                admin.set_admin(&actor, &name, !revoke).await?;
                let now = if revoke { "no longer an administrator" } else { "an administrator" };
                println!("{name} is {now}");
            }
            Self::Remove { name, .. } => {
                realm.remove(&name).await?;
                // A user of that name made later starts without the role.
                store.set_admin(&EmbeddedRealm::normalize_name(&name)?, false, 0).await?;
                admin.record(&actor, "remove-user", &name).await?;
                println!("Removed {name}");
            }
        }
        Ok(Outcome::Success)
    }
}

/// Who runs a command, as the audit log names them: the system user
/// (`$USER` or `$LOGNAME`, else the process's uid), from the command line.
pub fn command_line_actor() -> Actor {
    use std::os::unix::fs::MetadataExt as _;
    let who = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .or_else(|_| std::fs::metadata("/proc/self").map(|me| format!("uid {}", me.uid())))
        .unwrap_or_else(|_| "unknown".into());
    Actor { who: format!("{who} (system user)"), origin: "command line".into() }
}

/// The store of the deployment, which `simul user add` creates (data
/// directory and database) if there is none yet.
async fn new_or_existing_store(deployment: &DataArgs) -> anyhow::Result<Store> {
    refuse_ldap(deployment)?;
    deployment.data_dir()?.store().await
}

/// The store of an existing deployment: the other commands only read or
/// change users, so a wrong `--data` must not leave an empty deployment
/// behind.
pub(crate) async fn existing_store(deployment: &DataArgs) -> anyhow::Result<Store> {
    refuse_ldap(deployment)?;
    deployment_store(deployment).await
}

/// The store of an existing deployment, whatever its directory.
pub(crate) async fn deployment_store(deployment: &DataArgs) -> anyhow::Result<Store> {
    let path = deployment.data_path()?;
    let store = match deployment.existing_data_dir()? {
        Some(data) => data.existing_store().await?,
        None => None,
    };
    let Some(store) = store else {
        bail!(
            "there is no deployment in {} (no database): give the deployment's --data DIR or \
             --config FILE; `simul user add` or `simul serve` creates one",
            path.display()
        );
    };
    Ok(store)
}

fn refuse_ldap(deployment: &DataArgs) -> anyhow::Result<()> {
    if deployment.config()?.directory.kind == crate::config::DirectoryKind::Ldap {
        bail!(
            "directory.kind is \"ldap\": users come from the LDAP directory and are added, \
             disabled and removed there (see `simul directory search`)"
        );
    }
    Ok(())
}
