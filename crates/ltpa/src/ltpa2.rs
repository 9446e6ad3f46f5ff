//! `LtpaToken2`, the token of WebSphere 7+ and Liberty.
//!
//! Open Liberty `LTPAToken2`/`LTPACrypto`: the plaintext
//! `userdata % expiry_ms % base64(signature)` is encrypted with
//! AES-128-CBC whose key *and* IV are the first 16 bytes of the shared key
//! (PKCS#5 padding). The signature is SHA1withRSA (PKCS#1 v1.5) over the
//! 20-byte SHA-1 of the user data, so the signed digest is
//! SHA-1(SHA-1(userdata)). Every step is deterministic: a token made by
//! WebSphere is re-created here byte for byte from the same keys, user and
//! expiry.

use aes::Aes128;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use rsa::Pkcs1v15Sign;
use rsa::rand_core::OsRng;
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use crate::keys::LtpaKeys;
use crate::rsa_public::pkcs1_sha1_encoding;
use crate::token::{Identity, Inspection, Invalid, TokenFormat, VerifyOptions};
use crate::userdata::UserData;
use crate::websphere::{self, Flavor};

/// The LtpaToken2 flavour of the WebSphere token structure.
pub(crate) struct Ltpa2;

fn aes_key(keys: &LtpaKeys) -> &[u8] {
    &keys.shared()[..16]
}

fn signed_digest(userdata: &[u8]) -> [u8; 20] {
    Sha1::digest(Sha1::digest(userdata)).into()
}

impl Flavor for Ltpa2 {
    const FORMAT: TokenFormat = TokenFormat::Ltpa2;
    const BLOCK: usize = 16;
    const EXPIRE_ATTRIBUTE: bool = true;

    fn encrypt(keys: &LtpaKeys, plain: &[u8]) -> Vec<u8> {
        cbc::Encryptor::<Aes128>::new_from_slices(aes_key(keys), aes_key(keys))
            .expect("16-byte AES key and IV")
            .encrypt_padded_vec::<Pkcs7>(plain)
    }

    fn decrypt(keys: &LtpaKeys, cipher: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        cbc::Decryptor::<Aes128>::new_from_slices(aes_key(keys), aes_key(keys))
            .expect("16-byte AES key and IV")
            .decrypt_padded_vec::<Pkcs7>(cipher)
            .ok()
            .map(Zeroizing::new)
    }

    fn sign(keys: &LtpaKeys, userdata: &[u8]) -> Vec<u8> {
        // Blinded signing (with an RNG) guards the key against timing attacks.
        keys.private()
            .sign_with_rng(&mut OsRng, Pkcs1v15Sign::new::<Sha1>(), &signed_digest(userdata))
            .expect("signing a 20-byte digest with a 1024-bit key")
    }

    fn signature_valid(keys: &LtpaKeys, userdata: &[u8], signature: &[u8]) -> bool {
        let operation = keys.public_operation();
        let expected = pkcs1_sha1_encoding(&signed_digest(userdata), operation.len());
        expected.is_some_and(|expected| operation.apply(signature) == Some(expected))
    }
}

/// Creates an LtpaToken2 for `data` (which must hold the user, see
/// [`UserData::for_user`]) expiring at `expires_ms`; the `expire`
/// attribute is set to the same moment.
pub fn create(keys: &LtpaKeys, data: &UserData, expires_ms: i64) -> String {
    websphere::create::<Ltpa2>(keys, data, expires_ms)
}

/// Verifies an LtpaToken2.
pub fn verify(keys: &LtpaKeys, token: &str, options: &VerifyOptions) -> Result<Identity, Invalid> {
    websphere::examine::<Ltpa2>(keys, token, options, true)?.into_result()
}

/// Decrypts an LtpaToken2 and reports every field and check; fails only
/// when the token cannot be decrypted at all.
pub fn inspect(
    keys: &LtpaKeys,
    token: &str,
    options: &VerifyOptions,
) -> Result<Inspection, Invalid> {
    websphere::examine::<Ltpa2>(keys, token, options, false)
}
