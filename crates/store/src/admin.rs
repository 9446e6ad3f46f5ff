//! The administrator role and the audit log of administrators' acts.

use sqlx::{QueryBuilder, Row as _, Sqlite};

use crate::{Store, StoreError};

/// One administrator's act, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// When (ms since the Unix epoch).
    pub at_ms: i64,
    /// Who: a user id, or the system user who ran a command.
    pub actor: String,
    /// What: `disable`, `enable`, `grant-admin`, ...
    pub action: String,
    /// To whom or what (a user id, a session).
    pub target: String,
    /// From where: the console client's address, or the command line.
    pub origin: String,
}

/// Which acts of the audit log to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only acts at or after this moment (ms since the Unix epoch).
    pub since_ms: i64,
    /// Only acts of an actor whose id contains this (any case); empty: all.
    pub actor: String,
    /// Only acts of exactly this kind (`disable`, `export-ltpa-keys`);
    /// empty: all.
    pub action: String,
}

impl Store {
    /// Whether `user` holds the administrator role.
    pub async fn is_admin(&self, user: &str) -> Result<bool, StoreError> {
        let found = sqlx::query("SELECT 1 FROM admins WHERE user = $1")
            .bind(user)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Gives `user` the administrator role, or takes it away.
    pub async fn set_admin(&self, user: &str, admin: bool, now_ms: i64) -> Result<(), StoreError> {
        let query = if admin {
            sqlx::query("INSERT OR IGNORE INTO admins (user, granted_ms) VALUES ($1, $2)")
                .bind(user)
                .bind(now_ms)
        } else {
            sqlx::query("DELETE FROM admins WHERE user = $1").bind(user)
        };
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// Everyone holding the administrator role, sorted.
    pub async fn admins(&self) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT user FROM admins ORDER BY user").fetch_all(&self.pool).await?;
        rows.iter().map(|row| row.try_get("user").map_err(StoreError::from)).collect()
    }

    /// Adds an act to the audit log.
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit (at_ms, actor, action, target, origin) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(entry.at_ms)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.origin)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The latest `limit` acts that `filter` lets through, newest first.
    pub async fn audit(
        &self,
        filter: &AuditFilter,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        // Each condition only when asked for. With none, SQLite walks the
        // log newest first and stops at the limit (a condition on the time,
        // even `>= 0`, made it sort the whole log by time for every page);
        // a time or an action is found through its index.
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT at_ms, actor, action, target, origin FROM audit WHERE TRUE",
        );
        if filter.since_ms > 0 {
            query.push(" AND at_ms >= ").push_bind(filter.since_ms);
        }
        if !filter.actor.is_empty() {
            query.push(" AND instr(lower(actor), lower(").push_bind(&filter.actor).push(")) > 0");
        }
        if !filter.action.is_empty() {
            query.push(" AND action = ").push_bind(&filter.action);
        }
        query.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(limit));
        let rows = query.build().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    at_ms: row.try_get("at_ms")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    target: row.try_get("target")?,
                    origin: row.try_get("origin")?,
                })
            })
            .collect()
    }
}
