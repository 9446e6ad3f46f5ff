//! The LTPA key set: a 24-byte shared secret key and a 1024-bit RSA key
//! pair, with the byte layouts WebSphere uses to store them.
//!
//! Layouts (Open Liberty `LTPAPrivateKey` / `LTPAPublicKey`, confirmed
//! against real key files): the private key is
//! `len(d) (u32 BE) ‖ d ‖ e (3 bytes) ‖ p (65) ‖ q (65)` with every number
//! in Java `BigInteger.toByteArray()` form, and the public key is
//! `n (129 bytes) ‖ e (3 bytes)`. Older files (WebSphere R3.02) store
//! only `e ‖ p ‖ q` and leave `d` to be computed.

use rsa::rand_core::OsRng;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::encoding::{self, fixed_bytes, java_bytes};
use crate::rsa_public::PublicOperation;

/// RSA modulus size WebSphere, Liberty and Domino require.
pub const RSA_BITS: usize = 1024;
/// Length of the shared (Triple-DES / AES) key.
pub const SHARED_KEY_LEN: usize = 24;
const EXPONENT_LEN: usize = 3;
const PRIME_LEN: usize = 65;
const MODULUS_LEN: usize = 129;
/// Shortest public key accepted: n without its sign byte, and e.
pub(crate) const MIN_PUBLIC_LEN: usize = MODULUS_LEN - 1 + EXPONENT_LEN;
const LEGACY_PRIVATE_LEN: usize = EXPONENT_LEN + 2 * PRIME_LEN;

/// A complete LTPA key set, as one WebSphere cell or Liberty server holds it.
#[derive(Clone)]
pub struct LtpaKeys {
    shared: Zeroizing<[u8; SHARED_KEY_LEN]>,
    private: RsaPrivateKey,
    public: RsaPublicKey,
    public_operation: PublicOperation,
}

/// Why stored key material could not be decoded (the key file maps these
/// onto the property they came from).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyMaterialError {
    /// The private key has fewer bytes than its layout needs.
    #[error("{0}")]
    Truncated(String),
    /// The private key's numbers do not form an RSA key.
    #[error("{0}")]
    Private(String),
    /// The public key is not a usable RSA key.
    #[error("{0}")]
    Public(String),
    /// Both keys are valid but do not belong together.
    #[error("the public key does not belong to the private key")]
    Mismatch,
}

impl LtpaKeys {
    /// Generates a fresh key set the way WebSphere does: 24 random bytes and
    /// a 1024-bit RSA key with e = 65537, primes ordered p > q and the
    /// private exponent taken modulo (p−1)(q−1), so that the stored bytes
    /// look exactly like a WebSphere-made file.
    pub fn generate() -> Self {
        let mut shared = Zeroizing::new([0u8; SHARED_KEY_LEN]);
        rsa::rand_core::RngCore::fill_bytes(&mut OsRng, shared.as_mut());
        loop {
            let generated = RsaPrivateKey::new(&mut OsRng, RSA_BITS)
                .expect("generating a 1024-bit RSA key with the OS RNG");
            let mut primes = generated.primes().to_vec();
            primes.sort_by(|a, b| b.cmp(a));
            // Java's fixed 65-byte prime windows need primes of exactly 512 bits.
            if primes.iter().any(|p| p.bits() != RSA_BITS / 2) {
                continue;
            }
            let private = RsaPrivateKey::from_primes(primes, BigUint::from(65_537u32))
                .expect("primes from a valid key form a valid key");
            return Self::from_parts(shared, private);
        }
    }

    fn from_parts(shared: Zeroizing<[u8; SHARED_KEY_LEN]>, private: RsaPrivateKey) -> Self {
        let public = private.to_public_key();
        let public_operation = PublicOperation::new(&public)
            .expect("the modulus of a key built from two odd primes is odd");
        Self { shared, private, public, public_operation }
    }

    /// Builds a key set from a decrypted shared key and a key pair
    /// decoded with [`decode_key_pair`].
    pub(crate) fn from_shared_and_pair(
        shared: [u8; SHARED_KEY_LEN],
        private: RsaPrivateKey,
    ) -> Self {
        Self::from_parts(Zeroizing::new(shared), private)
    }

