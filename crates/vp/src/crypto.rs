//! The ciphers of VP (spec §4.5, §5.6): RC2 as Meanwhile uses it and the
//! 512-bit Diffie-Hellman exchange that makes RC2/128 keys.
//!
//! RC2 here is RFC 2268 with **effective key bits 1024** whatever the key
//! length (meanwhile's `mwKeyExpand` skips the T1 reduction), in CBC mode
//! with the fixed IV `0123456789abcdef` and PKCS#5 padding. "RC2/40" and
//! "RC2/128" only name 5- and 16-byte keys. Channel ciphers chain the IV
//! across messages ([`ChainedCipher`]).
//!
//! This is obfuscation-grade cryptography (§0.5): 512-bit DH and RC2 keep
//! a password out of a casual capture, nothing more. The DH arithmetic
//! uses `num-bigint`, which is not constant time; the private exponent is
//! per connection and used once, which is acceptable at this grade.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit};
use num_bigint::BigUint;
use rand_core::{OsRng, RngCore};
use rc2::Rc2;
use thiserror::Error;
use zeroize::Zeroizing;

/// The fixed IV every RC2 stream starts from (`mwIV_init`).
pub const IV: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

/// RC2's effective key bits as meanwhile expands keys.
pub const EFFECTIVE_KEY_BITS: usize = 1024;

/// RC2 block length.
const BLOCK: usize = 8;

/// The Diffie-Hellman prime (`cipher.c` `dh_prime`), 512 bits.
pub const DH_PRIME: [u8; 64] = [
    0xcf, 0x84, 0xaf, 0xce, 0x86, 0xdd, 0xfa, 0x52, 0x7f, 0x13, 0x6d, 0x10, 0x35, 0x75, 0x28, 0xee,
    0xfb, 0xa0, 0xaf, 0xef, 0x80, 0x8f, 0x29, 0x17, 0x4e, 0x3b, 0x6a, 0x9e, 0x97, 0x00, 0x01, 0x71,
    0x7c, 0x8f, 0x10, 0x6c, 0x41, 0xc1, 0x61, 0xa6, 0xce, 0x91, 0x05, 0x7b, 0x34, 0xda, 0x62, 0xcb,
    0xb8, 0x7b, 0xfd, 0xc1, 0xb3, 0x5c, 0x1b, 0x91, 0x0f, 0xea, 0x72, 0x24, 0x9d, 0x56, 0x6b, 0x9f,
];

/// The Diffie-Hellman generator (`cipher.c` `DH_BASE`).
pub const DH_GENERATOR: u32 = 3;

/// Length of a DH public key on the wire: always left-padded to 64 bytes.
pub const DH_PUBLIC_LEN: usize = 64;

/// Why an RC2 or DH operation failed. None of these carries secret data.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CryptoError {
    /// RC2 keys are 1 to 128 bytes.
    #[error("RC2 key of {0} bytes; keys are 1 to 128 bytes")]
    KeyLength(usize),
    /// Ciphertext must be a non-zero multiple of 8 bytes.
    #[error("ciphertext of {0} bytes is not a non-zero multiple of 8")]
    CiphertextLength(usize),
    /// The decrypted padding is not PKCS#5.
    #[error("bad padding after decryption")]
    Padding,
    /// A peer's DH public value is out of range (≤ 1, ≥ p − 1, or longer than p).
    #[error("Diffie-Hellman public value out of range")]
    PublicKey,
}

fn rc2(key: &[u8]) -> Result<Rc2, CryptoError> {
    // Rc2::new_with_eff_key_len panics outside 1..=128; check first.
    if key.is_empty() || key.len() > 128 {
        return Err(CryptoError::KeyLength(key.len()));
    }
    Ok(Rc2::new_with_eff_key_len(key, EFFECTIVE_KEY_BITS))
}

fn check_ciphertext(ciphertext: &[u8]) -> Result<(), CryptoError> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK) {
        return Err(CryptoError::CiphertextLength(ciphertext.len()));
    }
    Ok(())
}

fn encrypt_with(cipher: Rc2, iv: &[u8; 8], plaintext: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<Rc2>::inner_iv_init(cipher, iv.into()).encrypt_padded_vec::<Pkcs7>(plaintext)
}

fn decrypt_with(
    cipher: Rc2,
    iv: &[u8; 8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    check_ciphertext(ciphertext)?;
    cbc::Decryptor::<Rc2>::inner_iv_init(cipher, iv.into())
        .decrypt_padded_vec::<Pkcs7>(ciphertext)
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Padding)
}

