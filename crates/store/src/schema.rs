//! The schema's versions: the migrations this build carries, the ones a
//! database has, and what happens at open when they differ. Migrations
//! run by themselves; an existing database is first copied aside (so an
//! upgrade can be undone), and one written by a newer Simul is refused
//! with a sentence rather than sqlx's "migration N was previously applied
//! but is missing".

use std::path::{Path, PathBuf};

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;

use crate::StoreError;

/// The migrations compiled into this build.
static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// The newest schema version this build knows: its last migration's.
pub fn latest_version() -> i64 {
    MIGRATOR.iter().map(|migration| migration.version).max().unwrap_or(0)
}

/// An upgrade that opening a database applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// The schema version the database had.
    pub from: i64,
    /// The schema version it has now.
    pub to: i64,
    /// The copy of the database as it was before (0600, next to it).
    pub copy: PathBuf,
}

/// The schema version of the database behind `pool`: its newest applied
/// migration, 0 for an empty database.
pub(crate) async fn version(pool: &SqlitePool) -> Result<i64, StoreError> {
    Ok(applied(pool).await?.last().copied().unwrap_or(0))
}

/// Brings the database at `path` (open as `pool`) to this build's schema.
/// A database that has migrations already and lacks some is copied to
/// `PATH.before-N` first (N: the version it is upgraded to).
pub(crate) async fn migrate(pool: &SqlitePool, path: &Path) -> Result<Option<Upgrade>, StoreError> {
    let applied = applied(pool).await?;
    let latest = latest_version();
    let current = applied.last().copied().unwrap_or(0);
    if current > latest {
        return Err(StoreError::NewerSchema { found: current, known: latest });
    }
    let pending = MIGRATOR.iter().any(|migration| !applied.contains(&migration.version));
    // A new database (no migration yet) has nothing worth keeping.
    let upgrade = if pending && !applied.is_empty() {
        let copy = copy_path(path, latest);
        crate::backup::vacuum_into(pool, &copy).await?;
        Some(Upgrade { from: current, to: latest, copy })
    } else {
        None
    };
    MIGRATOR.run(pool).await?;
    Ok(upgrade)
}

/// The versions of the migrations applied to the database, in order.
async fn applied(pool: &SqlitePool) -> Result<Vec<i64>, StoreError> {
    let table: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(pool)
    .await?;
    if table.is_none() {
        return Ok(Vec::new());
    }
    let versions =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await?;
    Ok(versions)
}

/// `PATH.before-N`, or, when that exists (an upgrade to N was undone by
/// a restore and is done again), the same with the time appended: an
/// earlier copy is never replaced.
fn copy_path(path: &Path, version: i64) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".before-{version}"));
    let copy = PathBuf::from(name);
    if !copy.exists() {
        return copy;
    }
    let mut name = copy.into_os_string();
    name.push(format!("-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
    PathBuf::from(name)
}
