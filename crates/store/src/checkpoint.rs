//! Write-ahead log checkpoints off the message path.
//!
//! SQLite folds the log back into the database (a checkpoint) in the
//! commit that takes the log past 1,000 pages, on the connection that
//! committed. For the messages' writer that meant a batch waited for a
//! thousand pages to be copied, and every message behind it too: a tenth
//! of the writer's thread at 12,500 XMPP messages a second (BENCHMARKS.md,
//! side by side). This connection copies the pages on its own thread after
//! batches (at most every [`PAUSE`]); in WAL mode a checkpoint and a
//! writer run side by side. The writer keeps SQLite's automatic
//! checkpoint, which then finds little left to copy: it is what still
//! bounds the log, since a checkpoint running beside a steady writer never
//! catches up with the last page, and only a fully copied log starts over
//! from its beginning.

use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, SqliteConnection};
use tokio::sync::{Mutex, Notify};

/// The least time between two checkpoints: under a steady load each folds
/// a tenth of a second's messages, and the log stays small.
const PAUSE: Duration = Duration::from_millis(100);

/// The connection that checkpoints, and the signal that batches were
/// committed since the last checkpoint.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    due: Arc<Notify>,
    connection: Arc<Mutex<Option<SqliteConnection>>>,
}

impl Checkpointer {
    /// Opens its connection with `options` and starts checkpointing.
    pub(crate) async fn start(options: &SqliteConnectOptions) -> Result<Self, sqlx::Error> {
        let connection = Arc::new(Mutex::new(Some(options.connect().await?)));
        let due = Arc::new(Notify::new());
        tokio::spawn(run(Arc::clone(&due), Arc::clone(&connection)));
        Ok(Self { due, connection })
    }

    /// Batches were committed: a checkpoint is due.
    pub(crate) fn committed(&self) {
        self.due.notify_one();
    }

    /// Closes the connection (after a checkpoint under way); checkpoints
    /// stop.
    pub(crate) async fn close(&self) {
        if let Some(connection) = self.connection.lock().await.take() {
            let _ = connection.close().await;
        }
        // Wakes the task so that it sees the connection gone and ends.
        self.due.notify_one();
    }
}

/// Checkpoints whenever one is due, until the connection is closed.
async fn run(due: Arc<Notify>, connection: Arc<Mutex<Option<SqliteConnection>>>) {
    loop {
        due.notified().await;
        {
            let mut held = connection.lock().await;
            let Some(connection) = held.as_mut() else { return };
            // PASSIVE: copies what no reader still needs, never waits for
            // readers or the writer. A failure (a full disk) leaves the log
            // as it is, to be folded by the next one.
            if let Err(error) =
                sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut *connection).await
            {
                tracing::debug!(%error, "checkpoint of the write-ahead log failed");
            }
        }
        tokio::time::sleep(PAUSE).await;
    }
}
