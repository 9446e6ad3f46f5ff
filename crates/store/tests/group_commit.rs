//! Messages appended at once are committed together (group commit): each
//! append returns only once its row is kept and readable, a refused row
//! fails only its own append, and a transaction that cannot commit fails
//! every append in it and keeps none of them.

use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use simul_store::{
    ChatRecord, HistoryPage, PageStart, Store, StoreError, StoredChatMessage, StoredIm,
};
use tokio::task::JoinSet;

/// Messages sent at once in these tests.
const AT_ONCE: u64 = 400;
/// The n-way chat of the tests.
const CHAT: u64 = 7;

fn at(id: u64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + id as i64, 0).unwrap()
}

async fn execute(path: &Path, sql: &str) {
    use sqlx::Connection as _;
    let mut connection =
        sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut connection).await.unwrap();
    connection.close().await.unwrap();
}

async fn opened(path: &Path) -> Arc<Store> {
    let store = Store::open(path).await.unwrap();
    let record =
        ChatRecord { id: CHAT, topic: "plans".into(), creator: "alice".into(), created_at: at(0) };
    store.record_chat(&record).await.unwrap();
    Arc::new(store)
}

/// Message `id`: every third one said in the chat, the others 1:1
/// between alice and bob; `text` is what it says.
async fn append(store: &Store, id: u64, text: String) -> Result<(), StoreError> {
    if id.is_multiple_of(3) {
        store
            .append_chat_message(&StoredChatMessage::new(id, CHAT, "bob".into(), text, at(id)))
            .await
    } else {
        store.append_im(&StoredIm::new(id, "alice".into(), "bob".into(), text, at(id)), false).await
    }
}

/// Message `id` as the history holds it, read the way a client would.
async fn read(store: &Store, id: u64) -> Option<String> {
    if id.is_multiple_of(3) {
        let page = store.chat_page(CHAT, PageStart::After(id - 1), 1).await.unwrap();
        page.messages.into_iter().find(|m| m.id == id).map(|m| m.text)
    } else {
        let page = HistoryPage {
            with: Some("bob".into()),
            from: PageStart::After(id - 1),
            limit: 1,
            ..HistoryPage::default()
        };
        let page = store.im_page("alice", &page).await.unwrap();
        page.messages.into_iter().find(|m| m.id == id).map(|m| m.text)
    }
}

