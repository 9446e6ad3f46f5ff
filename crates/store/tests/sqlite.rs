//! The SQLite store against a real database file.

use chrono::{TimeZone, Utc};
use simul_store::{
    AuditEntry, AuditFilter, ContactGroup, ContactList, HistoryPage, NewUser, Page, PageStart,
    Revocation, Store, StoreError, StoredIm,
};

fn alice() -> NewUser {
    NewUser {
        id: "alice".into(),
        display_name: "Alice Anders".into(),
        mail: "alice@example.com".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        scram: String::new(),
    }
}

#[tokio::test]
async fn users_are_created_listed_changed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    store.create_user(&alice()).await.unwrap();
    assert!(
        matches!(store.create_user(&alice()).await, Err(StoreError::UserExists(id)) if id == "alice")
    );
    store.create_user(&NewUser { id: "bob".into(), ..alice() }).await.unwrap();

    let users = store.users().await.unwrap();
    assert_eq!(users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
    let record = store.user("alice").await.unwrap().unwrap();
    assert_eq!(record.display_name, "Alice Anders");
    assert!(!record.disabled);

    store.set_disabled("alice", true).await.unwrap();
    store.set_password_hash("alice", "new-hash", "", false).await.unwrap();
    let record = store.user("alice").await.unwrap().unwrap();
    assert!(record.disabled);
    assert_eq!(record.password_hash, "new-hash");

    let found = store.search_users("ALICE", 10).await.unwrap();
    assert_eq!(
        found.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["bob"],
        "alice is disabled; bob's display name matches"
    );
    store.set_disabled("alice", false).await.unwrap();
    let found = store.search_users("anders", 10).await.unwrap();
    assert_eq!(
        found.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["alice", "bob"],
        "display name matches"
    );
    assert!(store.search_users("%", 10).await.unwrap().is_empty(), "LIKE wildcards are literal");
    assert_eq!(store.search_users("", 1).await.unwrap().len(), 1, "limit");
    store.set_disabled("alice", true).await.unwrap();

    store.remove_user("bob").await.unwrap();
    assert!(store.user("bob").await.unwrap().is_none());
    assert!(matches!(store.remove_user("bob").await, Err(StoreError::NoSuchUser(_))));
    assert!(matches!(store.set_disabled("nobody", true).await, Err(StoreError::NoSuchUser(_))));
}

#[tokio::test]
async fn contact_lists_and_history_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("simul.db");
    let list = ContactList {
        groups: vec![
            ContactGroup { name: "Team".into(), contacts: vec!["bob".into(), "carol".into()] },
            ContactGroup { name: "Partners".into(), contacts: vec![] },
        ],
        aliases: [("bob".to_owned(), "Bobby, of Team".to_owned())].into(),
    };
    {
        let store = Store::open(&path).await.unwrap();
        assert_eq!(store.contact_list("alice").await.unwrap(), ContactList::default());
        store.set_contact_list("alice", &list).await.unwrap();
        for (i, (from, to)) in
            [("alice", "bob"), ("bob", "alice"), ("alice", "carol"), ("alice", "bob")]
                .iter()
                .enumerate()
        {
            let at = Utc.timestamp_opt(1_800_000_000 + i as i64, 0).unwrap();
            let (id, text) = (i as u64 + 1, format!("m{i}"));
            let message = StoredIm::new(id, (*from).into(), (*to).into(), text, at);
            store.append_im(&message, false).await.unwrap();
        }
        store.set_setting("ltpa.realm", "defaultRealm").await.unwrap();
    }
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.contact_list("alice").await.unwrap(), list);
    let history = store.im_history("bob", "alice", 10).await.unwrap();
    assert_eq!(history.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["m0", "m1", "m3"]);
    assert_eq!(history[0].at, Utc.timestamp_opt(1_800_000_000, 0).unwrap());
    let last_two = store.im_history("alice", "bob", 2).await.unwrap();
    assert_eq!(last_two.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["m1", "m3"]);
    assert_eq!(store.setting("ltpa.realm").await.unwrap().as_deref(), Some("defaultRealm"));
    assert_eq!(store.setting("missing").await.unwrap(), None);
}

#[tokio::test]
async fn password_changes_disabling_and_removal_cut_off_earlier_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    store.create_user(&alice()).await.unwrap();
    assert_eq!(store.revocations_after(0).await.unwrap().revocations, []);

    let before = Utc::now().timestamp_millis();
    store.set_password_hash("alice", "new-hash", "", false).await.unwrap();
    let batch = store.revocations_after(0).await.unwrap();
    let [Revocation::User { user, issued_before_ms }] = batch.revocations.as_slice() else {
        panic!("{batch:?}");
    };
    assert_eq!(user, "alice");
    assert!(*issued_before_ms >= before);

    // Enabling cuts nothing off; disabling and removing do, each a new row.
    store.set_disabled("alice", false).await.unwrap();
    assert_eq!(store.revocations_after(batch.last_seq).await.unwrap().revocations, []);
    store.set_disabled("alice", true).await.unwrap();
    store.remove_user("alice").await.unwrap();
    let later = store.revocations_after(batch.last_seq).await.unwrap();
    assert_eq!(later.revocations.len(), 1, "one row per user, the latest: {later:?}");
    assert!(later.last_seq > batch.last_seq);
    // A change of someone who does not exist changes nothing.
    assert!(store.set_password_hash("nobody", "x", "", false).await.is_err());
    assert_eq!(store.revocations_after(later.last_seq).await.unwrap().revocations, []);
}

