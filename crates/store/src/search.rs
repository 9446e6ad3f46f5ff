//! Full-text search over a user's messages, 1:1 and n-way, with SQLite's
//! FTS5 (migration 0009: the index `message_search`, kept in step with
//! the messages' text by triggers, its rowid the message id). New messages
//! reach the index through a queue, a thousand or so at a time
//! (migration 0019, [`index_queued`]); every search indexes what waits
//! first.
//!
//! Words reach FTS5 only as quoted strings, never as its query language:
//! `NEAR`, `AND`, `*`, `^`, column filters and unbalanced quotes in what a
//! user typed are words like any other (or nothing), not syntax.

use sqlx::sqlite::SqliteRow;
use sqlx::{Connection as _, QueryBuilder, Row as _, Sqlite, SqliteConnection};

use crate::nway::stored_chat_message;
use crate::paging::sql_id;
use crate::{Store, StoreError, StoredChatMessage, StoredIm};

/// A message a search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A 1:1 message the user sent or received.
    Im(StoredIm),
    /// A message of an n-way chat.
    Chat(StoredChatMessage),
}

impl Found {
    /// The message's id.
    pub fn id(&self) -> u64 {
        match self {
            Self::Im(message) => message.id,
            Self::Chat(message) => message.id,
        }
    }
}

/// What to look for, and where a page of results starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery<'a> {
    /// The words; a message matches when it has all of them, the last
    /// one also as the start of a longer word (it may be half typed).
    pub words: &'a [String],
    /// Only messages older than this id (the next page); none: the newest.
    pub before: Option<u64>,
    /// Most messages on the page.
    pub limit: u32,
    /// Only messages sent at or after this moment (the searcher's policy,
    /// `history_days`); none: all.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

/// The last word is matched as a prefix from this many characters on: a
/// shorter prefix would walk a large part of the index.
const MIN_PREFIX_CHARS: usize = 2;

/// The FTS5 query for `words`: each a quoted string (a `"` inside
/// doubled, control characters as spaces: a NUL would end the string
/// early), all of them required, the last one also as a prefix.
fn match_expression(words: &[String]) -> String {
    let quote = |word: &String| {
        let text: String = word.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        format!("\"{}\"", text.replace('"', "\"\""))
    };
    let quoted: Vec<String> = words.iter().map(quote).collect();
    let mut expression = quoted.join(" AND ");
    if words.last().is_some_and(|w| w.chars().count() >= MIN_PREFIX_CHARS) {
        expression.push('*');
    }
    expression
}

impl Store {
    /// The messages with all of `query`'s words that `user` may read,
    /// newest first: the 1:1 messages they sent or received, and those
    /// of the n-way chats `chats` (the caller knows which they are in).
    /// No words: no messages.
    pub async fn search(
        &self,
        user: &str,
        chats: &[u64],
        query: &SearchQuery<'_>,
    ) -> Result<Vec<Found>, StoreError> {
        if query.words.is_empty() || query.limit == 0 {
            return Ok(Vec::new());
        }
        // The message just sent is found too. Should indexing fail (a
        // full disk), what is indexed is still found.
        if let Err(error) = self.group_commit.index_queued().await {
            tracing::warn!(%error, "searching without the newest messages: not indexed yet");
        }
        // The index is walked newest first and each hit looked up by its
        // id, so a page stops as soon as it is full.
        let mut sql = QueryBuilder::<Sqlite>::new(
            "SELECT s.rowid AS id, m.sender AS im_sender, m.recipient, m.text AS im_text, \
             m.at AS im_at, m.edited_at AS im_edited_at, m.deleted AS im_deleted, \
             n.chat, n.sender, n.text, n.at, n.edited_at, n.deleted \
             FROM message_search s \
             LEFT JOIN messages m ON m.id = s.rowid \
             LEFT JOIN nway_messages n ON n.id = s.rowid \
             WHERE message_search MATCH ",
        );
        sql.push_bind(match_expression(query.words));
        if let Some(before) = query.before {
            sql.push(" AND s.rowid < ").push_bind(sql_id(before));
        }
        if let Some(since) = query.since {
            sql.push(" AND coalesce(m.at, n.at) >= ").push_bind(since);
        }
        sql.push(" AND ((m.sender = ").push_bind(user);
        sql.push(" OR m.recipient = ").push_bind(user).push(")");
        if !chats.is_empty() {
            sql.push(" OR n.chat IN (");
            let mut list = sql.separated(", ");
            for chat in chats {
                list.push_bind(sql_id(*chat));
            }
            sql.push(")");
        }
        sql.push(") ORDER BY s.rowid DESC LIMIT ").push_bind(i64::from(query.limit));
        let rows = sql.build().fetch_all(&self.pool).await?;
        Ok(rows.iter().map(found).collect::<Result<_, _>>()?)
    }
}

/// How many messages wait in `search_queue`.
pub(crate) async fn queued(connection: &mut SqliteConnection) -> Result<usize, sqlx::Error> {
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM search_queue").fetch_one(connection).await?;
    Ok(usize::try_from(count).unwrap_or(0))
}

/// Indexes the messages waiting in `search_queue` and empties it, in one
/// transaction.
pub(crate) async fn index_queued(connection: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut transaction = connection.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO message_search (rowid, text) \
         SELECT m.id, m.text FROM search_queue q JOIN messages m ON m.id = q.id \
         UNION ALL SELECT n.id, n.text FROM search_queue q JOIN nway_messages n ON n.id = q.id",
    )
    .execute(&mut *transaction)
    .await?;
    sqlx::query("DELETE FROM search_queue").execute(&mut *transaction).await?;
    transaction.commit().await
}

/// A row of [`Store::search`]'s query as the message it is.
fn found(row: &SqliteRow) -> Result<Found, sqlx::Error> {
    match row.try_get::<Option<i64>, _>("chat")? {
        Some(chat) => Ok(Found::Chat(stored_chat_message(row, chat.unsigned_abs())?)),
        None => Ok(Found::Im(StoredIm {
            id: row.try_get::<i64, _>("id")?.unsigned_abs(),
            from: row.try_get("im_sender")?,
            to: row.try_get("recipient")?,
            text: row.try_get("im_text")?,
            at: row.try_get("im_at")?,
            edited: row.try_get("im_edited_at")?,
            deleted: row.try_get("im_deleted")?,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::match_expression;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn every_word_is_a_quoted_string_and_the_last_a_prefix() {
        assert_eq!(match_expression(&words(&["budget", "draft"])), "\"budget\" AND \"draft\"*");
        assert_eq!(match_expression(&words(&["a\"b"])), "\"a\"\"b\"*");
        assert_eq!(match_expression(&words(&["x"])), "\"x\"", "one letter is no prefix");
        assert_eq!(match_expression(&words(&["a\0b"])), "\"a b\"*", "NUL ends no string");
    }
}
