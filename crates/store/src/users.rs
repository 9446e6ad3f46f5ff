//! Users of the embedded realm.

use chrono::{DateTime, Utc};
use sqlx::Row as _;
use sqlx::Sqlite;
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};

use crate::revocations::cut_off_tokens;
use crate::{Store, StoreError};

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Login name (the community's user id).
    pub id: String,
    /// Name shown to others.
    pub display_name: String,
    /// E-mail address (may be empty).
    pub mail: String,
    /// PHC string of the password hash (`$argon2id$...`).
    pub password_hash: String,
    /// SCRAM credentials of the password (see the `scram` column).
    pub scram: String,
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Login name.
    pub id: String,
    /// Name shown to others.
    pub display_name: String,
    /// E-mail address.
    pub mail: String,
    /// Job title (business card).
    pub title: String,
    /// Telephone (business card).
    pub phone: String,
    /// Photo URL (business card).
    pub photo_url: String,
    /// PHC string of the password hash.
    pub password_hash: String,
    /// SCRAM credentials of the password, `sha1:...;sha256:...` (empty
    /// until the password is next set or checked).
    pub scram: String,
    /// Disabled users cannot log in.
    pub disabled: bool,
    /// The password was set for the user, who must replace it first.
    pub must_change_password: bool,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, display_name, mail, title, phone, photo_url, password_hash, scram, \
     disabled, must_change_password, created_at";

fn record(row: &SqliteRow) -> Result<UserRecord, sqlx::Error> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        display_name: row.try_get("display_name")?,
        mail: row.try_get("mail")?,
        title: row.try_get("title")?,
        phone: row.try_get("phone")?,
        photo_url: row.try_get("photo_url")?,
        password_hash: row.try_get("password_hash")?,
        scram: row.try_get("scram")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

/// The insert of a new user (nothing if the id is taken).
fn insert(user: &NewUser, now: DateTime<Utc>) -> Query<'_, Sqlite, SqliteArguments> {
    sqlx::query(
        "INSERT INTO users (id, display_name, mail, password_hash, scram, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&user.id)
    .bind(&user.display_name)
    .bind(&user.mail)
    .bind(&user.password_hash)
    .bind(&user.scram)
    .bind(now)
}

impl Store {
    /// Creates a user; fails with [`StoreError::UserExists`] if the id is taken.
    pub async fn create_user(&self, user: &NewUser) -> Result<(), StoreError> {
        let result = insert(user, Utc::now()).execute(&self.pool).await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::UserExists(user.id.clone()));
        }
        Ok(())
    }

    /// Creates many users in one transaction (a directory's worth, for
    /// an import or a benchmark); ids already taken are left as they are.
    /// How many were created.
    pub async fn create_users(&self, users: &[NewUser]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let now = Utc::now();
        let mut created = 0;
        for user in users {
            created += insert(user, now).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(created)
    }

    /// One user.
    pub async fn user(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        // Every sign-in reads its account.
        let mut reader = self.quick_reader().await?;
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *reader).await?;
        Ok(row.as_ref().map(record).transpose()?)
    }

    /// The one user with this mail address (any case); `None` when nobody
    /// or several people have it.
    pub async fn user_by_mail(&self, mail: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM users WHERE mail <> '' AND lower(mail) = lower($1) LIMIT 2"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(mail.trim()).fetch_all(&self.pool).await?;
        match rows.as_slice() {
            [only] => Ok(Some(record(only)?)),
            _ => Ok(None),
        }
    }

    /// All users, by id.
    pub async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(record).collect::<Result<_, _>>()?)
    }

    /// Users whose id, display name or mail contains `query` (any case),
    /// enabled ones only, by id.
    pub async fn search_users(
        &self,
        query: &str,
        limit: u32,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let escaped =
            query.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let sql = format!(
            "SELECT {COLUMNS} FROM users WHERE disabled = 0 AND (lower(id) LIKE $1 ESCAPE '\\' \
             OR lower(display_name) LIKE $1 ESCAPE '\\' OR lower(mail) LIKE $1 ESCAPE '\\') ORDER BY id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(pattern)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(record).collect::<Result<_, _>>()?)
    }

    /// Replaces a user's password hash and SCRAM credentials together;
    /// `must_change` says whether the user has to replace it at the next
    /// login. Every token issued to the user until now is refused from
    /// now on (a stolen session ends with the password change).
    pub async fn set_password_hash(
        &self,
        id: &str,
        hash: &str,
        scram: &str,
        must_change: bool,
    ) -> Result<(), StoreError> {
        let change = sqlx::query(
            "UPDATE users SET password_hash = $2, scram = $3, must_change_password = $4 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(hash)
        .bind(scram)
        .bind(i64::from(must_change));
        self.change_user(id, change, true).await
    }

    /// Gives a user whose SCRAM credentials are missing those of the
    /// password just checked against `hash`; nothing if the password
    /// changed meanwhile.
    pub async fn fill_in_scram(&self, id: &str, hash: &str, scram: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE users SET scram = $3 WHERE id = $1 AND password_hash = $2 AND scram = ''",
        )
        .bind(id)
        .bind(hash)
        .bind(scram)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Makes the user replace their password at the next login.
    pub async fn require_password_change(&self, id: &str) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE users SET must_change_password = 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        found(result.rows_affected(), id)
    }

    /// Disables or enables a user. Disabling also refuses every token
    /// issued to the user until now, so enabling the account again does
    /// not bring back sessions that may have been stolen.
    pub async fn set_disabled(&self, id: &str, disabled: bool) -> Result<(), StoreError> {
        let change = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
            .bind(id)
            .bind(i64::from(disabled));
        self.change_user(id, change, disabled).await
    }

    /// Removes a user (their contact list and history stay with the
    /// others) and refuses every token issued to them until now, also if
    /// someone of the same name is added later.
    pub async fn remove_user(&self, id: &str) -> Result<(), StoreError> {
        self.change_user(id, sqlx::query("DELETE FROM users WHERE id = $1").bind(id), true).await
    }

    /// Runs one change of user `id` and, if `end_tokens`, refuses every
    /// token issued to them until now, both in one transaction.
    async fn change_user(
        &self,
        id: &str,
        change: Query<'_, Sqlite, SqliteArguments>,
        end_tokens: bool,
    ) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        let result = change.execute(&mut *transaction).await?;
        found(result.rows_affected(), id)?;
        if end_tokens {
            cut_off_tokens(&mut transaction, id).await?;
        }
        transaction.commit().await?;
        Ok(())
    }
}

fn found(rows: u64, id: &str) -> Result<(), StoreError> {
    if rows == 0 { Err(StoreError::NoSuchUser(id.to_owned())) } else { Ok(()) }
}