#[tokio::test]
async fn logged_out_tokens_are_remembered_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    store.revoke_token(&[7; 32], "alice", 1_000).await.unwrap();
    store.revoke_token(&[8; 32], "bob", 5_000).await.unwrap();
    let all = store.revocations_after(0).await.unwrap().revocations;
    assert_eq!(
        all,
        [
            Revocation::Token { digest: [7; 32], user: "alice".into(), expires_ms: 1_000 },
            Revocation::Token { digest: [8; 32], user: "bob".into(), expires_ms: 5_000 }
        ]
    );
    assert_eq!(store.forget_expired_revocations(2_000).await.unwrap(), 1);
    assert_eq!(store.revocations_after(0).await.unwrap().revocations.len(), 1);
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_wal_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("simul.db");
    let store = Store::open(&path).await.unwrap();
    store.create_user(&alice()).await.unwrap();
    for name in ["simul.db", "simul.db-wal", "simul.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
    }
}

#[tokio::test]
async fn a_database_locked_by_another_process_is_busy_for_a_while_then_writable() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("simul.db");
    let store = Store::open(&path).await.unwrap();
    // Another process (a backup, a sqlite3 shell) holds the write lock.
    let mut other =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
    let refused = store.set_setting("k", "v").await.unwrap_err();
    assert_eq!(refused.unavailable(), Some(simul_store::Unavailable::Busy), "{refused}");
    assert!(store.setting("k").await.unwrap().is_none(), "reads go on");
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    store.set_setting("k", "v").await.unwrap();
    assert_eq!(store.setting("k").await.unwrap().as_deref(), Some("v"));
}

/// 1,000 messages of alice's with bob and carol, every third to carol;
/// bob's every fifth sent while he was offline.
async fn conversations(store: &Store) {
    for id in 1..=1_000u64 {
        let (partner, pending) = if id % 3 == 0 { ("carol", false) } else { ("bob", id % 5 == 0) };
        let (from, to) = if id % 2 == 0 { ("alice", partner) } else { (partner, "alice") };
        let at = Utc.timestamp_opt(1_800_000_000 + id as i64, 0).unwrap();
        let message = StoredIm::new(id, from.into(), to.into(), format!("m{id}"), at);
        store.append_im(&message, pending && to == "bob").await.unwrap();
    }
}

fn ids(page: &Page<StoredIm>) -> Vec<u64> {
    page.messages.iter().map(|m| m.id).collect()
}

#[tokio::test]
async fn history_pages_go_back_and_forth_by_id_with_and_without_a_partner() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    conversations(&store).await;
    let with_bob = |from, limit| HistoryPage {
        with: Some("bob".into()),
        from,
        limit,
        ..HistoryPage::default()
    };

    // Scrolling back through the conversation with bob, 100 at a time.
    let mut seen = Vec::new();
    let mut page = store.im_page("alice", &with_bob(PageStart::Newest, 100)).await.unwrap();
    assert_eq!(*ids(&page).last().unwrap(), 1_000);
    loop {
        assert!(ids(&page).windows(2).all(|w| w[0] < w[1]), "oldest first within a page");
        seen.splice(0..0, ids(&page));
        if page.complete {
            break;
        }
        let before = PageStart::Before(page.messages[0].id);
        page = store.im_page("alice", &with_bob(before, 100)).await.unwrap();
    }
    let bob: Vec<u64> = (1..=1_000).filter(|id| id % 3 != 0).collect();
    assert_eq!(seen, bob, "every message with bob once, none with carol");
    // The same from bob's side, forwards.
    let forwards = HistoryPage {
        with: Some("alice".into()),
        from: PageStart::After(990),
        limit: 5,
        ..HistoryPage::default()
    };
    let page = store.im_page("bob", &forwards).await.unwrap();
    assert_eq!((ids(&page), page.complete), (vec![991, 992, 994, 995, 997], false));

    // A whole archive (no partner), bounded by time, from the oldest.
    let whole = HistoryPage {
        start: Some(Utc.timestamp_opt(1_800_000_000 + 996, 0).unwrap()),
        from: PageStart::Oldest,
        limit: 10,
        ..HistoryPage::default()
    };
    let page = store.im_page("alice", &whole).await.unwrap();
    assert_eq!((ids(&page), page.complete), (vec![996, 997, 998, 999, 1_000], true));
    let nobody = HistoryPage { limit: 10, ..HistoryPage::default() };
    let empty = store.im_page("dave", &nobody).await.unwrap();
    assert_eq!(empty, Page { messages: Vec::new(), complete: true });
}

