//! Tokens as raw bytes, reaching what random token text rarely does.
//!
//! The first input byte picks a mode (modulo 2), the rest is its input:
//!
//! - 0: the bytes are the token's binary content; they are Base64-encoded
//!   and verified and inspected with the `websphere-2013` vector keys and
//!   the vectors' Domino secret in every format (as in the `token` target),
//!   so mutations of real tokens reach decryption, the plaintext split and
//!   the user-data, expiry and signature checks. Nothing may panic, and
//!   `verify` must equal `inspect(..).into_result()`.
//! - 1: the same token in cookie spellings (double quotes, URL-encoded
//!   `+ / =`, surrounding white space) must be read exactly as its plain
//!   Base64 text.
//!
//! Valid tokens made from fuzzed contents are the `token_writer` target.

#![no_main]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use ltpa::VerifyOptions;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        common::verify_everywhere(&STANDARD.encode(rest), &VerifyOptions::at(common::NOW_MS));
    } else {
        cookie_spellings(rest);
    }
});

fn cookie_spellings(bytes: &[u8]) {
    let verifier = common::verifier();
    let options = VerifyOptions::at(common::NOW_MS);
    let plain = STANDARD.encode(bytes);
    let expected = verifier.inspect(&plain, None, &options);
    let url_encoded = plain.replace('+', "%2B").replace('/', "%2f").replace('=', "%3D");
    for spelling in [format!("\"{plain}\""), url_encoded, format!(" {plain}\t")] {
        assert_eq!(
            verifier.inspect(&spelling, None, &options),
            expected,
            "{spelling:?} is read differently from {plain:?}"
        );
    }
}
