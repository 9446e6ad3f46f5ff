//! Simul's durable state in SQLite: users of the embedded realm, contact
//! lists, message history and its full-text index, settings and revoked
//! tokens, with embedded migrations.
//!
//! Durability: the database runs in WAL mode, so a write that returned
//! survives the process being killed (`synchronous = NORMAL` trades only
//! the last transactions on power loss, which SQLite documents).
//!
//! Schema upgrades run by themselves at open, after a copy of the
//! database as it was ([`schema`]); [`backup_database`] takes a
//! consistent copy of a live database.
//!
//! A storage trait will be extracted when the PostgreSQL implementation
//! arrives, shaped by two implementations rather than guessed from one.

mod admin;
mod announcements;
mod backup;
mod changes;
mod checkpoint;
mod contacts;
mod conversations;
mod files;
mod group_commit;
mod messages;
mod nway;
mod paging;
mod participants;
mod policies;
mod quick;
mod revocations;
pub mod schema;
mod search;
mod snapshot;
mod users;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use admin::{AuditEntry, AuditFilter};
pub use announcements::{Announcement, Audience};
pub use backup::{DatabaseCopy, backup_database};
pub use changes::{MessageOrigin, MessagePlace, ReactionTally};
pub use contacts::{ContactChanges, ContactGroup, ContactList};
pub use conversations::{ChatConversation, ImConversation};
pub use files::{FILES_DIR, FileRecord, Upload};
pub use messages::{HistoryPage, StoredIm};
pub use nway::{ChatRecord, StoredChatMessage};
pub use paging::{Page, PageStart};
pub use policies::{PolicyAssignment, PolicyRows};
pub use revocations::{Revocation, RevocationBatch};
pub use schema::Upgrade;
pub use search::{Found, SearchQuery};
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
    /// The database has migrations this build does not know.
    #[error(
        "this data directory was written by a newer Simul (schema {found}, this binary knows up \
         to {known}): run that version or restore a backup"
    )]
    NewerSchema {
        /// The database's newest schema version.
        found: i64,
        /// This build's newest.
        known: i64,
    },
    /// The transaction that held this write with others failed; each of
    /// them gets this same error (messages are committed together).
    #[error("database error: {0}")]
    Batch(Arc<sqlx::Error>),
    /// SQLite takes file names as UTF-8 only.
    #[error("{} is not a UTF-8 path, which SQLite needs: choose another directory", .0.display())]
    NotUtf8(PathBuf),
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
        let error = match self {
            Self::Database(error) => error,
            Self::Batch(error) => error,
            _ => return None,
        };
        match error {
            sqlx::Error::Io(_) => Some(Unavailable::Io),
            sqlx::Error::PoolTimedOut => Some(Unavailable::Busy),
            _ => match sqlite_code(error)? {
                13 => Some(Unavailable::DiskFull),
                5 | 6 => Some(Unavailable::Busy),
                10 => Some(Unavailable::Io),
                _ => None,
            },
        }
    }
}

/// SQLite's primary result code of a database error (without the
/// extended part).
fn sqlite_code(error: &sqlx::Error) -> Option<u32> {
    let sqlx::Error::Database(database) = error else { return None };
    Some(database.code()?.parse::<u32>().ok()? & 0xff)
}

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    upgrade: Option<Upgrade>,
    /// Where sent files are kept: [`FILES_DIR`] beside the database.
    files_dir: PathBuf,
    /// Held while bytes are kept or removed, so that bytes a new sending
    /// shares are never removed as nobody's.
    files_lock: Arc<tokio::sync::Mutex<()>>,
    /// New messages waiting to be committed together, on a connection
    /// of their own.
    group_commit: Arc<group_commit::GroupCommit>,
    /// Connections outside the pool for the reads of every sign-in.
    quick: Arc<quick::Quick>,
}

