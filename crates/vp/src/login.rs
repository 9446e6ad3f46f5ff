//! Login authentication (spec §4.5, §4.6): what is inside a LOGIN's
//! `auth_data`, and how the server gets the secret out of it.
//!
//! Per connection the server makes [`LoginKeys`] (a fresh DH pair and
//! magic), sends [`LoginKeys::handshake_ack`], and hands the LOGIN to
//! [`decrypt_login`]. The result is a [`Credential`]: a password (which
//! may itself be an LTPA token, §4.6 item 1: that is for the caller to
//! try) or a token (auth type 1). Every failure is a [`LoginError`]
//! whose wire answer is the same `INCORRECT_LOGIN` (§4.8), so the answer
//! never tells a padding error from a wrong password.

use std::fmt;

use rand_core::{OsRng, RngCore};
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::crypto::{self, CryptoError, DhKeyPair, IV};
use crate::encoding::{DecodeError, Reader, Writer};
use crate::message::{HandshakeAck, Login};
use crate::reason::ErrorCode;

/// Auth types (`enum mwAuthType`, §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum AuthType {
    /// `str password` in the clear; no known client sends it.
    Plain = 0x0000,
    /// A token (LTPA); stock clients never send it (§4.6).
    Token = 0x0001,
    /// RC2 with a 5-byte key sent along: what libmeanwhile sends when the
    /// HANDSHAKE_ACK had no key.
    Rc2_40 = 0x0002,
    /// RC2 with a DH-agreed 16-byte key: libmeanwhile's default.
    Rc2_128 = 0x0004,
}

impl AuthType {
    /// The auth type for a wire value, if known.
    pub fn from_u16(value: u16) -> Option<Self> {
        match value {
            0x0000 => Some(Self::Plain),
            0x0001 => Some(Self::Token),
            0x0002 => Some(Self::Rc2_40),
            0x0004 => Some(Self::Rc2_128),
            _ => None,
        }
    }
}

/// Why a login's credential could not be read. Every variant answers the
/// client with [`ErrorCode::IncorrectLogin`] ([`LoginError::reason`]);
/// the variants are for the server's own logs and tests, and none carries
/// secret data.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoginError {
    /// An auth type this protocol does not define.
    #[error("unsupported auth type {0:#06x}")]
    UnsupportedAuthType(u16),
    /// A plain-text password while plain logins are switched off.
    #[error("plain-text password logins are switched off")]
    PlainRefused,
    /// An RC2/128 login on a connection whose HANDSHAKE_ACK offered no key.
    #[error("RC2/128 login without a key offered in the handshake")]
    NoKeyOffered,
    /// The auth data does not have the layout of its auth type.
    #[error("malformed auth data: {0}")]
    Malformed(#[from] DecodeError),
    /// Decryption failed (bad key length, ciphertext length or padding,
    /// or an out-of-range DH value).
    #[error("auth data does not decrypt: {0}")]
    Crypto(#[from] CryptoError),
    /// The RC2/128 plaintext does not start with this connection's magic.
    #[error("wrong magic in the RC2/128 plaintext")]
    WrongMagic,
}

impl LoginError {
    /// The reason to send in `CHANNEL_DESTROY` on channel 0 (§4.8).
    pub fn reason(&self) -> ErrorCode {
        ErrorCode::IncorrectLogin
    }
}

/// A decrypted secret: wiped when dropped, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps secret bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret as text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Constant-time comparison (the time depends on the lengths only).
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        bool::from(self.0.as_slice().ct_eq(other))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// What a LOGIN proves, once decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A password (auth types 0, 2, 4). It may be an LTPA token typed into
    /// the password field (§4.6 item 1).
    Password(Secret),
    /// A token (auth type 1).
    Token(Secret),
}

/// The server's login keys for one connection: a DH pair and a magic,
/// both fresh per connection (§4.3).
#[derive(Debug)]
pub struct LoginKeys {
    dh: DhKeyPair,
    magic: u32,
}

impl LoginKeys {
    /// Fresh keys from the OS RNG.
    pub fn generate() -> Self {
        Self { dh: DhKeyPair::generate(), magic: OsRng.next_u32() }
    }

    /// Keys from given parts, for vectors and tests.
    pub fn from_parts(dh: DhKeyPair, magic: u32) -> Self {
        Self { dh, magic }
    }

    /// The magic the client must echo.
    pub fn magic(&self) -> u32 {
        self.magic
    }

    /// The server's DH public key, 64 bytes.
    pub fn public_key(&self) -> [u8; 64] {
        self.dh.public_key()
    }

