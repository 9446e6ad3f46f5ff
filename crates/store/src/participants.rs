//! Who took part in each n-way chat: they keep it after it ended (see
//! migration 0015), until they leave it.

use crate::paging::sql_id;
use crate::{Store, StoreError};

impl Store {
    /// Records that `user` takes part in chat `chat` (again).
    pub async fn add_chat_participant(&self, chat: u64, user: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT OR IGNORE INTO nway_participants (chat, user) VALUES ($1, $2)")
            .bind(sql_id(chat))
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets that `user` took part in chat `chat`: whether they did.
    pub async fn remove_chat_participant(&self, chat: u64, user: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM nway_participants WHERE chat = $1 AND user = $2")
            .bind(sql_id(chat))
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Whether `user` takes part in chat `chat`.
    pub async fn is_chat_participant(&self, chat: u64, user: &str) -> Result<bool, StoreError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM nway_participants WHERE chat = $1 AND user = $2")
                .bind(sql_id(chat))
                .bind(user)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    /// Who takes part in chat `chat`.
    pub async fn chat_participants(&self, chat: u64) -> Result<Vec<String>, StoreError> {
        let users = sqlx::query_scalar("SELECT user FROM nway_participants WHERE chat = $1")
            .bind(sql_id(chat))
            .fetch_all(&self.pool)
            .await?;
        Ok(users)
    }

    /// The chats `user` takes part in, with their topics: the `limit`
    /// with the latest messages (or newest, where nothing was said). The
    /// latest message of a chat is read by its id, down the chat's index:
    /// `MAX(at)` would read every message of every chat.
    pub async fn participated_chats(
        &self,
        user: &str,
        limit: u32,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT c.id, c.topic FROM nway_participants p JOIN nway_chats c ON c.id = p.chat \
             WHERE p.user = $1 \
             ORDER BY COALESCE((SELECT m.at FROM nway_messages m WHERE m.chat = c.id ORDER BY m.id DESC LIMIT 1), c.created_at) DESC \
             LIMIT $2",
        )
        .bind(user)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id, topic)| (id.unsigned_abs(), topic)).collect())
    }
}
