//! The LDAP name cache as of its last good refresh, per repository: the
//! directory crate writes it after each refresh and reads it back when
//! LDAP does not answer at start.

use crate::{Store, StoreError};

impl Store {
    /// Replaces repository `repository`'s snapshot with these people
    /// (`(dn, document)`), in one transaction.
    pub async fn save_directory_snapshot(
        &self,
        repository: &str,
        people: &[(String, String)],
    ) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("DELETE FROM directory_snapshot WHERE repository = $1")
            .bind(repository)
            .execute(&mut *transaction)
            .await?;
        for (dn, document) in people {
            sqlx::query(
                "INSERT INTO directory_snapshot (repository, dn, document) VALUES ($1, $2, $3)",
            )
            .bind(repository)
            .bind(dn)
            .bind(document)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Repository `repository`'s snapshot: the documents, by DN.
    pub async fn directory_snapshot(&self, repository: &str) -> Result<Vec<String>, StoreError> {
        let documents = sqlx::query_scalar(
            "SELECT document FROM directory_snapshot WHERE repository = $1 ORDER BY dn",
        )
        .bind(repository)
        .fetch_all(&self.pool)
        .await?;
        Ok(documents)
    }
}
