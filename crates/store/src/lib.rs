//! Simul's durable state in SQLite: users of the embedded realm, contact
//! lists, message history, settings and revoked tokens, with embedded
//! migrations.
//!
//! Durability: the database runs in WAL mode, so a write that returned
//! survives the process being killed (`synchronous = NORMAL` trades only
//! the last transactions on power loss, which SQLite documents).
//!
//! A storage trait will be extracted when the PostgreSQL implementation
//! arrives, shaped by two implementations rather than guessed from one.

mod contacts;
mod messages;
mod nway;
mod revocations;
mod snapshot;
mod users;

use std::path::Path;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use contacts::{ContactGroup, ContactList};
pub use messages::StoredIm;
pub use nway::{ChatRecord, StoredChatMessage};
pub use revocations::{Revocation, RevocationBatch};
pub use users::{NewUser, UserRecord};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, migrated or queried.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrating the schema failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A user with this id exists already.
    #[error("user {0:?} exists already")]
    UserExists(String),
    /// No user with this id.
    #[error("no user {0:?}")]
    NoSuchUser(String),
    /// A stored document does not parse (the database was edited by hand).
    #[error("stored {what} of {owner:?} is damaged: {detail}")]
    Damaged {
        /// What kind of document.
        what: &'static str,
        /// Whose.
        owner: String,
        /// The parse error.
        detail: String,
    },
}

/// Why the database cannot take a write (or a read) now, though nothing
/// is wrong with the request: the caller should answer "try again later"
/// and keep serving what does not need the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// The disk (or the file system's quota) is full.
    DiskFull,
    /// Another process holds a lock longer than the busy timeout (a
    /// backup, a `sqlite3` shell).
    Busy,
    /// The operating system refused to read or write the file.
    Io,
}

impl StoreError {
    /// Whether this is the database being unavailable for now rather than
    /// a mistake: SQLite's `SQLITE_FULL`, `SQLITE_BUSY`, `SQLITE_LOCKED`
    /// and `SQLITE_IOERR` (with their extended codes), or an I/O error.
    pub fn unavailable(&self) -> Option<Unavailable> {
        let Self::Database(error) = self else { return None };
        match error {
            sqlx::Error::Io(_) => Some(Unavailable::Io),
            sqlx::Error::PoolTimedOut => Some(Unavailable::Busy),
            sqlx::Error::Database(database) => {
                let code = database.code()?.parse::<u32>().ok()?;
                match code & 0xff {
                    13 => Some(Unavailable::DiskFull),
                    5 | 6 => Some(Unavailable::Busy),
                    10 => Some(Unavailable::Io),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database file and migrates it. A
    /// new file is readable by its owner only (0600), and SQLite gives the
    /// `-wal` and `-shm` files the database's mode: they hold password
    /// hashes, secrets and every conversation.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        create_owner_only(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Moves everything in the write-ahead log into the database file and
    /// closes the connections: after a clean stop, `simul.db` alone holds
    /// all the data (a copy of it is a whole copy).
    pub async fn checkpoint_and_close(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        self.pool.close().await;
        Ok(())
    }

    /// A setting's value.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let value = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value)
    }

    /// Sets a setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the database answers a query now (readiness probes).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// Creates an empty database file, mode 0600, unless it exists.
fn create_owner_only(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(StoreError::Database(sqlx::Error::Io(error))),
    }
}

/// Reads rows fetched newest first (`ORDER BY id DESC LIMIT n`, so the
/// limit keeps the latest) and returns them oldest first, as histories are
/// shown.
fn oldest_first<T>(
    rows: &[sqlx::sqlite::SqliteRow],
    read: impl Fn(&sqlx::sqlite::SqliteRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, StoreError> {
    let mut items = rows.iter().map(read).collect::<Result<Vec<_>, _>>()?;
    items.reverse();
    Ok(items)
}
