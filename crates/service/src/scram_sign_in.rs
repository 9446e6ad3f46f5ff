//! SCRAM sign-in (RFC 5802) for XMPP clients: the door runs the exchange,
//! the service gives the credentials to challenge with and decides, under
//! the same login limits and audit lines as a password login.

use std::net::IpAddr;
use std::sync::OnceLock;

use rand_core::{OsRng, RngCore as _};
use simul_directory::Person;
use simul_directory::scram::{ITERATIONS, ScramCredentials, ScramHash};

use crate::client_sign_in::ClientRefusal;
use crate::limits::LoginAttempt;
use crate::{Service, audit_refused_login};

/// A SCRAM sign-in under way: the credentials to challenge the client
/// with, held against the login limits until [`ScramSignIn::finish`].
pub struct ScramSignIn<'a> {
    attempt: LoginAttempt<'a>,
    person: Option<Person>,
    name: String,
    client: IpAddr,
    /// What the server challenges with (made up for an unknown name).
    pub credentials: ScramCredentials,
}

impl Service {
    /// Whether XMPP clients may sign in with SCRAM: the realm keeps SCRAM
    /// credentials (the embedded realm; LDAP checks passwords by binding).
    pub fn offers_scram(&self) -> bool {
        self.realm().keeps_scram()
    }

    /// Starts a SCRAM sign-in of `name` from `client`. Someone unknown, or
    /// without credentials yet, gets made-up ones (a salt derived from the
    /// name, the same each time), so the challenge does not tell who
    /// exists; their proof then fails like a wrong password.
    pub async fn scram_begin(
        &self,
        name: &str,
        hash: ScramHash,
        client: IpAddr,
    ) -> Result<ScramSignIn<'_>, ClientRefusal> {
        let attempt = self.login_limits().begin(name, client).map_err(|_| {
            audit_refused_login(name, client, "rate_limited");
            ClientRefusal::Restricted
        })?;
        let found = self.realm().scram(name, hash).await.map_err(|_| {
            audit_refused_login(name, client, "directory_unavailable");
            ClientRefusal::DirectoryDown
        })?;
        let (person, credentials) = match found {
            Some((person, credentials)) => (Some(person), credentials),
            None => (None, made_up(name, hash)),
        };
        Ok(ScramSignIn { attempt, person, name: name.to_owned(), client, credentials })
    }
}

impl ScramSignIn<'_> {
    /// The end of the exchange: whether the client `proved` it holds the
    /// password. The user's id, or the one answer for every bad
    /// credential (a disabled account included).
    pub fn finish(self, proved: bool) -> Result<String, ClientRefusal> {
        let Self { attempt, person, name, client, .. } = self;
        let person = person.filter(|person| proved && !person.disabled);
        let result = if person.is_some() { "ok" } else { "failed" };
        metrics::counter!("simul_logins_total", "result" => result).increment(1);
        let Some(person) = person else {
            attempt.failed();
            audit_refused_login(&name, client, "bad_credentials");
            return Err(ClientRefusal::BadCredentials);
        };
        if person.must_change_password {
            return Err(ClientRefusal::Restricted);
        }
        tracing::info!(target: "simul::audit", user = person.id.as_str(), %client, "login");
        Ok(person.id)
    }
}

/// Credentials for a name without any: a salt that depends only on the
/// name (and this process), keys nobody can prove.
fn made_up(name: &str, hash: ScramHash) -> ScramCredentials {
    static SECRET: OnceLock<[u8; 32]> = OnceLock::new();
    let secret = SECRET.get_or_init(|| {
        let mut secret = [0; 32];
        OsRng.fill_bytes(&mut secret);
        secret
    });
    let salt = hash.hmac(secret, name.to_lowercase().as_bytes())[..16].to_vec();
    let mut keys = [0; 64];
    OsRng.fill_bytes(&mut keys);
    ScramCredentials {
        hash,
        iterations: ITERATIONS,
        salt,
        stored_key: keys[..32].to_vec(),
        server_key: keys[32..].to_vec(),
    }
}
