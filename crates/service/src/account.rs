//! Accounts: who someone is in the directory, directory search, logout
//! and password changes, the same for every door.

use std::net::IpAddr;

use simul_directory::{DirectoryError, Person};

use crate::limits::network_of;
use crate::{Service, ServiceError, TokenStamp, TooMany};

/// Whether this process can serve logins now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// The store answers.
    pub store: bool,
    /// The directory answered at its last contact (or is the embedded one).
    pub directory: bool,
}

impl Service {
    /// One person by id, login name or mail (disabled ones included).
    pub async fn person(&self, id: &str) -> Result<Option<Person>, ServiceError> {
        Ok(self.realm().person(id).await?)
    }

    /// The name to show for `user`: their display name, else their id
    /// (someone the directory does not hold, or cannot be asked about now).
    pub async fn display_name(&self, user: &str) -> String {
        match self.realm().person(user).await {
            Ok(Some(person)) if !person.display_name.is_empty() => person.display_name,
            _ => user.to_owned(),
        }
    }

    /// Enabled people whose id, display name or mail contains `query`,
    /// at most `limit`.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<Person>, ServiceError> {
        Ok(self.realm().search(query, limit).await?)
    }

    /// Ends the token `stamp` identifies, here and in every open session
    /// opened with it (other servers of the SSO domain accept it until it
    /// expires, as WebSphere does).
    pub async fn log_out(&self, stamp: &TokenStamp) -> Result<(), ServiceError> {
        let concerned = self.revocations().revoke(stamp).await?;
        self.tell_revoked(concerned);
        tracing::info!(user = %stamp.user, "logout");
        Ok(())
    }

    /// `user` replaces their own password (embedded realm), proving who
    /// they are with the current one: it can guess passwords as well as a
    /// login can, so it counts against the login limits. Every token
    /// issued before ends. [`ServiceError::Directory`] says why the realm
    /// refused (`WrongPassword`, `WeakPassword`, `SamePassword`,
    /// `Unsupported` for LDAP).
    pub async fn change_password(
        &self,
        user: &str,
        current: &str,
        new: &str,
        client: IpAddr,
    ) -> Result<(), ServiceError> {
        let attempt = self.login_limits().begin(user, client)?;
        match self.realm().change_password(user, current, new).await {
            Ok(()) => {
                drop(attempt);
                tracing::info!(%user, "password changed");
                self.catch_up_revocations().await?;
                Ok(())
            }
            Err(error @ DirectoryError::WrongPassword) => {
                attempt.failed();
                Err(error.into())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// A new account of the realm, with the login name and password its
    /// owner chose (XMPP in-band registration), under the realm's rules
    /// (the embedded realm's; LDAP refuses). Every attempt from
    /// `client`'s network counts against [`crate::SIGN_UPS_PER_MINUTE`],
    /// made or refused, so that nobody makes accounts in bulk. The new user's id.
    pub async fn sign_up(
        &self,
        name: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<String, ServiceError> {
        let too_many = |wait| {
            let message = |seconds| format!("too many sign-ups; try again in {seconds} s");
            TooMany::new(message, wait)
        };
        self.sign_up_limits().begin(network_of(client)).map_err(too_many)?.failed();
        let person = self.realm().register(name, password).await?;
        tracing::info!(user = %person.id, %client, "signed up");
        Ok(person.id)
    }

    /// A random secret kept in the store under `name`, made on first use:
    /// a door's keys that must survive restarts (the web door's CSRF key).
    pub async fn kept_secret(&self, name: &str) -> Result<String, ServiceError> {
        if let Some(secret) = self.store().setting(name).await? {
            return Ok(secret);
        }
        let secret = ltpa::DominoSecret::generate().to_base64().to_string();
        self.store().set_setting(name, &secret).await?;
        Ok(secret)
    }

    /// Whether the store and the directory answer now.
    pub async fn readiness(&self) -> Readiness {
        let store = match self.store().ping().await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "readiness: the database does not answer");
                false
            }
        };
        Readiness { store, directory: self.realm().answering() != Some(false) }
    }

    /// The LDAP failover server in use instead of the primary, while one
    /// is (the primary did not answer; the next refresh tries it again).
    pub fn directory_failover(&self) -> Option<String> {
        self.realm().failover()
    }
}
