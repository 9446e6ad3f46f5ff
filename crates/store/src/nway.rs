//! N-way chat records: each chat's topic and creator, and its messages.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row as _, Sqlite, SqliteConnection};

use crate::group_commit::NewMessage;
use crate::paging::{Page, PageStart, page_of, push_page, sql_id};
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
    /// Its number in the order the community accepted messages (one
    /// sequence with 1:1 messages).
    pub id: u64,
    /// The chat's id.
    pub chat: u64,
    /// Sender's user id.
    pub from: String,
    /// The text.
    pub text: String,
    /// When the server accepted it.
    pub at: DateTime<Utc>,
    /// When its author last edited it (never: `None`).
    pub edited: Option<DateTime<Utc>>,
    /// Deleted by its author (the text is empty then).
    pub deleted: bool,
}

impl StoredChatMessage {
    /// A message as it is sent: never edited nor deleted.
    pub fn new(id: u64, chat: u64, from: String, text: String, at: DateTime<Utc>) -> Self {
        Self { id, chat, from, text, at, edited: None, deleted: false }
    }
}

impl Store {
    /// Records a new chat; durable when this returns.
    pub async fn record_chat(&self, chat: &ChatRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO nway_chats (id, topic, creator, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(sql_id(chat.id))
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

    /// Appends a message to a recorded chat; durable when this returns
    /// (committed with the messages that arrived with it, see
    /// [`crate::group_commit`]).
    pub async fn append_chat_message(&self, message: &StoredChatMessage) -> Result<(), StoreError> {
        let message = NewMessage::Chat(message.clone());
        self.group_commit.append(message).await
    }

    /// A page of a chat's history (`limit` messages from `from`), oldest
    /// first.
    pub async fn chat_page(
        &self,
        chat: u64,
        from: PageStart,
        limit: u32,
    ) -> Result<Page<StoredChatMessage>, StoreError> {
        self.chat_page_since(chat, None, from, limit).await
    }

    /// [`Store::chat_page`] of the messages sent at or after `since` only
    /// (a policy's `history_days`).
    pub async fn chat_page_since(
        &self,
        chat: u64,
        since: Option<DateTime<Utc>>,
        from: PageStart,
        limit: u32,
    ) -> Result<Page<StoredChatMessage>, StoreError> {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT id, sender, text, at, edited_at, deleted FROM nway_messages WHERE chat = ",
        );
        query.push_bind(sql_id(chat));
        if let Some(since) = since {
            query.push(" AND at >= ").push_bind(since);
        }
        push_page(&mut query, from, limit);
        let rows = query.build().fetch_all(&self.pool).await?;
        let read = |row: &SqliteRow| stored_chat_message(row, chat);
        let messages = rows.iter().map(read).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(messages, from, limit))
    }
}

/// Inserts chat messages in one statement (in the transaction of their
/// batch, [`crate::group_commit`]).
pub(crate) async fn insert_chat_messages(
    connection: &mut SqliteConnection,
    messages: &[&StoredChatMessage],
) -> Result<(), sqlx::Error> {
    let mut query =
        QueryBuilder::<Sqlite>::new("INSERT INTO nway_messages (id, chat, sender, text, at) ");
    query.push_values(messages, |mut row, message| {
        row.push_bind(sql_id(message.id)).push_bind(sql_id(message.chat));
        row.push_bind(&message.from).push_bind(&message.text).push_bind(message.at);
    });
    // Kept prepared for one row, the usual case; each longer statement
    // is used once.
    query.build().persistent(messages.len() == 1).execute(connection).await?;
    Ok(())
}

/// A message of `chat` as a row of `nway_messages` holds it.
pub(crate) fn stored_chat_message(
    row: &SqliteRow,
    chat: u64,
) -> Result<StoredChatMessage, sqlx::Error> {
    Ok(StoredChatMessage {
        id: row.try_get::<i64, _>("id")?.unsigned_abs(),
        chat,
        from: row.try_get("sender")?,
        text: row.try_get("text")?,
        at: row.try_get("at")?,
        edited: row.try_get("edited_at")?,
        deleted: row.try_get("deleted")?,
    })
}
