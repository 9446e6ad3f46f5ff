//! 1:1 message history.

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use crate::{Store, StoreError};

/// A stored instant message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIm {
    /// Sender's user id.
    pub from: String,
    /// Recipient's user id.
    pub to: String,
    /// The text.
    pub text: String,
    /// When the server accepted it.
    pub at: DateTime<Utc>,
}

impl Store {
    /// Appends a message to the history; durable when this returns.
    pub async fn append_im(&self, message: &StoredIm) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO messages (sender, recipient, text, at) VALUES ($1, $2, $3, $4)")
            .bind(&message.from)
            .bind(&message.to)
            .bind(&message.text)
            .bind(message.at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The last `limit` messages between two users, oldest first: in the
    /// order the server accepted them (`at`), which a reply sent before
    /// the message it answers was written can otherwise overtake.
    pub async fn im_history(
        &self,
        a: &str,
        b: &str,
        limit: u32,
    ) -> Result<Vec<StoredIm>, StoreError> {
        let rows = sqlx::query(
            "SELECT sender, recipient, text, at FROM messages \
             WHERE (sender = $1 AND recipient = $2) OR (sender = $2 AND recipient = $1) \
             ORDER BY at DESC, id DESC LIMIT $3",
        )
        .bind(a)
        .bind(b)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        crate::oldest_first(&rows, |row| {
            Ok(StoredIm {
                from: row.try_get("sender")?,
                to: row.try_get("recipient")?,
                text: row.try_get("text")?,
                at: row.try_get("at")?,
            })
        })
    }

    /// The people `user` exchanged 1:1 messages with, the latest
    /// conversation first, at most `limit`, with the last message's time.
    pub async fn im_partners(
        &self,
        user: &str,
        limit: u32,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT CASE WHEN sender = $1 THEN recipient ELSE sender END AS partner, \
             MAX(id) AS last_id, MAX(at) AS last_at FROM messages \
             WHERE sender = $1 OR recipient = $1 GROUP BY partner ORDER BY last_id DESC LIMIT $2",
        )
        .bind(user)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get("partner")?, row.try_get("last_at")?))).collect()
    }
}
