//! The embedded realm: users in the store, argon2id password hashes.

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use simul_store::{NewUser, Store, UserRecord};

use crate::scram::{ScramCredentials, ScramHash, read_credentials, stored_credentials};
use crate::{DirectoryError, MAX_NAME_CHARS, MIN_PASSWORD_CHARS, Person};

/// The embedded realm.
#[derive(Debug, Clone)]
pub struct EmbeddedRealm {
    store: Store,
    accepts_strangers: bool,
}

impl EmbeddedRealm {
    /// The realm over a store. It refuses valid tokens of people it does
    /// not hold (see [`EmbeddedRealm::accepting_strangers`]).
    pub fn new(store: Store) -> Self {
        Self { store, accepts_strangers: false }
    }

    /// Closes the store's connections (see [`Store::close`]).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Lets in people with a valid SSO token whom the realm does not hold
    /// (users of the SSO domain's other applications), if `accept`.
    pub fn accepting_strangers(mut self, accept: bool) -> Self {
        self.accepts_strangers = accept;
        self
    }

    /// Normalizes a login name: lower case (Sametime ids are case-insensitive),
    /// checked against the allowed characters.
    pub fn normalize_name(name: &str) -> Result<String, DirectoryError> {
        let name = name.trim().to_lowercase();
        let valid = !name.is_empty()
            && name.chars().count() <= MAX_NAME_CHARS
            && name.chars().next().is_some_and(|c| c.is_alphanumeric())
            && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if valid { Ok(name) } else { Err(DirectoryError::InvalidName(name)) }
    }

    /// Adds a user; the display name defaults to the login name.
    pub async fn add_user(
        &self,
        name: &str,
        display_name: Option<&str>,
        mail: Option<&str>,
        password: &str,
    ) -> Result<UserRecord, DirectoryError> {
        let id = Self::normalize_name(name)?;
        let (password_hash, scram) = hash(password).await?;
        let user = NewUser {
            display_name: display_name
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .unwrap_or(&id)
                .to_owned(),
            mail: mail.unwrap_or_default().trim().to_owned(),
            password_hash,
            scram,
            id: id.clone(),
        };
        self.store.create_user(&user).await?;
        Ok(self.store.user(&id).await?.expect("just created"))
    }

    /// The user if `password` is theirs and they are not disabled. Unknown
    /// users cost a hash verification too, so timing does not reveal which
    /// names exist.
    pub async fn authenticate(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<UserRecord>, DirectoryError> {
        let Ok(id) = Self::normalize_name(name) else {
            verify(password, None).await;
            return Ok(None);
        };
        let user = self.store.user(&id).await?;
        let matches = verify(password, user.as_ref().map(|u| u.password_hash.as_str())).await;
        // Users from before SCRAM get its credentials at their next login.
        if let Some(user) = user.as_ref().filter(|u| matches && u.scram.is_empty()) {
            let scram = scram_of(password).await;
            self.store.fill_in_scram(&user.id, &user.password_hash, &scram).await?;
        }
        Ok(user.filter(|u| matches && !u.disabled))
    }

    /// The SCRAM credentials of the user `name` names (login name or
    /// mail) for `hash`, with the user; none for someone unknown or
    /// without credentials yet.
    pub async fn scram(
        &self,
        name: &str,
        hash: ScramHash,
    ) -> Result<Option<(UserRecord, ScramCredentials)>, DirectoryError> {
        let Some(user) = self.user(name).await? else { return Ok(None) };
        Ok(read_credentials(&user.scram, hash).map(|credentials| (user, credentials)))
    }

    /// One user, by login name or (when it is nobody's login name) by
    /// mail address, as awareness on intranet pages looks people up.
    pub async fn user(&self, name: &str) -> Result<Option<UserRecord>, DirectoryError> {
        if let Ok(id) = Self::normalize_name(name)
            && let Some(user) = self.store.user(&id).await?
        {
            return Ok(Some(user));
        }
        if name.contains('@') {
            return Ok(self.store.user_by_mail(name).await?);
        }
        Ok(None)
    }

    /// All users.
    pub async fn users(&self) -> Result<Vec<UserRecord>, DirectoryError> {
        Ok(self.store.users().await?)
    }

    /// Sets a new password (an administrator's act: no old password needed).
    pub async fn set_password(&self, name: &str, password: &str) -> Result<(), DirectoryError> {
        let id = Self::normalize_name(name)?;
        let (hash, scram) = hash(password).await?;
        Ok(self.store.set_password_hash(&id, &hash, &scram, false).await?)
    }

    /// The user's own change: the current password proves it is them.
    pub async fn change_password(
        &self,
        name: &str,
        current: &str,
        new: &str,
    ) -> Result<(), DirectoryError> {
        if self.authenticate(name, current).await?.is_none() {
            return Err(DirectoryError::WrongPassword);
        }
        if current == new {
            return Err(DirectoryError::SamePassword);
        }
        self.set_password(name, new).await
    }

    /// Makes the user replace their password before doing anything else
    /// (a password printed on a console, such as the first admin's).
    pub async fn require_password_change(&self, name: &str) -> Result<(), DirectoryError> {
        Ok(self.store.require_password_change(&Self::normalize_name(name)?).await?)
    }

    /// Disables (or enables) a user: a disabled user cannot log in.
    pub async fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), DirectoryError> {
        Ok(self.store.set_disabled(&Self::normalize_name(name)?, disabled).await?)
    }

