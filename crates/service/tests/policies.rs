//! Policies through the service every door calls, and through the
//! administrators' functions that `simul policy` and the console call: a
//! real store in a temporary directory and the embedded realm (letting
//! strangers in, so that the `anonymous` policy has someone to apply to).

use std::sync::Arc;

use chrono::{Duration, Utc};
use simul_core::UserId;
use simul_directory::EmbeddedRealm;
use simul_service::policy::{Assignee, Setting};
use simul_service::{
    Actor, ContactGroup, ContactList, FileTarget, HistoryPage, Policies, SearchPage, Service,
    ServiceError,
};
use simul_store::{Store, StoredIm};

struct World {
    service: Service,
    /// A second handle on the store, as a command beside the server has.
    store: Store,
    realm: EmbeddedRealm,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("simul.db");
        let store = Store::open(&path).await.unwrap();
        let realm = EmbeddedRealm::new(store.clone()).accepting_strangers(true);
        for name in ["alice", "bob", "carol"] {
            realm.add_user(name, None, None, "a long password").await.unwrap();
        }
        let service =
            Service::new(store, Arc::new(realm), ltpa::LtpaKeys::generate(), "example".into())
                .await
                .unwrap();
        // What `simul policy` opens: its own store and realm.
        let store = Store::open(&path).await.unwrap();
        let realm = EmbeddedRealm::new(store.clone());
        Self { service, store, realm, _dir: dir }
    }

    /// The command line's functions.
    fn command(&self) -> Policies<'_> {
        Policies::new(&self.store, &self.realm)
    }
}

fn admin() -> Actor {
    Actor { who: "root (system user)".into(), origin: "command line".into() }
}

fn user(name: &str) -> UserId {
    UserId::new(name)
}

