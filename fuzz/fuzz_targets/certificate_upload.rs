//! `Upload::read` on arbitrary bytes: what the console's Certificates page
//! and `simul cert import` do with an uploaded certificate (PEM or
//! PKCS#12, with a separate key file or not).
//!
//! Checks: reading never panics, whatever the bytes; a refusal is one
//! sentence, never empty; and the password never appears in it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use simul_service::certificates::Upload;

const PASSWORD: &str = "fuzz-password-7f3a";

fuzz_target!(|data: &[u8]| {
    // The first byte chooses whether the rest is split into a certificate
    // file and a key file, and where.
    let Some((&choice, rest)) = data.split_first() else { return };
    let (file, key) = if choice & 1 == 1 {
        let at = usize::from(choice >> 1).min(rest.len());
        let (file, key) = rest.split_at(rest.len() - at);
        (file, Some(key))
    } else {
        (rest, None)
    };
    let upload = Upload { file, key, password: PASSWORD };
    if let Err(sentence) = upload.read() {
        assert!(!sentence.is_empty(), "an empty refusal");
        assert!(!sentence.contains(PASSWORD), "the password in a refusal: {sentence}");
    }
});
