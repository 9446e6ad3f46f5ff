//! Copies of a live database, and what opening does to an older or a
//! newer schema.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use chrono::Utc;
use simul_store::{NewUser, Store, StoreError, StoredIm, Upgrade, backup_database, schema};

fn user(id: &str) -> NewUser {
    NewUser {
        id: id.into(),
        display_name: id.into(),
        mail: format!("{id}@example.com"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        scram: String::new(),
    }
}

/// A message from alice to bob with the next id, as the community would
/// number it.
fn im(text: String) -> StoredIm {
    static LAST_ID: AtomicU64 = AtomicU64::new(0);
    let id = LAST_ID.fetch_add(1, Ordering::Relaxed) + 1;
    StoredIm::new(id, "alice".into(), "bob".into(), text, Utc::now())
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Runs SQL on the database file directly, as another tool would.
async fn execute(path: &Path, sql: &str) {
    use sqlx::Connection as _;
    let mut connection =
        sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut connection).await.unwrap();
    connection.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_while_writing_holds_everything_written_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    store.create_user(&user("alice")).await.unwrap();
    store.create_user(&user("bob")).await.unwrap();
    for i in 0..500 {
        store.append_im(&im(format!("before {i}")), false).await.unwrap();
    }
    // Another writer keeps going for the whole backup.
    let (stop, written) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let writer = tokio::spawn({
        let (store, stop, written) = (store.clone(), stop.clone(), written.clone());
        async move {
            while !stop.load(Ordering::Relaxed) {
                let n = written.load(Ordering::Relaxed);
                store.append_im(&im(format!("during {n}")), false).await.unwrap();
                written.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    while written.load(Ordering::Relaxed) < 20 {
        tokio::task::yield_now().await;
    }
    let acknowledged = written.load(Ordering::Relaxed);
    let target = dir.path().join("copy/simul.db");
    std::fs::create_dir(dir.path().join("copy")).unwrap();
    let copy = backup_database(&dir.path().join("simul.db"), &target).await.unwrap();
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    assert!(written.load(Ordering::Relaxed) > acknowledged, "the writer was not blocked");

    assert_eq!(copy.schema, schema::latest_version());
    assert_eq!(copy.bytes, std::fs::metadata(&target).unwrap().len());
    #[cfg(unix)]
    assert_eq!(mode(&target), 0o600, "the copy holds password hashes");
    let restored = Store::open(&target).await.unwrap();
    assert_eq!(restored.upgrade(), None, "the copy has the whole schema");
    assert_eq!(restored.users().await.unwrap().len(), 2);
    let history = restored.im_history("alice", "bob", 100_000).await.unwrap();
    let texts: Vec<&str> = history.iter().map(|m| m.text.as_str()).collect();
    for i in 0..500 {
        assert!(texts.contains(&format!("before {i}").as_str()), "before {i} is missing");
    }
    for n in 0..acknowledged {
        assert!(texts.contains(&format!("during {n}").as_str()), "during {n} is missing");
    }
}

#[tokio::test]
async fn a_backup_neither_replaces_a_file_nor_creates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("simul.db");
    let target = dir.path().join("copy.db");
    let missing = backup_database(&source, &target).await;
    assert!(missing.is_err(), "no database to copy");
    assert!(!source.exists() && !target.exists(), "nothing created");

    Store::open(&source).await.unwrap().checkpoint_and_close().await.unwrap();
    std::fs::write(&target, "someone's file").unwrap();
    assert!(backup_database(&source, &target).await.is_err());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "someone's file");
}

#[tokio::test]
async fn an_upgrade_keeps_a_copy_of_the_database_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("simul.db");
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.upgrade(), None, "a new database has nothing to keep");
    store.create_user(&user("alice")).await.unwrap();
    store.append_im(&im("kept".into()), false).await.unwrap();
    store.checkpoint_and_close().await.unwrap();
    // Make it a database of the Simul before the last migration: undo what
    // it made (0020_audit_by_action.sql; the next migration changes this).
    let latest = schema::latest_version();
    execute(
        &path,
        &format!(
            "DROP INDEX audit_by_action; \
             DELETE FROM _sqlx_migrations WHERE version = {latest};"
        ),
    )
    .await;
    // The version before (migration numbers may have gaps between branches).
    let previous = backup_database(&path, &dir.path().join("probe.db")).await.unwrap().schema;

    let store = Store::open(&path).await.unwrap();
    let copy = dir.path().join(format!("simul.db.before-{latest}"));
    assert_eq!(store.upgrade(), Some(&Upgrade { from: previous, to: latest, copy: copy.clone() }));
    let alice = store.user("alice").await.unwrap().expect("the data came along");
    assert_eq!(alice.display_name, "alice");
    let history = store.im_history("alice", "bob", 10).await.unwrap();
    assert_eq!(history.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["kept"]);
    assert_eq!(store.take_missed("bob").await.unwrap(), [], "older messages were seen");
    store.checkpoint_and_close().await.unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&copy), 0o600);

    // The copy is the old database: a binary of that version opens it.
    let old = dir.path().join("old.db");
    std::fs::copy(&copy, &old).unwrap();
    let copied = backup_database(&old, &dir.path().join("old-again.db")).await.unwrap();
    assert_eq!(copied.schema, previous);

    let again = Store::open(&path).await.unwrap();
    assert_eq!(again.upgrade(), None, "nothing left to apply");
}

#[tokio::test]
async fn a_database_from_a_newer_simul_is_refused_with_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("simul.db");
    Store::open(&path).await.unwrap().checkpoint_and_close().await.unwrap();
    execute(
        &path,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', 1, x'00', 0)",
    )
    .await;

    let error = Store::open(&path).await.unwrap_err();
    let latest = schema::latest_version();
    assert!(
        matches!(error, StoreError::NewerSchema { found: 9999, known } if known == latest),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "this data directory was written by a newer Simul (schema 9999, this binary knows up \
             to {latest}): run that version or restore a backup"
        )
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!names.iter().any(|name| name.contains("before")), "no upgrade copy: {names:?}");
}