    /// The 24-byte shared key (Triple-DES key for LtpaToken v1; its first
    /// 16 bytes are the AES key of LtpaToken2).
    pub(crate) fn shared(&self) -> &[u8; SHARED_KEY_LEN] {
        &self.shared
    }

    /// The RSA private key that signs tokens.
    pub(crate) fn private(&self) -> &RsaPrivateKey {
        &self.private
    }

    /// The RSA public key that verifies tokens.
    pub(crate) fn public(&self) -> &RsaPublicKey {
        &self.public
    }

    /// The public-key operation of verification, precomputed for this key.
    pub(crate) fn public_operation(&self) -> &PublicOperation {
        &self.public_operation
    }

    /// The private key in WebSphere's stored layout (before encryption).
    pub(crate) fn private_plain(&self) -> Zeroizing<Vec<u8>> {
        let d = Zeroizing::new(java_bytes(self.private.d()));
        let [p, q] = self.prime_pair();
        let mut out = Zeroizing::new(Vec::with_capacity(4 + d.len() + LEGACY_PRIVATE_LEN));
        let d_len = u32::try_from(d.len()).expect("RSA exponent length fits in u32");
        out.extend_from_slice(&d_len.to_be_bytes());
        out.extend_from_slice(&d);
        out.extend_from_slice(&fixed(self.private.e(), EXPONENT_LEN));
        out.extend_from_slice(&fixed(p, PRIME_LEN));
        out.extend_from_slice(&fixed(q, PRIME_LEN));
        out
    }

    fn prime_pair(&self) -> [&BigUint; 2] {
        match self.private.primes() {
            [p, q] => [p, q],
            _ => unreachable!("LTPA keys are built from exactly two primes"),
        }
    }

    /// The public key in WebSphere's stored layout: `n (129) ‖ e (3)`.
    pub(crate) fn public_bytes(&self) -> Vec<u8> {
        let mut out = fixed(self.public.n(), MODULUS_LEN);
        out.extend_from_slice(&fixed(self.public.e(), EXPONENT_LEN));
        out
    }

    /// Fingerprint of the shared key: `SHA256:` and unpadded Base64 of the
    /// SHA-256 of the key. Safe to show: it does not reveal the key.
    pub fn shared_key_fingerprint(&self) -> String {
        fingerprint(self.shared.as_ref())
    }

    /// Fingerprint of the public key's stored bytes, in the same form.
    pub fn public_key_fingerprint(&self) -> String {
        fingerprint(&self.public_bytes())
    }
}

impl std::fmt::Debug for LtpaKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LtpaKeys")
            .field("shared_key", &self.shared_key_fingerprint())
            .field("public_key", &self.public_key_fingerprint())
            .finish_non_exhaustive()
    }
}

fn fingerprint(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let digest = Sha256::digest(bytes);
    format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest))
}

fn fixed(n: &BigUint, len: usize) -> Vec<u8> {
    fixed_bytes(n, len).expect("a 1024-bit key's numbers fit WebSphere's fields")
}

/// Reads a big-endian unsigned number from `bytes[range]`.
fn number(bytes: &[u8], start: usize, len: usize, what: &str) -> Result<BigUint, KeyMaterialError> {
    bytes.get(start..start + len).map(BigUint::from_bytes_be).ok_or_else(|| {
        KeyMaterialError::Truncated(format!(
            "private key ends before its {what} ({} bytes, needs {})",
            bytes.len(),
            start + len
        ))
    })
}

/// Decodes the private-key plaintext and the public-key bytes of a key
/// file, checking that they form one RSA key pair.
pub(crate) fn decode_key_pair(
    private_plain: &[u8],
    public_bytes: &[u8],
) -> Result<RsaPrivateKey, KeyMaterialError> {
    let private = decode_private(private_plain)?;
    let public = decode_public(public_bytes)?;
    if public.n() != private.n() || public.e() != private.e() {
        return Err(KeyMaterialError::Mismatch);
    }
    Ok(private)
}

