//! 1:1 message history: kept in the order the community accepted the
//! messages (their ids), read back page by page, and the messages a user
//! missed while offline.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row as _, Sqlite, SqliteConnection};

use crate::group_commit::NewMessage;
use crate::paging::{Page, PageStart, page_of, push_page, sql_id};
use crate::{Store, StoreError};

/// A stored instant message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIm {
    /// Its number in the order the community accepted messages.
    pub id: u64,
    /// Sender's user id.
    pub from: String,
    /// Recipient's user id.
    pub to: String,
    /// The text.
    pub text: String,
    /// When the server accepted it.
    pub at: DateTime<Utc>,
    /// When its author last edited it (never: `None`).
    pub edited: Option<DateTime<Utc>>,
    /// Deleted by its author (the text is empty then).
    pub deleted: bool,
}

impl StoredIm {
    /// A message as it is sent: never edited nor deleted.
    pub fn new(id: u64, from: String, to: String, text: String, at: DateTime<Utc>) -> Self {
        Self { id, from, to, text, at, edited: None, deleted: false }
    }
}

/// Which page of a history to read: ids are the messages'
/// ([`StoredIm::id`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryPage {
    /// Only with this partner; `None`: all of the user's conversations.
    pub with: Option<String>,
    /// Only messages accepted at or after this time.
    pub start: Option<DateTime<Utc>>,
    /// Only messages accepted at or before this time.
    pub end: Option<DateTime<Utc>>,
    /// Where the page starts, and which way it goes.
    pub from: PageStart,
    /// Most messages on the page.
    pub limit: u32,
}

const COLUMNS: &str = "id, sender, recipient, text, at, edited_at, deleted";

pub(crate) fn stored_im(row: &SqliteRow) -> Result<StoredIm, sqlx::Error> {
    Ok(StoredIm {
        id: row.try_get::<i64, _>("id")?.unsigned_abs(),
        from: row.try_get("sender")?,
        to: row.try_get("recipient")?,
        text: row.try_get("text")?,
        at: row.try_get("at")?,
        edited: row.try_get("edited_at")?,
        deleted: row.try_get("deleted")?,
    })
}

/// Inserts 1:1 messages, with whether each is pending, in one statement
/// (in the transaction of their batch, [`crate::group_commit`]).
pub(crate) async fn insert_ims(
    connection: &mut SqliteConnection,
    messages: &[(&StoredIm, bool)],
) -> Result<(), sqlx::Error> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "INSERT INTO messages (id, sender, recipient, text, at, pending) ",
    );
    query.push_values(messages, |mut row, (message, pending)| {
        row.push_bind(sql_id(message.id)).push_bind(&message.from).push_bind(&message.to);
        row.push_bind(&message.text).push_bind(message.at).push_bind(*pending);
    });
    // Kept prepared for one row, the usual case; each longer statement
    // is used once.
    query.build().persistent(messages.len() == 1).execute(connection).await?;
    Ok(())
}

impl Store {
    /// Appends a message to the history; durable when this returns
    /// (committed with the messages that arrived with it, see
    /// [`crate::group_commit`]). `pending`: the recipient had no session,
    /// and gets it at their next sign-in ([`Store::take_missed`]).
    pub async fn append_im(&self, message: &StoredIm, pending: bool) -> Result<(), StoreError> {
        let message = NewMessage::Im(message.clone(), pending);
        self.group_commit.append(message).await
    }

    /// The highest message id kept, 1:1 or n-way (0 for none), so that
    /// new ids follow.
    pub async fn last_message_id(&self) -> Result<u64, StoreError> {
        let last: Option<i64> = sqlx::query_scalar(
            // SQLite's MAX of several values is NULL when one of them is.
            "SELECT MAX(COALESCE((SELECT MAX(id) FROM messages), 0), \
             COALESCE((SELECT MAX(id) FROM nway_messages), 0))",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(last.and_then(|id| u64::try_from(id).ok()).unwrap_or(0))
    }

    /// The last `limit` messages between two users, oldest first.
    pub async fn im_history(
        &self,
        a: &str,
        b: &str,
        limit: u32,
    ) -> Result<Vec<StoredIm>, StoreError> {
        let page = HistoryPage { with: Some(b.to_owned()), limit, ..HistoryPage::default() };
        Ok(self.im_page(a, &page).await?.messages)
    }

    /// A page of `user`'s 1:1 history (see [`HistoryPage`]), oldest first.
    pub async fn im_page(
        &self,
        user: &str,
        page: &HistoryPage,
    ) -> Result<Page<StoredIm>, StoreError> {
        let mut query =
            QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM messages WHERE "));
        match &page.with {
            Some(with) => {
                query.push("((sender = ").push_bind(user).push(" AND recipient = ").push_bind(with);
                query.push(") OR (sender = ").push_bind(with).push(" AND recipient = ");
                query.push_bind(user).push("))");
            }
            None => {
                query.push("(sender = ").push_bind(user).push(" OR recipient = ");
                query.push_bind(user).push(")");
            }
        }
        if let Some(start) = page.start {
            query.push(" AND at >= ").push_bind(start);
        }
        if let Some(end) = page.end {
            query.push(" AND at <= ").push_bind(end);
        }
        push_page(&mut query, page.from, page.limit);
        let rows = query.build().fetch_all(&self.pool).await?;
        let messages = rows.iter().map(stored_im).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(messages, page.from, page.limit))
    }

    /// The messages `user` missed while offline, oldest first, and no
    /// longer missed: taken in one statement, so that two sign-ins at
    /// once do not both get them.
    pub async fn take_missed(&self, user: &str) -> Result<Vec<StoredIm>, StoreError> {
        // Every sign-in asks, and most missed nothing: a read (on the
        // partial index `messages_missed`) spares those the write
        // statement. A message that turns missed just after it waits for
        // the next sign-in, as one committed just after the update does.
        let mut reader = self.quick_reader().await?;
        let waiting: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE recipient = $1 AND pending = 1)",
        )
        .bind(user)
        .fetch_one(&mut *reader)
        .await?;
        drop(reader);
        if !waiting {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "UPDATE messages SET pending = 0 WHERE recipient = $1 AND pending = 1 \
             RETURNING id, sender, recipient, text, at, edited_at, deleted",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        let mut messages = rows.iter().map(stored_im).collect::<Result<Vec<_>, _>>()?;
        // RETURNING promises no order.
        messages.sort_by_key(|message| message.id);
        Ok(messages)
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
