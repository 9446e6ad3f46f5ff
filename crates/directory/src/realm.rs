//! What a front door asks of a directory, whichever kind it is.

use std::future::Future;
use std::pin::Pin;

use simul_store::UserRecord;

use crate::DirectoryError;

/// A directory operation in progress (boxed, so that realms can be
/// chosen at run time as `dyn Realm`).
pub type RealmFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DirectoryError>> + Send + 'a>>;

/// A person as the directory knows them: identity, business card and
/// account state. Never a password or its hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Person {
    /// The user id tokens carry (login name; the DN for LDAP users).
    pub id: String,
    /// Name shown to others.
    pub display_name: String,
    /// E-mail address (may be empty).
    pub mail: String,
    /// Job title.
    pub title: String,
    /// Telephone.
    pub phone: String,
    /// Photo URL.
    pub photo_url: String,
    /// Office or city.
    pub location: String,
    /// Disabled people cannot log in, and their tokens are refused.
    pub disabled: bool,
    /// Their password was set by someone else and must be replaced first.
    pub must_change_password: bool,
}

impl From<UserRecord> for Person {
    fn from(user: UserRecord) -> Self {
        Self {
            id: user.id,
            display_name: user.display_name,
            mail: user.mail,
            title: user.title,
            phone: user.phone,
            photo_url: user.photo_url,
            location: String::new(),
            disabled: user.disabled,
            must_change_password: user.must_change_password,
        }
    }
}

/// Who the users are and how they prove it.
pub trait Realm: Send + Sync {
    /// The person if `password` is theirs and they may log in (not
    /// disabled); `None` for a wrong name or password, without saying which.
    fn authenticate<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
    ) -> RealmFuture<'a, Option<Person>>;

    /// One person by id or login name, disabled ones included.
    fn person<'a>(&'a self, id: &'a str) -> RealmFuture<'a, Option<Person>>;

    /// Enabled people whose id, display name or mail contains `query`
    /// (any case), at most `limit`.
    fn search<'a>(&'a self, query: &'a str, limit: u32) -> RealmFuture<'a, Vec<Person>>;

    /// The person's own password change; the current password proves it
    /// is them.
    fn change_password<'a>(
        &'a self,
        id: &'a str,
        current: &'a str,
        new: &'a str,
    ) -> RealmFuture<'a, ()>;

    /// Adds a person who chose their own login name and password (XMPP
    /// in-band registration), under the realm's password rules. Realms
    /// that hold no people of their own (LDAP) refuse.
    fn register<'a>(&'a self, name: &'a str, password: &'a str) -> RealmFuture<'a, Person> {
        let _ = (name, password);
        Box::pin(async { Err(DirectoryError::Unsupported("this directory holds no sign-ups")) })
    }

    /// Disables (or enables again) a person's account (an administrator's
    /// act); realms that hold no accounts of their own (LDAP) refuse.
    fn set_disabled<'a>(&'a self, name: &'a str, disabled: bool) -> RealmFuture<'a, ()> {
        let _ = (name, disabled);
        Box::pin(async { Err(DirectoryError::Unsupported("disable accounts in the directory")) })
    }

    /// Sets a person's password (an administrator's act: no old password
    /// needed); realms whose passwords live elsewhere (LDAP) refuse.
    fn set_password<'a>(&'a self, name: &'a str, password: &'a str) -> RealmFuture<'a, ()> {
        let _ = (name, password);
        Box::pin(async { Err(DirectoryError::Unsupported("set passwords in the directory")) })
    }

    /// The groups (DNs) the person `id` belongs to, nested ones included;
    /// none where the realm has no groups (the embedded realm).
    fn groups_of<'a>(&'a self, id: &'a str) -> RealmFuture<'a, Vec<String>> {
        let _ = id;
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Reloads what the realm caches (the LDAP name cache); the server
    /// calls it every refresh interval and on `SIGHUP`, then ends the
    /// sessions of people who are gone or disabled.
    fn refresh(&self) -> RealmFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    /// Whether a valid token of someone this realm does not know is
    /// refused. A shared registry (LDAP) knows everyone of the SSO domain,
    /// so not knowing someone means they were removed. The embedded realm
    /// refuses them too unless told to let users of the domain's other
    /// applications in.
    fn refuses_strangers(&self) -> bool;

    /// The SCRAM credentials (for XMPP clients) of the person `name`
    /// names, for `hash`, with the person (disabled ones included); none
    /// where the realm keeps none (LDAP checks passwords by binding, so
    /// its users sign in with PLAIN).
    fn scram<'a>(
        &'a self,
        name: &'a str,
        hash: crate::scram::ScramHash,
    ) -> RealmFuture<'a, Option<(Person, crate::scram::ScramCredentials)>> {
        let _ = (name, hash);
        Box::pin(async { Ok(None) })
    }

    /// Whether the realm keeps SCRAM credentials ([`Realm::scram`]).
    fn keeps_scram(&self) -> bool {
        false
    }

    /// Whether tokens are refused for now although the person is known (an
    /// LDAP directory that does not answer, configured to refuse them then).
    fn refuses_tokens_now(&self) -> bool {
        false
    }

    /// Whether the directory answered at its last contact: `None` when it
    /// is not a server of its own (the embedded realm) or was not asked yet.
    fn answering(&self) -> Option<bool> {
        None
    }

    /// The failover server in use instead of the first configured one
    /// (its URL), while one is: `None` for a directory without failover.
    fn failover(&self) -> Option<String> {
        None
    }
}
