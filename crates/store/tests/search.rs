//! Full-text search in the SQLite store: what it finds, for whom, in which
//! order, after edits and deletes, and that no input is FTS5 syntax.

use std::path::Path;

use chrono::{TimeZone, Utc};
use simul_store::{ChatRecord, Found, SearchQuery, Store, StoredChatMessage, StoredIm};

/// A connection of its own to the database at `path`, beside the store's.
async fn connect(path: &Path) -> sqlx::SqliteConnection {
    use sqlx::Connection as _;
    sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display())).await.unwrap()
}

async fn execute(path: &Path, sql: &str) {
    use sqlx::Connection as _;
    let mut connection = connect(path).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut connection).await.unwrap();
    connection.close().await.unwrap();
}

fn at(id: u64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + id as i64, 0).unwrap()
}

async fn im(store: &Store, id: u64, from: &str, to: &str, text: &str) {
    let message = StoredIm::new(id, from.into(), to.into(), text.into(), at(id));
    store.append_im(&message, false).await.unwrap();
}

async fn said(store: &Store, id: u64, chat: u64, from: &str, text: &str) {
    let message = StoredChatMessage::new(id, chat, from.into(), text.into(), at(id));
    store.append_chat_message(&message).await.unwrap();
}

async fn chat(store: &Store, id: u64) {
    let record =
        ChatRecord { id, topic: "plans".into(), creator: "alice".into(), created_at: at(0) };
    store.record_chat(&record).await.unwrap();
}

/// Ids found for `user` (in `chats`) with these words, newest first.
async fn ids(store: &Store, user: &str, chats: &[u64], words: &[&str]) -> Vec<u64> {
    page(store, user, chats, words, None, 100).await
}

async fn page(
    store: &Store,
    user: &str,
    chats: &[u64],
    words: &[&str],
    before: Option<u64>,
    limit: u32,
) -> Vec<u64> {
    let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    let query = SearchQuery { words: &words, before, limit, since: None };
    store.search(user, chats, &query).await.unwrap().iter().map(Found::id).collect()
}

async fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    (dir, store)
}

#[tokio::test]
async fn search_finds_words_in_any_case_accent_and_the_last_word_half_typed() {
    let (_dir, store) = open().await;
    im(&store, 1, "alice", "bob", "The Budget draft is ready").await;
    im(&store, 2, "bob", "alice", "Rendez-vous au café à midi").await;
    im(&store, 3, "alice", "bob", "Überweisung für München").await;
    im(&store, 4, "bob", "alice", "نلتقي غدا في المكتب").await;
    im(&store, 5, "alice", "bob", "שלום לכולם").await;
    assert_eq!(ids(&store, "alice", &[], &["budget"]).await, [1]);
    assert_eq!(ids(&store, "alice", &[], &["BUDGET", "Draft"]).await, [1]);
    assert_eq!(ids(&store, "alice", &[], &["budget", "nothing"]).await, Vec::<u64>::new());
    assert_eq!(ids(&store, "alice", &[], &["cafe"]).await, [2], "accents fold");
    assert_eq!(ids(&store, "alice", &[], &["CAFÉ"]).await, [2]);
    assert_eq!(ids(&store, "alice", &[], &["muenchen"]).await, Vec::<u64>::new());
    assert_eq!(ids(&store, "alice", &[], &["munchen"]).await, [3]);
    assert_eq!(ids(&store, "alice", &[], &["budg"]).await, [1], "the last word is a prefix");
    assert_eq!(ids(&store, "alice", &[], &["budg", "draft"]).await, Vec::<u64>::new());
    assert_eq!(ids(&store, "alice", &[], &["المكتب"]).await, [4], "right to left");
    assert_eq!(ids(&store, "bob", &[], &["שלום"]).await, [5]);
}

#[tokio::test]
async fn a_user_finds_their_own_messages_and_those_of_the_chats_named_only() {
    let (_dir, store) = open().await;
    chat(&store, 1).await;
    chat(&store, 2).await;
    im(&store, 1, "alice", "bob", "secret plan").await;
    im(&store, 2, "bob", "carol", "secret plan").await;
    said(&store, 3, 1, "bob", "secret plan").await;
    said(&store, 4, 2, "carol", "secret plan").await;
    im(&store, 5, "carol", "alice", "secret plan").await;
    assert_eq!(ids(&store, "alice", &[1], &["secret"]).await, [5, 3, 1]);
    assert_eq!(ids(&store, "alice", &[], &["secret"]).await, [5, 1]);
    assert_eq!(ids(&store, "dave", &[], &["secret"]).await, Vec::<u64>::new());
    assert_eq!(ids(&store, "dave", &[2], &["secret"]).await, [4]);

    let words = vec!["secret".to_owned()];
    let query = SearchQuery { words: &words, before: None, limit: 10, since: None };
    let found = store.search("carol", &[2], &query).await.unwrap();
    assert_eq!(
        found[0],
        Found::Im(StoredIm::new(5, "carol".into(), "alice".into(), "secret plan".into(), at(5)))
    );
    assert_eq!(
        found[1],
        Found::Chat(StoredChatMessage::new(4, 2, "carol".into(), "secret plan".into(), at(4)))
    );
}

