//! Group commit of new messages, 1:1 and n-way: one SQLite transaction
//! per message capped the community near 4,400 messages a second
//! (BENCHMARKS.md), so messages that arrive while a transaction is being
//! committed wait and go into the next one together.
//!
//! No timer: the first message to arrive when nothing is being written
//! starts a writer task at once, which commits what is waiting, then
//! whatever arrived meanwhile, and ends when nothing is left. A message's
//! append returns only once the transaction holding it has committed
//! (or failed), as it did with one transaction each.
//!
//! Errors: a row the database refuses (a constraint) fails its own
//! append only (SQLite backs out that statement and the transaction goes
//! on); any other failure, of a row, of `BEGIN` or of `COMMIT`, rolls the
//! whole batch back and every append in it gets that error
//! ([`StoreError::Batch`]): nothing is acknowledged that was not kept.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, SqliteConnection};
use tokio::sync::oneshot;

use crate::checkpoint::Checkpointer;
use crate::{StoreError, StoredChatMessage, StoredIm, messages, nway, search, sqlite_code};

/// Most messages one transaction takes; the rest go into the next. It
/// bounds how long a batch holds the write lock (readers never wait in
/// WAL mode, other writers do) and the values bound to one statement
/// (6 a row, SQLite takes 32,766).
const MOST_PER_BATCH: usize = 500;

/// Messages kept since the search index last took the queue (migration
/// 0019) after which the writer indexes them: FTS5's cost is a segment
/// written and merged per transaction, so larger is cheaper a message,
/// and a search indexes what waits anyway. Indexing a thousand takes
/// the writer some milliseconds.
const INDEX_AFTER: usize = 1000;

/// SQLite's primary result code for a refused constraint.
const SQLITE_CONSTRAINT: u32 = 19;

/// A message to keep.
#[derive(Debug)]
pub(crate) enum NewMessage {
    /// A 1:1 message, and whether its recipient is to get it at their
    /// next sign-in.
    Im(StoredIm, bool),
    /// An n-way chat message.
    Chat(StoredChatMessage),
}

/// Messages waiting for a transaction, whether a writer is at work, and
/// the connection it writes with.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    connection: tokio::sync::Mutex<Held>,
    /// To open the connection again after a batch left it unusable.
    options: SqliteConnectOptions,
    /// Copies the log the batches write into the database, off their path
    /// (none for a store that is only read).
    checkpointer: Option<Checkpointer>,
    /// Messages waiting in the search queue: counted when the store opens,
    /// then kept by the writer under the connection's lock (a message's
    /// append returns after it is counted), so a search that finds none
    /// waiting touches no connection.
    unindexed: AtomicUsize,
}

/// The writer's connection: held, not pooled, since a pool's connection
/// costs two trips to its SQLite thread more a batch (a ping when taken,
/// one when given back), each a wake-up of that thread and of the task.
#[derive(Debug)]
enum Held {
    Open(SqliteConnection),
    /// Closed after a failed batch (see [`usable_after_failure`]); opened
    /// again for the next.
    Lost,
    /// The store is closing: no more batches.
    Closed,
}

#[derive(Debug, Default)]
struct State {
    waiting: Vec<Waiting>,
    /// A writer task runs: it takes whatever is waiting before it ends.
    writing: bool,
}

/// A message and where its outcome goes.
#[derive(Debug)]
struct Waiting {
    message: NewMessage,
    done: oneshot::Sender<Result<(), StoreError>>,
}

impl GroupCommit {
    /// Group commit on a connection of its own, opened with `options`,
    /// that nothing else writes with.
    pub(crate) async fn open(options: SqliteConnectOptions) -> Result<Self, sqlx::Error> {
        let checkpointer = Some(Checkpointer::start(&options).await?);
        let mut connection = options.connect().await?;
        let unindexed = AtomicUsize::new(search::queued(&mut connection).await?);
        let connection = Held::Open(connection);
        let connection = connection.into();
        Ok(Self { state: Mutex::default(), connection, options, checkpointer, unindexed })
    }

    /// For a store opened only to be read: no connection (one more, never
    /// closed by a command that only looks, could leave `-wal` and `-shm`
    /// files beside the database), and every append fails.
    pub(crate) fn read_only(options: SqliteConnectOptions) -> Self {
        let connection = Held::Closed.into();
        let unindexed = AtomicUsize::new(0);
        Self { state: Mutex::default(), connection, options, checkpointer: None, unindexed }
    }

