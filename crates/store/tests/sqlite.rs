//! The SQLite store against a real database file.

use chrono::{TimeZone, Utc};
use simul_store::{ContactGroup, ContactList, NewUser, Revocation, Store, StoreError, StoredIm};

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
            let message =
                StoredIm { from: (*from).into(), to: (*to).into(), text: format!("m{i}"), at };
            store.append_im(&message).await.unwrap();
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
