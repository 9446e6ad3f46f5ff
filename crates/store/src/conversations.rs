//! A user's conversations as a list: the latest message of each and how
//! many messages from others came after what they read (read marks, one
//! per user and conversation, only ever moving forward).

use sqlx::Row as _;

use crate::messages::stored_im;
use crate::nway::stored_chat_message;
use crate::paging::sql_id;
use crate::{Store, StoreError, StoredChatMessage, StoredIm};

/// A 1:1 conversation of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImConversation {
    /// The other user's id.
    pub with: String,
    /// Its latest message.
    pub last: StoredIm,
    /// Messages from `with` after the user's read mark.
    pub unread: u32,
    /// How far `with` read it (`None`: not yet, or they keep it to
    /// themselves: their `read_receipts` setting is `false`).
    pub seen: Option<u64>,
}

/// An n-way chat as a conversation of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatConversation {
    /// Its latest message, if any.
    pub last: Option<StoredChatMessage>,
    /// Messages from others after the user's read mark.
    pub unread: u32,
}

impl Store {
    /// `user`'s 1:1 conversations, the latest first, at most `limit`.
    pub async fn im_conversations(
        &self,
        user: &str,
        limit: u32,
    ) -> Result<Vec<ImConversation>, StoreError> {
        let rows = sqlx::query(
            "WITH partners AS ( \
               SELECT CASE WHEN sender = $1 THEN recipient ELSE sender END AS partner, \
                      MAX(id) AS last_id \
               FROM messages WHERE sender = $1 OR recipient = $1 \
               GROUP BY partner ORDER BY last_id DESC LIMIT $2) \
             SELECT p.partner, m.id, m.sender, m.recipient, m.text, m.at, m.edited_at, m.deleted, \
               (SELECT COUNT(*) FROM messages u \
                WHERE u.sender = p.partner AND u.recipient = $1 AND u.id > COALESCE( \
                  (SELECT last_read FROM read_marks \
                   WHERE owner = $1 AND conversation = 'im:' || p.partner), 0)) AS unread, \
               (SELECT last_read FROM read_marks WHERE owner = p.partner AND conversation = 'im:' || $1 \
                  AND NOT EXISTS (SELECT 1 FROM user_settings WHERE user = p.partner \
                    AND key = 'read_receipts' AND value = 'false')) AS seen \
             FROM partners p JOIN messages m ON m.id = p.last_id ORDER BY p.last_id DESC",
        )
        .bind(user)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ImConversation {
                    with: row.try_get("partner")?,
                    last: stored_im(row)?,
                    unread: count(row.try_get("unread")?),
                    seen: row.try_get::<Option<i64>, _>("seen")?.map(i64::unsigned_abs),
                })
            })
            .collect()
    }

    /// Chat `chat` as a conversation of `user`.
    pub async fn chat_conversation(
        &self,
        user: &str,
        chat: u64,
    ) -> Result<ChatConversation, StoreError> {
        let last = sqlx::query(
            "SELECT id, sender, text, at, edited_at, deleted FROM nway_messages WHERE chat = $1 \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(sql_id(chat))
        .fetch_optional(&self.pool)
        .await?;
        let unread: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM nway_messages WHERE chat = $1 AND sender <> $2 AND id > COALESCE( \
               (SELECT last_read FROM read_marks WHERE owner = $2 AND conversation = $3), 0)",
        )
        .bind(sql_id(chat))
        .bind(user)
        .bind(format!("nway:{chat}"))
        .fetch_one(&self.pool)
        .await?;
        let last = last.map(|row| stored_chat_message(&row, chat)).transpose()?;
        Ok(ChatConversation { last, unread: count(unread) })
    }

    /// `user` read `conversation` (`im:<id>`, `nway:<id>`) up to message
    /// `up_to`; a mark never moves back (a late answer from an older
    /// device changes nothing).
    pub async fn mark_read(
        &self,
        user: &str,
        conversation: &str,
        up_to: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO read_marks (owner, conversation, last_read) VALUES ($1, $2, $3) \
             ON CONFLICT (owner, conversation) \
             DO UPDATE SET last_read = MAX(last_read, excluded.last_read)",
        )
        .bind(user)
        .bind(conversation)
        .bind(sql_id(up_to))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