    /// The HANDSHAKE_ACK that offers these keys; `client_addr` is the
    /// client's IPv4 address as the server sees it (0 for IPv6).
    pub fn handshake_ack(&self, client_addr: u32) -> HandshakeAck {
        HandshakeAck::with_key(client_addr, self.magic, self.public_key())
    }
}

/// Options of [`decrypt_login`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginOptions {
    /// Accept auth type 0 (the password in the clear). Off by default (§4.5).
    pub allow_plain: bool,
}

/// Gets the credential out of a LOGIN (§4.5, §4.6).
///
/// `keys` are the ones offered in this connection's HANDSHAKE_ACK, `None`
/// if it offered none (an RC2/40-only server).
pub fn decrypt_login(
    login: &Login,
    keys: Option<&LoginKeys>,
    options: LoginOptions,
) -> Result<Credential, LoginError> {
    let data = &login.auth_data[..];
    match AuthType::from_u16(login.auth_type) {
        Some(AuthType::Rc2_40) => {
            let mut r = Reader::new(data);
            let key = r.opaque("RC2/40 key")?;
            let ciphertext = r.opaque("RC2/40 ciphertext")?;
            let password = crypto::rc2_decrypt(key, &IV, ciphertext)?;
            Ok(Credential::Password(Secret(password)))
        }
        Some(AuthType::Rc2_128) => {
            let keys = keys.ok_or(LoginError::NoKeyOffered)?;
            let mut r = Reader::new(data);
            // Always 1; meaning unknown (§4.5, §14 item 2).
            r.u16("RC2/128 marker")?;
            let client_public = r.opaque("RC2/128 client key")?;
            let ciphertext = r.opaque("RC2/128 ciphertext")?;
            let key = keys.dh.shared_key(client_public)?;
            let plaintext = crypto::rc2_decrypt(&key[..], &IV, ciphertext)?;
            let mut p = Reader::new(&plaintext);
            let magic = p.u32("RC2/128 magic")?;
            if !bool::from(magic.to_be_bytes().ct_eq(&keys.magic.to_be_bytes())) {
                return Err(LoginError::WrongMagic);
            }
            let password = p.str_bytes("RC2/128 password")?;
            Ok(Credential::Password(Secret::new(password.to_vec())))
        }
        Some(AuthType::Plain) if options.allow_plain => {
            let password = Reader::new(data).str_bytes("plain password")?;
            Ok(Credential::Password(Secret::new(password.to_vec())))
        }
        Some(AuthType::Plain) => Err(LoginError::PlainRefused),
        Some(AuthType::Token) => {
            // uncertain (§4.6, §14 item 1): `str token` first; if that is not
            // exactly the whole opaque, the opaque itself is the token.
            let mut r = Reader::new(data);
            let token = match r.str_bytes("token") {
                Ok(token) if r.is_empty() => token,
                _ => data,
            };
            Ok(Credential::Token(Secret::new(token.to_vec())))
        }
        None => Err(LoginError::UnsupportedAuthType(login.auth_type)),
    }
}

