//! Roster pushes (RFC 6121 §2.1.6): when the user's contact list
//! changes on any door — the web client, a Sametime client's buddy
//! list, this or another XMPP resource — every resource that asked for
//! the roster gets the items that changed.

use std::collections::HashSet;

use simul_core::UserId;
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::roster::Roster;

use super::{End, Session};
use crate::roster::pushes;

impl Session<'_> {
    /// The contact list changed in these contacts: a push for each, to a
    /// client that asked for the roster; the contacts added are watched.
    pub(super) async fn contacts_changed(
        &mut self,
        added: &[UserId],
        changed: &[UserId],
        removed: &[UserId],
    ) -> Result<(), End> {
        // A client that never asked for the roster is not interested.
        if !self.roster_shown {
            return Ok(());
        }
        let list = match self.service.contact_list(self.user.as_str()).await {
            Ok(list) => list,
            Err(error) => {
                // The next roster get catches up.
                tracing::warn!(user = %self.user, %error, "XMPP: contact list unreadable");
                return Ok(());
            }
        };
        let listed: HashSet<&str> = list.contacts().into_iter().collect();
        let items = pushes(&list, &listed, added, changed, removed, &self.door.domain);
        for (n, item) in items.into_iter().enumerate() {
            let id = format!("push-{}-{n}", self.jid.resource());
            let push = Iq::from_set(id, Roster { ver: None, items: vec![item] })
                .with_to(self.jid.clone().into());
            self.send(&push).await?;
        }
        let added: Vec<UserId> =
            added.iter().filter(|id| listed.contains(id.as_str())).cloned().collect();
        if self.available && !added.is_empty() {
            self.service.watch(self.session, &added).ok();
        }
        Ok(())
    }
}
