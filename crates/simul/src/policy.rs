//! `simul policy list|show|set|assign|unassign|remove`: what users may do. The
//! acts are the console's functions ([`Policies`]), so both check input
//! alike and write the audit log; a running server applies a change at
//! its next check (it reads the policies' version from the store).

use clap::{Args, Subcommand};
use simul_service::policy::Assignee;
use simul_service::{Policies, PolicyBook};

use crate::Outcome;
use crate::data::DataArgs;
use crate::directory::Directory;
use crate::user::command_line_actor;

/// Policies: `default` (everyone in the directory), `anonymous` (people
/// outside it) and custom ones assigned to users or groups.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// List the policies, what each sets and whom it is assigned to.
    List {
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Show every setting of a policy, with where its value comes from.
    Show {
        /// The policy (`default`, `anonymous` or a custom one).
        name: String,
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Change settings of a policy, creating a custom policy if needed
    ///
    /// Settings: external_chat, nway_chat, file_transfer, meetings,
    /// rooms_create (yes or no); max_contacts, history_days, max_file_mb
    /// (a number or `unlimited`). Every pair is checked before anything
    /// changes.
    #[command(after_help = "Examples:\n  \
        simul policy set default nway_chat=no history_days=90\n  \
        simul policy set managers nway_chat=yes max_file_mb=100\n  \
        simul policy set anonymous file_transfer=no external_chat=no")]
    Set {
        /// The policy.
        name: String,
        /// KEY=VALUE settings.
        #[arg(required = true, value_name = "KEY=VALUE")]
        settings: Vec<String>,
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Assign a custom policy to a user or a group (the heaviest of a
    /// user's policies wins)
    #[command(after_help = "Examples:\n  \
        simul policy assign managers --group cn=managers,ou=groups,o=acme --weight 10\n  \
        simul policy assign managers --user jdoe --weight 20")]
    Assign {
        /// The custom policy.
        name: String,
        #[command(flatten)]
        to: AssigneeArgs,
        /// Its weight: the heaviest policy assigned to a user or their groups wins.
        #[arg(long, value_name = "N", default_value_t = 0)]
        weight: u32,
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Take a custom policy away from a user or a group (they go back to
    /// their next heaviest policy, or `default`)
    #[command(after_help = "Examples:\n  \
        simul policy unassign managers --group cn=managers,ou=groups,o=acme\n  \
        simul policy unassign managers --user jdoe")]
    Unassign {
        /// The custom policy.
        name: String,
        #[command(flatten)]
        from: AssigneeArgs,
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Remove a custom policy and its assignments.
    Remove {
        /// The custom policy.
        name: String,
        #[command(flatten)]
        deployment: DataArgs,
    },
}

impl PolicyCommand {
    /// Runs the command on a small runtime of its own.
    pub fn run(self) -> anyhow::Result<Outcome> {
        crate::user::on_runtime(self.run_async())
    }

    async fn run_async(self) -> anyhow::Result<Outcome> {
        let deployment = match &self {
            Self::List { deployment }
            | Self::Show { deployment, .. }
            | Self::Set { deployment, .. }
            | Self::Assign { deployment, .. }
            | Self::Unassign { deployment, .. }
            | Self::Remove { deployment, .. } => deployment,
        };
        let store = crate::user::deployment_store(deployment).await?;
        let directory = Directory::open(&deployment.config()?, &store)?;
        let policies = Policies::new(&store, directory.realm.as_ref());
        let actor = command_line_actor();
        match self {
            Self::List { .. } => print_list(&policies.book().await?),
            Self::Show { name, .. } => {
                let book = policies.book().await?;
                if book.get(&name).is_none() {
                    anyhow::bail!("no policy `{name}`: `simul policy list` shows them");
                }
                print_policy(&book, &name);
            }
            Self::Set { name, settings, .. } => {
                let created = policies.set(&actor, &name, &settings[..]).await?;
                let done = if created { "Created" } else { "Changed" };
                println!("{done} policy {name}");
            }
            Self::Assign { name, to, weight, .. } => {
                let to = policies.assign(&actor, &name, to.assignee(), weight).await?;
                println!("Assigned policy {name} to {to} with weight {weight}");
            }
            Self::Unassign { name, from, .. } => {
                let from = policies.unassign(&actor, &name, from.assignee()).await?;
                println!("Unassigned policy {name} from {from}");
            }
            Self::Remove { name, .. } => {
                policies.remove(&actor, &name).await?;
                println!("Removed policy {name}");
            }
        }
        store.close().await;
        Ok(Outcome::Success)
    }
}

/// Whom a policy is assigned to: `--user ID` or `--group DN`.
#[derive(Debug, Args)]
pub struct AssigneeArgs {
    /// A user (any name the directory knows).
    #[arg(long, value_name = "ID", required_unless_present = "group", conflicts_with = "group")]
    user: Option<String>,
    /// A directory group, by its DN.
    #[arg(long, value_name = "DN")]
    group: Option<String>,
}

impl AssigneeArgs {
    /// The `--user` or `--group` given (clap requires one of them).
    fn assignee(self) -> Assignee {
        match (self.user, self.group) {
            (Some(user), _) => Assignee::User(user),
            (None, Some(group)) => Assignee::Group(group),
            (None, None) => unreachable!("clap requires --user or --group"),
        }
    }
}

/// One line a policy: its name, what it sets, whom it is assigned to.
fn print_list(book: &PolicyBook) {
    for policy in &book.policies {
        let set: Vec<String> =
            policy.settings.iter().map(|(setting, value)| format!("{setting}={value}")).collect();
        let assigned: Vec<String> = book
            .assigned(&policy.name)
            .map(|a| format!("{} (weight {})", a.to, a.weight))
            .collect();
        println!(
            "{}\t{}\t{}",
            policy.name,
            if set.is_empty() { "-".into() } else { set.join(" ") },
            if assigned.is_empty() { "-".into() } else { assigned.join(", ") }
        );
    }
}

/// Every setting of policy `name`: key, value, where the value comes
/// from, what the setting does; then its assignments.
fn print_policy(book: &PolicyBook, name: &str) {
    println!("Policy {name}");
    for (setting, value, from) in book.settings_of(name) {
        let from = if from == name { String::new() } else { format!(" (from {from})") };
        println!("  {:<14}{:<11}{}{from}", setting.key(), value.to_string(), setting.describe());
    }
    for assignment in book.assigned(name) {
        println!("  assigned to {} with weight {}", assignment.to, assignment.weight);
    }
}
