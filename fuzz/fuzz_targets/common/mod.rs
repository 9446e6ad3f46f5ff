//! What the token targets share: the verifier holding the test-vector keys
//! and the Domino secret, and a helper that runs every verification path.

#![allow(dead_code)] // each target uses part of this module

use std::path::Path;
use std::sync::OnceLock;

use ltpa::{DominoSecret, KeyFile, Password, TokenFormat, Verifier, VerifyOptions};

/// The WebSphere key file of the test vectors (password `password`).
pub const KEYS: &[u8] = include_bytes!("../../../crates/ltpa/tests/vectors/websphere-2013.keys");
/// The Domino secret of the test vectors (bytes 0..19).
pub const DOMINO_SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhM=";
/// Shortly before the vector tokens expire (2023-10-07T17:00:00Z).
pub const NOW_MS: i64 = 1_696_698_000_000;

/// The key file of the vectors, decrypted once.
pub fn key_file() -> &'static KeyFile {
    static FILE: OnceLock<KeyFile> = OnceLock::new();
    FILE.get_or_init(|| {
        KeyFile::parse(KEYS, &Password::new("password"), Path::new("websphere-2013.keys"))
            .expect("the test-vector key file decrypts")
    })
}

/// The Domino secret of the vectors.
pub fn domino_secret() -> &'static DominoSecret {
    static SECRET: OnceLock<DominoSecret> = OnceLock::new();
    SECRET.get_or_init(|| DominoSecret::from_base64(DOMINO_SECRET).expect("valid Domino secret"))
}

/// A verifier with the vector keys and the Domino secret.
pub fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        Verifier::new()
            .with_keys(key_file().keys.clone())
            .with_domino_secret(domino_secret().clone())
    })
}

/// Every format choice a caller can make.
pub const FORMATS: [Option<TokenFormat>; 4] =
    [None, Some(TokenFormat::Ltpa2), Some(TokenFormat::Ltpa1), Some(TokenFormat::Domino)];

/// Verifies and inspects `token` in every format at `options`; nothing may
/// panic, and `verify` must agree with `inspect(..).into_result()`.
/// Error and field texts are formatted so their `Display` code runs too.
pub fn verify_everywhere(token: &str, options: &VerifyOptions) {
    let verifier = verifier();
    for format in FORMATS {
        let verified = verifier.verify(token, format, options);
        if let Err(error) = &verified {
            let _ = format!("{error} ({})", error.reason());
        }
        let inspected = verifier.inspect(token, format, options);
        match &inspected {
            Ok(inspection) => {
                for check in &inspection.checks {
                    if let Err(error) = &check.outcome {
                        let _ = format!("{}: {error}", check.name);
                    }
                }
            }
            Err(error) => {
                let _ = format!("{error}");
            }
        }
        assert_eq!(
            verified,
            inspected.and_then(|inspection| inspection.into_result()),
            "verify and inspect disagree for {format:?} on {token:?}"
        );
    }
}
