//! The RSA public-key operation that token verification spends its time
//! in, with the modulus's Montgomery parameters computed once per key.
//!
//! Why not `rsa::RsaPublicKey::verify`: in `rsa` 0.9 the modular
//! exponentiation (num-bigint-dig) walks all 64 bits of the exponent and
//! recomputes `R² mod n` on every call, about 90 µs per 1024-bit signature
//! here; `crypto-bigint`'s Montgomery form with precomputed parameters
//! takes about a quarter of that (BENCHMARKS.md). Signing stays with the
//! `rsa` crate. Only public values pass through here (signatures and the
//! public key), so variable-time arithmetic is fine.

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use rsa::RsaPublicKey;
use rsa::traits::PublicKeyParts;

/// `s ↦ s^e mod n` for one public key.
#[derive(Clone)]
pub(crate) struct PublicOperation {
    params: BoxedMontyParams,
    modulus: BoxedUint,
    exponent: BoxedUint,
    exponent_bits: u32,
    /// Length of the modulus in bytes: the length of signatures and results.
    len: usize,
}

impl PublicOperation {
    /// Precomputes the operation for `key`; `None` if its modulus is even
    /// (never the case for a product of two odd primes).
    pub(crate) fn new(key: &RsaPublicKey) -> Option<Self> {
        let n = key.n().to_bytes_be();
        let e = key.e().to_bytes_be();
        let bits = u32::try_from(n.len() * 8).ok()?;
        let modulus = BoxedUint::from_be_slice(&n, bits).ok()?;
        let params = BoxedMontyParams::new_vartime(Odd::new(modulus.clone()).into_option()?);
        let exponent = BoxedUint::from_be_slice(&e, u32::try_from(e.len() * 8).ok()?).ok()?;
        let exponent_bits = exponent.bits();
        Some(Self { params, modulus, exponent, exponent_bits, len: key.size() })
    }

    /// Length of the modulus (and of a signature) in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// `signature^e mod n` as big-endian bytes of the modulus's length, or
    /// `None` if the signature has the wrong length or is not below `n`
    /// (RFC 8017 §8.2.2 steps 1 and 2).
    pub(crate) fn apply(&self, signature: &[u8]) -> Option<Vec<u8>> {
        if signature.len() != self.len {
            return None;
        }
        let s = BoxedUint::from_be_slice(signature, self.modulus.bits_precision()).ok()?;
        if s >= self.modulus {
            return None;
        }
        let v = BoxedMontyForm::new(s, &self.params)
            .pow_bounded_exp(&self.exponent, self.exponent_bits)
            .retrieve();
        let bytes = v.to_be_bytes();
        Some(bytes[bytes.len() - self.len..].to_vec())
    }
}

/// DER `DigestInfo` prefix for SHA-1 (RFC 8017 §9.2, note 1).
const SHA1_DIGEST_INFO: [u8; 15] =
    [0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14];

/// EMSA-PKCS1-v1_5 encoding of a SHA-1 digest for a `len`-byte modulus:
/// `00 01 FF…FF 00 ‖ DigestInfo ‖ digest`. Verification compares this with
/// the signature raised to `e` (RFC 8017 §8.2.2), the method the RFC
/// recommends, which leaves no parser to get wrong.
pub(crate) fn pkcs1_sha1_encoding(digest: &[u8; 20], len: usize) -> Option<Vec<u8>> {
    let padding = len.checked_sub(3 + SHA1_DIGEST_INFO.len() + digest.len()).filter(|p| *p >= 8)?;
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&[0x00, 0x01]);
    out.resize(2 + padding, 0xff);
    out.push(0x00);
    out.extend_from_slice(&SHA1_DIGEST_INFO);
    out.extend_from_slice(digest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::Pkcs1v15Sign;
    use rsa::rand_core::OsRng;
    use sha1::Sha1;

    #[test]
    fn agrees_with_the_rsa_crate() {
        let key = rsa::RsaPrivateKey::new(&mut OsRng, 1024).unwrap();
        let public = key.to_public_key();
        let operation = PublicOperation::new(&public).unwrap();
        let digest = [7u8; 20];
        let signature =
            key.sign_with_rng(&mut OsRng, Pkcs1v15Sign::new::<Sha1>(), &digest).unwrap();
        assert_eq!(operation.apply(&signature), pkcs1_sha1_encoding(&digest, operation.len()));
        let mut other = signature.clone();
        other[50] ^= 1;
        assert_ne!(operation.apply(&other), pkcs1_sha1_encoding(&digest, operation.len()));
        assert_eq!(operation.apply(&signature[1..]), None, "wrong length");
        assert_eq!(operation.apply(&public.n().to_bytes_be()), None, "not below n");
    }

    #[test]
    fn encoding_needs_room_for_padding() {
        assert_eq!(pkcs1_sha1_encoding(&[0; 20], 128).unwrap().len(), 128);
        assert!(pkcs1_sha1_encoding(&[0; 20], 45).is_none());
    }
}
