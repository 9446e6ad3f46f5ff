//! Contact lists, stored whole per owner.

use std::collections::BTreeMap;

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
