//! Connections of their own for the reads every sign-in makes (the
//! account, the contact list, whether messages wait).
//!
//! A query on sqlx's pool is two trips to the connection's worker
//! thread, each a wake-up of that thread and one of the task: the query,
//! and a ping when the connection is given back (and was three before the
//! pool stopped pinging a connection when it is taken). At a thousand XMPP sign-ins a second, threads parking
//! and waking were 18 % of the server's samples (BENCHMARKS.md §7,
//! "Sign-ins per second"). A connection held here is not pooled, so a
//! query on it is one trip. Nothing is cached: every read sees the
//! database as it is (what `simul user disable` just wrote, too).

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions as _, Connection as _, Sqlite, SqlitePool};
use tokio::sync::{Mutex, MutexGuard};

/// How many connections are held: as many as sign-ins read at once on
/// a small server; more readers at a time take one from the pool.
const HELD: usize = 2;

/// The held connections; none once closed (or for a read-only store).
#[derive(Debug, Default)]
pub(crate) struct Quick {
    connections: Vec<Mutex<Option<SqliteConnection>>>,
}

impl Quick {
    /// Opens the connections with `options`.
    pub(crate) async fn open(options: &SqliteConnectOptions) -> Result<Self, sqlx::Error> {
        let mut connections = Vec::with_capacity(HELD);
        for _ in 0..HELD {
            connections.push(Mutex::new(Some(options.connect().await?)));
        }
        Ok(Self { connections })
    }

    /// A free held connection, else one from `pool`.
    pub(crate) async fn reader<'a>(&'a self, pool: &SqlitePool) -> Result<Reader<'a>, sqlx::Error> {
        for connection in &self.connections {
            if let Ok(held) = connection.try_lock()
                && held.is_some()
            {
                return Ok(Reader::Held(held));
            }
        }
        Ok(Reader::Pooled(pool.acquire().await?))
    }

    /// Closes the connections (waiting for reads under way).
    pub(crate) async fn close(&self) {
        for connection in &self.connections {
            if let Some(connection) = connection.lock().await.take() {
                let _ = connection.close().await;
            }
        }
    }
}

/// A connection to read on: a held one, or one of the pool's.
pub(crate) enum Reader<'a> {
    Held(MutexGuard<'a, Option<SqliteConnection>>),
    Pooled(PoolConnection<Sqlite>),
}

impl Deref for Reader<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        match self {
            Self::Held(held) => held.as_ref().expect("a held reader is open"),
            Self::Pooled(pooled) => pooled,
        }
    }
}

impl DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            Self::Held(held) => held.as_mut().expect("a held reader is open"),
            Self::Pooled(pooled) => pooled,
        }
    }
}
