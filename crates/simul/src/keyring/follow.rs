//! The running server follows its key files: a `simul ltpa rotate` or
//! `import` takes effect within seconds (at once on SIGHUP), and a
//! previous key set stops verifying at its date, without a restart.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use simul_service::Service;

use simul_service::key_files::StoredKeys;

use crate::data::DataDir;

/// How often the key files are looked at (a `stat` each, nothing read
/// unless one changed).
const POLL: Duration = Duration::from_secs(5);

/// What the key files looked like: names, sizes and modification times.
/// Every write replaces a file by rename, so any change shows here.
#[derive(Debug, PartialEq, Eq)]
struct Look(Vec<(PathBuf, u64, Option<SystemTime>)>);

impl Look {
    fn of(data: &DataDir) -> Self {
        let keys = data.keys();
        let mut paths = keys.previous_files().unwrap_or_default();
        paths.push(keys.current_path());
        Self(
            paths
                .into_iter()
                .map(|path| {
                    let metadata = std::fs::metadata(&path).ok();
                    let size = metadata.as_ref().map_or(0, std::fs::Metadata::len);
                    let modified = metadata.and_then(|m| m.modified().ok());
                    (path, size, modified)
                })
                .collect(),
        )
    }
}

/// Keeps applying the key files' changes to the server, which uses the
/// keys of `loaded` now, until the process ends.
pub async fn follow(data: DataDir, service: Arc<Service>, loaded: StoredKeys) {
    let mut look = Look::of(&data);
    let mut applied = loaded.fingerprints();
    let mut next_expiry = loaded.next_expiry();
    let mut hangup = hangups();
    loop {
        let forced = tokio::select! {
            () = tokio::time::sleep(POLL) => false,
            Some(()) = hangup.recv() => true,
        };
        let now = Utc::now();
        let expired = next_expiry.is_some_and(|at| at <= now);
        let seen = Look::of(&data);
        if !forced && !expired && seen == look {
            continue;
        }
        look = seen;
        match data.keys().read(now) {
            Ok(ring) => {
                for note in &ring.notes {
                    tracing::warn!("{note}");
                }
                next_expiry = ring.next_expiry();
                let fingerprints = ring.fingerprints();
                if fingerprints != applied {
                    service.replace_keys(ring.current.keys.clone(), ring.previous_keys());
                    tracing::info!(
                        signing = %fingerprints[0],
                        previous = ring.previous.len(),
                        "LTPA keys changed: new tokens are signed with the current keys; \
                         tokens of the previous sets are accepted until their date"
                    );
                    applied = fingerprints;
                }
            }
            // A file caught half-copied by hand: the keys in use stay,
            // and the next change is tried again.
            Err(error) => tracing::warn!("LTPA keys not reloaded, the ones in use stay: {error:#}"),
        }
    }
}

/// SIGHUP, as a stream of `()`; nothing where there is no such signal.
fn hangups() -> tokio::sync::mpsc::Receiver<()> {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    #[cfg(unix)]
    if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        tokio::spawn(async move {
            while signal.recv().await.is_some() {
                if sender.send(()).await.is_err() {
                    break;
                }
            }
        });
    }
    #[cfg(not(unix))]
    drop(sender);
    receiver
}
