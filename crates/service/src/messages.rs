//! One-to-one instant messages, their history, and contact lists: one
//! function each for every door.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use simul_core::policy::Action;
use simul_core::{Attachment, Event, MessageId, SessionId, UserId};
use simul_store::{ContactList, HistoryPage, Page, StoredIm};

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
    /// Its id, in the order the community accepted messages.
    pub id: MessageId,
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
        self.check_external(from, &recipient).await?;
        self.deliver_im(from, origin, recipient, text, None).await
    }

    /// Sends and keeps a 1:1 message, that may carry a file, to a
    /// recipient found in the directory (the limits were checked).
    pub(crate) async fn deliver_im(
        &self,
        from: &UserId,
        origin: Option<SessionId>,
        recipient: UserId,
        text: String,
        file: Option<Arc<Attachment>>,
    ) -> Result<SentIm, ServiceError> {
        let at = Utc::now();
        let file_id = file.as_ref().map(|file| file.id.clone());
        let (id, delivered) = self.hub().apply(|community| {
            let message = (text.as_str(), file);
            let (id, deliveries) = community.send_im_with(from, origin, &recipient, message, at)?;
            Ok(((id, community.is_online(&recipient)), deliveries))
        })?;
        metrics::counter!("simul_messages_total", "kind" => "im").increment(1);
        self.rates().messages.tick();
        let (from, to) = (from.to_string(), recipient.to_string());
        let message = StoredIm::new(id.get(), from, to, text, at);
        self.link_file(file_id.as_deref(), id).await?;
        // Kept for an offline recipient's next sign-in: a recipient who
        // signs in between the two steps above finds it in the history.
        self.store().append_im(&message, !delivered).await?;
        Ok(SentIm { id, to: recipient, at, delivered })
    }

    /// The messages `session`'s user missed while they had no session,
    /// oldest first, as [`Event::Im`] marked `missed`, for the door to
    /// pass on like any other. Each door asks once its client can take
    /// messages (the web when its event stream opens, XMPP at the initial
    /// presence; Sametime clients have no such thing, so the VP door
    /// leaves them for the user's next web or XMPP sign-in); the first
    /// session to ask gets them, and they stay in the history for every
    /// other. (Not routed through the hub: a long absence could hold more
    /// than a session's queue takes.)
    pub async fn missed_messages(&self, session: SessionId) -> Result<Vec<Event>, ServiceError> {
        let Some(user) = self.hub().inspect(|c| c.user_of(session).ok().cloned()) else {
            return Ok(Vec::new());
        };
        let missed = self.store().take_missed(user.as_str()).await?;
        let mut files = self.attachments(&missed.iter().map(|m| m.id).collect::<Vec<_>>()).await?;
        let event = |message: StoredIm| Event::Im {
            from: UserId::new(message.from),
            to: UserId::new(message.to),
            text: message.text,
            at: message.at,
            id: MessageId::from_raw(message.id),
            missed: true,
            file: files.remove(&message.id),
        };
        Ok(missed.into_iter().map(event).collect())
    }

    /// The user a message or invitation for `name` goes to: the
    /// directory's id for a login name, a mail address or any spelling of
    /// a DN; [`ServiceError::NoSuchUser`] for a name the directory does
    /// not have (or a disabled account; someone still signed in is taken
    /// by their id until the sign-out that disabling brings). Where the
    /// realm lets in people it does not hold (`accept_unknown_sso_users`),
    /// an unknown name is taken as such a person's id.
    pub async fn recipient(&self, name: &str) -> Result<UserId, ServiceError> {
        // The id of someone with a session needs no directory read: they
        // were found and admitted at sign-in, and a disabled or removed
        // account is signed out. Most messages go to someone online, and
        // this read (through SQLite's worker thread) was a fifth of the
        // XMPP door's message path (BENCHMARKS.md).
        let online = UserId::new(name);
        if self.hub().inspect(|community| community.is_online(&online)) {
            return Ok(online);
        }
        match self.realm().person(name).await? {
            Some(person) if !person.disabled => Ok(UserId::new(person.id)),
            None if !self.realm().refuses_strangers() && !name.trim().is_empty() => {
                Ok(UserId::new(name))
            }
            _ => Err(ServiceError::NoSuchUser(name.to_owned())),
        }
    }

    /// A page of `user`'s 1:1 history, with one partner or all (see
    /// [`HistoryPage`]).
    pub async fn im_page(
        &self,
        user: &str,
        page: &HistoryPage,
    ) -> Result<Page<StoredIm>, ServiceError> {
        match self.history_start(&UserId::new(user)).await? {
            // The policy's window narrows the page's (`history_days`).
            Some(start) if page.start.is_none_or(|asked| asked < start) => {
                let page = HistoryPage { start: Some(start), ..page.clone() };
                Ok(self.store().im_page(user, &page).await?)
            }
            _ => Ok(self.store().im_page(user, page).await?),
        }
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
        // One save of a user's list at a time, so that each change is
        // told against the list the one before it kept: sessions keep no
        // copy to compare.
        let _one_at_a_time = self.contact_saves(user).lock().await;
        let before = self.store().contact_list(user).await?;
        // A list that shrinks is always kept, so that someone over a
        // lowered limit can come under it.
        if listed.len() > before.contacts().len() {
            self.check_policy(&UserId::new(user), Action::KeepContacts(listed.len())).await?;
        }
        list.aliases = std::mem::take(&mut list.aliases)
            .into_iter()
            .filter(|(id, _)| listed.contains(id))
            .map(|(id, alias)| (id, alias.trim().to_owned()))
            .filter(|(_, alias)| !alias.is_empty())
            .collect();
        self.store().set_contact_list(user, &list).await?;
        let changes = before.changes_to(&list);
        if !changes.is_empty() {
            let ids = |ids: Vec<String>| ids.into_iter().map(UserId::new).collect();
            let (added, changed, removed) =
                (ids(changes.added), ids(changes.changed), ids(changes.removed));
            let user = UserId::new(user);
            self.hub()
                .run(|community| Ok(community.contacts_changed(&user, added, changed, removed)))?;
        }
        Ok(list)
    }
}
