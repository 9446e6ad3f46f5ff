//! Domino's own `LtpaToken` (Domino Web SSO configuration without
//! WebSphere keys).
//!
//! HCL's "Implementing the Domino Single Sign-On token format"
//! (domino-c-api-docs): Base64 of
//! `00 01 02 03 ‖ hex8(created) ‖ hex8(expires) ‖ user name ‖ SHA-1(all of the
//! preceding ‖ secret)`, times in seconds since the Unix epoch, the secret
//! being the 20 bytes of the Web SSO document's `LTPA_DominoSecret`.
//! Domino writes upper-case hex; lower case (markusberg/ltpa and others)
//! is accepted. The digest is compared in constant time.

use base64::Engine as _;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::encoding;
use crate::token::{
    CheckRunner, Identity, Inspection, Invalid, TokenFormat, VerifyOptions, rfc3339,
};
use crate::websphere::decode_token_text;

const HEADER: [u8; 4] = [0, 1, 2, 3];
const DIGEST_LEN: usize = 20;
/// Length of a Domino secret in bytes.
pub const SECRET_LEN: usize = 20;
const FIXED_LEN: usize = HEADER.len() + 16 + DIGEST_LEN;

/// The Domino Web SSO secret (`LTPA_DominoSecret`), wiped on drop.
#[derive(Clone)]
pub struct DominoSecret(Zeroizing<[u8; SECRET_LEN]>);

/// A Domino secret that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DominoSecretError {
    /// Not Base64.
    #[error("the Domino secret is not Base64 (copy the LTPA_DominoSecret value exactly)")]
    NotBase64,
    /// Base64 of the wrong number of bytes.
    #[error(
        "the Domino secret is {0} bytes; a Domino Web SSO secret is 20 bytes (28 Base64 characters)"
    )]
    WrongLength(usize),
}

impl DominoSecret {
    /// A new random secret, as "Create Domino SSO Key" makes.
    pub fn generate() -> Self {
        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        rsa::rand_core::RngCore::fill_bytes(&mut rsa::rand_core::OsRng, secret.as_mut());
        Self(secret)
    }

    /// Reads the Base64 text of `LTPA_DominoSecret` (surrounding space ignored).
    pub fn from_base64(text: &str) -> Result<Self, DominoSecretError> {
        let bytes = Zeroizing::new(
            encoding::decode(text.trim()).map_err(|_| DominoSecretError::NotBase64)?,
        );
        let secret: [u8; SECRET_LEN] =
            bytes.as_slice().try_into().map_err(|_| DominoSecretError::WrongLength(bytes.len()))?;
        Ok(Self(Zeroizing::new(secret)))
    }

    /// The Base64 text to store in `LTPA_DominoSecret`.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.0.as_ref()))
    }

    fn digest(&self, signed: &[u8]) -> [u8; DIGEST_LEN] {
        let mut hasher = Sha1::new();
        hasher.update(signed);
        hasher.update(self.0.as_ref());
        hasher.finalize().into()
    }
}

impl std::fmt::Debug for DominoSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DominoSecret(<redacted>)")
    }
}

/// Creates a Domino LtpaToken for `user` (the Notes canonical name, such
/// as `CN=Jane Doe/O=Acme`) valid from `created_s` to `expires_s` (Unix
/// seconds, which must fit Domino's 32-bit fields).
pub fn create(secret: &DominoSecret, user: &str, created_s: u32, expires_s: u32) -> String {
    let mut bytes = Vec::with_capacity(FIXED_LEN + user.len());
    bytes.extend_from_slice(&HEADER);
    bytes.extend_from_slice(format!("{created_s:08X}{expires_s:08X}").as_bytes());
    bytes.extend_from_slice(user.as_bytes());
    let digest = secret.digest(&bytes);
    bytes.extend_from_slice(&digest);
    encoding::encode(&bytes)
}

/// Whether the Base64 text looks like a Domino token (its header), so that
/// a verifier can route it without trying WebSphere keys first.
pub fn looks_like_domino(token: &str) -> bool {
    decode_token_text(token)
        .is_ok_and(|bytes| bytes.len() > FIXED_LEN && bytes.starts_with(&HEADER))
}

/// Verifies a Domino LtpaToken.
pub fn verify(
    secret: &DominoSecret,
    token: &str,
    options: &VerifyOptions,
) -> Result<Identity, Invalid> {
    examine(secret, token, options, true)?.into_result()
}

