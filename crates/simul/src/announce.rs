//! `simul announce [--group DN | --user ID...] TEXT`: the console's
//! announcement from the command line. It runs beside the server, so it
//! only writes the announcement to the store (and the audit log); the
//! running server shows it within a second or two, once.

use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use simul_directory::{EmbeddedRealm, Realm};
use simul_service::{Administration, Audience};

use crate::Outcome;
use crate::config::DirectoryKind;
use crate::data::DataArgs;

/// `simul announce`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    simul announce 'The server restarts at 18:00 for ten minutes.' --data /var/lib/simul\n  \
    simul announce --group 'cn=Sales,ou=Groups,dc=example,dc=com' 'Quarterly call at 3 pm' --config /etc/simul/simul.toml\n  \
    simul announce --user alice --user bob 'Your new laptops are ready' --data /var/lib/simul")]
pub struct AnnounceArgs {
    /// The text, shown as plain text (quote it); at most 2,000 characters.
    text: String,
    /// Only to the members of this directory group (its DN).
    #[arg(long, value_name = "DN", conflicts_with = "users")]
    group: Option<String>,
    /// Only to this user (repeat for more).
    #[arg(long = "user", value_name = "ID")]
    users: Vec<String>,
    #[command(flatten)]
    deployment: DataArgs,
}

impl AnnounceArgs {
    /// Writes the announcement for the running server to show.
    pub fn run(self) -> anyhow::Result<Outcome> {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
            let audience = match (self.group, self.users) {
                (Some(dn), _) => Audience::Group(dn),
                (None, users) if users.is_empty() => Audience::Everyone,
                (None, users) => Audience::Users(users),
            };
            let store = crate::user::deployment_store(&self.deployment).await?;
            let config = self.deployment.config()?;
            // Named users are checked in the directory the server uses.
            let realm: Arc<dyn Realm> = match config.directory.kind {
                DirectoryKind::Embedded => Arc::new(EmbeddedRealm::new(store.clone())),
                DirectoryKind::Ldap => {
                    crate::directory::Directory::for_checks(&config, None)
                        .await?
                        .context("the LDAP directory is not configured")?
                        .0
                }
            };
            let actor = crate::user::command_line_actor();
            let sent = Administration::new(&store, realm.as_ref())
                .announce(&actor, audience, &self.text)
                .await;
            store.close().await;
            let seq = sent?;
            println!(
                "Announcement {seq} kept: the running server shows it within two seconds to \
                 those it names who are online (`simul serve` shows it when it next starts \
                 otherwise)."
            );
            Ok(Outcome::Success)
        })
    }
}
