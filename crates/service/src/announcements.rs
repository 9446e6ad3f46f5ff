//! Administrators' announcements: one function writes them (the console
//! and `simul announce` both call [`Administration::announce`]), the
//! running server takes each one once from the store and shows it to its
//! audience who are online, on every door (a banner on the web, the
//! Sametime announcement on VP, a headline message on XMPP). A command
//! runs in another process, so it only writes: the server's loop
//! ([`Service::follow_announcements`]) finds it within a second.

use chrono::{DateTime, Utc};
use simul_core::UserId;
pub use simul_store::{Announcement, Audience};

use crate::{Actor, Administration, Service, ServiceError};

/// The longest announcement, in characters: a banner, not a letter.
pub const MAX_ANNOUNCEMENT_CHARS: usize = 2_000;

/// How many announcements the console lists.
pub const RECENT_ANNOUNCEMENTS: u32 = 50;

impl Administration<'_> {
    /// Keeps an announcement of `actor` to `audience` for the running
    /// server to show, and notes it in the audit log; its number. The
    /// text must say something and fit [`MAX_ANNOUNCEMENT_CHARS`]; named
    /// users must exist (they are kept as the realm spells them).
    pub async fn announce(
        &self,
        actor: &Actor,
        audience: Audience,
        text: &str,
    ) -> Result<i64, ServiceError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ServiceError::Invalid(
                "the announcement is empty: write the text to announce".into(),
            ));
        }
        let chars = text.chars().count();
        if chars > MAX_ANNOUNCEMENT_CHARS {
            return Err(ServiceError::TooLarge(format!(
                "the announcement has {chars} characters; the limit is \
                 {MAX_ANNOUNCEMENT_CHARS}: shorten it or link to a page"
            )));
        }
        let audience = match audience {
            Audience::Everyone => Audience::Everyone,
            Audience::Group(dn) if dn.trim().is_empty() => {
                return Err(ServiceError::Invalid(
                    "no group given: name the directory group's DN".into(),
                ));
            }
            Audience::Group(dn) => Audience::Group(dn.trim().to_owned()),
            Audience::Users(users) => {
                let users: Vec<&str> =
                    users.iter().map(|user| user.trim()).filter(|user| !user.is_empty()).collect();
                if users.is_empty() {
                    return Err(ServiceError::Invalid(
                        "no user given: name at least one user id".into(),
                    ));
                }
                let mut known = Vec::with_capacity(users.len());
                for user in users {
                    known.push(self.known(user).await?);
                }
                known.sort();
                known.dedup();
                Audience::Users(known)
            }
        };
        let seq = self.store().add_announcement(now_ms(), &actor.who, &audience, text).await?;
        self.record(actor, "announce", &target_of(&audience)).await?;
        Ok(seq)
    }

    /// The latest announcements, newest first.
    pub async fn announcements(&self) -> Result<Vec<Announcement>, ServiceError> {
        Ok(self.store().recent_announcements(RECENT_ANNOUNCEMENTS).await?)
    }
}

/// The audience in the audit log's words.
fn target_of(audience: &Audience) -> String {
    match audience {
        Audience::Everyone => "everyone online".into(),
        Audience::Group(dn) => format!("group {dn}"),
        Audience::Users(users) => format!("users {}", users.join(", ")),
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl Service {
    /// Sends an announcement (the console's act): kept, audited and shown
    /// at once to its audience who are online.
    pub async fn announce(
        &self,
        actor: &Actor,
        audience: Audience,
        text: &str,
    ) -> Result<(), ServiceError> {
        self.administration().announce(actor, audience, text).await?;
        self.deliver_announcements().await
    }

    /// Shows every announcement not yet shown (each once, whichever
    /// caller takes it) to its audience who are online now.
    pub async fn deliver_announcements(&self) -> Result<(), ServiceError> {
        for announcement in self.store().take_announcements(now_ms()).await? {
            let users = self.audience_online(&announcement.audience).await;
            let at = DateTime::<Utc>::from_timestamp_millis(announcement.at_ms).unwrap_or_default();
            self.hub().run(|community| {
                Ok(community.announce(&users, &announcement.sender, &announcement.text, at))
            })?;
            tracing::info!(
                seq = announcement.seq,
                sender = %announcement.sender,
                reached = users.len(),
                "announcement shown"
            );
            let reached = i64::try_from(users.len()).unwrap_or(i64::MAX);
            self.store().set_announcement_reached(announcement.seq, reached).await?;
        }
        Ok(())
    }

    /// Who of `audience` is online now.
    async fn audience_online(&self, audience: &Audience) -> Vec<UserId> {
        let online = self.hub().inspect(simul_core::Community::users_with_sessions);
        match audience {
            Audience::Everyone => online,
            Audience::Users(users) => {
                online.into_iter().filter(|user| users.iter().any(|u| u == user.as_str())).collect()
            }
            Audience::Group(dn) => {
                let mut members = Vec::new();
                for user in online {
                    // The directory answers from its name cache; a person
                    // it cannot place now is left out, not the rest.
                    match self.realm().groups_of(user.as_str()).await {
                        Ok(groups) if groups.iter().any(|g| g.eq_ignore_ascii_case(dn)) => {
                            members.push(user);
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(%user, %error, "announcement: cannot read groups");
                        }
                    }
                }
                members
            }
        }
    }

    /// Shows what `simul announce` wrote from another process: looks every
    /// second. Runs until the process ends.
    pub async fn follow_announcements(self: std::sync::Arc<Self>) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = self.deliver_announcements().await {
                tracing::warn!(%error, "cannot show announcements from the store");
            }
        }
    }
}
