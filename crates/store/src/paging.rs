//! Pages of a history, by message id: the community numbers 1:1 and
//! n-way messages in one sequence, in the order it accepted them, so a
//! page is a range of ids.

use sqlx::{QueryBuilder, Sqlite};

/// Where a page of history starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PageStart {
    /// The newest messages (the usual first page of a scroll-back).
    #[default]
    Newest,
    /// The messages just before this id (scrolling back).
    Before(u64),
    /// The oldest messages (reading an archive forwards).
    Oldest,
    /// The messages just after this id (reading forwards).
    After(u64),
}

impl PageStart {
    fn backwards(self) -> bool {
        matches!(self, Self::Newest | Self::Before(_))
    }
}

/// A page of history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The messages.
    pub messages: Vec<T>,
    /// Whether the page reaches the end of the history in the direction
    /// it was read (nothing older when scrolling back, nothing newer when
    /// reading forwards).
    pub complete: bool,
}

/// Ends a query whose conditions are written: the id bound of `from`, the
/// order that way, and room for one more than `limit` (which tells
/// whether the page is the last).
pub(crate) fn push_page(query: &mut QueryBuilder<Sqlite>, from: PageStart, limit: u32) {
    match from {
        PageStart::Before(id) => query.push(" AND id < ").push_bind(sql_id(id)),
        PageStart::After(id) => query.push(" AND id > ").push_bind(sql_id(id)),
        PageStart::Newest | PageStart::Oldest => query,
    };
    query.push(if from.backwards() { " ORDER BY id DESC" } else { " ORDER BY id ASC" });
    query.push(" LIMIT ").push_bind(i64::from(limit) + 1);
}

/// The page the rows of [`push_page`]'s query make, oldest first.
pub(crate) fn page_of<T>(mut items: Vec<T>, from: PageStart, limit: u32) -> Page<T> {
    let complete = items.len() <= limit as usize;
    items.truncate(limit as usize);
    if from.backwards() {
        items.reverse();
    }
    Page { messages: items, complete }
}

/// An id as SQLite stores it (signed). Ids the community gives stay far
/// below `i64::MAX`; a larger one from a client is a bound past them all.
pub(crate) fn sql_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}
