//! Byte encodings shared by key files and tokens: Base64 flavours and
//! Java's `BigInteger.toByteArray()` layout for RSA numbers.

use base64::Engine as _;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rsa::BigUint;

/// Canonical standard Base64 with `=` padding: what every product writes.
pub(crate) const CANONICAL: GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Decoder for token values: padding optional, but non-canonical trailing
/// bits rejected, so that every single-bit change of a token's text is a
/// different token (Java's decoder ignores those bits; Simul does not
/// accept two spellings of one token).
const TOKEN: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encodes bytes as canonical padded Base64.
pub(crate) fn encode(bytes: &[u8]) -> String {
    CANONICAL.encode(bytes)
}

/// Decodes a token or key value; padding is optional, everything else strict.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    TOKEN.decode(text)
}

/// Java `BigInteger.toByteArray()` for a non-negative number: big-endian,
/// minimal, with a leading zero byte when the top bit would otherwise be set.
pub(crate) fn java_bytes(n: &BigUint) -> Vec<u8> {
    let mut bytes = n.to_bytes_be();
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    bytes
}

/// Writes `n` big-endian into exactly `len` bytes (left-padded with zeros),
/// or `None` when it does not fit.
pub(crate) fn fixed_bytes(n: &BigUint, len: usize) -> Option<Vec<u8>> {
    let bytes = n.to_bytes_be();
    let bytes = if bytes == [0] { Vec::new() } else { bytes };
    (bytes.len() <= len).then(|| {
        let mut out = vec![0; len - bytes.len()];
        out.extend_from_slice(&bytes);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_byte_layout_adds_sign_byte_only_when_needed() {
        assert_eq!(java_bytes(&BigUint::from(0x7fu32)), vec![0x7f]);
        assert_eq!(java_bytes(&BigUint::from(0x80u32)), vec![0x00, 0x80]);
        assert_eq!(java_bytes(&BigUint::from(65537u32)), vec![0x01, 0x00, 0x01]);
    }

    #[test]
    fn fixed_bytes_pads_and_refuses_overflow() {
        assert_eq!(fixed_bytes(&BigUint::from(1u32), 3), Some(vec![0, 0, 1]));
        assert_eq!(fixed_bytes(&BigUint::from(0u32), 2), Some(vec![0, 0]));
        assert_eq!(fixed_bytes(&BigUint::from(0x10000u32), 2), None);
    }

    #[test]
    fn token_decoder_rejects_non_canonical_trailing_bits() {
        assert_eq!(decode("QQ==").unwrap(), b"A");
        assert_eq!(decode("QQ").unwrap(), b"A");
        assert!(decode("QR==").is_err());
    }
}