fn decode_private(plain: &[u8]) -> Result<RsaPrivateKey, KeyMaterialError> {
    let (d, rest) = if plain.len() > LEGACY_PRIVATE_LEN {
        let d_len = u32::from_be_bytes(plain[..4].try_into().expect("4 bytes")) as usize;
        let expected = 4usize.saturating_add(d_len).saturating_add(LEGACY_PRIVATE_LEN);
        if plain.len() < expected {
            return Err(KeyMaterialError::Truncated(format!(
                "private key is {} bytes but its header announces {expected}",
                plain.len()
            )));
        }
        if plain.len() > expected {
            return Err(KeyMaterialError::Private(format!(
                "private key is {} bytes but its header announces {expected}",
                plain.len()
            )));
        }
        (Some(number(plain, 4, d_len, "private exponent")?), &plain[4 + d_len..])
    } else {
        (None, plain)
    };
    let e = number(rest, 0, EXPONENT_LEN, "public exponent")?;
    let p = number(rest, EXPONENT_LEN, PRIME_LEN, "first prime")?;
    let q = number(rest, EXPONENT_LEN + PRIME_LEN, PRIME_LEN, "second prime")?;
    let inconsistent = |e: rsa::Error| {
        KeyMaterialError::Private(format!("private key numbers do not form an RSA key ({e})"))
    };
    // Odd primes keep the modulus odd, as Montgomery arithmetic needs.
    let usable = |prime: &BigUint| prime > &BigUint::from(2u8) && prime.to_bytes_le()[0] & 1 == 1;
    if p == q || !usable(&p) || !usable(&q) {
        return Err(KeyMaterialError::Private("private key primes are not usable".into()));
    }
    match d {
        Some(d) => RsaPrivateKey::from_components(&p * &q, e, d, vec![p, q]).map_err(inconsistent),
        None => RsaPrivateKey::from_primes(vec![p, q], e).map_err(inconsistent),
    }
}

fn decode_public(bytes: &[u8]) -> Result<RsaPublicKey, KeyMaterialError> {
    // Lenient on read (some tools omit the sign byte of n), strict on write.
    if bytes.len() <= EXPONENT_LEN + 1 {
        return Err(KeyMaterialError::Public(format!("public key is only {} bytes", bytes.len())));
    }
    let (n, e) = bytes.split_at(bytes.len() - EXPONENT_LEN);
    RsaPublicKey::new(BigUint::from_bytes_be(n), BigUint::from_bytes_be(e))
        .map_err(|e| KeyMaterialError::Public(format!("public key is not a usable RSA key ({e})")))
}

/// Decodes Base64 key material (padding optional).
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    encoding::decode(text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_use_websphere_layout() {
        let keys = LtpaKeys::generate();
        let [p, q] = keys.prime_pair();
        assert!(p > q, "larger prime first, as WebSphere stores it");
        assert_eq!(keys.public.n().bits(), RSA_BITS);
        assert_eq!(keys.public_bytes().len(), MODULUS_LEN + EXPONENT_LEN);
        let plain = keys.private_plain();
        assert!(plain.len() == 265 || plain.len() == 266, "{}", plain.len());
        let pair = decode_key_pair(&plain, &keys.public_bytes()).unwrap();
        assert_eq!(LtpaKeys::from_shared_and_pair(*keys.shared(), pair).private_plain(), plain);
    }

    #[test]
    fn legacy_layout_without_private_exponent_decodes() {
        let keys = LtpaKeys::generate();
        let plain = keys.private_plain();
        let d_len = u32::from_be_bytes(plain[..4].try_into().unwrap()) as usize;
        let legacy = &plain[4 + d_len..];
        let pair = decode_key_pair(legacy, &keys.public_bytes()).unwrap();
        let again = LtpaKeys::from_shared_and_pair(*keys.shared(), pair);
        assert_eq!(again.private_plain(), plain, "d recomputed modulo (p-1)(q-1)");
    }

    #[test]
    fn mismatched_public_key_is_inconsistent() {
        let (a, b) = (LtpaKeys::generate(), LtpaKeys::generate());
        let err = decode_key_pair(&a.private_plain(), &b.public_bytes());
        assert_eq!(err.err(), Some(KeyMaterialError::Mismatch));
    }

    #[test]
    fn short_private_key_is_truncated() {
        let keys = LtpaKeys::generate();
        let plain = keys.private_plain();
        let err = decode_key_pair(&plain[..200], &keys.public_bytes());
        assert!(matches!(err, Err(KeyMaterialError::Truncated(_))), "{err:?}");
    }
}
