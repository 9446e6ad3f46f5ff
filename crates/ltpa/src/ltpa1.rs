//! `LtpaToken` in WebSphere's version-1 format, sent next to LtpaToken2
//! when "Interoperability mode" is on.
//!
//! Sources: Eclipse Amlen `server_admin/src/ltpautils.c` (code "taken from
//! DataPower and IBM Security code") and a token made by WebSphere. The
//! plaintext has the LtpaToken2 layout (without an `expire` attribute) and
//! is encrypted with Triple-DES in ECB mode under the whole 24-byte shared
//! key. The signature is raw RSA over the ISO/IEC 9796-1 padding of
//! SHA-1(userdata); of `s` and `n − s` the smaller is sent, so a verifier
//! accepts `sig^e mod n` equal to the padded digest or to its complement.

use des::TdesEde3;
use ecb::cipher::block_padding::Pkcs7;
use ecb::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyInit};
use rsa::BigUint;
use rsa::hazmat::rsa_decrypt;
use rsa::rand_core::OsRng;
use rsa::traits::PublicKeyParts;
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use crate::encoding::fixed_bytes;
use crate::keys::LtpaKeys;
use crate::token::{Identity, Inspection, Invalid, TokenFormat, VerifyOptions};
use crate::userdata::UserData;
use crate::websphere::{self, Flavor};

/// Signature length for a 1024-bit modulus.
const SIGNATURE_LEN: usize = 128;

/// The version-1 flavour of the WebSphere token structure.
pub(crate) struct Ltpa1;

impl Flavor for Ltpa1 {
    const FORMAT: TokenFormat = TokenFormat::Ltpa1;
    const BLOCK: usize = 8;
    const EXPIRE_ATTRIBUTE: bool = false;

    fn encrypt(keys: &LtpaKeys, plain: &[u8]) -> Vec<u8> {
        ecb::Encryptor::<TdesEde3>::new_from_slice(keys.shared())
            .expect("24-byte Triple-DES key")
            .encrypt_padded_vec::<Pkcs7>(plain)
    }

    fn decrypt(keys: &LtpaKeys, cipher: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        ecb::Decryptor::<TdesEde3>::new_from_slice(keys.shared())
            .expect("24-byte Triple-DES key")
            .decrypt_padded_vec::<Pkcs7>(cipher)
            .ok()
            .map(Zeroizing::new)
    }

    fn sign(keys: &LtpaKeys, userdata: &[u8]) -> Vec<u8> {
        let n = keys.public().n();
        let m = iso9796_pad(&Sha1::digest(userdata).into());
        // Blinded (an RNG is passed): the raw private operation must not leak timing.
        let s =
            rsa_decrypt(Some(&mut OsRng), keys.private(), &m).expect("padded digest is below n");
        let complement = n - &s;
        let s = if s > complement { complement } else { s };
        fixed_bytes(&s, SIGNATURE_LEN).expect("a signature fits the modulus length")
    }

    fn signature_valid(keys: &LtpaKeys, userdata: &[u8], signature: &[u8]) -> bool {
        let Some(v) = keys.public_operation().apply(signature) else {
            return false;
        };
        let v = BigUint::from_bytes_be(&v);
        let m = iso9796_pad(&Sha1::digest(userdata).into());
        v == m || keys.public().n() - &v == m
    }
}

/// ISO/IEC 9796-1 message representative of a 20-byte digest for a
/// 1024-bit modulus: the digest repeated across the even bytes, each odd
/// byte the "shadow" (nibble permutation) of its neighbour, a marker bit at
/// 2·20 bytes from the end, the top bits set to `01`, and the last byte
/// `low nibble ‖ 6`.
fn iso9796_pad(digest: &[u8; 20]) -> BigUint {
    const SHADOW: [u8; 16] =
        [0xE, 0x3, 0x5, 0x8, 0x9, 0x4, 0x2, 0xF, 0x0, 0xD, 0xB, 0x6, 0x7, 0xA, 0xC, 0x1];
    let mut out = [0u8; SIGNATURE_LEN];
    for i in 0..SIGNATURE_LEN / 2 {
        let j = SIGNATURE_LEN - 1 - 2 * i;
        out[j] = digest[19 - (i % 20)];
        out[j - 1] = (SHADOW[usize::from(out[j] >> 4)] << 4) | SHADOW[usize::from(out[j] & 0xF)];
    }
    out[SIGNATURE_LEN - 2 * digest.len()] ^= 1;
    out[0] = (out[0] & 0x7F) | 0x40;
    out[SIGNATURE_LEN - 1] = (out[SIGNATURE_LEN - 1] << 4) | 0x06;
    BigUint::from_bytes_be(&out)
}

/// Creates a version-1 LtpaToken for `data`'s user, expiring at `expires_ms`.
/// Only the user data's `u` and other attributes are signed; v1 carries
/// the expiry in its expiry field alone.
pub fn create(keys: &LtpaKeys, data: &UserData, expires_ms: i64) -> String {
    websphere::create::<Ltpa1>(keys, data, expires_ms)
}

/// Verifies a version-1 LtpaToken.
pub fn verify(keys: &LtpaKeys, token: &str, options: &VerifyOptions) -> Result<Identity, Invalid> {
    websphere::examine::<Ltpa1>(keys, token, options, true)?.into_result()
}

/// Decrypts a version-1 LtpaToken and reports every field and check.
pub fn inspect(
    keys: &LtpaKeys,
    token: &str,
    options: &VerifyOptions,
) -> Result<Inspection, Invalid> {
    websphere::examine::<Ltpa1>(keys, token, options, false)
}