#[tokio::test]
async fn results_come_newest_first_in_pages_before_an_id() {
    let (_dir, store) = open().await;
    chat(&store, 7).await;
    for id in 1..=25 {
        if id % 2 == 0 {
            said(&store, id, 7, "bob", &format!("note {id}")).await;
        } else {
            im(&store, id, "bob", "alice", &format!("note {id}")).await;
        }
    }
    let first = page(&store, "alice", &[7], &["note"], None, 10).await;
    assert_eq!(first, (16..=25).rev().collect::<Vec<_>>());
    let second = page(&store, "alice", &[7], &["note"], Some(16), 10).await;
    assert_eq!(second, (6..=15).rev().collect::<Vec<_>>());
    let last = page(&store, "alice", &[7], &["note"], Some(6), 10).await;
    assert_eq!(last, [5, 4, 3, 2, 1]);
    assert_eq!(page(&store, "alice", &[7], &["note"], Some(u64::MAX), 1).await, [25]);
    assert!(page(&store, "alice", &[7], &["note"], None, 0).await.is_empty());
}

/// How many messages wait to be indexed (migration 0019's queue).
async fn queued(path: &Path) -> i64 {
    use sqlx::Connection as _;
    let mut connection = connect(path).await;
    let count = sqlx::query_scalar("SELECT COUNT(*) FROM search_queue")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
    count
}

#[tokio::test]
async fn edits_and_deletes_of_the_text_reach_the_index_whether_indexed_yet_or_not() {
    for indexed_first in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("simul.db");
        let store = Store::open(&path).await.unwrap();
        chat(&store, 1).await;
        im(&store, 1, "alice", "bob", "first words").await;
        said(&store, 2, 1, "alice", "first words").await;
        im(&store, 3, "alice", "bob", "kept as it is").await;
        if indexed_first {
            assert_eq!(ids(&store, "alice", &[1], &["first"]).await, [2, 1]);
            assert_eq!(queued(&path).await, 0);
        } else {
            assert_eq!(queued(&path).await, 3, "new messages wait to be indexed");
        }
        execute(
            &path,
            "UPDATE messages SET text = 'second thoughts' WHERE id = 1; \
             UPDATE nway_messages SET text = '' WHERE id = 2; \
             DELETE FROM messages WHERE id = 3;",
        )
        .await;
        assert!(ids(&store, "alice", &[1], &["first"]).await.is_empty(), "{indexed_first}");
        // Found once: an edit of a queued message is not indexed twice.
        assert_eq!(ids(&store, "alice", &[1], &["second"]).await, [1], "{indexed_first}");
        assert!(ids(&store, "alice", &[1], &["kept"]).await.is_empty(), "{indexed_first}");
        // A pending mark taken is no change of text.
        store.take_missed("bob").await.unwrap();
        assert_eq!(ids(&store, "alice", &[1], &["thoughts"]).await, [1]);
    }
}

#[tokio::test]
async fn messages_are_indexed_a_thousand_or_so_at_a_time_without_a_search() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("simul.db");
    let store = Store::open(&path).await.unwrap();
    let sent = (1..=1000).map(|id| im(&store, id, "alice", "bob", "a busy afternoon"));
    futures_util::future::join_all(sent).await;
    // The writer indexes once the batch that made it a thousand is answered.
    let mut waited = 0;
    while queued(&path).await > 0 {
        assert!(waited < 100, "still {} queued after 5 s", queued(&path).await);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += 1;
    }
    assert_eq!(page(&store, "bob", &[], &["afternoon"], None, 2000).await.len(), 1000);
}

#[tokio::test]
async fn messages_still_queued_when_the_server_died_are_indexed_when_it_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("simul.db");
    let store = Store::open(&path).await.unwrap();
    im(&store, 1, "alice", "bob", "before the power cut").await;
    im(&store, 2, "bob", "alice", "after the power cut").await;
    // Dropped, not closed: as a killed server leaves it.
    drop(store);
    assert_eq!(queued(&path).await, 2);
    let store = Store::open(&path).await.unwrap();
    assert_eq!(queued(&path).await, 0, "indexed as it opened, before any search");
    assert_eq!(ids(&store, "alice", &[], &["power", "cut"]).await, [2, 1]);
}

