//! Contact-list changes as every door is told them: which contacts were
//! added, changed and removed, worked out once a save, so that no session
//! keeps a copy of the list to compare (XMPP roster pushes).

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use simul_core::{Event, UserId};
use simul_service::{ContactGroup, ContactList};

/// The `n`th of many different lists: some of six contacts, in one of
/// three groups, some with an alias.
fn list(n: usize) -> ContactList {
    let people = ["bob", "carol", "dave", "erin", "frank", "gina"];
    let contacts = people
        .iter()
        .enumerate()
        .filter(|(bit, _)| (n >> bit) & 1 == 1)
        .map(|(_, id)| (*id).to_owned())
        .collect();
    ContactList {
        groups: vec![ContactGroup { name: format!("Group {}", n % 3), contacts }],
        aliases: if n.is_multiple_of(2) {
            [("bob".to_owned(), format!("Bob {n}"))].into()
        } else {
            Default::default()
        },
    }
}

/// Saves racing each other are told one after the other, each against
/// the list the one before kept: the changes, replayed in the order they
/// came, add up to the list that was kept, and every contact said to
/// have changed was on the list before and after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_saves_are_told_so_that_the_changes_add_up_to_the_list_kept() {
    let dir = tempfile::tempdir().unwrap();
    let service = Arc::new(support::service(&dir).await);
    let (_session, mut events) = service.open_session(&UserId::new("alice"), false).unwrap();

    let saves: Vec<_> = (1..64)
        .map(|n| {
            let service = service.clone();
            tokio::spawn(async move { service.set_contact_list("alice", list(n)).await })
        })
        .collect();
    for save in saves {
        save.await.unwrap().unwrap();
    }

    let mut replayed = BTreeSet::new();
    let mut told = 0;
    while let Ok(event) = events.try_recv() {
        let Event::ContactsChanged { added, changed, removed } = &*event else { continue };
        told += 1;
        for id in added {
            assert!(replayed.insert(id.as_str().to_owned()), "{id} added twice");
        }
        for id in changed {
            assert!(replayed.contains(id.as_str()), "{id} changed but not on the list");
        }
        for id in removed {
            assert!(replayed.remove(id.as_str()), "{id} removed but not on the list");
        }
    }
    assert!(told > 1, "the saves were told");
    let kept = service.contact_list("alice").await.unwrap();
    let kept: BTreeSet<String> = kept.contacts().into_iter().map(str::to_owned).collect();
    assert_eq!(replayed, kept);
}

/// A save that changes nothing tells nobody; one that only renames or
/// moves a contact says so, and nothing else.
#[tokio::test]
async fn a_save_is_told_for_what_it_changed_only() {
    let dir = tempfile::tempdir().unwrap();
    let service = support::service(&dir).await;
    let (_session, mut events) = service.open_session(&UserId::new("alice"), false).unwrap();
    let mut changes = || {
        let mut told = Vec::new();
        while let Ok(event) = events.try_recv() {
            if let Event::ContactsChanged { added, changed, removed } = &*event {
                told.push((added.clone(), changed.clone(), removed.clone()));
            }
        }
        told
    };
    let ids = |ids: &[&str]| ids.iter().map(|id| UserId::new(*id)).collect::<Vec<_>>();

    service.set_contact_list("alice", list(0b11)).await.unwrap();
    assert_eq!(changes(), [(ids(&["bob", "carol"]), ids(&[]), ids(&[]))]);
    service.set_contact_list("alice", list(0b11)).await.unwrap();
    assert_eq!(changes(), [], "the same list again");
    // Another group and no alias: both changed, none added or removed.
    service.set_contact_list("alice", list(0b11 + 64)).await.unwrap();
    assert_eq!(changes(), [(ids(&[]), ids(&["bob", "carol"]), ids(&[]))]);
    service.set_contact_list("alice", ContactList::default()).await.unwrap();
    assert_eq!(changes(), [(ids(&[]), ids(&[]), ids(&["bob", "carol"]))]);
}
