//! `KeyFile::parse` on arbitrary bytes (password `password`).
//!
//! Checks: parsing never panics, whatever the bytes; and a file that
//! parses survives an export: `to_bytes` with the same password, parsed
//! again, gives the same shared- and public-key fingerprints, realm,
//! version, creation date and host, and the same uninterpreted properties.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use ltpa::{KeyFile, Password};

fuzz_target!(|data: &[u8]| {
    let password = Password::new("password");
    let file = match KeyFile::parse(data, &password, Path::new("fuzz.keys")) {
        Ok(file) => file,
        Err(error) => {
            // Every error names the file; formatting must not panic either.
            let message = error.to_string();
            assert!(message.contains("fuzz.keys"), "error without file name: {message}");
            return;
        }
    };
    let exported = file.to_bytes(&password);
    let again = KeyFile::parse(&exported, &password, Path::new("exported.keys"))
        .unwrap_or_else(|error| panic!("an exported key file does not parse: {error}"));
    assert_eq!(again.keys.shared_key_fingerprint(), file.keys.shared_key_fingerprint());
    assert_eq!(again.keys.public_key_fingerprint(), file.keys.public_key_fingerprint());
    assert_eq!(again.realm, file.realm);
    assert_eq!(again.version, file.version);
    assert_eq!(again.creation_date, file.creation_date);
    assert_eq!(again.creation_host, file.creation_host);
    assert_eq!(again.other_properties, file.other_properties);
});
