//! Signing in, the same on every front door: by password against the
//! realm, or by an LTPA token of any accepted format. The limits, the
//! directory's verdict, the revocations and the audit lines are here, so
//! that no door can be an easier way in than another.

use std::net::IpAddr;
use std::time::Duration;

use ltpa::{Identity, TokenFormat, VerifyOptions};
use simul_directory::{DirectoryError, Person};

use crate::{Admission, Service, TokenStamp, TooMany, admission, network_of};

/// How long every refusal of a presented token takes at least: far longer
/// than opening any token, so the work done before the refusal does not
/// show.
const REFUSAL_TIME: Duration = Duration::from_millis(5);

/// Why a password login was refused.
#[derive(Debug, thiserror::Error)]
pub enum LoginRefused {
    /// Unknown name, wrong password or disabled account: one answer, so
    /// that the answer does not tell which.
    #[error("wrong user name or password")]
    BadCredentials,
    /// Too many failures for this account or address.
    #[error(transparent)]
    TooMany(TooMany),
    /// The directory could not be asked.
    #[error(transparent)]
    Directory(DirectoryError),
}

/// A presented token that verified and whose user the directory lets in.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The user, as the realm spells them (a DN in a WebSphere token may
    /// differ in case and spaces from the directory's).
    pub user: String,
    /// The token text that verified.
    pub token: String,
    /// What identifies the token, to end it at logout and to check it
    /// again later (open sessions).
    pub stamp: TokenStamp,
    /// The user still has a one-time password to replace: each door lets
    /// them do that and nothing else.
    pub must_change_password: bool,
}

/// Why no presented token was accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenRefused {
    /// Missing, malformed, forged, expired, of an untrusted realm, or
    /// revoked: one answer for all, so that neither its text nor its
    /// timing tells one failure from another (a decryption oracle for
    /// the LTPA key otherwise).
    #[error("not signed in")]
    NotSignedIn,
    /// Too many invalid tokens from this address.
    #[error(transparent)]
    TooMany(TooMany),
    /// A valid token of someone the directory does not hold.
    #[error("this account is not in the directory (removed, or outside directory.ldap.base_dn)")]
    Unknown,
    /// A valid token of a disabled account.
    #[error("this account is disabled")]
    Disabled,
    /// The directory refuses every token for now (LDAP does not answer
    /// and `accept_tokens_while_down` is off).
    #[error("the directory (LDAP) does not answer")]
    DirectoryDown,
    /// The directory could not be asked.
    #[error(transparent)]
    Directory(DirectoryError),
}

impl Service {
    /// Checks `name` and `password` against the realm for a client at
    /// `client`, within the login limits, and writes the audit line
    /// (`simul::audit`, README "Logs") either way.
    pub async fn log_in(
        &self,
        name: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<Person, LoginRefused> {
        let attempt = self.login_limits().begin(name, client).map_err(|too_many| {
            audit_refused_login(name, client, "rate_limited");
            LoginRefused::TooMany(too_many)
        })?;
        let person = self.realm().authenticate(name, password).await.map_err(|error| {
            audit_refused_login(name, client, "directory_unavailable");
            LoginRefused::Directory(error)
        })?;
        let result = if person.is_some() { "ok" } else { "failed" };
        metrics::counter!("simul_logins_total", "result" => result).increment(1);
        let Some(person) = person else {
            attempt.failed();
            audit_refused_login(name, client, "bad_credentials");
            return Err(LoginRefused::BadCredentials);
        };
        tracing::info!(target: "simul::audit", user = person.id.as_str(), %client, "login");
        Ok(person)
    }

    /// The first of the `presented` tokens (each with the formats it may
    /// be in, best first) that verifies with the keys in use, is of an
    /// accepted realm, names someone the directory lets in and was not
    /// revoked; invalid tokens count against `client`'s address.
    pub async fn accept_token(
        &self,
        presented: Vec<(String, Vec<TokenFormat>)>,
        client: IpAddr,
    ) -> Result<Accepted, TokenRefused> {
        if presented.is_empty() {
            return Err(TokenRefused::NotSignedIn);
        }
        let attempt = self.token_limits().begin(network_of(client)).map_err(|wait| {
            TokenRefused::TooMany(TooMany::new(
                |seconds| {
                    format!(
                        "too many invalid sign-in tokens from this address; try again in {seconds} s"
                    )
                },
                wait,
            ))
        })?;
        let started = tokio::time::Instant::now();
        let refuse = || async move {
            attempt.failed();
            metrics::counter!("simul_invalid_tokens_total").increment(1);
            tokio::time::sleep_until(started + REFUSAL_TIME).await;
            TokenRefused::NotSignedIn
        };
        let Some((identity, token)) = self.verify_any(presented) else {
            return Err(refuse().await);
        };
        let (user, must_change_password) =
            match admission(self.realm().as_ref(), &identity.user).await {
                Err(error) => return Err(TokenRefused::Directory(error)),
                Ok(Admission::DirectoryDown) => return Err(TokenRefused::DirectoryDown),
                Ok(Admission::Unknown) => return Err(TokenRefused::Unknown),
                Ok(Admission::Disabled(_)) => return Err(TokenRefused::Disabled),
                Ok(Admission::Stranger) => (identity.user.clone(), false),
                Ok(Admission::Known(person)) => (person.id, person.must_change_password),
            };
        let stamp = TokenStamp::of(&identity, &user, self.token_lifetime_ms());
        if !self.revocations().accepts(&stamp) {
            tracing::debug!(%user, "token refused: logged out or cut off");
            return Err(refuse().await);
        }
        Ok(Accepted { user, token, stamp, must_change_password })
    }

    /// Whether the token of `stamp` is still accepted (not logged out, its
    /// user not cut off since): an open session asks whenever it is told
    /// [`simul_core::Event::TokensRevoked`].
    pub fn still_accepted(&self, stamp: &TokenStamp) -> bool {
        self.revocations().accepts(stamp)
    }

    /// Whether the directory still lets `user` in: not once they are
    /// disabled or gone; yes while it cannot be asked. A session that did
    /// not come with a token (a Sametime password login) asks this when it
    /// is told [`simul_core::Event::TokensRevoked`].
    pub async fn still_admitted(&self, user: &str) -> bool {
        !matches!(
            admission(self.realm().as_ref(), user).await,
            Ok(Admission::Unknown | Admission::Disabled(_))
        )
    }

    /// The first presented token that verifies, with its identity. Why the
    /// others failed goes to the debug log as a reason class only: a
    /// detail can quote decrypted text.
    fn verify_any(&self, presented: Vec<(String, Vec<TokenFormat>)>) -> Option<(Identity, String)> {
        let options = VerifyOptions::now().trusting(self.accepted_realms());
        let keys = self.keys().current();
        for (token, formats) in presented {
            for format in formats {
                match keys.verifier.verify(&token, Some(format), &options) {
                    Ok(identity) => return Some((identity, token)),
                    Err(invalid) => tracing::debug!(reason = invalid.reason(), "token refused"),
                }
            }
        }
        None
    }
}

/// The audit line of a refused login (`simul::audit`, README "Logs"): the
/// name as given (a text field: quoted and escaped in text logs, a plain
/// string in JSON ones), never the password. Doors call it for refusals
/// of their own (a login form posted from another site).
pub fn audit_refused_login(name: &str, client: IpAddr, reason: &str) {
    tracing::info!(target: "simul::audit", user = name, %client, reason, "login refused");
}