    /// Removes a user.
    pub async fn remove(&self, name: &str) -> Result<(), DirectoryError> {
        Ok(self.store.remove_user(&Self::normalize_name(name)?).await?)
    }
}

impl crate::Realm for EmbeddedRealm {
    fn authenticate<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
    ) -> crate::RealmFuture<'a, Option<crate::Person>> {
        Box::pin(async move {
            Ok(EmbeddedRealm::authenticate(self, name, password).await?.map(Into::into))
        })
    }

    fn person<'a>(&'a self, id: &'a str) -> crate::RealmFuture<'a, Option<crate::Person>> {
        Box::pin(async move { Ok(EmbeddedRealm::user(self, id).await?.map(Into::into)) })
    }

    fn search<'a>(
        &'a self,
        query: &'a str,
        limit: u32,
    ) -> crate::RealmFuture<'a, Vec<crate::Person>> {
        Box::pin(async move {
            let users = self.store.search_users(query.trim(), limit).await?;
            Ok(users.into_iter().map(Into::into).collect())
        })
    }

    fn change_password<'a>(
        &'a self,
        id: &'a str,
        current: &'a str,
        new: &'a str,
    ) -> crate::RealmFuture<'a, ()> {
        Box::pin(EmbeddedRealm::change_password(self, id, current, new))
    }

    fn register<'a>(&'a self, name: &'a str, password: &'a str) -> crate::RealmFuture<'a, Person> {
        Box::pin(async move { Ok(self.add_user(name, None, None, password).await?.into()) })
    }

    fn set_disabled<'a>(&'a self, name: &'a str, disabled: bool) -> crate::RealmFuture<'a, ()> {
        Box::pin(EmbeddedRealm::set_disabled(self, name, disabled))
    }

    fn set_password<'a>(&'a self, name: &'a str, password: &'a str) -> crate::RealmFuture<'a, ()> {
        Box::pin(EmbeddedRealm::set_password(self, name, password))
    }

    fn refuses_strangers(&self) -> bool {
        !self.accepts_strangers
    }

    fn keeps_scram(&self) -> bool {
        true
    }

    fn scram<'a>(
        &'a self,
        name: &'a str,
        hash: ScramHash,
    ) -> crate::RealmFuture<'a, Option<(crate::Person, ScramCredentials)>> {
        Box::pin(async move {
            let found = EmbeddedRealm::scram(self, name, hash).await?;
            Ok(found.map(|(user, credentials)| (user.into(), credentials)))
        })
    }
}

/// Password hashing running at once, in the whole process: one a core.
///
/// Each argon2id computation takes 19 MiB and some tens of milliseconds of
/// a core. Password attempts from many addresses pass the per-address
/// limits; unqueued, they would run on as many of tokio's blocking threads
/// (512: some 10 GiB) and take the server's memory. Queued here, a flood
/// waits its turn, and each attempt's wait counts against its sign-in's
/// own time limit.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(hashing_slots()));

/// How many hashings may run at once: the cores there are.
fn hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

/// Runs `work` (a password hash or check) off the async threads once a
/// [`HASHING`] slot is free; `None` if it panicked.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    // The semaphore is never closed.
    let _slot = HASHING.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// Hashes with argon2id (RFC 9106 defaults of the crate), and derives the
/// password's SCRAM credentials with it.
async fn hash(password: &str) -> Result<(String, String), DirectoryError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(DirectoryError::WeakPassword);
    }
    let password = password.to_owned();
    hashing(move || {
        let hash = Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())?;
        Ok((hash, stored_credentials(&password)))
    })
    .await
    .ok_or_else(|| DirectoryError::Hash("the hashing task failed".to_owned()))?
    .map_err(DirectoryError::Hash)
}

/// The SCRAM credentials of a password.
async fn scram_of(password: &str) -> String {
    let password = password.to_owned();
    hashing(move || stored_credentials(&password)).await.unwrap_or_default()
}

/// Whether `password` matches `hash`; without a hash (an unknown user),
/// checked against one nobody matches, in the same time.
async fn verify(password: &str, hash: Option<&str>) -> bool {
    let (password, hash) = (password.to_owned(), hash.map(str::to_owned));
    hashing(move || {
        // The dummy hash is made here too, off the async threads, once.
        let hash = hash.as_deref().unwrap_or_else(|| dummy_hash());
        Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A valid hash of a password nobody has, to spend the same time on unknown users.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        Argon2::default()
            .hash_password(b"simul: no such user")
            .expect("hashing a constant")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashings_run_at_once_than_there_are_cores() {
        let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut jobs = tokio::task::JoinSet::new();
        for _ in 0..4 * hashing_slots() {
            let (running, peak) = (running.clone(), peak.clone());
            jobs.spawn(hashing(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(30));
                running.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        while let Some(done) = jobs.join_next().await {
            assert_eq!(done.unwrap(), Some(()));
        }
        // All were queued at once: the first slots' worth ran together.
        assert_eq!(peak.load(Ordering::SeqCst), hashing_slots());
    }

    #[test]
    fn login_names_are_normalized_and_checked() {
        assert_eq!(EmbeddedRealm::normalize_name(" Alice.Smith ").unwrap(), "alice.smith");
        for bad in ["", ".alice", "alice smith", "a@b", "x/y", &"a".repeat(65)] {
            assert!(EmbeddedRealm::normalize_name(bad).is_err(), "{bad}");
        }
    }
}
