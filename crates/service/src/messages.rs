//! One-to-one instant messages, their history, and contact lists: one
//! function each for every door.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use simul_core::{SessionId, UserId};
use simul_store::{ContactList, StoredIm};

use crate::{Service, ServiceError};

/// Most groups a contact list may hold.
pub const MAX_GROUPS: usize = 100;
/// Most contacts a contact list may hold, over all its groups.
pub const MAX_CONTACTS: usize = 2_000;
/// Longest alias a contact may be given, in characters.
pub const MAX_ALIAS_CHARS: usize = 100;

/// A message that was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentIm {
    /// The recipient, as the directory spells them.
    pub to: UserId,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// Whether the recipient had a session open.
    pub delivered: bool,
}

impl Service {
    /// Delivers a 1:1 message to every session of both users, on every
    /// door (but `origin`, the session it came from), and keeps it in the
    /// history before returning. The recipient is first found in the
    /// directory by whatever name was given, so that nothing is stored
    /// for a name nobody reads.
    pub async fn send_im(
        &self,
        from: &UserId,
        origin: Option<SessionId>,
        to: &str,
        text: String,
    ) -> Result<SentIm, ServiceError> {
        self.message_limits().check(from.as_str())?;
        let recipient = self.recipient(to).await?;
        let at = Utc::now();
        let delivered = self.hub().apply(|community| {
            let deliveries = community.send_im_as(from, origin, &recipient, &text, at)?;
            Ok((community.is_online(&recipient), deliveries))
        })?;
        metrics::counter!("simul_messages_total", "kind" => "im").increment(1);
        let message = StoredIm { from: from.to_string(), to: recipient.to_string(), text, at };
        self.store().append_im(&message).await?;
        Ok(SentIm { to: recipient, at, delivered })
    }

    /// The user a message or invitation for `name` goes to: the
    /// directory's id for a login name, a mail address or any spelling of
    /// a DN; [`ServiceError::NoSuchUser`] for a name the directory does
    /// not have (or a disabled account). Where the realm lets in people it
    /// does not hold (`accept_unknown_sso_users`), an unknown name is
    /// taken as such a person's id.
    pub async fn recipient(&self, name: &str) -> Result<UserId, ServiceError> {
        match self.realm().person(name).await? {
            Some(person) if !person.disabled => Ok(UserId::new(person.id)),
            None if !self.realm().refuses_strangers() && !name.trim().is_empty() => {
                Ok(UserId::new(name))
            }
            _ => Err(ServiceError::NoSuchUser(name.to_owned())),
        }
    }

    /// The latest `limit` messages between `user` and `with`, oldest first.
    pub async fn im_history(
        &self,
        user: &str,
        with: &str,
        limit: u32,
    ) -> Result<Vec<StoredIm>, ServiceError> {
        Ok(self.store().im_history(user, with, limit).await?)
    }

    /// The people `user` exchanged 1:1 messages with and when they last
    /// did, most recent first, at most `max`.
    pub async fn im_partners(
        &self,
        user: &str,
        max: u32,
    ) -> Result<Vec<(String, DateTime<Utc>)>, ServiceError> {
        Ok(self.store().im_partners(user, max).await?)
    }

    /// `user`'s contact list.
    pub async fn contact_list(&self, user: &str) -> Result<ContactList, ServiceError> {
        Ok(self.store().contact_list(user).await?)
    }

    /// Replaces `user`'s contact list, within [`MAX_GROUPS`] and
    /// [`MAX_CONTACTS`], every group named; the list as kept, whose
    /// aliases are trimmed and name only its contacts (the alias of a
    /// removed contact goes with them). Every session of the user, on
    /// every door, is told ([`simul_core::Event::ContactsChanged`]).
    pub async fn set_contact_list(
        &self,
        user: &str,
        mut list: ContactList,
    ) -> Result<ContactList, ServiceError> {
        let contacts: usize = list.groups.iter().map(|g| g.contacts.len()).sum();
        if list.groups.len() > MAX_GROUPS || contacts > MAX_CONTACTS {
            return Err(ServiceError::TooLarge(format!(
                "a contact list holds at most {MAX_GROUPS} groups and {MAX_CONTACTS} contacts"
            )));
        }
        if list.groups.iter().any(|g| g.name.trim().is_empty()) {
            return Err(ServiceError::Invalid("every group needs a name".into()));
        }
        if list.aliases.values().any(|alias| alias.chars().count() > MAX_ALIAS_CHARS) {
            return Err(ServiceError::Invalid(format!(
                "an alias holds at most {MAX_ALIAS_CHARS} characters"
            )));
        }
        let listed: HashSet<String> = list.contacts().into_iter().map(str::to_owned).collect();
        list.aliases = std::mem::take(&mut list.aliases)
            .into_iter()
            .filter(|(id, _)| listed.contains(id))
            .map(|(id, alias)| (id, alias.trim().to_owned()))
            .filter(|(_, alias)| !alias.is_empty())
            .collect();
        self.store().set_contact_list(user, &list).await?;
        let user = UserId::new(user);
        self.hub().run(|community| Ok(community.contacts_changed(&user)))?;
        Ok(list)
    }
}
