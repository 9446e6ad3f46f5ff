//! N-way chat records: each chat's topic and creator, and its messages.

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use crate::{Store, StoreError};

/// An n-way chat as recorded when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRecord {
    /// The community's chat id.
    pub id: u64,
    /// The topic.
    pub topic: String,
    /// Who started it.
    pub creator: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A message said in an n-way chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChatMessage {
    /// The chat's id.
    pub chat: u64,
    /// Sender's user id.
    pub from: String,
    /// The text.
    pub text: String,
    /// When the server accepted it.
    pub at: DateTime<Utc>,
}

impl Store {
    /// Records a new chat; durable when this returns.
    pub async fn record_chat(&self, chat: &ChatRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO nway_chats (id, topic, creator, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(sql_id(chat.id)?)
        .bind(&chat.topic)
        .bind(&chat.creator)
        .bind(chat.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The highest chat id recorded (0 for none): new ids go above it.
    pub async fn last_chat_id(&self) -> Result<u64, StoreError> {
        let last: Option<i64> =
            sqlx::query_scalar("SELECT max(id) FROM nway_chats").fetch_one(&self.pool).await?;
        Ok(last.map_or(0, |id| id.unsigned_abs()))
    }

    /// Appends a message to a recorded chat; durable when this returns.
    pub async fn append_chat_message(&self, message: &StoredChatMessage) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO nway_messages (chat, sender, text, at) VALUES ($1, $2, $3, $4)")
            .bind(sql_id(message.chat)?)
            .bind(&message.from)
            .bind(&message.text)
            .bind(message.at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The last `limit` messages of a chat, oldest first.
    pub async fn chat_history(
        &self,
        chat: u64,
        limit: u32,
    ) -> Result<Vec<StoredChatMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT sender, text, at FROM nway_messages WHERE chat = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(sql_id(chat)?)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        crate::oldest_first(&rows, |row| {
            Ok(StoredChatMessage {
                chat,
                from: row.try_get("sender")?,
                text: row.try_get("text")?,
                at: row.try_get("at")?,
            })
        })
    }
}

/// SQLite integers are signed; chat ids stay far below `i64::MAX`.
fn sql_id(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| {
        StoreError::Database(sqlx::Error::Protocol(format!("chat id {id} out of range")))
    })
}
