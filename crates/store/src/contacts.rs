//! Contact lists, stored whole per owner.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::{Store, StoreError};

/// A user's contact list: named groups of user ids, in the user's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactList {
    /// The groups.
    pub groups: Vec<ContactGroup>,
    /// Names the owner gave some of their contacts, by user id (Sametime
    /// buddy aliases; XMPP roster item names). Absent from lists saved
    /// before aliases existed, so optional in stored documents.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aliases: BTreeMap<String, String>,
}

/// One group of contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactGroup {
    /// Group name ("Team").
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = "\\S"))]
    pub name: String,
    /// User ids.
    pub contacts: Vec<String>,
}

impl ContactList {
    /// Every contact, once each, in the order they first appear.
    pub fn contacts(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        let all = self.groups.iter().flat_map(|group| &group.contacts);
        all.map(String::as_str).filter(|id| seen.insert(*id)).collect()
    }

    /// How this list became `new`: the contacts added to it, those
    /// changed (in other groups, or with another alias), both in `new`'s
    /// order, and those removed, sorted. What an XMPP client's roster
    /// pushes carry, worked out once for every session of the owner.
    pub fn changes_to(&self, new: &ContactList) -> ContactChanges {
        let (before, after) = (self.entries(), new.entries());
        let mut changes = ContactChanges::default();
        for id in new.contacts() {
            match before.get(id) {
                None => changes.added.push(id.to_owned()),
                Some(was) if Some(was) != after.get(id) => changes.changed.push(id.to_owned()),
                Some(_) => {}
            }
        }
        changes.removed =
            before.into_keys().filter(|id| !after.contains_key(id)).map(str::to_owned).collect();
        changes.removed.sort_unstable();
        changes
    }

    /// Each contact's groups, in the list's order, and alias.
    fn entries(&self) -> HashMap<&str, (Vec<&str>, Option<&str>)> {
        let mut entries: HashMap<&str, (Vec<&str>, Option<&str>)> = HashMap::new();
        for group in &self.groups {
            for id in &group.contacts {
                let entry = entries.entry(id).or_default();
                entry.0.push(&group.name);
                entry.1 = self.aliases.get(id).map(String::as_str);
            }
        }
        entries
    }
}

/// What changed in a contact list ([`ContactList::changes_to`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactChanges {
    /// Contacts added, in the new list's order.
    pub added: Vec<String>,
    /// Contacts in other groups or with another alias, in the new list's
    /// order.
    pub changed: Vec<String>,
    /// Contacts no longer on the list, sorted.
    pub removed: Vec<String>,
}

impl ContactChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

impl Store {
    /// A user's contact list (empty if never saved).
    pub async fn contact_list(&self, owner: &str) -> Result<ContactList, StoreError> {
        // Every sign-in reads its contact list.
        let mut reader = self.quick_reader().await?;
        let document: Option<String> =
            sqlx::query_scalar("SELECT document FROM contact_lists WHERE owner = $1")
                .bind(owner)
                .fetch_optional(&mut *reader)
                .await?;
        drop(reader);
        document.map_or(Ok(ContactList::default()), |text| {
            serde_json::from_str(&text).map_err(|e| StoreError::Damaged {
                what: "contact list",
                owner: owner.to_owned(),
                detail: e.to_string(),
            })
        })
    }

    /// Replaces a user's contact list.
    pub async fn set_contact_list(
        &self,
        owner: &str,
        list: &ContactList,
    ) -> Result<(), StoreError> {
        let document = serde_json::to_string(list).expect("a contact list serializes");
        sqlx::query(
            "INSERT INTO contact_lists (owner, document) VALUES ($1, $2) \
             ON CONFLICT (owner) DO UPDATE SET document = excluded.document",
        )
        .bind(owner)
        .bind(document)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{ContactChanges, ContactGroup, ContactList};

    fn list(groups: &[(&str, &[&str])], aliases: &[(&str, &str)]) -> ContactList {
        ContactList {
            groups: groups
                .iter()
                .map(|(name, ids)| ContactGroup {
                    name: (*name).to_owned(),
                    contacts: ids.iter().map(|id| (*id).to_owned()).collect(),
                })
                .collect(),
            aliases: aliases.iter().map(|(id, a)| ((*id).to_owned(), (*a).to_owned())).collect(),
        }
    }

    fn names(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|id| (*id).to_owned()).collect()
    }

    /// Added, moved, renamed and removed contacts are told apart; a
    /// contact whose groups and alias stayed is in none of them.
    #[test]
    fn changes_tell_added_changed_and_removed_apart() {
        let old = list(
            &[("Team", &["bob", "carol", "erin", "zed"]), ("Lunch", &["bob", "frank"])],
            &[("bob", "Bobby"), ("erin", "E")],
        );
        let new = list(
            &[
                ("Team", &["carol", "bob", "erin", "dave"]),
                ("Lunch", &["bob"]),
                ("Gym", &["frank"]),
            ],
            &[("bob", "Bobby"), ("erin", "Erin")],
        );
        assert_eq!(
            old.changes_to(&new),
            ContactChanges {
                added: names(&["dave"]),
                changed: names(&["erin", "frank"]),
                removed: names(&["zed"]),
            }
        );
        assert!(new.changes_to(&new).is_empty());
        let emptied = old.changes_to(&ContactList::default());
        assert_eq!(emptied.removed, names(&["bob", "carol", "erin", "frank", "zed"]));
    }
}