/// Decodes a Domino LtpaToken and reports every field and check.
pub fn inspect(
    secret: &DominoSecret,
    token: &str,
    options: &VerifyOptions,
) -> Result<Inspection, Invalid> {
    examine(secret, token, options, false)
}

/// Decodes a Domino token and runs its checks, all or up to the first failure.
pub(crate) fn examine(
    secret: &DominoSecret,
    token: &str,
    options: &VerifyOptions,
    stop_at_failure: bool,
) -> Result<Inspection, Invalid> {
    let bytes = decode_token_text(token)?;
    if bytes.len() <= FIXED_LEN {
        return Err(Invalid::Malformed(format!(
            "{} bytes is too short for a Domino token (at least {} with a one-letter name)",
            bytes.len(),
            FIXED_LEN + 1
        )));
    }
    if !bytes.starts_with(&HEADER) {
        return Err(Invalid::Malformed(
            "no Domino token header (00 01 02 03); is this a WebSphere token?".into(),
        ));
    }
    let (signed, digest) = bytes.split_at(bytes.len() - DIGEST_LEN);
    let created_s = hex_time(&signed[4..12], "creation")?;
    let expires_s = hex_time(&signed[12..20], "expiry")?;
    let user_bytes = &signed[20..];
    let user = decode_name(user_bytes);
    let (created_ms, expires_ms) = (i64::from(created_s) * 1000, i64::from(expires_s) * 1000);

    let mut runner = CheckRunner::new(stop_at_failure);
    let digest_ok = bool::from(secret.digest(signed).ct_eq(digest));
    let _ = runner.run(
        "signature",
        if digest_ok {
            Ok(())
        } else {
            Err(Invalid::BadSignature(
                "the Domino token's SHA-1 digest does not match: it was made with another \
                 Domino secret (import the Web SSO document's secret) or altered"
                    .into(),
            ))
        },
    ) || runner.run("created", options.check_created(created_ms))
        || runner.run("expiry", options.check_expiry(expires_ms));
    Ok(Inspection {
        format: TokenFormat::Domino,
        fields: vec![
            ("header".into(), "00 01 02 03".into()),
            ("created".into(), format!("{created_s} ({})", rfc3339(created_ms))),
            ("expires".into(), format!("{expires_s} ({})", rfc3339(expires_ms))),
            ("user".into(), user.clone()),
            ("digest".into(), hex(digest)),
        ],
        checks: runner.into_checks(),
        identity: Some(Identity {
            format: TokenFormat::Domino,
            user,
            realm: None,
            access_id: None,
            expires_ms,
            created_ms: Some(created_ms),
            attributes: Default::default(),
        }),
    })
}

fn hex_time(field: &[u8], what: &str) -> Result<u32, Invalid> {
    std::str::from_utf8(field)
        .ok()
        .filter(|text| text.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|text| u32::from_str_radix(text, 16).ok())
        .ok_or_else(|| Invalid::Malformed(format!("the {what} time is not 8 hexadecimal digits")))
}

/// The user name: UTF-8 when valid; otherwise Domino's LMBCS, whose
/// ASCII range is the same, is shown with other bytes as Latin-1.
fn decode_name(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_writes_upper_case_hex() {
        let secret = DominoSecret::from_base64("AAECAwQFBgcICQoLDA0ODxAREhM=").unwrap();
        let token = create(&secret, "CN=Jane Doe/O=Acme", 0x6865_4A5F, 0x6865_BADF);
        let bytes = encoding::decode(&token).unwrap();
        assert_eq!(&bytes[4..20], b"68654A5F6865BADF");
        let identity = verify(&secret, &token, &VerifyOptions::at(0x6865_4A5F * 1000)).unwrap();
        assert_eq!(identity.user, "CN=Jane Doe/O=Acme");
    }

    #[test]
    fn secrets_must_be_twenty_bytes_of_base64() {
        assert_eq!(
            DominoSecret::from_base64("AAEC").unwrap_err(),
            DominoSecretError::WrongLength(3)
        );
        assert_eq!(DominoSecret::from_base64("***").unwrap_err(), DominoSecretError::NotBase64);
        let secret = DominoSecret::generate();
        assert_eq!(DominoSecret::from_base64(&secret.to_base64()).unwrap().0, secret.0);
        assert_eq!(format!("{secret:?}"), "DominoSecret(<redacted>)");
    }
}