/// RC2-CBC encryption with PKCS#5 padding (`mwEncrypt`).
pub fn rc2_encrypt(key: &[u8], iv: &[u8; 8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(encrypt_with(rc2(key)?, iv, plaintext))
}

/// RC2-CBC decryption, padding checked and removed (`mwDecrypt`). The
/// plaintext is wiped when dropped.
pub fn rc2_decrypt(
    key: &[u8],
    iv: &[u8; 8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    decrypt_with(rc2(key)?, iv, ciphertext)
}

/// One direction of an encrypted channel (§5.6): RC2-CBC whose IV starts
/// at [`IV`] and continues from the last ciphertext block of the previous
/// message.
#[derive(Clone)]
pub struct ChainedCipher {
    cipher: Rc2,
    iv: [u8; 8],
}

impl std::fmt::Debug for ChainedCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainedCipher(<key>)")
    }
}

impl ChainedCipher {
    /// A stream keyed with `key` (1 to 128 bytes), at the fixed IV.
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        Ok(Self { cipher: rc2(key)?, iv: IV })
    }

    /// The RC2/40 stream of a login: keyed with the first 5 bytes of its
    /// login id. Each side encrypts with its own login id and decrypts
    /// with its peer's (§5.6).
    pub fn rc2_40(login_id: &str) -> Result<Self, CryptoError> {
        let bytes = login_id.as_bytes();
        Self::new(&bytes[..bytes.len().min(5)])
    }

    /// Encrypts the next message.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Vec<u8> {
        let out = encrypt_with(self.cipher.clone(), &self.iv, plaintext);
        self.iv.copy_from_slice(&out[out.len() - BLOCK..]);
        out
    }

    /// Decrypts the next message. A message of a wrong length leaves the
    /// stream where it was; one with bad padding still moves it on (its
    /// blocks were received).
    pub fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        check_ciphertext(ciphertext)?;
        let out = decrypt_with(self.cipher.clone(), &self.iv, ciphertext);
        self.iv.copy_from_slice(&ciphertext[ciphertext.len() - BLOCK..]);
        out
    }
}

/// A Diffie-Hellman key pair in the VP group: the server's per
/// connection for RC2/128 logins, or a client's for RC2/128 channels.
pub struct DhKeyPair {
    private: Zeroizing<Vec<u8>>,
    public: [u8; DH_PUBLIC_LEN],
}

impl std::fmt::Debug for DhKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DhKeyPair").field("public", &self.public).finish_non_exhaustive()
    }
}

fn prime() -> BigUint {
    BigUint::from_bytes_be(&DH_PRIME)
}

/// `n` big-endian, left-padded to 64 bytes (n < p, so it always fits).
fn pad64(n: &BigUint) -> [u8; DH_PUBLIC_LEN] {
    let bytes = n.to_bytes_be();
    let mut out = [0; DH_PUBLIC_LEN];
    out[DH_PUBLIC_LEN - bytes.len()..].copy_from_slice(&bytes);
    out
}

impl DhKeyPair {
    /// A fresh pair with a 512-bit private exponent from the OS RNG
    /// (meanwhile draws about as many random bits).
    pub fn generate() -> Self {
        let mut private = Zeroizing::new(vec![0; 64]);
        OsRng.fill_bytes(&mut private);
        Self::from_private(&private)
    }

    /// The pair for a given private exponent (big-endian), for vectors and
    /// tests; real keys come from [`generate`](Self::generate).
    pub fn from_private(private: &[u8]) -> Self {
        let x = BigUint::from_bytes_be(private);
        let public = pad64(&BigUint::from(DH_GENERATOR).modpow(&x, &prime()));
        Self { private: Zeroizing::new(private.to_vec()), public }
    }

    /// The public value, 64 bytes, as HANDSHAKE_ACK and cipher offers carry it.
    pub fn public_key(&self) -> [u8; DH_PUBLIC_LEN] {
        self.public
    }

    /// The shared secret S = peer^x mod p, left-padded to 64 bytes.
    /// A peer value ≤ 1 or ≥ p − 1 is refused: it would force a known secret.
    pub fn shared_secret(
        &self,
        peer_public: &[u8],
    ) -> Result<Zeroizing<[u8; DH_PUBLIC_LEN]>, CryptoError> {
        let p = prime();
        let y = BigUint::from_bytes_be(peer_public);
        if y <= BigUint::from(1u32) || y >= &p - 1u32 {
            return Err(CryptoError::PublicKey);
        }
        let x = BigUint::from_bytes_be(&self.private);
        Ok(Zeroizing::new(pad64(&y.modpow(&x, &p))))
    }

