//! Whether the directory lets in the person a valid token names: one
//! decision for every front door, and for `simul sso doctor`, so that the
//! doctor's verdict is the server's.

use simul_directory::{DirectoryError, Person, Realm};

/// What the realm says of the user a valid token names: whether the
/// server lets them in, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Known and enabled (a one-time password may still have to be
    /// replaced: `must_change_password`).
    Known(Person),
    /// Unknown to a realm that lets strangers in (the embedded realm with
    /// `directory.accept_unknown_sso_users`): let in under the token's id.
    Stranger,
    /// Unknown to a realm that refuses strangers: never added, removed,
    /// or outside the LDAP base entries. Refused (403).
    Unknown,
    /// Known but disabled. Refused (403).
    Disabled(Person),
    /// The realm refuses every token for now (LDAP does not answer and
    /// `accept_tokens_while_down` is off). Refused (503).
    DirectoryDown,
}

/// The server's decision on a valid token's `user`, asked of `realm`.
pub async fn admission(realm: &dyn Realm, user: &str) -> Result<Admission, DirectoryError> {
    if realm.refuses_tokens_now() {
        return Ok(Admission::DirectoryDown);
    }
    Ok(match realm.person(user).await? {
        None if realm.refuses_strangers() => Admission::Unknown,
        None => Admission::Stranger,
        Some(person) if person.disabled => Admission::Disabled(person),
        Some(person) => Admission::Known(person),
    })
}
