//! `simul audit`: the administrators' acts, from the console and the
//! commands, filtered and exported as the console's audit page does it
//! (the same service function).

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::Args;
use simul_directory::EmbeddedRealm;
use simul_service::{Administration, AuditFilter};

use crate::Outcome;
use crate::data::DataArgs;

/// `simul audit [--since WHEN] [--actor WHO] [--action WHAT] [--json | --csv]`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only acts since WHEN: an RFC 3339 time (2026-12-01T00:00:00Z) or a
    /// duration ago (90m, 24h, 7d). Default: everything kept.
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    since: Option<i64>,
    /// Only acts of administrators whose id contains WHO (any case).
    #[arg(long, value_name = "WHO", default_value = "")]
    actor: String,
    /// Only acts of this kind (disable, grant-admin, policy-set,
    /// export-ltpa-keys, ...).
    #[arg(long, value_name = "WHAT", default_value = "")]
    action: String,
    /// One JSON array of {at_ms, actor, action, target, origin}.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV with a header line (at, actor, action, target, origin).
    #[arg(long)]
    csv: bool,
    #[command(flatten)]
    deployment: DataArgs,
}

fn parse_since(text: &str) -> Result<i64, String> {
    simul_service::parse_since(text, Utc::now())
}

impl AuditArgs {
    /// Prints the acts, newest first.
    pub fn run(self) -> anyhow::Result<Outcome> {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
            let store = crate::user::existing_store(&self.deployment).await?;
            let realm = EmbeddedRealm::new(store.clone());
            let filter = AuditFilter {
                since_ms: self.since.unwrap_or(0),
                actor: self.actor.trim().to_owned(),
                action: self.action.trim().to_owned(),
            };
            let entries = Administration::new(&store, &realm).audit(&filter).await;
            realm.close().await;
            let entries = entries.context("cannot read the audit log")?;
            if self.json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else if self.csv {
                print!("{}", simul_service::audit_csv(&entries));
            } else {
                for entry in entries {
                    let at =
                        DateTime::<Utc>::from_timestamp_millis(entry.at_ms).unwrap_or_default();
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        at.format("%Y-%m-%dT%H:%M:%SZ"),
                        entry.actor,
                        entry.action,
                        entry.target,
                        entry.origin
                    );
                }
            }
            Ok(Outcome::Success)
        })
    }
}