    /// The RC2/128 key: the last 16 bytes of the shared secret (§4.5).
    pub fn shared_key(&self, peer_public: &[u8]) -> Result<Zeroizing<[u8; 16]>, CryptoError> {
        let secret = self.shared_secret(peer_public)?;
        let mut key = Zeroizing::new([0; 16]);
        key.copy_from_slice(&secret[DH_PUBLIC_LEN - 16..]);
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hex;

    // Spec §13.1.
    #[test]
    fn rc2_vectors() {
        let plain = b"secret-password";
        assert_eq!(
            rc2_encrypt(&hex("0102030405"), &IV, plain).unwrap(),
            hex("efaa305b1e289d6d5b6b164ecf78280a")
        );
        assert_eq!(
            rc2_encrypt(&hex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"), &IV, plain).unwrap(),
            hex("60edd9ea6d2cc253a8c46721bf251ec1")
        );
        assert_eq!(
            *rc2_decrypt(&hex("0102030405"), &IV, &hex("efaa305b1e289d6d5b6b164ecf78280a"))
                .unwrap(),
            plain
        );
    }

    #[test]
    fn chained_vector() {
        let mut out = ChainedCipher::new(&hex("0102030405")).unwrap();
        assert_eq!(out.encrypt(b"abc"), hex("33681f276cddea10"));
        assert_eq!(out.encrypt(b"12345678"), hex("4508009cf6bc9446502a5cab2c1b852e"));
        let mut back = ChainedCipher::new(&hex("0102030405")).unwrap();
        assert_eq!(*back.decrypt(&hex("33681f276cddea10")).unwrap(), b"abc");
        assert_eq!(*back.decrypt(&hex("4508009cf6bc9446502a5cab2c1b852e")).unwrap(), b"12345678");
    }

    #[test]
    fn bad_keys_and_ciphertexts_are_errors() {
        assert_eq!(rc2_encrypt(&[], &IV, b"x"), Err(CryptoError::KeyLength(0)));
        assert_eq!(rc2_encrypt(&[0; 129], &IV, b"x"), Err(CryptoError::KeyLength(129)));
        assert!(rc2_encrypt(&[7; 128], &IV, b"x").is_ok());
        assert_eq!(rc2_decrypt(&[1], &IV, &[]), Err(CryptoError::CiphertextLength(0)));
        assert_eq!(rc2_decrypt(&[1], &IV, &[0; 9]), Err(CryptoError::CiphertextLength(9)));
        // A block whose last byte decrypts to 0 or > 8 is bad padding: with
        // this key and IV, try blocks until one fails.
        let failures = (0u8..=255)
            .filter(|b| rc2_decrypt(&[1, 2, 3, 4, 5], &IV, &[*b; 8]) == Err(CryptoError::Padding))
            .count();
        assert!(failures > 200, "almost every random block has bad padding: {failures}");
    }

    // Spec §13.2.
    #[test]
    fn dh_vector() {
        let server = DhKeyPair::from_private(&hex(
            "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
        ));
        let client = DhKeyPair::from_private(&hex(
            "1112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30",
        ));
        assert_eq!(
            server.public_key().to_vec(),
            hex(
                "b09b0e6b51f3248771e095bf86a2d7885927fdd36fb769fa8f34cda6ce2ddb99aa5e1faca08462be014bb14e0fdc0028466f947e065f1b8a14081a82dd3dfa40"
            )
        );
        assert_eq!(
            client.public_key().to_vec(),
            hex(
                "528ef2f8559e3b41825dbb5d1e236077958ec99ca0e6d634b3c9de78695190ef068bdd02e65d54540925dae2469bb9f745f48d884b94146b1e35a090dbfa19b4"
            )
        );
        let shared = hex(
            "0493e5d9adf7348b9236ce35850058c1a2e9ee1fa7cee7d2f775f7686d5b320aa8e79a14004c25697b6b18613637648f289a5e3545c7e424f80fff30de393d24",
        );
        assert_eq!(server.shared_secret(&client.public_key()).unwrap().to_vec(), shared);
        assert_eq!(client.shared_secret(&server.public_key()).unwrap().to_vec(), shared);
        assert_eq!(
            server.shared_key(&client.public_key()).unwrap().to_vec(),
            hex("289a5e3545c7e424f80fff30de393d24")
        );
    }

    #[test]
    fn degenerate_peer_keys_are_refused() {
        let pair = DhKeyPair::from_private(&[5; 32]);
        let p_minus_1 = (prime() - 1u32).to_bytes_be();
        for bad in [vec![], vec![0], vec![1], p_minus_1, DH_PRIME.to_vec(), vec![0xff; 65]] {
            assert_eq!(pair.shared_secret(&bad).err(), Some(CryptoError::PublicKey), "{bad:02x?}");
        }
        assert!(pair.shared_secret(&[2]).is_ok());
    }

    #[test]
    fn generated_pairs_agree() {
        let (a, b) = (DhKeyPair::generate(), DhKeyPair::generate());
        assert_eq!(
            *a.shared_key(&b.public_key()).unwrap(),
            *b.shared_key(&a.public_key()).unwrap()
        );
    }
}
