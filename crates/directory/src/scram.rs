//! SCRAM credentials (RFC 5802, RFC 7677) of a password: what a server
//! keeps so that XMPP clients can prove they know the password without
//! sending it. Kept per hash: salt, iteration count, `StoredKey =
//! H(HMAC(SaltedPassword, "Client Key"))` and `ServerKey =
//! HMAC(SaltedPassword, "Server Key")`. Neither is the password nor
//! logs in as it (the salted password itself is never kept).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore as _};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// PBKDF2 rounds: RFC 7677's minimum, what XMPP servers use.
pub const ITERATIONS: u32 = 4096;

/// The hash of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramHash {
    /// SCRAM-SHA-1.
    Sha1,
    /// SCRAM-SHA-256.
    Sha256,
}

impl ScramHash {
    fn label(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
        }
    }

    /// `HMAC(key, data)` with this hash.
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => mac::<Hmac<Sha1>>(key, data),
            Self::Sha256 => mac::<Hmac<Sha256>>(key, data),
        }
    }

    /// `H(data)` with this hash.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => Sha1::digest(data).to_vec(),
            Self::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    /// `Hi(password, salt, iterations)` (RFC 5802 §2.2): PBKDF2 with
    /// this hash's HMAC, as a SCRAM client computes it from a prepared
    /// password.
    pub fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            Self::Sha1 => {
                let mut out = [0; 20];
                pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out);
                out.to_vec()
            }
            Self::Sha256 => {
                let mut out = [0; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
                out.to_vec()
            }
        }
    }
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The credentials of one password for one hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramCredentials {
    /// The mechanism's hash.
    pub hash: ScramHash,
    /// PBKDF2 rounds.
    pub iterations: u32,
    /// The salt.
    pub salt: Vec<u8>,
    /// `H(ClientKey)`: what a client's proof is checked against.
    pub stored_key: Vec<u8>,
    /// What the server proves itself with.
    pub server_key: Vec<u8>,
}

impl ScramCredentials {
    /// The credentials of `password` (SASLprep'd, as clients do) with
    /// `salt`; none for a password SASLprep refuses (control characters
    /// and the like: such a user signs in with PLAIN).
    pub fn derive(hash: ScramHash, password: &str, salt: &[u8], iterations: u32) -> Option<Self> {
        let prepared = stringprep::saslprep(password).ok()?;
        let salted = hash.salted_password(prepared.as_bytes(), salt, iterations);
        let client_key = hash.hmac(&salted, b"Client Key");
        Some(Self {
            hash,
            iterations,
            salt: salt.to_vec(),
            stored_key: hash.digest(&client_key),
            server_key: hash.hmac(&salted, b"Server Key"),
        })
    }
}

/// The stored text of both hashes' credentials of `password`, each with a
/// fresh salt: `sha1:i:salt:stored:server;sha256:...` (Base64 fields);
/// empty when SASLprep refuses the password.
pub fn stored_credentials(password: &str) -> String {
    let parts: Option<Vec<String>> = [ScramHash::Sha1, ScramHash::Sha256]
        .into_iter()
        .map(|hash| {
            let mut salt = [0; 16];
            OsRng.fill_bytes(&mut salt);
            let credentials = ScramCredentials::derive(hash, password, &salt, ITERATIONS)?;
            Some(format!(
                "{}:{}:{}:{}:{}",
                hash.label(),
                credentials.iterations,
                STANDARD.encode(&credentials.salt),
                STANDARD.encode(&credentials.stored_key),
                STANDARD.encode(&credentials.server_key),
            ))
        })
        .collect();
    parts.map(|parts| parts.join(";")).unwrap_or_default()
}

/// The credentials for `hash` in a stored text, if there.
pub fn read_credentials(stored: &str, hash: ScramHash) -> Option<ScramCredentials> {
    let entry = stored.split(';').find(|entry| entry.starts_with(&format!("{}:", hash.label())))?;
    let [_, iterations, salt, stored_key, server_key] = entry.split(':').collect::<Vec<_>>()[..]
    else {
        return None;
    };
    Some(ScramCredentials {
        hash,
        iterations: iterations.parse().ok()?,
        salt: STANDARD.decode(salt).ok()?,
        stored_key: STANDARD.decode(stored_key).ok()?,
        server_key: STANDARD.decode(server_key).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 §3's example: user "user", password "pencil".
    #[test]
    fn sha256_credentials_match_rfc_7677() {
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let credentials =
            ScramCredentials::derive(ScramHash::Sha256, "pencil", &salt, 4096).unwrap();
        // ServerSignature of the RFC's exchange, from its ServerKey.
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let signature = ScramHash::Sha256.hmac(&credentials.server_key, auth_message.as_bytes());
        assert_eq!(STANDARD.encode(signature), "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    }

    #[test]
    fn stored_credentials_read_back_for_each_hash() {
        let stored = stored_credentials("long enough");
        for hash in [ScramHash::Sha1, ScramHash::Sha256] {
            let read = read_credentials(&stored, hash).unwrap();
            assert_eq!(read.iterations, ITERATIONS);
            let again = ScramCredentials::derive(hash, "long enough", &read.salt, ITERATIONS);
            assert_eq!(again, Some(read));
        }
        assert!(!stored.contains("long enough"));
        assert_eq!(read_credentials("", ScramHash::Sha1), None);
        assert_eq!(read_credentials("sha1:x:y", ScramHash::Sha1), None);
    }
}
