//! The roster is the user's contact list (RFC 6121 §2), the one the web
//! and Sametime clients show and edit: a contact in several groups is
//! one item with several groups; its alias is the item's name. Inside
//! the community everyone may see everyone's presence, as in Sametime,
//! so every item is `subscription="both"`.

use std::collections::{HashMap, HashSet};

use simul_core::UserId;
use simul_service::{ContactGroup, ContactList};
use tokio_xmpp::parsers::roster::{Group, Item, Roster, Subscription};

use crate::jid::jid_of;

/// The group a contact added without one goes into (a contact list has
/// no ungrouped contacts).
pub(crate) const DEFAULT_GROUP: &str = "Contacts";

/// The roster of a contact list: one pass over its groups, whatever
/// their size (2,000 contacts is one list).
pub(crate) fn roster_of(list: &ContactList, domain: &str) -> Roster {
    Roster { ver: None, items: items_of(list, domain, |_| true) }
}

/// The roster items of the contacts of `list` that are `wanted`, in the
/// list's order.
fn items_of(list: &ContactList, domain: &str, wanted: impl Fn(&str) -> bool) -> Vec<Item> {
    let mut groups_of: HashMap<&str, Vec<Group>> = HashMap::new();
    for group in &list.groups {
        for id in group.contacts.iter().filter(|id| wanted(id)) {
            groups_of.entry(id).or_default().push(Group(group.name.clone()));
        }
    }
    list.contacts()
        .into_iter()
        .filter(|id| wanted(id))
        .filter_map(|id| item(list, id, groups_of.remove(id).unwrap_or_default(), domain))
        .collect()
}

/// The roster item of contact `id` (none for an id no JID can hold).
fn item(list: &ContactList, id: &str, groups: Vec<Group>, domain: &str) -> Option<Item> {
    Some(Item {
        jid: jid_of(id, domain)?,
        name: list.aliases.get(id).cloned(),
        subscription: Subscription::Both,
        ask: Default::default(),
        groups,
        approved: None,
    })
}

/// The roster pushes (RFC 6121 §2.1.6) of a change to the list that is
/// now `list`, whose contacts are `listed`: each `added` or `changed`
/// contact as it is now, each `removed` one as `subscription="remove"`.
/// A contact the list no longer says that of was changed again since,
/// and that change's own pushes say so.
pub(crate) fn pushes(
    list: &ContactList,
    listed: &HashSet<&str>,
    added: &[UserId],
    changed: &[UserId],
    removed: &[UserId],
    domain: &str,
) -> Vec<Item> {
    let told: HashSet<&str> = added.iter().chain(changed).map(UserId::as_str).collect();
    let mut items = items_of(list, domain, |id| told.contains(id));
    let gone = removed.iter().map(UserId::as_str).filter(|id| !listed.contains(id));
    items.extend(gone.filter_map(|id| {
        Some(Item {
            jid: jid_of(id, domain)?,
            name: None,
            subscription: Subscription::Remove,
            ask: Default::default(),
            groups: Vec::new(),
            approved: None,
        })
    }));
    items
}

/// `list` with contact `id` as a roster set gives it: in exactly the
/// `groups` named (the default group if none), with `name` as its alias.
pub(crate) fn set_contact(list: &mut ContactList, id: &str, name: Option<&str>, groups: &[Group]) {
    let wanted: Vec<&str> = if groups.is_empty() {
        vec![DEFAULT_GROUP]
    } else {
        groups.iter().map(|group| group.0.as_str()).collect()
    };
    for group in &mut list.groups {
        let in_it = group.contacts.iter().any(|c| c == id);
        let wanted_here = wanted.contains(&group.name.as_str());
        if in_it && !wanted_here {
            group.contacts.retain(|c| c != id);
        } else if !in_it && wanted_here {
            group.contacts.push(id.to_owned());
        }
    }
    for name in wanted {
        if !list.groups.iter().any(|group| group.name == name) {
            let group = ContactGroup { name: name.to_owned(), contacts: vec![id.to_owned()] };
            list.groups.push(group);
        }
    }
    match name.map(str::trim).filter(|name| !name.is_empty()) {
        Some(name) => list.aliases.insert(id.to_owned(), name.to_owned()),
        None => list.aliases.remove(id),
    };
}

