//! Simul's user directory: the [`Realm`] trait that front doors use
//! (authenticate, look up, search, change one's password) and its first
//! implementation, the [`EmbeddedRealm`]: users kept in the store with
//! argon2id password hashes. The LDAP realm comes next, behind the same
//! trait.

mod embedded;
mod realm;

use simul_store::StoreError;

pub use embedded::EmbeddedRealm;
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
}
