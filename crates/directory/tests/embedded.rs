//! The embedded realm over a real SQLite store.

use simul_directory::{DirectoryError, EmbeddedRealm};
use simul_store::{Store, StoreError};

async fn realm() -> (tempfile::TempDir, EmbeddedRealm) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    (dir, EmbeddedRealm::new(store))
}

#[tokio::test]
async fn users_log_in_with_their_password_only() {
    let (_dir, realm) = realm().await;
    let alice = realm
        .add_user("Alice", Some("Alice Anders"), Some("alice@example.com"), "correct horse")
        .await
        .unwrap();
    assert_eq!((alice.id.as_str(), alice.display_name.as_str()), ("alice", "Alice Anders"));
    assert!(alice.password_hash.starts_with("$argon2id$"), "{}", alice.password_hash);

    assert_eq!(realm.authenticate("ALICE", "correct horse").await.unwrap().unwrap().id, "alice");
    assert!(realm.authenticate("alice", "wrong horse").await.unwrap().is_none());
    assert!(realm.authenticate("nobody", "correct horse").await.unwrap().is_none());
    assert!(realm.authenticate("not a name!", "correct horse").await.unwrap().is_none());

    realm.set_password("alice", "battery staple").await.unwrap();
    assert!(realm.authenticate("alice", "correct horse").await.unwrap().is_none());
    assert!(realm.authenticate("alice", "battery staple").await.unwrap().is_some());

    realm.set_disabled("alice", true).await.unwrap();
    assert!(realm.authenticate("alice", "battery staple").await.unwrap().is_none(), "disabled");
    realm.set_disabled("alice", false).await.unwrap();
    assert!(realm.authenticate("alice", "battery staple").await.unwrap().is_some());

    realm.remove("alice").await.unwrap();
    assert!(realm.user("alice").await.unwrap().is_none());
}

#[tokio::test]
async fn bad_requests_are_refused_with_the_reason() {
    let (_dir, realm) = realm().await;
    assert!(matches!(
        realm.add_user("bob", None, None, "short").await,
        Err(DirectoryError::WeakPassword)
    ));
    assert!(matches!(
        realm.add_user("b b", None, None, "long enough").await,
        Err(DirectoryError::InvalidName(_))
    ));
    let bob = realm.add_user("bob", None, None, "long enough").await.unwrap();
    assert_eq!(bob.display_name, "bob", "display name defaults to the login name");
    assert!(matches!(
        realm.add_user("BOB", None, None, "long enough").await,
        Err(DirectoryError::Store(StoreError::UserExists(_)))
    ));
    assert!(matches!(
        realm.remove("carol").await,
        Err(DirectoryError::Store(StoreError::NoSuchUser(_)))
    ));
}

#[tokio::test]
async fn a_one_time_password_is_replaced_by_its_owner() {
    let (_dir, realm) = realm().await;
    realm.add_user("admin", None, None, "printed once").await.unwrap();
    realm.require_password_change("admin").await.unwrap();
    assert!(realm.user("admin").await.unwrap().unwrap().must_change_password);

    let wrong = realm.change_password("admin", "not the one", "my own secret").await;
    assert!(matches!(wrong, Err(DirectoryError::WrongPassword)), "{wrong:?}");
    let same = realm.change_password("admin", "printed once", "printed once").await;
    assert!(matches!(same, Err(DirectoryError::SamePassword)), "{same:?}");
    let weak = realm.change_password("admin", "printed once", "short").await;
    assert!(matches!(weak, Err(DirectoryError::WeakPassword)), "{weak:?}");
    assert!(realm.user("admin").await.unwrap().unwrap().must_change_password, "still pending");

    realm.change_password("admin", "printed once", "my own secret").await.unwrap();
    let admin = realm.authenticate("admin", "my own secret").await.unwrap().unwrap();
    assert!(!admin.must_change_password, "changed");
    assert!(realm.authenticate("admin", "printed once").await.unwrap().is_none());
}