/// The sentence of the [`ServiceError::Invalid`] in `result`.
fn invalid<T: std::fmt::Debug>(result: Result<T, ServiceError>) -> String {
    match result {
        Err(ServiceError::Invalid(sentence)) => sentence,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// The policy refusal in `result`.
fn refusal<T: std::fmt::Debug>(
    result: Result<T, ServiceError>,
) -> simul_service::policy::PolicyRefusal {
    match result {
        Err(ServiceError::Policy(refusal)) => refusal,
        other => panic!("expected a policy refusal, got {other:?}"),
    }
}

/// The refusal of a 1:1 message to someone outside the directory, once
/// the running server sees a command's change: messages go by the
/// policies read within the last second (`PolicyCache::recent`), so this
/// sends until refused, for at most three seconds.
async fn message_refused_soon(
    service: &Service,
    from: &str,
    to: &str,
) -> simul_service::policy::PolicyRefusal {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        match service.send_im(&user(from), None, to, "hello".into()).await {
            Err(ServiceError::Policy(refusal)) => return refusal,
            Ok(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => panic!("expected a policy refusal within 3 s, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_command_forbids_nway_chats_and_the_heaviest_assigned_policy_allows_them_again() {
    let world = World::new().await;
    let service = &world.service;
    service.create_chat(&user("alice"), &[user("bob")], "before").await.unwrap();

    // A command beside the server: the server applies it at its next check.
    world.command().set(&admin(), "default", &["nway_chat=no"]).await.unwrap();
    let refused = refusal(service.create_chat(&user("alice"), &[user("bob")], "t").await);
    assert_eq!(refused.policy, "default");
    assert_eq!(refused.setting, Setting::NwayChat);
    assert_eq!(refused.message, "the policy `default` does not allow n-way chats (nway_chat)");

    let created = world.command().set(&admin(), "chatters", &["nway_chat=yes"]).await.unwrap();
    assert!(created);
    let forbidding = world.command().set(&admin(), "quiet", &["nway_chat=no"]).await.unwrap();
    assert!(forbidding);
    world.command().assign(&admin(), "quiet", Assignee::User("alice".into()), 1).await.unwrap();
    world
        .command()
        .assign(&admin(), "chatters", Assignee::User("ALICE".into()), 5)
        .await
        .expect("any spelling the directory knows");
    let chat = service.create_chat(&user("alice"), &[user("bob")], "allowed").await.unwrap();
    // Bob is on `default`: he may not invite into alice's chat either.
    service.join_chat(&user("bob"), chat).await.unwrap();
    let refused = refusal(service.invite(&user("bob"), chat, &[user("carol")]).await);
    assert_eq!(refused.policy, "default");

    // Heavier `quiet` now wins for alice; its refusal names it.
    world.command().assign(&admin(), "quiet", Assignee::User("alice".into()), 9).await.unwrap();
    let refused = refusal(service.invite(&user("alice"), chat, &[user("carol")]).await);
    assert_eq!(refused.policy, "quiet");

    // Removing it gives alice `chatters` back.
    world.command().remove(&admin(), "quiet").await.unwrap();
    service.invite(&user("alice"), chat, &[user("carol")]).await.unwrap();

    let book = world.command().book().await.unwrap();
    let names: Vec<&str> = book.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["anonymous", "chatters", "default"]);
    let audit =
        service.administration().audit(&simul_service::AuditFilter::default()).await.unwrap();
    let acts: Vec<(&str, &str)> =
        audit.iter().rev().map(|e| (e.action.as_str(), e.target.as_str())).collect();
    assert_eq!(
        acts,
        [
            ("policy-set", "default nway_chat=no"),
            ("policy-create", "chatters nway_chat=yes"),
            ("policy-create", "quiet nway_chat=no"),
            ("policy-assign", "quiet to user alice weight 1"),
            ("policy-assign", "chatters to user alice weight 5"),
            ("policy-assign", "quiet to user alice weight 9"),
            ("policy-remove", "quiet"),
        ]
    );
}

#[tokio::test]
async fn bad_input_names_the_fix_and_changes_nothing() {
    let world = World::new().await;
    let command = world.command();
    let before = command.book().await.unwrap();
    // One bad pair among good ones: none is kept.
    let sentence =
        invalid(command.set(&admin(), "default", &["max_contacts=5", "nway_chat=maybe"]).await);
    assert!(sentence.contains("nway_chat takes yes or no, for example nway_chat=no"), "{sentence}");
    let sentence = invalid(command.set(&admin(), "default", &["nwaychat=no"]).await);
    assert!(sentence.contains("no setting `nwaychat`; the keys are external_chat"), "{sentence}");
    let sentence = invalid(command.set(&admin(), "default", &["nway_chat"]).await);
    assert!(sentence.contains("write KEY=VALUE"), "{sentence}");
    let sentence = invalid(command.set(&admin(), "team one", &["nway_chat=no"]).await);
    assert!(sentence.contains("letters, digits"), "{sentence}");
    let sentence = invalid(command.set(&admin(), "default", &["max_file_mb=-3"]).await);
    assert!(sentence.contains("`unlimited`"), "{sentence}");
    let empty: [&str; 0] = [];
    let sentence = invalid(command.set(&admin(), "default", &empty).await);
    assert!(sentence.contains("at least one setting"), "{sentence}");

    // Built-in policies are neither assigned nor removed; unknown ones
    // are named with the way to create them.
    let alice = || Assignee::User("alice".into());
    let sentence = invalid(command.assign(&admin(), "default", alice(), 1).await);
    assert!(sentence.contains("built in"), "{sentence}");
    let sentence = invalid(command.remove(&admin(), "anonymous").await);
    assert!(sentence.contains("built in"), "{sentence}");
    let sentence = invalid(command.assign(&admin(), "nosuch", alice(), 1).await);
    assert!(sentence.contains("simul policy set nosuch KEY=VALUE"), "{sentence}");

    command.set(&admin(), "team", &["nway_chat=no"]).await.unwrap();
    let after_create = command.book().await.unwrap();
    let nobody = command.assign(&admin(), "team", Assignee::User("mallory".into()), 1).await;
    assert!(matches!(nobody, Err(ServiceError::NoSuchUser(_))), "{nobody:?}");
    let sentence = invalid(command.assign(&admin(), "team", Assignee::Group(" ".into()), 1).await);
    assert!(sentence.contains("--group cn="), "{sentence}");
    assert_eq!(command.book().await.unwrap(), after_create, "refusals changed nothing");
    assert_eq!(before.policies.len() + 1, after_create.policies.len());
    let audit =
        world.service.administration().audit(&simul_service::AuditFilter::default()).await.unwrap();
    assert_eq!(audit.len(), 1, "only the creation is in the audit log: {audit:?}");
}

#[tokio::test]
async fn contact_lists_stop_at_max_contacts_but_may_always_shrink() {
    let world = World::new().await;
    let service = &world.service;
    let list = |contacts: &[&str]| ContactList {
        groups: vec![ContactGroup {
            name: "Work".into(),
            contacts: contacts.iter().map(|c| (*c).to_owned()).collect(),
        }],
        ..ContactList::default()
    };
    service.set_contact_list("alice", list(&["bob", "carol", "dave"])).await.unwrap();
    world.command().set(&admin(), "default", &["max_contacts=2"]).await.unwrap();
    let refused =
        refusal(service.set_contact_list("alice", list(&["bob", "carol", "dave", "eve"])).await);
    assert_eq!(refused.message, "the policy `default` allows at most 2 contacts (max_contacts)");
    // Over the lowered limit: shrinking is kept, growing is not.
    service.set_contact_list("alice", list(&["bob", "carol"])).await.unwrap();
    refusal(service.set_contact_list("alice", list(&["bob", "carol", "dave"])).await);
    assert_eq!(service.contact_list("alice").await.unwrap().contacts(), ["bob", "carol"]);
}

#[tokio::test]
async fn files_follow_file_transfer_and_max_file_mb_on_every_way_in() {
    let world = World::new().await;
    let service = &world.service;
    let to_bob = || FileTarget::Im("bob".into());
    let allowance = service.file_allowance(&user("alice")).await.unwrap();
    assert_eq!((allowance.max_bytes, allowance.policy), (service.max_file_bytes(), None));
    world.command().set(&admin(), "default", &["max_file_mb=1"]).await.unwrap();
    // What a client is told before it sends: the policy's limit, named.
    let allowance = service.file_allowance(&user("alice")).await.unwrap();
    assert_eq!(allowance.max_bytes, 1024 * 1024);
    assert_eq!((allowance.allowed, allowance.policy.as_deref()), (true, Some("default")));
    // A form upload stops at the policy's size, with the policy's refusal.
    let mut upload = service.file_upload(&user("alice"), to_bob()).await.unwrap();
    upload.write(&vec![0; 1024 * 1024]).await.unwrap();
    let refused = refusal(upload.write(b"one byte more").await);
    assert_eq!(refused.message, "the policy `default` allows files of at most 1 MB (max_file_mb)");
    // A reservation (XMPP) and a size known first (VP) are refused alike.
    refusal(service.reserve_file(&user("alice"), "a", 2 * 1024 * 1024, "").await);
    refusal(service.check_file_size(&user("alice"), 2 * 1024 * 1024).await);
    service.check_file_size(&user("alice"), 1024).await.unwrap();

    world.command().set(&admin(), "default", &["file_transfer=no"]).await.unwrap();
    let refused = refusal(service.file_upload(&user("alice"), to_bob()).await);
    assert_eq!(refused.setting, Setting::FileTransfer);
    refusal(service.reserve_file(&user("alice"), "a", 10, "").await);
    let allowance = service.file_allowance(&user("alice")).await.unwrap();
    assert_eq!((allowance.max_bytes, allowance.allowed), (0, false));
}

#[tokio::test]
async fn people_outside_the_directory_get_anonymous_and_external_chat_guards_them() {
    let world = World::new().await;
    let service = &world.service;
    // A stranger (let in by an SSO token) may write, by default.
    service.send_im(&user("alice"), None, "visitor", "hello".into()).await.unwrap();
    world.command().set(&admin(), "default", &["external_chat=no"]).await.unwrap();
    let refused = message_refused_soon(service, "alice", "visitor").await;
    assert_eq!(
        refused.message,
        "the policy `default` does not allow messages to people outside the directory \
         (external_chat)"
    );
    // Within the directory nothing changes.
    service.send_im(&user("alice"), None, "bob", "hi".into()).await.unwrap();
    // Inviting the stranger is external too.
    let refused = refusal(service.create_chat(&user("alice"), &[user("visitor")], "t").await);
    assert_eq!(refused.setting, Setting::ExternalChat);

    // The stranger's own policy is `anonymous`, whatever `default` says.
    world.command().set(&admin(), "anonymous", &["file_transfer=no"]).await.unwrap();
    let refused =
        refusal(service.file_upload(&user("visitor"), FileTarget::Im("alice".into())).await);
    assert_eq!((refused.policy.as_str(), refused.setting), ("anonymous", Setting::FileTransfer));
    service.file_upload(&user("alice"), FileTarget::Im("bob".into())).await.unwrap();
    let effective = service.effective_policy(&user("visitor")).await.unwrap();
    assert_eq!(effective.policy, "anonymous");
}

#[tokio::test]
async fn one_custom_policy_against_strangers_is_enough_to_guard_its_people() {
    let world = World::new().await;
    let service = &world.service;
    // `default` and `anonymous` let everyone write outside the directory;
    // only the contractors' policy does not.
    world.command().set(&admin(), "contractors", &["external_chat=no"]).await.unwrap();
    let to = Assignee::User("alice".into());
    world.command().assign(&admin(), "contractors", to, 5).await.unwrap();
    let refused = message_refused_soon(service, "alice", "visitor").await;
    assert_eq!((refused.policy.as_str(), refused.setting), ("contractors", Setting::ExternalChat));
    service.send_im(&user("bob"), None, "visitor", "hi".into()).await.unwrap();
    service.send_im(&user("alice"), None, "bob", "hi".into()).await.unwrap();
}

#[tokio::test]
async fn history_days_hides_older_messages_on_every_history() {
    let world = World::new().await;
    let service = &world.service;
    // An id past any the server hands out now (it continues after the
    // store's last at its start).
    let old = StoredIm::new(
        1 << 40,
        "alice".into(),
        "bob".into(),
        "long ago".into(),
        Utc::now() - Duration::days(40),
    );
    world.store.append_im(&old, false).await.unwrap();
    service.send_im(&user("alice"), None, "bob", "today".into()).await.unwrap();
    let chat = service.create_chat(&user("alice"), &[], "t").await.unwrap();
    service.post_to_chat(&user("alice"), chat, "today in the chat".into()).await.unwrap();
    let page = HistoryPage { with: Some("bob".into()), limit: 50, ..HistoryPage::default() };
    let texts = |messages: Vec<StoredIm>| {
        let mut texts: Vec<String> = messages.into_iter().map(|m| m.text).collect();
        texts.sort();
        texts
    };
    assert_eq!(
        texts(service.im_page("alice", &page).await.unwrap().messages),
        ["long ago", "today"]
    );
    let search = |query: &'static str| async move {
        let page = SearchPage { before: None, limit: 10 };
        let hits = service.search_messages(&user("alice"), query, page).await.unwrap();
        hits.into_iter().map(|hit| hit.text).collect::<Vec<_>>()
    };
    assert_eq!(search("long").await, ["long ago"]);

    world.command().set(&admin(), "default", &["history_days=30"]).await.unwrap();
    let shown = service.im_page("alice", &page).await.unwrap();
    assert_eq!(texts(shown.messages), ["today"]);
    // Search shows no more than the history does, nor the recent chats.
    assert!(search("long").await.is_empty());
    // (The old message's id is the highest, so it is the 1:1 conversation's
    // last: too old to show, and the conversation with it.)
    let recent = service.conversations(&user("alice")).await.unwrap();
    assert!(recent.iter().all(|c| c.last.as_ref().is_none_or(|m| m.text != "long ago")));
    assert_eq!(recent.len(), 1, "the chat only: {recent:?}");
    assert_eq!(search("today").await, ["today in the chat", "today"]);
    // Asking for an older window does not widen the policy's.
    let wider = HistoryPage { start: Some(Utc::now() - Duration::days(365)), ..page.clone() };
    assert_eq!(texts(service.im_page("alice", &wider).await.unwrap().messages), ["today"]);
    let start = simul_service::PageStart::Newest;
    assert_eq!(service.chat_page(&user("alice"), chat, start, 10).await.unwrap().messages.len(), 1);
    world.command().set(&admin(), "default", &["history_days=0"]).await.unwrap();
    assert!(service.im_page("alice", &page).await.unwrap().messages.is_empty());
    // No past at all: the 1:1 conversation is left out, the open chat stays bare.
    let recent = service.conversations(&user("alice")).await.unwrap();
    assert_eq!(recent.len(), 1, "{recent:?}");
    assert!(recent[0].last.is_none() && recent[0].member);
    assert!(service.chat_page(&user("alice"), chat, start, 10).await.unwrap().messages.is_empty());
}

#[tokio::test]
async fn an_assignment_is_taken_away_and_its_user_is_back_on_default() {
    let world = World::new().await;
    let service = &world.service;
    let command = world.command();
    command.set(&admin(), "default", &["nway_chat=no"]).await.unwrap();
    command.set(&admin(), "managers", &["nway_chat=yes"]).await.unwrap();
    command.assign(&admin(), "managers", Assignee::User("alice".into()), 5).await.unwrap();
    command
        .assign(&admin(), "managers", Assignee::Group("cn=Staff,o=acme".into()), 1)
        .await
        .unwrap();
    service.create_chat(&user("alice"), &[], "allowed").await.unwrap();

    let taken = command.unassign(&admin(), "managers", Assignee::User("alice".into())).await;
    assert_eq!(taken.unwrap(), Assignee::User("alice".into()));
    refusal(service.create_chat(&user("alice"), &[], "refused").await);
    // A group DN in another case is the same group.
    command
        .unassign(&admin(), "managers", Assignee::Group("CN=staff,O=ACME".into()))
        .await
        .unwrap();
    assert_eq!(command.book().await.unwrap().assigned("managers").count(), 0);

    // Not assigned, or not a custom policy: a sentence, nothing changes.
    let sentence =
        invalid(command.unassign(&admin(), "managers", Assignee::User("bob".into())).await);
    assert!(sentence.contains("is not assigned to user bob"), "{sentence}");
    let sentence =
        invalid(command.unassign(&admin(), "default", Assignee::User("bob".into())).await);
    assert!(sentence.contains("built in"), "{sentence}");
    let audit = simul_service::Administration::new(&world.store, &world.realm);
    let filter =
        simul_service::AuditFilter { action: "policy-unassign".into(), ..Default::default() };
    let entries = audit.audit(&filter).await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].target, "managers from user alice");
}
