//! `simul audit`: the administrators' acts, from the console and the
//! commands, as the console's audit page shows them.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::Args;
use simul_directory::EmbeddedRealm;
use simul_service::Administration;

use crate::Outcome;
use crate::data::DataArgs;

/// `simul audit [--since WHEN] [--json]`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only acts since WHEN: an RFC 3339 time (2026-12-01T00:00:00Z) or a
    /// duration ago (90m, 24h, 7d). Default: everything kept.
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    since: Option<i64>,
    /// One JSON array of {at_ms, actor, action, target, origin}.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    deployment: DataArgs,
}

/// A moment (RFC 3339) or a duration ago, as ms since the Unix epoch.
fn parse_since(text: &str) -> Result<i64, String> {
    if let Ok(moment) = DateTime::parse_from_rfc3339(text) {
        return Ok(moment.timestamp_millis());
    }
    let ago = crate::ltpa::parse_duration_ms(text)
        .map_err(|_| format!("{text:?} is neither an RFC 3339 time nor a duration like 24h"))?;
    Ok(Utc::now().timestamp_millis() - ago)
}

impl AuditArgs {
    /// Prints the acts, newest first.
    pub fn run(self) -> anyhow::Result<Outcome> {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
            let store = crate::user::existing_store(&self.deployment).await?;
            let realm = EmbeddedRealm::new(store.clone());
            let entries = Administration::new(&store, &realm).audit(self.since.unwrap_or(0)).await;
            realm.close().await;
            let entries = entries.context("cannot read the audit log")?;
            if self.json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
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
