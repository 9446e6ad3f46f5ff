//! The bytes of sent files on disk: kept once per content, and removed
//! with the last sending that has them (deleted messages, refused
//! sendings, and what a stopped server left behind).

use chrono::Utc;
use simul_store::{FileRecord, Store, StoredIm};

/// Keeps `bytes` as sending `id` and records message `message` carrying it.
async fn send(store: &Store, id: &str, message: u64, bytes: &[u8]) -> FileRecord {
    let mut upload = store.new_upload().await.unwrap();
    upload.write(bytes).await.unwrap();
    let record = FileRecord {
        id: id.into(),
        sha256: String::new(),
        name: "a.txt".into(),
        content_type: "text/plain".into(),
        size: 0,
        uploader: "alice".into(),
        conversation: "im:bob".into(),
        message: None,
        at: Utc::now(),
    };
    let record = store.keep_file(upload, record).await.unwrap();
    let text = format!("File: {id}");
    store
        .append_im(&StoredIm::new(message, "alice".into(), "bob".into(), text, Utc::now()), false)
        .await
        .unwrap();
    store.set_file_message(id, message).await.unwrap();
    record
}

#[tokio::test]
async fn bytes_go_with_the_last_sending_that_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    let first = send(&store, "f1", 1, b"the same minutes").await;
    let second = send(&store, "f2", 2, b"the same minutes").await;
    let other = send(&store, "f3", 3, b"other bytes").await;
    let path = store.file_path(&first);
    assert_eq!(path, store.file_path(&second), "one copy per content");

    assert!(store.delete_message(1, "alice").await.unwrap());
    assert!(path.exists(), "the second sending still has them");
    assert!(store.delete_message(2, "alice").await.unwrap());
    assert!(!path.exists(), "nobody has them now");
    assert!(store.file_path(&other).exists());

    // A refused sending takes its bytes along too.
    store.forget_file("f3").await.unwrap();
    assert!(!store.file_path(&other).exists());
}

#[tokio::test]
async fn the_sweep_removes_bytes_no_sending_has_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    let kept = send(&store, "f1", 1, b"kept").await;
    let stray_dir = dir.path().join("files/ab");
    std::fs::create_dir_all(&stray_dir).unwrap();
    let stray = stray_dir.join("c".repeat(62));
    std::fs::write(&stray, b"left behind by a stop").unwrap();

    assert_eq!(store.sweep_unshared_files().await.unwrap(), 1);
    assert!(!stray.exists());
    assert!(store.file_path(&kept).exists());
    assert_eq!(store.sweep_unshared_files().await.unwrap(), 0);
}
