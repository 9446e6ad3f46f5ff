//! Messages changing after they were sent: edits and deletions by their
//! author, reactions by anyone in the conversation, and whether a user
//! lets others see how far they read (read receipts).
//!
//! Message ids are one sequence over 1:1 and n-way messages, so each
//! operation finds the message by id alone, in whichever table holds it.

use chrono::{DateTime, Utc};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use crate::paging::sql_id;
use crate::{Store, StoreError};

/// Where a stored message was said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessagePlace {
    /// A 1:1 conversation.
    Im {
        /// Its sender.
        from: String,
        /// Its recipient.
        to: String,
    },
    /// An n-way chat, by id.
    Chat(u64),
}

/// A stored message as the rules for changing it need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageOrigin {
    /// Where it was said.
    pub place: MessagePlace,
    /// Who wrote it.
    pub author: String,
    /// Deleted by its author.
    pub deleted: bool,
}

/// The users who reacted to a message with one emoji.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionTally {
    /// The message.
    pub message: u64,
    /// The emoji.
    pub emoji: String,
    /// Who reacted with it, in the order they did.
    pub users: Vec<String>,
}

/// What an author does to their message.
#[derive(Clone, Copy)]
enum Change<'a> {
    Edit { text: &'a str, at: DateTime<Utc> },
    Delete,
}

/// The statement that finds a message in either table: 1:1 messages have
/// a recipient, chat messages a chat.
const ORIGIN: &str = "SELECT sender, recipient, NULL AS chat, deleted FROM messages WHERE id = $1 \
     UNION ALL SELECT sender, NULL, chat, deleted FROM nway_messages WHERE id = $1";

fn origin(row: &SqliteRow) -> Result<MessageOrigin, sqlx::Error> {
    let author: String = row.try_get("sender")?;
    let chat: Option<i64> = row.try_get("chat")?;
    let place = match chat {
        Some(chat) => MessagePlace::Chat(chat.unsigned_abs()),
        None => MessagePlace::Im { from: author.clone(), to: row.try_get("recipient")? },
    };
    Ok(MessageOrigin { place, author, deleted: row.try_get("deleted")? })
}

impl Store {
    /// Where message `id` was said and by whom (`None`: no such message).
    pub async fn message_origin(&self, id: u64) -> Result<Option<MessageOrigin>, StoreError> {
        let row = sqlx::query(ORIGIN).bind(sql_id(id)).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(origin).transpose()?)
    }

    /// Replaces the text of `author`'s message `id`, unless it was
    /// deleted; whether it did (`false`: no such message of theirs).
    pub async fn edit_message(
        &self,
        id: u64,
        author: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let changed =
            Self::change_in(&mut transaction, id, author, Change::Edit { text, at }).await?;
        transaction.commit().await?;
        Ok(changed)
    }

    /// Deletes `author`'s message `id`: its text is blanked, so nothing of
    /// it stays, its reactions go and so does the file it carried (its link
    /// answers nobody from then on, and its bytes go unless another
    /// sending shares them); the row stays, so the conversation
    /// can say that a message was deleted there. Whether it did.
    pub async fn delete_message(&self, id: u64, author: &str) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let changed = Self::change_in(&mut transaction, id, author, Change::Delete).await?;
        sqlx::query("DELETE FROM reactions WHERE message = $1")
            .bind(sql_id(id))
            .execute(&mut *transaction)
            .await?;
        let contents: Vec<String> =
            sqlx::query_scalar("DELETE FROM files WHERE message = $1 RETURNING sha256")
                .bind(sql_id(id))
                .fetch_all(&mut *transaction)
                .await?;
        transaction.commit().await?;
        self.remove_unshared(contents).await?;
        Ok(changed)
    }

    /// Applies `change` to the live message `id` of `author`, in
    /// whichever table holds it; whether there was one.
    async fn change_in(
        transaction: &mut sqlx::SqliteConnection,
        id: u64,
        author: &str,
        change: Change<'_>,
    ) -> Result<bool, StoreError> {
        let statements: [&'static str; 2] = match change {
            Change::Edit { .. } => [
                "UPDATE messages SET text = $3, edited_at = $4 \
                 WHERE id = $1 AND sender = $2 AND deleted = 0",
                "UPDATE nway_messages SET text = $3, edited_at = $4 \
                 WHERE id = $1 AND sender = $2 AND deleted = 0",
            ],
            Change::Delete => [
                "UPDATE messages SET text = '', deleted = 1 \
                 WHERE id = $1 AND sender = $2 AND deleted = 0",
                "UPDATE nway_messages SET text = '', deleted = 1 \
                 WHERE id = $1 AND sender = $2 AND deleted = 0",
            ],
        };
        let mut changed = 0;
        for statement in statements {
            let mut query = sqlx::query(statement).bind(sql_id(id)).bind(author);
            if let Change::Edit { text, at } = change {
                query = query.bind(text).bind(at);
            }
            changed += query.execute(&mut *transaction).await?.rows_affected();
        }
        Ok(changed > 0)
    }

    /// Adds (`on`) or takes back `user`'s reaction `emoji` to message `id`.
    pub async fn set_reaction(
        &self,
        id: u64,
        user: &str,
        emoji: &str,
        on: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let query = if on {
            sqlx::query(
                "INSERT INTO reactions (message, user, emoji, at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(sql_id(id))
            .bind(user)
            .bind(emoji)
            .bind(at)
        } else {
            sqlx::query("DELETE FROM reactions WHERE message = $1 AND user = $2 AND emoji = $3")
                .bind(sql_id(id))
                .bind(user)
                .bind(emoji)
        };
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// The reactions to these messages, by message then emoji in the order
    /// they were first given.
    pub async fn reactions(&self, ids: &[u64]) -> Result<Vec<ReactionTally>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(&ids.iter().map(|id| sql_id(*id)).collect::<Vec<_>>())
            .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let rows = sqlx::query(
            "SELECT message, emoji, user FROM reactions \
             WHERE message IN (SELECT value FROM json_each($1)) ORDER BY message, at, rowid",
        )
        .bind(list)
        .fetch_all(&self.pool)
        .await?;
        let mut tallies: Vec<ReactionTally> = Vec::new();
        for row in rows {
            let message = row.try_get::<i64, _>("message")?.unsigned_abs();
            let emoji: String = row.try_get("emoji")?;
            let user: String = row.try_get("user")?;
            match tallies.iter_mut().find(|t| t.message == message && t.emoji == emoji) {
                Some(tally) => tally.users.push(user),
                None => tallies.push(ReactionTally { message, emoji, users: vec![user] }),
            }
        }
        Ok(tallies)
    }

    /// Whether `user` lets others see how far they read (on unless they
    /// turned it off; the conversations list reads the same setting).
    pub async fn read_receipts(&self, user: &str) -> Result<bool, StoreError> {
        let off: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM user_settings WHERE user = $1 AND key = 'read_receipts' \
             AND value = 'false'",
        )
        .bind(user)
        .fetch_optional(&self.pool)
        .await?;
        Ok(off.is_none())
    }

    /// Turns `user`'s read receipts on or off.
    pub async fn set_read_receipts(&self, user: &str, on: bool) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO user_settings (user, key, value) VALUES ($1, 'read_receipts', $2) \
             ON CONFLICT (user, key) DO UPDATE SET value = excluded.value",
        )
        .bind(user)
        .bind(if on { "true" } else { "false" })
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