#[tokio::test]
async fn front_doors_see_the_embedded_realm_through_the_realm_trait() {
    use simul_directory::Realm;
    let (_dir, embedded) = realm().await;
    embedded
        .add_user("alice", Some("Alice Anders"), Some("alice@example.com"), "correct horse")
        .await
        .unwrap();
    embedded.add_user("bob", Some("Bob Builder"), None, "battery staple").await.unwrap();
    embedded.set_disabled("bob", true).await.unwrap();
    let realm: std::sync::Arc<dyn Realm> = std::sync::Arc::new(embedded);

    let alice = realm.authenticate("Alice", "correct horse").await.unwrap().unwrap();
    assert_eq!((alice.id.as_str(), alice.mail.as_str()), ("alice", "alice@example.com"));
    assert!(realm.authenticate("alice", "wrong").await.unwrap().is_none());
    assert!(realm.authenticate("bob", "battery staple").await.unwrap().is_none(), "disabled");
    assert!(realm.person("bob").await.unwrap().unwrap().disabled, "looked up, disabled");
    assert!(realm.person("nobody").await.unwrap().is_none());
    let found: Vec<String> =
        realm.search("  ALI ", 10).await.unwrap().into_iter().map(|p| p.id).collect();
    assert_eq!(found, ["alice"]);
    assert!(realm.search("bob", 10).await.unwrap().is_empty(), "disabled people are not found");
    realm.change_password("alice", "correct horse", "new and long").await.unwrap();
    assert!(realm.authenticate("alice", "new and long").await.unwrap().is_some());
}

#[tokio::test]
async fn people_are_found_by_mail_when_it_is_theirs_alone() {
    let (_dir, realm) = realm().await;
    realm.add_user("alice", None, Some("Alice@Example.com"), "correct horse").await.unwrap();
    realm.add_user("bob", None, Some("team@example.com"), "correct horse").await.unwrap();
    realm.add_user("carol", None, Some("team@example.com"), "correct horse").await.unwrap();
    assert_eq!(realm.user("alice@example.COM").await.unwrap().unwrap().id, "alice");
    assert!(realm.user("team@example.com").await.unwrap().is_none(), "shared by two");
    assert!(realm.user("nobody@example.com").await.unwrap().is_none());
    assert!(realm.user("").await.unwrap().is_none());
}

#[tokio::test]
async fn scram_credentials_follow_the_password_and_come_at_the_next_login() {
    use simul_directory::scram::{ScramCredentials, ScramHash};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
    let realm = EmbeddedRealm::new(store.clone());
    realm.add_user("alice", None, None, "long enough").await.unwrap();
    let matches = |credentials: &ScramCredentials, password: &str| {
        let again = ScramCredentials::derive(
            credentials.hash,
            password,
            &credentials.salt,
            credentials.iterations,
        );
        again.as_ref() == Some(credentials)
    };
    let (_, sha256) = realm.scram("alice", ScramHash::Sha256).await.unwrap().unwrap();
    assert!(matches(&sha256, "long enough"));
    realm.set_password("alice", "another long one").await.unwrap();
    let (_, sha1) = realm.scram("alice", ScramHash::Sha1).await.unwrap().unwrap();
    assert!(matches(&sha1, "another long one") && !matches(&sha1, "long enough"));

    // A user from before SCRAM (no credentials): they come with a login.
    let hash = store.user("alice").await.unwrap().unwrap().password_hash;
    store.set_password_hash("alice", &hash, "", false).await.unwrap();
    assert!(realm.scram("alice", ScramHash::Sha256).await.unwrap().is_none());
    assert!(realm.authenticate("alice", "another long one").await.unwrap().is_some());
    let (_, filled) = realm.scram("alice", ScramHash::Sha256).await.unwrap().unwrap();
    assert!(matches(&filled, "another long one"));
    assert!(realm.scram("nobody", ScramHash::Sha256).await.unwrap().is_none());
}