/// `list` without contact `id` (RFC 6121 §2.5); its groups stay.
pub(crate) fn remove_contact(list: &mut ContactList, id: &str) {
    for group in &mut list.groups {
        group.contacts.retain(|c| c != id);
    }
    list.aliases.remove(id);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> ContactList {
        ContactList {
            groups: vec![
                ContactGroup { name: "Team".into(), contacts: vec!["bob".into(), "carol".into()] },
                ContactGroup { name: "Lunch".into(), contacts: vec!["bob".into()] },
            ],
            aliases: [("bob".to_owned(), "Bobby".to_owned())].into(),
        }
    }

    #[test]
    fn a_contact_in_two_groups_is_one_item_with_both_and_its_alias() {
        let roster = roster_of(&list(), "example.com");
        assert_eq!(roster.items.len(), 2);
        let bob = &roster.items[0];
        assert_eq!(bob.jid.as_str(), "bob@example.com");
        assert_eq!(bob.name.as_deref(), Some("Bobby"));
        assert_eq!(bob.groups, [Group("Team".into()), Group("Lunch".into())]);
        assert_eq!(bob.subscription, Subscription::Both);
        assert_eq!(roster.items[1].name, None);
    }

    #[test]
    fn a_roster_set_moves_renames_adds_and_removes() {
        let mut contacts = list();
        set_contact(&mut contacts, "bob", Some("Robert"), &[Group("Lunch".into())]);
        assert_eq!(contacts.groups[0].contacts, ["carol"]);
        assert_eq!(contacts.groups[1].contacts, ["bob"]);
        assert_eq!(contacts.aliases["bob"], "Robert");
        set_contact(&mut contacts, "dave", None, &[]);
        assert_eq!(contacts.groups[2].name, DEFAULT_GROUP);
        assert_eq!(contacts.groups[2].contacts, ["dave"]);
        remove_contact(&mut contacts, "bob");
        assert!(contacts.groups.iter().all(|g| !g.contacts.contains(&"bob".to_owned())));
        assert!(!contacts.aliases.contains_key("bob"));
    }

    #[test]
    fn pushes_are_the_told_contacts_as_they_are_now_and_the_removed_ones() {
        let old = list();
        let mut new = list();
        set_contact(&mut new, "dave", None, &[]);
        set_contact(&mut new, "bob", None, &[Group("Team".into()), Group("Lunch".into())]);
        remove_contact(&mut new, "carol");
        let changes = old.changes_to(&new);
        let ids = |ids: &[String]| ids.iter().map(UserId::new).collect::<Vec<_>>();
        let (added, changed, removed) =
            (ids(&changes.added), ids(&changes.changed), ids(&changes.removed));
        let listed = new.contacts().into_iter().collect();
        let pushed = pushes(&new, &listed, &added, &changed, &removed, "example.com");
        let summary: Vec<(&str, Subscription, Option<&str>)> = pushed
            .iter()
            .map(|item| (item.jid.as_str(), item.subscription.clone(), item.name.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("bob@example.com", Subscription::Both, None),
                ("dave@example.com", Subscription::Both, None),
                ("carol@example.com", Subscription::Remove, None),
            ]
        );
        // Told against a list changed again since: what the list no longer
        // says is left to that later change's pushes.
        let listed = old.contacts().into_iter().collect();
        let (dave, carol) = (UserId::new("dave"), UserId::new("carol"));
        let pushed = pushes(&old, &listed, &[dave], &[], &[carol], "example.com");
        assert!(pushed.is_empty(), "{pushed:?}");
    }
}