#[tokio::test]
async fn no_input_is_query_syntax_and_none_fails() {
    let (_dir, store) = open().await;
    im(&store, 1, "alice", "bob", "NEAR the text column AND OR NOT").await;
    im(&store, 2, "alice", "bob", "say \"hi\" ^start with * stars").await;
    let long = "w".repeat(10_000);
    let tricky = [
        "\"",
        "\"\"",
        "\" OR \"",
        "NEAR(a b, 1)",
        "NEAR",
        "AND",
        "OR",
        "NOT",
        "*",
        "a*",
        "^start",
        "text:secret",
        "{text}: x",
        "-text:x",
        "(",
        ")",
        "+",
        ":",
        "\u{0}",
        "\u{7}\u{1b}[31m",
        "😀",
        "👩‍👩‍👧",
        "\u{202e}evil\u{202c}",
        long.as_str(),
        "",
        " ",
    ];
    for word in tricky {
        let words = vec![word.to_owned()];
        let query = SearchQuery { words: &words, before: None, limit: 10, since: None };
        let found = store.search("alice", &[], &query).await;
        assert!(found.is_ok(), "{word:?}: {found:?}");
    }
    // Operators are words.
    assert_eq!(ids(&store, "alice", &[], &["near", "column"]).await, [1]);
    assert_eq!(ids(&store, "alice", &[], &["OR"]).await, [1]);
    assert_eq!(ids(&store, "alice", &[], &["NOT", "AND"]).await, [1]);
    // A quote inside a word does not end the string: "hi" is still found
    // as the word it is.
    assert_eq!(ids(&store, "alice", &[], &["\"hi"]).await, [2]);
    assert!(ids(&store, "alice", &[], &["text:secret"]).await.is_empty());
    assert!(ids(&store, "alice", &[], &["*"]).await.is_empty());
}

#[tokio::test]
async fn thousands_of_random_words_of_fts5_symbols_never_fail() {
    let (_dir, store) = open().await;
    im(&store, 1, "alice", "bob", "alpha beta gamma").await;
    let alphabet: Vec<char> =
        "\"'*^:+-(){}[],.NEARORANDNOTtext alph \u{0}\u{1}\u{7f}\u{202e}é😀ا".chars().collect();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..2_000 {
        let words: Vec<String> = (0..1 + next() % 4)
            .map(|_| {
                (0..next() % 12)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            })
            .collect();
        let query = SearchQuery { words: &words, before: None, limit: 5, since: None };
        let found = store.search("alice", &[], &query).await;
        assert!(found.is_ok(), "{words:?}: {found:?}");
    }
}

#[tokio::test]
async fn edits_and_deletes_by_their_authors_reach_the_index() {
    let (_dir, store) = open().await;
    chat(&store, 1).await;
    im(&store, 1, "alice", "bob", "meet at the harbour").await;
    said(&store, 2, 1, "alice", "harbour tour booked").await;
    assert!(store.edit_message(1, "alice", "meet at the station", at(3)).await.unwrap());
    assert!(store.delete_message(2, "alice").await.unwrap());
    assert!(ids(&store, "bob", &[1], &["harbour"]).await.is_empty());
    assert_eq!(ids(&store, "bob", &[1], &["station"]).await, [1]);
}

#[tokio::test]
async fn a_database_from_before_search_has_its_messages_indexed_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("simul.db");
    let store = Store::open(&path).await.unwrap();
    chat(&store, 1).await;
    im(&store, 1, "alice", "bob", "an old lighthouse").await;
    said(&store, 2, 1, "bob", "the lighthouse keeper").await;
    store.checkpoint_and_close().await.unwrap();
    // As before migration 0009 (and 0019, which changed its triggers).
    execute(
        &path,
        "DROP TABLE message_search; \
         DROP TRIGGER messages_search_insert; DROP TRIGGER messages_search_update; \
         DROP TRIGGER messages_search_delete; DROP TRIGGER nway_messages_search_insert; \
         DROP TRIGGER nway_messages_search_update; DROP TRIGGER nway_messages_search_delete; \
         DROP TABLE search_queue; \
         DELETE FROM _sqlx_migrations WHERE version IN (9, 19);",
    )
    .await;
    let store = Store::open(&path).await.unwrap();
    assert!(store.upgrade().is_some(), "migration 0009 ran again");
    assert_eq!(ids(&store, "bob", &[1], &["lighthouse"]).await, [2, 1]);
}
