//! Roster pushes (RFC 6121 §2.1.6): when the user's contact list
//! changes on any door — the web client, a Sametime client's buddy
//! list, this or another XMPP resource — every resource that asked for
//! the roster gets the items that changed.

use std::collections::HashSet;

use simul_core::UserId;
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::roster::Roster;

use super::{End, Session};
use crate::roster::changed_items;

impl Session<'_> {
    /// The contact list changed: the items that differ from the roster
    /// this client last saw, one push each; new contacts are watched.
    pub(super) async fn contacts_changed(&mut self) -> Result<(), End> {
        // A client that never asked for the roster is not interested.
        let Some(shown) = &self.roster else { return Ok(()) };
        let list = match self.service.contact_list(self.user.as_str()).await {
            Ok(list) => list,
            Err(error) => {
                // The next change, or the next roster get, catches up.
                tracing::warn!(user = %self.user, %error, "XMPP: contact list unreadable");
                return Ok(());
            }
        };
        let changed = changed_items(shown, &list, &self.door.domain);
        let known: HashSet<&str> = shown.contacts().into_iter().collect();
        let added: Vec<UserId> =
            list.contacts().into_iter().filter(|id| !known.contains(id)).map(UserId::new).collect();
        self.roster = Some(list);
        for (n, item) in changed.into_iter().enumerate() {
            let id = format!("push-{}-{n}", self.jid.resource());
            let push = Iq::from_set(id, Roster { ver: None, items: vec![item] })
                .with_to(self.jid.clone().into());
            self.send(&push).await?;
        }
        if self.available && !added.is_empty() {
            self.service.watch(self.session, &added).ok();
        }
        Ok(())
    }
}
