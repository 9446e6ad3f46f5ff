//! Files in conversations, through the service every door calls: a real
//! store in a temporary directory and the embedded realm.

use std::sync::Arc;

use simul_core::{ChatId, CoreError, Event, UserId};
use simul_directory::EmbeddedRealm;
use simul_service::{FileTarget, Service, ServiceError};
use simul_store::Store;

const LINK: &str = "https://chat.example.com/api/v1/files/";

struct World {
    service: Service,
    _dir: tempfile::TempDir,
}

async fn world(max_bytes: u64) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    let realm = EmbeddedRealm::new(store.clone());
    for name in ["alice", "bob", "carol"] {
        realm.add_user(name, None, None, "a long password").await.unwrap();
    }
    let keys = ltpa::LtpaKeys::generate();
    let service = Service::new(store, Arc::new(realm), keys, "example".into())
        .await
        .unwrap()
        .with_max_file_bytes(max_bytes);
    World { service, _dir: dir }
}

fn user(name: &str) -> UserId {
    UserId::new(name)
}

/// Sends `bytes` as `name` from `from` to `to`.
async fn send(
    service: &Service,
    from: &str,
    to: FileTarget,
    (name, content_type): (&str, &str),
    bytes: &[u8],
) -> Result<simul_service::SentFile, ServiceError> {
    let mut upload = service.file_upload(&user(from), to).await?;
    for piece in bytes.chunks(1000) {
        upload.write(piece).await?;
    }
    service.send_file(&user(from), None, upload, (name, content_type), LINK).await
}

#[tokio::test]
async fn a_1_1_file_reaches_the_recipient_as_a_message_and_only_the_two_may_read_it() {
    let world = world(1 << 20).await;
    let service = &world.service;
    let (_, mut bob_events) = service.open_session(&user("bob"), false).unwrap();
    let bytes = b"quarterly figures".repeat(100);
    let sent = send(service, "alice", FileTarget::Im("bob".into()), ("q3.csv", "text/csv"), &bytes)
        .await
        .unwrap();
    assert_eq!((sent.file.name.as_str(), sent.file.size), ("q3.csv", bytes.len() as u64));
    assert_eq!(sent.file.content_type, "text/csv");

    let event = bob_events.recv().await.unwrap();
    let Event::Im { from, text, file: Some(file), id, .. } = event.as_ref() else {
        panic!("not a file message: {event:?}")
    };
    assert_eq!((from, *id, file), (&user("alice"), sent.id, &sent.file));
    assert_eq!(text, &format!("File: q3.csv (1.7 KB) {LINK}{}", file.id));

    for reader in ["alice", "bob"] {
        let (file, path) = service.file(&user(reader), &sent.file.id).await.unwrap().unwrap();
        assert_eq!(file, sent.file);
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }
    // Not theirs and not there get the same answer.
    assert!(service.file(&user("carol"), &sent.file.id).await.unwrap().is_none());
    assert!(
        service.file(&user("bob"), "0123456789abcdef0123456789abcdef").await.unwrap().is_none()
    );
    assert!(service.file(&user("bob"), "../simul.db").await.unwrap().is_none());

    // History pages find the file by its message.
    let files = service.attachments(&[sent.id.get(), sent.id.get() + 100]).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[&sent.id.get()], sent.file);
}

#[tokio::test]
async fn an_n_way_file_is_for_members_now_and_refused_to_others_before_a_byte() {
    let world = world(1 << 20).await;
    let service = &world.service;
    let chat = service.create_chat(&user("alice"), &[user("bob")], "plans").await.unwrap();
    service.join_chat(&user("bob"), chat).unwrap();
    let (_, mut bob_events) = service.open_session(&user("bob"), false).unwrap();

    // Carol is not in the chat, and a chat that does not exist is the same.
    for target in [chat, ChatId::from_raw(999)] {
        let refused = service.file_upload(&user("carol"), FileTarget::Nway(target)).await;
        assert!(
            matches!(refused, Err(ServiceError::Core(CoreError::NotMember(c))) if c == target),
            "{refused:?}"
        );
    }

    let png = b"\x89PNG\r\n\x1a\n....";
    let sent = send(service, "alice", FileTarget::Nway(chat), ("map.png", "image/png"), png)
        .await
        .unwrap();
    let event = loop {
        let event = bob_events.recv().await.unwrap();
        if matches!(event.as_ref(), Event::NwayMessage { .. }) {
            break event;
        }
    };
    assert!(matches!(event.as_ref(), Event::NwayMessage { file: Some(f), .. } if *f == sent.file));
    assert!(service.file(&user("bob"), &sent.file.id).await.unwrap().is_some());
    assert!(service.file(&user("carol"), &sent.file.id).await.unwrap().is_none());

    // Bob leaves: the chat's files are no longer his.
    service.leave_chat(&user("bob"), chat).unwrap();
    assert!(service.file(&user("bob"), &sent.file.id).await.unwrap().is_none());
    assert!(service.file(&user("alice"), &sent.file.id).await.unwrap().is_some());
}

