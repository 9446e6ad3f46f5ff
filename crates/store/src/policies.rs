//! Policies as rows: each policy's settings (keys and value texts, which
//! the core reads) and whom custom policies are assigned to. Every change
//! counts up a version, which a running server polls to read them again.

use sqlx::Row as _;

use crate::{Store, StoreError};

/// Every policy and assignment, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyRows {
    /// The version they were read at.
    pub version: i64,
    /// Each policy's name and its settings (`key`, `value`), by name.
    pub policies: Vec<(String, Vec<(String, String)>)>,
    /// Assignments: policy, `user` or `group`, the id or DN, weight.
    pub assignments: Vec<PolicyAssignment>,
}

/// One policy assigned to a user or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyAssignment {
    /// The policy.
    pub policy: String,
    /// Whether `assignee` is a group's DN (else a user's id).
    pub group: bool,
    /// The user's id or the group's DN.
    pub assignee: String,
    /// The heaviest assignment of a user's wins.
    pub weight: u32,
}

impl Store {
    /// The version of the policies: it changes with each change of them.
    pub async fn policy_version(&self) -> Result<i64, StoreError> {
        // Read at every check of a policy (with people from outside the
        // directory, every 1:1 message): one trip on a held connection.
        let mut reader = self.quick_reader().await?;
        Ok(sqlx::query_scalar("SELECT version FROM policy_version WHERE id = 1")
            .fetch_one(&mut *reader)
            .await?)
    }

    /// Every policy and assignment, read at one version.
    pub async fn policies(&self) -> Result<PolicyRows, StoreError> {
        let mut tx = self.pool.begin().await?;
        let version = sqlx::query_scalar("SELECT version FROM policy_version WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let names =
            sqlx::query("SELECT name FROM policies ORDER BY name").fetch_all(&mut *tx).await?;
        let settings =
            sqlx::query("SELECT policy, key, value FROM policy_settings ORDER BY policy, key")
                .fetch_all(&mut *tx)
                .await?;
        let assigned = sqlx::query(
            "SELECT policy, kind, assignee, weight FROM policy_assignments \
             ORDER BY policy, kind DESC, assignee",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut policies = Vec::with_capacity(names.len());
        for row in &names {
            let name: String = row.try_get("name")?;
            let mut own = Vec::new();
            for row in &settings {
                if row.try_get::<&str, _>("policy")? == name {
                    own.push((row.try_get("key")?, row.try_get("value")?));
                }
            }
            policies.push((name, own));
        }
        let assignments = assigned
            .iter()
            .map(|row| {
                Ok(PolicyAssignment {
                    policy: row.try_get("policy")?,
                    group: row.try_get::<&str, _>("kind")? == "group",
                    assignee: row.try_get("assignee")?,
                    weight: u32::try_from(row.try_get::<i64, _>("weight")?).unwrap_or(u32::MAX),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(PolicyRows { version, policies, assignments })
    }

    /// Sets `settings` (key, value text) of policy `name`, creating it if
    /// it does not exist; whether it was created.
    pub async fn set_policy(
        &self,
        name: &str,
        settings: &[(&str, String)],
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let created =
            sqlx::query("INSERT OR IGNORE INTO policies (name, created_ms) VALUES ($1, $2)")
                .bind(name)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                > 0;
        for (key, value) in settings {
            sqlx::query(
                "INSERT INTO policy_settings (policy, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (policy, key) DO UPDATE SET value = excluded.value",
            )
            .bind(name)
            .bind(*key)
            .bind(value.as_str())
            .execute(&mut *tx)
            .await?;
        }
        bump(&mut tx).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Assigns policy `name` (which exists) to a user or group, or changes
    /// the weight of that assignment.
    pub async fn assign_policy(&self, assignment: &PolicyAssignment) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO policy_assignments (policy, kind, assignee, weight) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (policy, kind, assignee) DO UPDATE SET weight = excluded.weight",
        )
        .bind(&assignment.policy)
        .bind(if assignment.group { "group" } else { "user" })
        .bind(&assignment.assignee)
        .bind(i64::from(assignment.weight))
        .execute(&mut *tx)
        .await?;
        bump(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes policy `name` away from a user or group (ids and DNs match in
    /// any case); whether it was assigned to them.
    pub async fn unassign_policy(
        &self,
        name: &str,
        group: bool,
        assignee: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let removed = sqlx::query(
            "DELETE FROM policy_assignments WHERE policy = $1 AND kind = $2 \
             AND lower(assignee) = lower($3)",
        )
        .bind(name)
        .bind(if group { "group" } else { "user" })
        .bind(assignee)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if removed {
            bump(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    /// Removes policy `name` and its assignments; whether there was one.
    pub async fn remove_policy(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Explicitly, whether or not the connection enforces foreign keys.
        for delete in [
            "DELETE FROM policy_assignments WHERE policy = $1",
            "DELETE FROM policy_settings WHERE policy = $1",
        ] {
            sqlx::query(delete).bind(name).execute(&mut *tx).await?;
        }
        let removed = sqlx::query("DELETE FROM policies WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        bump(&mut tx).await?;
        tx.commit().await?;
        Ok(removed)
    }
}

async fn bump(tx: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
    sqlx::query("UPDATE policy_version SET version = version + 1 WHERE id = 1").execute(tx).await?;
    Ok(())
}