#[tokio::test]
async fn missed_messages_are_taken_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    conversations(&store).await;
    assert_eq!(store.last_message_id().await.unwrap(), 1_000);
    let missed = store.take_missed("bob").await.unwrap();
    let expected: Vec<u64> = (1..=1_000).filter(|id| id % 3 != 0 && id % 10 == 0).collect();
    assert_eq!(missed.iter().map(|m| m.id).collect::<Vec<_>>(), expected);
    assert!(missed.iter().all(|m| m.from == "alice" && m.to == "bob"));
    assert_eq!(store.take_missed("bob").await.unwrap(), [], "taken once");
    assert_eq!(store.take_missed("alice").await.unwrap(), [], "alice missed nothing");
}

#[tokio::test]
async fn the_conversations_list_holds_the_latest_of_many_with_their_unread_counts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    // 500 people write to alice, twice each, in turn; she answers the
    // even ones once; then reads some of them.
    let mut id = 0;
    let mut say = |from: String, to: String| {
        id += 1;
        let at = Utc.timestamp_opt(1_800_000_000 + id as i64, 0).unwrap();
        StoredIm::new(id, from, to, format!("m{id}"), at)
    };
    let mut messages = Vec::new();
    for round in 0..2 {
        for n in 0..500 {
            messages.push(say(format!("person{n}"), "alice".into()));
            if round == 1 && n % 2 == 0 {
                messages.push(say("alice".into(), format!("person{n}")));
            }
        }
    }
    for message in &messages {
        store.append_im(message, false).await.unwrap();
    }
    let last_from =
        |n: usize| messages.iter().rev().find(|m| m.from == format!("person{n}")).unwrap().id;
    store.mark_read("alice", "im:person499", last_from(499)).await.unwrap();
    store.mark_read("alice", "im:person498", last_from(498) - 1).await.unwrap();

    let list = store.im_conversations("alice", 200).await.unwrap();
    assert_eq!(list.len(), 200, "at most the limit");
    let partners: Vec<&str> = list.iter().map(|c| c.with.as_str()).collect();
    let expected: Vec<String> = (300..500).rev().map(|n| format!("person{n}")).collect();
    assert_eq!(partners, expected, "the latest conversations first");
    assert!(list.windows(2).all(|w| w[0].last.id > w[1].last.id));
    let unread = |who: &str| list.iter().find(|c| c.with == who).unwrap().unread;
    assert_eq!((unread("person499"), unread("person498"), unread("person497")), (0, 1, 2));
    // Her own answer is the latest message, and counts for nothing.
    let with_498 = list.iter().find(|c| c.with == "person498").unwrap();
    assert_eq!((with_498.last.from.as_str(), with_498.last.to.as_str()), ("alice", "person498"));
}

#[tokio::test]
async fn the_audit_log_is_read_newest_first_by_actor_action_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    let acts = [
        (1_000, "admin", "disable"),
        (2_000, "Root-Ops", "export-ltpa-keys"),
        (3_000, "admin", "export-ltpa-keys"),
        (4_000, "admin", "enable"),
    ];
    for (at_ms, actor, action) in acts {
        let entry = AuditEntry {
            at_ms,
            actor: actor.into(),
            action: action.into(),
            target: "bob".into(),
            origin: "127.0.0.1".into(),
        };
        store.record_audit(&entry).await.unwrap();
    }
    let read = |actor: &str, action: &str, since_ms: i64, limit: u32| {
        let filter = AuditFilter { since_ms, actor: actor.into(), action: action.into() };
        let store = &store;
        async move {
            let entries = store.audit(&filter, limit).await.unwrap();
            entries.into_iter().map(|entry| entry.at_ms).collect::<Vec<_>>()
        }
    };
    assert_eq!(read("", "", 0, 10).await, [4_000, 3_000, 2_000, 1_000]);
    assert_eq!(read("", "export-ltpa-keys", 0, 10).await, [3_000, 2_000]);
    assert_eq!(read("", "export-ltpa-keys", 0, 1).await, [3_000], "the newest");
    // The actor's id in any case, in part; the action exactly.
    assert_eq!(read("ops", "", 0, 10).await, [2_000]);
    assert_eq!(read("ADMIN", "export-ltpa-keys", 0, 10).await, [3_000]);
    assert!(read("", "export", 0, 10).await.is_empty());
    assert_eq!(read("admin", "", 2_500, 10).await, [4_000, 3_000]);
    // Quotes and wildcards are text, not SQL.
    assert!(read("%' OR 1=1 --", "' OR ''='", 0, 10).await.is_empty());
}