/// Sends messages `ids` at once, each task reading its message back as
/// soon as its append returns: (id, the append's outcome, what was read
/// then).
async fn send_at_once(
    store: &Arc<Store>,
    ids: impl Iterator<Item = u64>,
    text: impl Fn(u64) -> String,
) -> Vec<(u64, Result<(), StoreError>, Option<String>)> {
    let mut tasks = JoinSet::new();
    for id in ids {
        let (store, text) = (Arc::clone(store), text(id));
        tasks.spawn(async move {
            let appended = append(&store, id, text).await;
            let read = read(&store, id).await;
            (id, appended, read)
        });
    }
    let mut outcomes = tasks.join_all().await;
    outcomes.sort_by_key(|(id, ..)| *id);
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_sent_at_once_all_land_in_id_order_each_readable_when_its_append_returns() {
    let dir = tempfile::tempdir().unwrap();
    let store = opened(&dir.path().join("simul.db")).await;
    // Ids in the order the community gave them, appended in whatever
    // order the tasks run.
    for (id, appended, read) in send_at_once(&store, 1..=AT_ONCE, |id| format!("m{id}")).await {
        appended.unwrap();
        assert_eq!(read, Some(format!("m{id}")), "message {id} was not readable when acknowledged");
    }
    let all = HistoryPage { from: PageStart::Oldest, limit: 1_000, ..HistoryPage::default() };
    let ims: Vec<u64> =
        store.im_page("alice", &all).await.unwrap().messages.iter().map(|m| m.id).collect();
    assert_eq!(ims, (1..=AT_ONCE).filter(|id| !id.is_multiple_of(3)).collect::<Vec<_>>());
    let said = store.chat_page(CHAT, PageStart::Oldest, 1_000).await.unwrap();
    let said: Vec<u64> = said.messages.iter().map(|m| m.id).collect();
    assert_eq!(said, (1..=AT_ONCE).filter(|id| id.is_multiple_of(3)).collect::<Vec<_>>());
    assert_eq!(store.last_message_id().await.unwrap(), AT_ONCE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_message_fails_alone_and_the_others_sent_with_it_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = opened(&dir.path().join("simul.db")).await;
    append(&store, 5, "first".into()).await.unwrap();
    // Message 5 again (its id is taken) among new ones, and a chat
    // message for a chat never recorded (its foreign key).
    let unknown_chat = StoredChatMessage::new(AT_ONCE + 3, 999, "bob".into(), "x".into(), at(1));
    let (refused, outcomes) = tokio::join!(
        store.append_chat_message(&unknown_chat),
        send_at_once(&store, 1..=AT_ONCE, |id| format!("m{id}")),
    );
    assert!(refused.is_err(), "a message of an unknown chat was kept");
    for (id, appended, read) in outcomes {
        if id == 5 {
            assert!(appended.is_err(), "a second message 5 was acknowledged");
            assert_eq!(read.as_deref(), Some("first"));
        } else {
            appended.unwrap();
            assert_eq!(read, Some(format!("m{id}")));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transaction_that_cannot_commit_fails_every_message_in_it_and_keeps_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("simul.db");
    let store = opened(&path).await;
    // A deferred foreign key, checked at COMMIT only: any transaction
    // holding a message marked "poison" cannot commit, whatever else it
    // holds.
    execute(
        &path,
        "CREATE TABLE poison_parent (id INTEGER PRIMARY KEY); \
         CREATE TABLE poison_child (parent INTEGER REFERENCES poison_parent (id) \
             DEFERRABLE INITIALLY DEFERRED); \
         CREATE TRIGGER poison_im AFTER INSERT ON messages WHEN new.text = 'poison' \
             BEGIN INSERT INTO poison_child VALUES (1); END; \
         CREATE TRIGGER poison_chat AFTER INSERT ON nway_messages WHEN new.text = 'poison' \
             BEGIN INSERT INTO poison_child VALUES (1); END;",
    )
    .await;
    let text = |id: u64| if id.is_multiple_of(4) { "poison".to_owned() } else { format!("m{id}") };
    let outcomes = send_at_once(&store, 1..=AT_ONCE, text).await;
    let mut failed_beside_poison = 0;
    for (id, appended, read) in &outcomes {
        match appended {
            // Acknowledged: kept and readable.
            Ok(()) => assert_eq!(read.as_ref(), Some(&text(*id)), "message {id}"),
            // Refused: not kept, then or later.
            Err(error) => {
                assert!(error.to_string().contains("FOREIGN KEY"), "{error}");
                assert_eq!(*read, None, "message {id} was refused yet kept");
                assert_eq!(self::read(&store, *id).await, None, "message {id} was kept later");
                failed_beside_poison += usize::from(!id.is_multiple_of(4));
            }
        }
        assert!(
            !id.is_multiple_of(4) || appended.is_err(),
            "a poisoned message {id} was acknowledged"
        );
    }
    // Those sent with a poisoned message failed with it.
    assert!(failed_beside_poison > 0, "no message shared a transaction with a poisoned one");
    // Sent one at a time, a message is kept unless it is poison itself.
    let alone = AT_ONCE + 1;
    append(&store, alone, "alone".into()).await.unwrap();
    assert_eq!(read(&store, alone).await.as_deref(), Some("alone"));
    let poisoned = append(&store, AT_ONCE + 4, "poison".into()).await.unwrap_err();
    assert!(matches!(poisoned, StoreError::Batch(_)), "{poisoned:?}");
}

/// Bytes of the write-ahead log beside `path` (none: 0).
fn log_bytes(path: &Path) -> u64 {
    let mut log = path.as_os_str().to_owned();
    log.push("-wal");
    std::fs::metadata(log).map_or(0, |metadata| metadata.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_steady_stream_of_messages_keeps_the_write_ahead_log_small() {
    // The checkpointer copies the log beside the writer; the writer's own
    // checkpoint still folds what is left, so the log starts over rather
    // than grow with every message (checkpoint.rs).
    use std::sync::atomic::{AtomicU64, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("simul.db");
    let store = opened(&path).await;
    // Sampled while 10,000 messages arrive at once: batch after batch.
    let largest = Arc::new(AtomicU64::new(0));
    let sampling = tokio::spawn({
        let (path, largest) = (path.clone(), Arc::clone(&largest));
        async move {
            loop {
                largest.fetch_max(log_bytes(&path), Ordering::Relaxed);
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    });
    let sent = send_at_once(&store, 1..=25 * AT_ONCE, |id| format!("message {id}")).await;
    assert!(sent.iter().all(|(_, appended, _)| appended.is_ok()));
    sampling.abort();
    // Without checkpoints the log would keep every page the 10,000
    // messages write; SQLite folds its log at 1,000 pages (4 MB).
    let largest = largest.load(Ordering::Relaxed).max(log_bytes(&path));
    assert!(largest < 12 * 1024 * 1024, "the log grew to {largest} bytes");
    store.close().await;
    assert_eq!(log_bytes(&path), 0, "a closed store leaves no log");
}