/// The auth data of an RC2/40 login, as libmeanwhile composes it: the key
/// in the clear, then the encrypted password. For test clients.
pub fn compose_rc2_40(key: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, LoginError> {
    let ciphertext = crypto::rc2_encrypt(key, &IV, password)?;
    let mut w = Writer::new();
    w.opaque("RC2/40 key", key).opaque("RC2/40 ciphertext", &ciphertext);
    finish(w)
}

/// The auth data of an RC2/128 login, as libmeanwhile composes it from
/// the server's HANDSHAKE_ACK. For test clients.
pub fn compose_rc2_128(
    client: &DhKeyPair,
    server_public: &[u8],
    magic: u32,
    password: &[u8],
) -> Result<Zeroizing<Vec<u8>>, LoginError> {
    let key = client.shared_key(server_public)?;
    let mut plain = Writer::new();
    plain.u32(magic).str_bytes("RC2/128 password", password);
    let plaintext = Zeroizing::new(plain.finish().map_err(|_| too_long())?);
    let ciphertext = crypto::rc2_encrypt(&key[..], &IV, &plaintext)?;
    let mut w = Writer::new();
    w.u16(0x0001)
        .opaque("RC2/128 client key", &client.public_key())
        .opaque("RC2/128 ciphertext", &ciphertext);
    finish(w)
}

fn finish(w: Writer) -> Result<Zeroizing<Vec<u8>>, LoginError> {
    w.finish().map(Zeroizing::new).map_err(|_| too_long())
}

fn too_long() -> LoginError {
    LoginError::Malformed(DecodeError::BadValue { field: "password length", value: u32::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hex;

    fn login(auth_type: u16, auth_data: Vec<u8>) -> Login {
        Login {
            login_type: 0x1700,
            name: "alice".into(),
            auth_data: Zeroizing::new(auth_data),
            auth_type,
        }
    }

    fn password(credential: Credential) -> Vec<u8> {
        match credential {
            Credential::Password(secret) => secret.expose().to_vec(),
            Credential::Token(_) => panic!("not a password"),
        }
    }

    fn vector_keys() -> LoginKeys {
        LoginKeys::from_parts(
            DhKeyPair::from_private(&hex(
                "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
            )),
            0x1122_3344,
        )
    }

    const VECTOR_AUTH_DATA: &str = "000100000040528ef2f8559e3b41825dbb5d1e236077958ec99ca0e6d634b3c9de78695190ef068bdd02e65d54540925dae2469bb9f745f48d884b94146b1e35a090dbfa19b400000018e581074f859e921629ca210f66455e49fbcd2d375ed91af1";

    // Spec §13.2.
    #[test]
    fn rc2_128_vector() {
        let keys = vector_keys();
        let credential =
            decrypt_login(&login(4, hex(VECTOR_AUTH_DATA)), Some(&keys), LoginOptions::default())
                .unwrap();
        assert_eq!(password(credential), b"secret-password");

        let client = DhKeyPair::from_private(&hex(
            "1112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30",
        ));
        let composed =
            compose_rc2_128(&client, &keys.public_key(), 0x1122_3344, b"secret-password").unwrap();
        assert_eq!(*composed, hex(VECTOR_AUTH_DATA));
    }

    #[test]
    fn rc2_128_wrong_magic_and_missing_key() {
        let other = LoginKeys::from_parts(vector_keys().dh, 0x1122_3345);
        let msg = login(4, hex(VECTOR_AUTH_DATA));
        assert_eq!(
            decrypt_login(&msg, Some(&other), LoginOptions::default()),
            Err(LoginError::WrongMagic)
        );
        assert_eq!(
            decrypt_login(&msg, None, LoginOptions::default()),
            Err(LoginError::NoKeyOffered)
        );
    }

    // The auth data of the spec's §13.3 LOGIN frame.
    #[test]
    fn rc2_40_vector() {
        let data = hex("000000057c5fc3cce20000001043b9486de4aaf8de8d84c8ca5748b1d1");
        let credential = decrypt_login(&login(2, data.clone()), None, LoginOptions::default());
        assert_eq!(password(credential.unwrap()), b"wonderland");
        assert_eq!(*compose_rc2_40(&hex("7c5fc3cce2"), b"wonderland").unwrap(), data);
    }

    #[test]
    fn plain_only_when_allowed() {
        let data = hex("0003 616263");
        assert_eq!(
            decrypt_login(&login(0, data.clone()), None, LoginOptions::default()),
            Err(LoginError::PlainRefused)
        );
        let allowed = LoginOptions { allow_plain: true };
        assert_eq!(password(decrypt_login(&login(0, data), None, allowed).unwrap()), b"abc");
    }

    #[test]
    fn token_as_str_or_raw() {
        let token = |data: Vec<u8>| match decrypt_login(&login(1, data), None, Default::default()) {
            Ok(Credential::Token(secret)) => secret.expose().to_vec(),
            other => panic!("{other:?}"),
        };
        assert_eq!(token(hex("0003 616263")), b"abc");
        assert_eq!(token(hex("0003 61626364")), hex("0003 61626364"), "str not covering all");
        assert_eq!(token(b"AAECAw==".to_vec()), b"AAECAw==");
    }

    #[test]
    fn every_failure_is_incorrect_login_and_secrets_stay_hidden() {
        let error = decrypt_login(&login(3, vec![]), None, Default::default()).unwrap_err();
        assert_eq!(error, LoginError::UnsupportedAuthType(3));
        assert_eq!(error.reason(), ErrorCode::IncorrectLogin);
        let secret = Secret::new(b"hunter2".to_vec());
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert!(secret.ct_eq(b"hunter2") && !secret.ct_eq(b"hunter3") && !secret.ct_eq(b"hunter"));
        let msg = login(2, b"secret auth".to_vec());
        assert!(!format!("{msg:?}").contains("secret"), "{msg:?}");
    }
}
