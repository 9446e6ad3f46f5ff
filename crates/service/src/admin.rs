//! Administrators' acts, one function each for the console and the
//! `simul` command that does the same: the administrator role, disabling
//! and enabling accounts, password resets, and the audit log every act
//! writes to. [`Administration`] works on a store and a realm, so a
//! command that runs beside the server (no [`Service`] of its own) calls
//! the very function the console calls; the running server applies what
//! the command wrote within a second (see [`crate::Revocations`]).

use simul_core::{SessionId, UserId};
use simul_directory::Realm;
use simul_store::{AuditEntry, AuditFilter, Store};

use crate::hub::SessionOrigin;
use crate::{Service, ServiceError};

/// Who acts and from where, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// A user id, or the system user who ran a command.
    pub who: String,
    /// The console client's address, a door's name, or `command line`.
    pub origin: String,
}

/// The most entries one look at the audit log reads.
pub const MAX_AUDIT_ENTRIES: u32 = 1_000;

/// The administrators' acts on a store and a realm.
pub struct Administration<'a> {
    store: &'a Store,
    realm: &'a dyn Realm,
}

impl<'a> Administration<'a> {
    /// The acts on `store` and `realm` (a command's; the server's is
    /// [`Service::administration`]).
    pub fn new(store: &'a Store, realm: &'a dyn Realm) -> Self {
        Self { store, realm }
    }

    /// Whether `user` is an administrator: given the role (`simul user
    /// admin`, the first start's `admin`), or a member of one of
    /// `admin_groups` in the directory. Asked afresh on every call.
    pub async fn is_admin(
        &self,
        user: &str,
        admin_groups: &[String],
    ) -> Result<bool, ServiceError> {
        if self.store.is_admin(user).await? {
            return Ok(true);
        }
        if admin_groups.is_empty() {
            return Ok(false);
        }
        let groups = self.realm.groups_of(user).await?;
        Ok(groups.iter().any(|group| admin_groups.iter().any(|g| g.eq_ignore_ascii_case(group))))
    }

    /// Everyone given the role (members of admin groups are not listed).
    pub async fn admins(&self) -> Result<Vec<String>, ServiceError> {
        Ok(self.store.admins().await?)
    }

    /// Gives `user` the administrator role, or takes it away. Nobody takes
    /// their own away (the console would lock its last admin out).
    pub async fn set_admin(
        &self,
        actor: &Actor,
        user: &str,
        admin: bool,
    ) -> Result<(), ServiceError> {
        let user = self.known(user).await?;
        if !admin && actor.who == user {
            return Err(ServiceError::OwnAdminRole);
        }
        self.store.set_admin(&user, admin, now_ms()).await?;
        self.record(actor, if admin { "grant-admin" } else { "revoke-admin" }, &user).await
    }

    /// Disables (or enables again) `user`'s account: every token of theirs
    /// issued before ends, so their sessions end on every door.
    pub async fn set_disabled(
        &self,
        actor: &Actor,
        user: &str,
        disabled: bool,
    ) -> Result<(), ServiceError> {
        let user = self.known(user).await?;
        self.realm.set_disabled(&user, disabled).await?;
        tracing::info!(%user, disabled, admin = %actor.who, "account disabled or enabled");
        self.record(actor, if disabled { "disable" } else { "enable" }, &user).await
    }

    /// Sets `user`'s password (embedded realm): their earlier tokens end.
    pub async fn reset_password(
        &self,
        actor: &Actor,
        user: &str,
        password: &str,
    ) -> Result<(), ServiceError> {
        let user = self.known(user).await?;
        self.realm.set_password(&user, password).await?;
        self.record(actor, "reset-password", &user).await
    }

    /// The store the acts are kept in.
    pub(crate) fn store(&self) -> &Store {
        self.store
    }

    /// Notes an act done elsewhere (a user added by a command).
    pub async fn record(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
    ) -> Result<(), ServiceError> {
        record(self.store, actor, action, target).await
    }