impl Store {
    /// Opens (creating if needed) the database file and migrates it. A
    /// new file is readable by its owner only (0600), and SQLite gives the
    /// `-wal` and `-shm` files the database's mode: they hold password
    /// hashes, secrets and every conversation. An existing database that
    /// lacks migrations is copied first ([`Store::upgrade`] says where);
    /// one with migrations newer than this build's is refused
    /// ([`StoreError::NewerSchema`]).
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        create_owner_only(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            // A statement that may have to be backed out alone (a batch's
            // multi-row INSERT, group_commit.rs) first copies each page it
            // changes to a statement journal: a temporary file past
            // 64 KiB, a write(2) per page, which was a sixth of the
            // message path. In memory it is a copy. (Temporary tables and
            // sorts live in memory too: Simul's queries read bounded pages.)
            .pragma("temp_store", "MEMORY");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            // A ping before each use tests a network connection; one to a
            // file does not go stale, and each ping is a trip to the
            // connection's thread (quick.rs).
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        let files_dir = files_dir_of(path);
        files::clear_uploads(&files_dir);
        let upgrade = match schema::migrate(&pool, path).await {
            Ok(upgrade) => upgrade,
            Err(error) => {
                // Closed cleanly, a refused database keeps no `-wal` file.
                pool.close().await;
                return Err(error);
            }
        };
        // New messages are written by one connection that nothing else
        // uses: in WAL mode a connection drops its page cache whenever
        // another one wrote since its last transaction, so batches taken
        // by whichever pooled connection was free read their pages back
        // from the file each time (BENCHMARKS.md, "The message path";
        // SQLite's automatic checkpoint, at 1,000 pages of log, is kept:
        // 16,384 gave 16 % more messages a second and twice the p99).
        let quick = Arc::new(quick::Quick::open(&options).await?);
        let group_commit = Arc::new(group_commit::GroupCommit::open(options).await?);
        // Messages kept before a crash or a restore, not yet indexed.
        group_commit.index_queued().await?;
        Ok(Self { pool, upgrade, files_dir, files_lock: Arc::default(), group_commit, quick })
    }

    /// Opens an existing database to read it only: nothing is created,
    /// migrated or written (`simul sso doctor` looks at a deployment this
    /// way, while its server runs or not).
    pub async fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        // A database closed cleanly has no write-ahead log, and even a
        // reader would create an empty `-wal` and `-shm` beside it (which
        // it cannot remove). No server has it open then (a running one
        // keeps its log), so it is read as the file is, creating nothing.
        let mut log = path.as_os_str().to_owned();
        log.push("-wal");
        let closed = !Path::new(&log).exists();
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .immutable(closed)
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(5));
        let pool =
            SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        Ok(Self {
            // Nothing is written here: appends fail.
            group_commit: Arc::new(group_commit::GroupCommit::read_only(options)),
            pool,
            upgrade: None,
            files_dir: files_dir_of(path),
            files_lock: Arc::default(),
            quick: Arc::default(),
        })
    }

    /// The schema upgrade that opening applied, if it did, with the copy
    /// of the database from before (for the log: it is how to undo it).
    pub fn upgrade(&self) -> Option<&Upgrade> {
        self.upgrade.as_ref()
    }

    /// Closes the connections, the messages' writer first (once the batch
    /// it is writing, if any, is committed). The last connection to the
    /// database (when no running server has it open) folds the write-ahead
    /// log into it and removes the `-wal` and `-shm` files, as SQLite
    /// does; a command that ends without closing leaves them behind.
    pub async fn close(&self) {
        self.group_commit.close().await;
        self.quick.close().await;
        self.pool.close().await;
    }

    /// Moves everything in the write-ahead log into the database file and
    /// closes the connections: after a clean stop, `simul.db` alone holds
    /// all the data (a copy of it is a whole copy).
    pub async fn checkpoint_and_close(&self) -> Result<(), StoreError> {
        self.group_commit.close().await;
        self.quick.close().await;
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

    /// A connection for one of the reads every sign-in makes
    /// (`quick.rs`): one trip to SQLite's thread instead of the pool's three.
    async fn quick_reader(&self) -> Result<quick::Reader<'_>, StoreError> {
        Ok(self.quick.reader(&self.pool).await?)
    }

    /// Whether the database answers a query now (readiness probes).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The files directory of the database at `path`: beside it.
fn files_dir_of(path: &Path) -> PathBuf {
    path.parent().unwrap_or(Path::new(".")).join(FILES_DIR)
}

/// Creates an empty database file, mode 0600, unless it exists.
fn create_owner_only(path: &Path) -> Result<(), StoreError> {
    match new_owner_only(path) {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        result => result.map_err(|error| StoreError::Database(sqlx::Error::Io(error))),
    }
}

/// Creates an empty file, mode 0600; fails if it exists.
fn new_owner_only(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}
