//! Files in conversations, through the service every door calls: a real
//! store in a temporary directory and the embedded realm.

use std::sync::Arc;

use simul_core::{ChatId, CoreError, Event, UserId};
use simul_directory::EmbeddedRealm;
use simul_service::{FileTarget, PageStart, Service, ServiceError};
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
    service.join_chat(&user("bob"), chat).await.unwrap();
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
    service.leave_chat(&user("bob"), chat).await.unwrap();
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

/// Uploads `bytes` into a fresh reservation of `from`'s: its file id.
async fn reserve_and_upload(service: &Service, from: &str, bytes: &[u8]) -> String {
    let reservation = service
        .reserve_file(&user(from), "../notes.txt", bytes.len() as u64, "text/plain")
        .await
        .unwrap();
    assert_eq!(reservation.name, "notes.txt");
    let mut upload = service.reserved_upload(&reservation.file, &reservation.secret).await;
    let mut upload = upload.take_ok();
    upload.write(bytes).await.unwrap();
    service.finish_reserved(upload).unwrap();
    reservation.file
}

/// What `Result<Option<T>>` holds, which must be there.
trait TakeOk<T> {
    fn take_ok(&mut self) -> T;
}

impl<T, E: std::fmt::Debug> TakeOk<T> for Result<Option<T>, E> {
    fn take_ok(&mut self) -> T {
        match std::mem::replace(self, Ok(None)) {
            Ok(Some(value)) => value,
            other => panic!("expected a value, got {:?}", other.map(|o| o.is_some())),
        }
    }
}

#[tokio::test]
async fn a_reserved_file_is_sent_by_its_uploader_only_with_the_same_id_and_opens_for_readers() {
    let world = world(1 << 20).await;
    let service = &world.service;
    let file = reserve_and_upload(service, "alice", b"minutes of the meeting").await;

    // Not the uploader: nothing to send (the door sends the text).
    let to_bob = || FileTarget::Im("bob".into());
    let by_carol = service.send_reserved(&user("carol"), None, to_bob(), &file, LINK).await;
    assert!(by_carol.unwrap().is_none());
    let sent = service.send_reserved(&user("alice"), None, to_bob(), &file, LINK).await;
    let sent = sent.unwrap().expect("sent");
    assert_eq!((sent.file.id.as_str(), sent.file.size), (file.as_str(), 22));
    // Once only.
    let again = service.send_reserved(&user("alice"), None, to_bob(), &file, LINK).await;
    assert!(again.unwrap().is_none());

    // Each reader's capability opens it; a non-reader's, or another
    // file's, does not.
    for reader in ["alice", "bob"] {
        let capability = service.file_capability(&file, &user(reader));
        assert!(service.file_by_capability(&file, &capability).await.unwrap().is_some());
    }
    let carols = service.file_capability(&file, &user("carol"));
    assert!(service.file_by_capability(&file, &carols).await.unwrap().is_none());
    let other = reserve_and_upload(service, "bob", b"other").await;
    let bobs = service.file_capability(&other, &user("bob"));
    assert!(service.file_by_capability(&file, &bobs).await.unwrap().is_none());
}

#[tokio::test]
async fn reservations_take_exactly_their_bytes_once_within_the_limits() {
    let world = world(1000).await;
    let service = &world.service;
    let alice = user("alice");
    assert!(matches!(
        service.reserve_file(&alice, "a", 0, "").await,
        Err(ServiceError::Invalid(_))
    ));
    assert!(matches!(
        service.reserve_file(&alice, "a", 1001, "").await,
        Err(ServiceError::TooLarge(_))
    ));

    // A wrong secret opens nothing; the right one opens once.
    let reservation = service.reserve_file(&alice, "a", 10, "").await.unwrap();
    let wrong = service.reserved_upload(&reservation.file, &"0".repeat(64)).await.unwrap();
    assert!(wrong.is_none());
    let mut upload =
        service.reserved_upload(&reservation.file, &reservation.secret).await.take_ok();
    let twice = service.reserved_upload(&reservation.file, &reservation.secret).await.unwrap();
    assert!(twice.is_none());
    // More than reserved is refused; fewer spends the reservation.
    assert!(matches!(upload.write(&[1; 11]).await, Err(ServiceError::TooLarge(_))));
    upload.write(&[1; 5]).await.unwrap();
    assert!(matches!(service.finish_reserved(upload), Err(ServiceError::Invalid(_))));
    let to_bob = FileTarget::Im("bob".into());
    let gone = service.send_reserved(&alice, None, to_bob, &reservation.file, LINK).await;
    assert!(gone.unwrap().is_none());

    // At most 8 at once per user (the spent one is gone).
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(service.reserve_file(&alice, "a", 10, "").await.unwrap());
    }
    assert_eq!(held.len(), 8);
    let refused = service.reserve_file(&alice, "a", 10, "").await.unwrap_err();
    assert!(refused.to_string().contains("too many uploads under way"), "{refused}");
    assert!(service.reserve_file(&user("bob"), "a", 10, "").await.is_ok());
}

#[tokio::test]
async fn a_chat_stays_with_those_who_took_part_after_a_restart_until_they_leave_it() {
    let world = world(1 << 20).await;
    let service = &world.service;
    let chat = service.create_chat(&user("alice"), &[user("bob")], "plans").await.unwrap();
    service.join_chat(&user("bob"), chat).await.unwrap();
    service.post_to_chat(&user("bob"), chat, "the plan is ready".into()).await.unwrap();
    let to_chat = FileTarget::Nway(chat);
    let sent = send(service, "alice", to_chat, ("plan.txt", "text/plain"), b"the plan").await;
    let file = sent.unwrap().file;

    // A restart ends every chat; alice and bob keep it to read, not to write to.
    let store = Store::open(&world._dir.path().join("simul.db")).await.unwrap();
    let realm = Arc::new(EmbeddedRealm::new(store.clone()));
    let keys = ltpa::LtpaKeys::generate();
    let after = Service::new(store, realm, keys, "example".into()).await.unwrap();
    for reader in ["alice", "bob"] {
        let list = after.conversations(&user(reader)).await.unwrap();
        let entry = list.iter().find(|c| c.conversation.to_string() == format!("nway:{chat}"));
        let entry = entry.unwrap_or_else(|| panic!("{reader}: {list:?}"));
        assert!(!entry.member);
        assert_eq!(entry.topic, "plans");
        let page = after.chat_page(&user(reader), chat, PageStart::Newest, 10).await.unwrap();
        assert_eq!(page.messages.len(), 2);
        assert!(after.file(&user(reader), &file.id).await.unwrap().is_some());
    }
    let written = after.post_to_chat(&user("alice"), chat, "more".into()).await;
    assert!(written.is_err(), "an ended chat takes no message");

    // Carol never took part: nothing, as for a chat that does not exist.
    assert!(after.conversations(&user("carol")).await.unwrap().is_empty());
    assert!(after.chat_page(&user("carol"), chat, PageStart::Newest, 10).await.is_err());
    assert!(after.file(&user("carol"), &file.id).await.unwrap().is_none());

    // Leaving takes it away (once).
    after.leave_chat(&user("bob"), chat).await.unwrap();
    assert!(after.conversations(&user("bob")).await.unwrap().is_empty());
    assert!(after.chat_page(&user("bob"), chat, PageStart::Newest, 10).await.is_err());
    assert!(after.file(&user("bob"), &file.id).await.unwrap().is_none());
    assert!(after.leave_chat(&user("bob"), chat).await.is_err());
    assert!(after.file(&user("alice"), &file.id).await.unwrap().is_some());
}