    /// The latest acts that `filter` lets through, newest first, at most
    /// [`MAX_AUDIT_ENTRIES`]: what the console's audit page shows and
    /// exports and `simul audit` prints.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, ServiceError> {
        Ok(self.store.audit(filter, MAX_AUDIT_ENTRIES).await?)
    }

    /// Whether the deployment's LTPA keys ever left it or came from
    /// elsewhere (an export or an import in the audit log): if not, no
    /// other server of the SSO domain can hold them.
    pub async fn keys_shared(&self) -> Result<bool, ServiceError> {
        for action in KEYS_SHARED_ACTIONS {
            let filter = AuditFilter { action: action.to_owned(), ..AuditFilter::default() };
            if !self.store.audit(&filter, 1).await?.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The realm's id of `user` (a login name or mail works too).
    pub(crate) async fn known(&self, user: &str) -> Result<String, ServiceError> {
        match self.realm.person(user).await? {
            Some(person) => Ok(person.id),
            None => Err(ServiceError::NoSuchUser(user.to_owned())),
        }
    }
}

/// Notes an act in `store`'s audit log: for the commands that act on
/// files beside the store (`simul ltpa rotate|import`), which need no
/// directory.
pub async fn record(
    store: &Store,
    actor: &Actor,
    action: &str,
    target: &str,
) -> Result<(), ServiceError> {
    let entry = AuditEntry {
        at_ms: now_ms(),
        actor: actor.who.clone(),
        action: action.to_owned(),
        target: target.to_owned(),
        origin: actor.origin.clone(),
    };
    Ok(store.record_audit(&entry).await?)
}

/// The acts after which other servers can hold the deployment's keys.
pub const KEYS_SHARED_ACTIONS: [&str; 2] = ["export-ltpa-keys", "import-ltpa-keys"];

/// `entries` as CSV (RFC 4180, a header line, times in RFC 3339): the
/// console's download and `simul audit --csv`. A field a spreadsheet
/// would run as a formula (`=`, `+`, `-`, `@` first) is prefixed with
/// `'`, since targets and actors can be typed by anyone with an account.
pub fn audit_csv(entries: &[AuditEntry]) -> String {
    let mut csv = String::from("at,actor,action,target,origin\r\n");
    for entry in entries {
        let at = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(entry.at_ms)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let fields = [at.as_str(), &entry.actor, &entry.action, &entry.target, &entry.origin];
        let line: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        csv.push_str(&line.join(","));
        csv.push_str("\r\n");
    }
    csv
}

fn csv_field(field: &str) -> String {
    let field = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field.to_owned()
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Service {
    /// The administrators' acts on this server's store and directory.
    pub fn administration(&self) -> Administration<'_> {
        Administration::new(self.store(), self.realm().as_ref())
    }

    /// Whether `user` is an administrator now (see
    /// [`Administration::is_admin`], with `[console] admin_groups`).
    pub async fn is_admin(&self, user: &str) -> Result<bool, ServiceError> {
        self.administration().is_admin(user, self.admin_groups()).await
    }

    /// Disables (or enables again) `user` (an administrator's act on a
    /// door or in the console): their sessions end at once, on every door.
    pub async fn set_disabled(
        &self,
        actor: &Actor,
        user: &str,
        disabled: bool,
    ) -> Result<(), ServiceError> {
        self.administration().set_disabled(actor, user, disabled).await?;
        // The store noted it as a revocation: sessions are told now.
        self.catch_up_revocations().await?;
        Ok(())
    }

    /// Sets `user`'s password as an administrator (embedded realm): their
    /// sessions end at once.
    pub async fn reset_password(
        &self,
        actor: &Actor,
        user: &str,
        password: &str,
    ) -> Result<(), ServiceError> {
        self.administration().reset_password(actor, user, password).await?;
        self.catch_up_revocations().await?;
        Ok(())
    }

    /// Notes where `session` came from: its door, its client's address.
    pub fn describe_session(
        &self,
        session: SessionId,
        door: &'static str,
        address: std::net::IpAddr,
    ) {
        let origin = SessionOrigin { door, address, since: chrono::Utc::now() };
        self.hub().describe(session, origin);
    }

    /// The live sessions of `user`, oldest first, with where they came from.
    pub fn sessions_of(&self, user: &str) -> Vec<(SessionId, SessionOrigin)> {
        self.hub().origins_of(&UserId::new(user))
    }

    /// Live sessions per front door (`web`, `vp`, `xmpp`).
    pub fn sessions_per_door(&self) -> std::collections::BTreeMap<&'static str, usize> {
        self.hub().sessions_per_door()
    }

    /// Ends one session of `user` (an administrator's act); the user may
    /// sign in again. Whether there was such a session of theirs.
    pub async fn end_session(
        &self,
        actor: &Actor,
        user: &str,
        session: SessionId,
    ) -> Result<bool, ServiceError> {
        if !self.hub().end_session_of(&UserId::new(user), session) {
            return Ok(false);
        }
        self.administration().record(actor, "end-session", &format!("{user} {session}")).await?;
        Ok(true)
    }
}