    /// Keeps `message`: returns once the transaction that holds it has
    /// committed, or with why it did not.
    pub(crate) async fn append(self: &Arc<Self>, message: NewMessage) -> Result<(), StoreError> {
        let (done, outcome) = oneshot::channel();
        let start_writer = {
            let mut state = self.lock();
            state.waiting.push(Waiting { message, done });
            !std::mem::replace(&mut state.writing, true)
        };
        if start_writer {
            // A task of its own: a caller that stops waiting (a closed
            // connection) does not stop the others' batch.
            tokio::spawn(write(Writer { group: Arc::clone(self), done: false }));
        }
        // The writer went away without an answer: only when the runtime
        // shuts down.
        outcome.await.unwrap_or(Err(StoreError::Database(sqlx::Error::WorkerCrashed)))
    }

    /// Indexes for search the messages that wait in the queue (none for a
    /// store that is only read).
    pub(crate) async fn index_queued(&self) -> Result<(), StoreError> {
        if self.unindexed.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        let mut held = self.connection.lock().await;
        let Some(connection) = self.usable(&mut held).await? else { return Ok(()) };
        let indexed = search::index_queued(connection).await;
        match indexed {
            Ok(()) => self.unindexed.store(0, Ordering::Release),
            Err(_) if !usable_after_failure(connection).await => *held = Held::Lost,
            Err(_) => {}
        }
        Ok(indexed?)
    }

    /// The writer's connection, opened again if a failure lost it; none
    /// once the store is closing.
    async fn usable<'a>(
        &self,
        held: &'a mut Held,
    ) -> Result<Option<&'a mut SqliteConnection>, sqlx::Error> {
        if matches!(*held, Held::Lost) {
            *held = Held::Open(self.options.connect().await?);
        }
        Ok(match held {
            Held::Open(connection) => Some(connection),
            Held::Lost | Held::Closed => None,
        })
    }

    /// Closes the writer's connection (waiting for a batch being written),
    /// then the checkpointer's.
    pub(crate) async fn close(&self) {
        let held = std::mem::replace(&mut *self.connection.lock().await, Held::Closed);
        if let Held::Open(connection) = held {
            let _ = connection.close().await;
        }
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.close().await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is consistent between statements: a panic elsewhere
        // leaves nothing half-done in it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The one writer task's hold on the group: if the task is dropped before
/// it finished (the runtime shuts down), those still waiting get an error
/// and the next append starts a new writer.
struct Writer {
    group: Arc<GroupCommit>,
    done: bool,
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.done {
            let mut state = self.group.lock();
            state.writing = false;
            state.waiting.clear();
        }
    }
}

/// Commits batches of whatever is waiting until nothing is.
async fn write(mut writer: Writer) {
    loop {
        let mut batch = {
            let mut state = writer.group.lock();
            if state.waiting.is_empty() {
                state.writing = false;
                writer.done = true;
                return;
            }
            let taken = state.waiting.len().min(MOST_PER_BATCH);
            let rest = state.waiting.split_off(taken);
            std::mem::replace(&mut state.waiting, rest)
        };
        // 1:1 messages, then n-way, each in id order: the rows go to the
        // end of their table's b-tree.
        batch.sort_by_key(|waiting| waiting.message.key());
        let messages: Vec<&NewMessage> = batch.iter().map(|waiting| &waiting.message).collect();
        match writer.group.commit(&messages).await {
            Ok(rows) => {
                if let Some(checkpointer) = &writer.group.checkpointer {
                    checkpointer.committed();
                }
                for (waiting, row) in batch.into_iter().zip(rows) {
                    waiting.done.send(row.map_err(StoreError::from)).ok();
                }
                // After the answers: indexing delays the next batch, not
                // this one.
                let group = &writer.group;
                if group.unindexed.load(Ordering::Acquire) >= INDEX_AFTER
                    && let Err(error) = group.index_queued().await
                {
                    // They stay queued for the next try or search.
                    tracing::warn!(%error, "messages were not indexed for search yet");
                }
            }
            Err(error) => {
                tracing::warn!(%error, messages = batch.len(), "a batch of messages was not kept");
                let error = Arc::new(error);
                for waiting in batch {
                    waiting.done.send(Err(StoreError::Batch(Arc::clone(&error)))).ok();
                }
            }
        }
    }
}

