//! Key-file passwords and the key-encryption key WebSphere derives from them.
//!
//! Open Liberty's `PasswordLTPAKeyEncryptor` (and tWAS before it) hashes the
//! password with SHA-1, pads the 20-byte digest with four zero bytes to a
//! 24-byte Triple-DES key, and encrypts key material with
//! `DESede/ECB/PKCS5Padding`. The password only protects the file; it plays
//! no part in the keys themselves.

use base64::Engine as _;
use des::TdesEde3;
use ecb::cipher::block_padding::Pkcs7;
use ecb::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyInit};
use sha1::{Digest, Sha1};
use zeroize::{Zeroize, Zeroizing};

/// A key-file password, wiped from memory when dropped.
#[derive(Clone)]
pub struct Password(Zeroizing<Vec<u8>>);

impl Password {
    /// A password as UTF-8 bytes (what Java's `String.getBytes()` gives on
    /// every modern platform).
    pub fn new(text: &str) -> Self {
        Self(Zeroizing::new(text.as_bytes().to_vec()))
    }

    /// A password as ISO-8859-1 bytes, for key files made by a JVM whose
    /// platform charset was Latin-1. `None` if a character does not fit.
    pub fn latin1(text: &str) -> Option<Self> {
        let bytes: Option<Vec<u8>> =
            text.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect();
        bytes.map(|b| Self(Zeroizing::new(b)))
    }

    /// A password as written in WebSphere or Liberty configuration: either
    /// plain text or `{xor}` followed by Base64 of the bytes XOR `0x5F`
    /// (`{xor}CDo9Hgw=` is `WebAS`). Text that is not valid `{xor}` is taken
    /// literally.
    pub fn from_config(text: &str) -> Self {
        text.strip_prefix("{xor}")
            .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded).ok())
            .map(|mut bytes| {
                bytes.iter_mut().for_each(|b| *b ^= 0x5f);
                Self(Zeroizing::new(bytes))
            })
            .unwrap_or_else(|| Self::new(text))
    }

    /// The password's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The 24-byte Triple-DES key that protects key material.
    fn key_encryption_key(&self) -> Zeroizing<[u8; 24]> {
        let mut kek = Zeroizing::new([0u8; 24]);
        let mut digest = Sha1::digest(self.as_bytes());
        kek[..20].copy_from_slice(&digest);
        digest.zeroize();
        kek
    }

    /// Encrypts key material as WebSphere stores it in `ltpa.keys`.
    pub(crate) fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        let kek = self.key_encryption_key();
        ecb::Encryptor::<TdesEde3>::new_from_slice(kek.as_ref())
            .expect("a 24-byte key is valid for Triple-DES")
            .encrypt_padded_vec::<Pkcs7>(plain)
    }

    /// Decrypts key material; `None` when the padding is wrong, which with
    /// overwhelming likelihood means the password is wrong.
    pub(crate) fn decrypt(&self, cipher: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let kek = self.key_encryption_key();
        ecb::Decryptor::<TdesEde3>::new_from_slice(kek.as_ref())
            .expect("a 24-byte key is valid for Triple-DES")
            .decrypt_padded_vec::<Pkcs7>(cipher)
            .ok()
            .map(Zeroizing::new)
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The last block of an encrypted 24-byte key is `E_K(08 x 8)`, so it
    /// identifies the password (values from the real vectors).
    #[test]
    fn padding_block_matches_real_files() {
        let cases =
            [("WebAS", "3/cGjIn+mR4="), ("password", "p7ji+BJPSDM="), ("lotus123", "Eu3o6+o138E=")];
        for (password, tail) in cases {
            let encrypted = Password::new(password).encrypt(&[0u8; 24]);
            let encoded = base64::engine::general_purpose::STANDARD.encode(&encrypted[24..]);
            assert_eq!(encoded, tail, "{password}");
        }
    }

    #[test]
    fn xor_encoded_config_passwords_decode() {
        assert_eq!(Password::from_config("{xor}CDo9Hgw=").as_bytes(), b"WebAS");
        assert_eq!(Password::from_config("{xor}Lz4sLCgwLTs=").as_bytes(), b"password");
        assert_eq!(Password::from_config("{xor}not base64!").as_bytes(), b"{xor}not base64!");
    }

    #[test]
    fn latin1_passwords_use_one_byte_per_character() {
        assert_eq!(Password::latin1("é").unwrap().as_bytes(), &[0xe9]);
        assert!(Password::latin1("€").is_none());
        assert_eq!(Password::new("é").as_bytes(), "é".as_bytes());
    }

    #[test]
    fn wrong_password_fails_padding() {
        let encrypted = Password::new("right").encrypt(&[7u8; 24]);
        assert!(Password::new("right").decrypt(&encrypted).is_some());
        assert!(Password::new("wrong").decrypt(&encrypted).is_none());
    }

    #[test]
    fn debug_never_shows_the_password() {
        assert_eq!(format!("{:?}", Password::new("secret")), "Password(<redacted>)");
    }
}
