//! Simul's user directory: the [`Realm`] trait that front doors use
//! (authenticate, look up, search, change one's password) and its first
//! implementation, the [`EmbeddedRealm`]: users kept in the store with
//! argon2id password hashes; and the [`LdapRealm`]: a federated LDAP
//! repository shared with WebSphere, Domino and Connections.

mod embedded;
pub mod ldap;
mod realm;
pub mod scram;

use simul_store::StoreError;

pub use embedded::EmbeddedRealm;
pub use ldap::{LdapRealm, LdapSettings};
pub use realm::{Person, Realm, RealmFuture};

/// Shortest password the embedded realm accepts.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest login name.
pub const MAX_NAME_CHARS: usize = 64;

/// Why a directory operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The store failed (or the user exists / does not exist).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A login name Simul cannot use.
    #[error(
        "{0:?} is not a usable login name: use 1 to {MAX_NAME_CHARS} letters, digits, '.', '_' or '-', starting with a letter or digit"
    )]
    InvalidName(String),
    /// A password below the policy.
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    /// The current password given to change it was wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// A new password equal to the one it replaces.
    #[error("the new password must differ from the current one")]
    SamePassword,
    /// Hashing failed (never expected).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The realm does not do this.
    #[error("{0}")]
    Unsupported(&'static str),
    /// LDAP settings that cannot work.
    #[error(transparent)]
    Settings(#[from] ldap::SettingsError),
    /// No LDAP server of the repository answered.
    #[error("LDAP repository {repository}: no server answered ({attempts})")]
    Unreachable {
        /// Repository identifier.
        repository: String,
        /// Each server tried, and why it failed.
        attempts: String,
    },
    /// The server refused the service bind.
    #[error("LDAP repository {repository}: the server refused the bind as {dn}: {detail}")]
    ServiceBind {
        /// Repository identifier.
        repository: String,
        /// The bind DN.
        dn: String,
        /// The server's answer and what to check.
        detail: String,
    },
    /// A base entry that does not exist on the server.
    #[error(
        "LDAP repository {repository}: the base entry {base:?} does not exist on the server: check directory.ldap.base_dn"
    )]
    BaseNotFound {
        /// Repository identifier.
        repository: String,
        /// The base DN.
        base: String,
    },
    /// A login name that several people have.
    #[error(
        "the login name {name:?} matches {count} people by {attribute}: make it unique, or put a unique attribute first in directory.ldap.login_attributes"
    )]
    Ambiguous {
        /// The login attribute that matched.
        attribute: String,
        /// The name given.
        name: String,
        /// How many matched.
        count: usize,
    },
    /// A refresh that would have removed too many people at once.
    #[error(
        "LDAP repository {repository}: the refresh found {removed} of the {known} cached people gone, over directory.ldap.max_removed_percent ({limit}); the cache was kept. Check the base entries, filters and bind DN's rights (simul directory test); if the removal is real, raise the limit or restart Simul"
    )]
    MassRemoval {
        /// Repository identifier.
        repository: String,
        /// People the refresh did not find.
        removed: usize,
        /// People cached.
        known: usize,
        /// The configured limit, percent.
        limit: u8,
    },
    /// Another LDAP failure.
    #[error("LDAP repository {repository}: {detail}")]
    Ldap {
        /// Repository identifier.
        repository: String,
        /// What failed.
        detail: String,
    },
}

impl DirectoryError {
    /// Whether this means the directory cannot be used now (unreachable,
    /// refusing the service bind, misconfigured, failing), rather than a
    /// problem of one request.
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            Self::Unreachable { .. }
                | Self::ServiceBind { .. }
                | Self::BaseNotFound { .. }
                | Self::Ldap { .. }
        )
    }
}