impl GroupCommit {
    /// Inserts `messages` in one transaction: each row's outcome once it
    /// committed, or why the whole batch did not.
    async fn commit(
        &self,
        messages: &[&NewMessage],
    ) -> Result<Vec<Result<(), sqlx::Error>>, sqlx::Error> {
        let mut held = self.connection.lock().await;
        let Some(connection) = self.usable(&mut held).await? else {
            return Err(sqlx::Error::PoolClosed);
        };
        let committed = insert_all(connection, messages).await;
        match &committed {
            // Counted before any append returns: a search right after it
            // indexes its message.
            Ok(rows) => {
                let kept = rows.iter().filter(|row| row.is_ok()).count();
                self.unindexed.fetch_add(kept, Ordering::AcqRel);
            }
            Err(_) if !usable_after_failure(connection).await => *held = Held::Lost,
            Err(_) => {}
        }
        committed
    }
}

async fn insert_all(
    connection: &mut SqliteConnection,
    messages: &[&NewMessage],
) -> Result<Vec<Result<(), sqlx::Error>>, sqlx::Error> {
    // IMMEDIATE: the write lock (or the busy wait for it) comes first,
    // not halfway through the batch.
    let mut transaction = connection.begin_with("BEGIN IMMEDIATE").await?;
    // 1:1 messages first (the batch is sorted so), one statement each.
    let chats = messages.partition_point(|message| matches!(message, NewMessage::Im(..)));
    let (ims, chats) = messages.split_at(chats);
    let mut rows = insert_refusing_alone(&mut transaction, ims).await?;
    rows.extend(insert_refusing_alone(&mut transaction, chats).await?);
    transaction.commit().await?;
    Ok(rows)
}

/// Inserts messages of one table in one statement; if the database
/// refuses it (a constraint: SQLite backed that statement out, the
/// transaction goes on), one at a time, so that only the refused fail.
/// (The schema has no ON CONFLICT ROLLBACK nor RAISE(ROLLBACK), which
/// would end the transaction: then COMMIT would fail and no message of
/// the batch be acknowledged.)
async fn insert_refusing_alone(
    connection: &mut SqliteConnection,
    messages: &[&NewMessage],
) -> Result<Vec<Result<(), sqlx::Error>>, sqlx::Error> {
    match insert(connection, messages).await {
        Ok(()) => return Ok(messages.iter().map(|_| Ok(())).collect()),
        Err(error) if messages.len() > 1 && refused(&error) => {}
        Err(error) if refused(&error) => return Ok(vec![Err(error)]),
        Err(error) => return Err(error),
    }
    let mut rows = Vec::with_capacity(messages.len());
    for message in messages {
        match insert(connection, std::slice::from_ref(message)).await {
            Err(error) if !refused(&error) => return Err(error),
            row => rows.push(row),
        }
    }
    Ok(rows)
}

/// Inserts messages of one table (1:1 or n-way) in one statement.
async fn insert(
    connection: &mut SqliteConnection,
    messages: &[&NewMessage],
) -> Result<(), sqlx::Error> {
    let (mut ims, mut chats) = (Vec::new(), Vec::new());
    for message in messages {
        match message {
            NewMessage::Im(message, pending) => ims.push((message, *pending)),
            NewMessage::Chat(message) => chats.push(message),
        }
    }
    if !ims.is_empty() {
        messages::insert_ims(connection, &ims).await?;
    }
    if !chats.is_empty() {
        nway::insert_chat_messages(connection, &chats).await?;
    }
    Ok(())
}

/// Whether the database refused a row (a constraint).
fn refused(error: &sqlx::Error) -> bool {
    sqlite_code(error) == Some(SQLITE_CONSTRAINT)
}

/// After a failed batch, whether the connection can take the next: SQLite
/// may have rolled the transaction back by itself (a full disk, an I/O
/// error), and then the rollback sqlx sends fails and leaves it counting a
/// transaction. Such a connection is dropped (which closes it) and a new
/// one opened.
async fn usable_after_failure(connection: &mut SqliteConnection) -> bool {
    // Runs after the rollback the dropped transaction queued.
    connection.ping().await.is_ok() && !connection.is_in_transaction()
}

impl NewMessage {
    /// Where it goes in a batch: 1:1 messages first, in id order.
    fn key(&self) -> (bool, u64) {
        match self {
            Self::Im(message, _) => (false, message.id),
            Self::Chat(message) => (true, message.id),
        }
    }
}
