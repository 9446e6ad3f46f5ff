//! Consistent copies of a live database with SQLite's `VACUUM INTO`. It
//! reads in one transaction, so the copy is the database as of one
//! moment while the server keeps writing (WAL readers block no writer).
//! Copying the file instead could catch a write half done, and would miss
//! what is still in the write-ahead log.

use std::path::Path;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use crate::StoreError;

/// What [`backup_database`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseCopy {
    /// The schema version of the copy (its newest migration).
    pub schema: i64,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Copies the database at `source` to `target`, a new file (mode 0600),
/// while other processes go on using the database. The source must exist
/// and is neither created nor migrated: a backup takes what is there.
pub async fn backup_database(source: &Path, target: &Path) -> Result<DatabaseCopy, StoreError> {
    let options = SqliteConnectOptions::new()
        .filename(source)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
    // The version is read first, in its own statement: a migration could
    // only come in between if another Simul upgraded the database during
    // the backup, and a server migrates at start, before serving.
    let copied = async {
        let schema = crate::schema::version(&pool).await?;
        vacuum_into(&pool, target).await?;
        Ok::<_, StoreError>(schema)
    }
    .await;
    pool.close().await;
    let schema = copied?;
    let bytes = std::fs::metadata(target).map_err(sqlx::Error::Io)?.len();
    Ok(DatabaseCopy { schema, bytes })
}

/// Writes the database behind `pool` to `target`, which must not exist:
/// an empty 0600 file is made first (SQLite fills an empty file and keeps
/// its mode), and removed again if the copy fails.
pub(crate) async fn vacuum_into(pool: &SqlitePool, target: &Path) -> Result<(), StoreError> {
    let name = target.to_str().ok_or_else(|| StoreError::NotUtf8(target.to_owned()))?;
    crate::new_owner_only(target).map_err(sqlx::Error::Io)?;
    if let Err(error) = sqlx::query("VACUUM INTO $1").bind(name).execute(pool).await {
        let _ = std::fs::remove_file(target);
        return Err(error.into());
    }
    Ok(())
}