#[tokio::test]
async fn files_over_the_limit_empty_files_and_unknown_recipients_are_refused() {
    let world = world(10_000).await;
    let service = &world.service;
    let to_bob = || FileTarget::Im("bob".into());
    let over = send(service, "alice", to_bob(), ("big.bin", ""), &[7; 10_001]).await;
    assert!(
        matches!(&over, Err(ServiceError::TooLarge(why)) if why.contains("9.8 KB")),
        "{over:?}"
    );
    let exact = send(service, "alice", to_bob(), ("fits.bin", ""), &[7; 10_000]).await;
    assert_eq!(exact.unwrap().file.size, 10_000);
    let empty = send(service, "alice", to_bob(), ("empty.txt", "text/plain"), b"").await;
    assert!(matches!(empty, Err(ServiceError::Invalid(_))), "{empty:?}");
    let nobody = service.file_upload(&user("alice"), FileTarget::Im("nobody".into())).await;
    assert!(matches!(nobody, Err(ServiceError::NoSuchUser(_))), "{nobody:?}");
}

#[tokio::test]
async fn names_and_types_are_cleaned_and_equal_bytes_are_kept_once() {
    let world = world(1 << 20).await;
    let service = &world.service;
    let cases = [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\a\\report.pdf", "report.pdf"),
        ("line\nbreak\r.txt", "linebreak.txt"),
        ("invoice\u{202e}fdp.exe", "invoicefdp.exe"),
        ("..", "file"),
        (" .hidden ", "hidden"),
        ("\"quoted\" ; name.txt", "\"quoted\" ; name.txt"),
        ("résumé 日本.txt", "résumé 日本.txt"),
    ];
    let mut paths = Vec::new();
    for (given, kept) in cases {
        let target = FileTarget::Im("bob".into());
        let sent = send(service, "alice", target, (given, "TEXT/Plain; charset=utf-8"), b"same")
            .await
            .unwrap();
        assert_eq!(sent.file.name, kept, "{given:?}");
        assert_eq!(sent.file.content_type, "text/plain");
        paths.push(service.file(&user("bob"), &sent.file.id).await.unwrap().unwrap().1);
    }
    paths.dedup();
    assert_eq!(paths.len(), 1, "one copy of the bytes: {paths:?}");
    let long = format!("{}.docx", "x".repeat(500));
    let target = FileTarget::Im("bob".into());
    let sent = send(service, "alice", target, (&long, "not a type"), b"x").await.unwrap();
    assert_eq!(sent.file.name.chars().count(), 200);
    assert!(sent.file.name.ends_with("x.docx"));
    assert_eq!(sent.file.content_type, "application/octet-stream");
}

#[tokio::test]
async fn kept_files_are_the_owners_alone_and_an_abandoned_upload_leaves_nothing() {
    use std::os::unix::fs::PermissionsExt as _;
    let world = world(1 << 20).await;
    let service = &world.service;
    let sent = send(service, "alice", FileTarget::Im("bob".into()), ("a.txt", ""), b"secret")
        .await
        .unwrap();
    let (_, path) = service.file(&user("bob"), &sent.file.id).await.unwrap().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    let files_dir = path.parent().unwrap().parent().unwrap();
    assert_eq!((mode(path.parent().unwrap()), mode(files_dir)), (0o700, 0o700));
    assert_eq!(files_dir.file_name().unwrap(), "files");

    let mut upload =
        service.file_upload(&user("alice"), FileTarget::Im("bob".into())).await.unwrap();
    upload.write(b"half a file").await.unwrap();
    let uploads = files_dir.join("tmp");
    assert_eq!(std::fs::read_dir(&uploads).unwrap().count(), 1);
    drop(upload);
    assert_eq!(std::fs::read_dir(&uploads).unwrap().count(), 0);
}
