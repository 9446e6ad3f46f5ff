//! [`ServiceError`]: why the community did not do what a door asked.

use simul_core::CoreError;
use simul_core::policy::PolicyRefusal;
use simul_directory::DirectoryError;
use simul_store::StoreError;

use crate::TooMany;

/// Why an operation of the community failed, in terms each front door
/// turns into its protocol's answer (an HTTP status, a VP error code, an
/// XMPP stanza error).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The community's rules refused it (not a member, text too long...).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The directory could not be asked.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// The user's policy does not allow it; the refusal names the policy
    /// and the setting, for the door to tell the user.
    #[error(transparent)]
    Policy(#[from] PolicyRefusal),
    /// The sender went over a limit.
    #[error(transparent)]
    TooMany(#[from] TooMany),
    /// Nobody of that name in the directory (or a disabled account).
    #[error("no such user: {0}")]
    NoSuchUser(String),
    /// The request is malformed; the sentence says how.
    #[error("{0}")]
    Invalid(String),
    /// The request is over a size limit; the sentence names it.
    #[error("{0}")]
    TooLarge(String),
    /// No message of that id in a conversation of the user's (one answer
    /// for absent, deleted and other people's, so ids tell nothing).
    #[error("no such message")]
    NoSuchMessage,
    /// Editing or deleting someone else's message.
    #[error("only its author can change a message")]
    NotAuthor,
    /// An administrator revoking their own role (the console would lock
    /// its last administrator out).
    #[error("you cannot revoke your own administrator role")]
    OwnAdminRole,
    /// The LTPA key files could not be read or changed (the keys in use
    /// stay); the sentence says why.
    #[error("{0}")]
    Keys(String),
}

impl ServiceError {
    /// Whether this is the directory being out of reach for now (a caller
    /// may carry on without what it asked).
    pub fn is_outage(&self) -> bool {
        matches!(self, Self::Directory(error) if error.is_outage())
    }
}
