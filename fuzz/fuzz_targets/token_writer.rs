//! The token writers, checked by the verifier: valid tokens from fuzzed
//! contents (the ciphers are private, so this is how fuzzed plaintext gets
//! encrypted and signed).
//!
//! The first input byte picks a mode (modulo 2), the rest is its input:
//!
//! - 0: WebSphere. Bytes 0..8 are the expiry (big-endian, top bit
//!   dropped), the rest (lossy UTF-8) is `realm NUL unique-id NUL extra
//!   user data`. `ltpa2::create` and `ltpa1::create` make tokens with the
//!   `websphere-2013` vector keys; nothing may panic, `verify` must equal
//!   `inspect(..).into_result()` in every format, and whenever the access
//!   id is representable (`AccessId::parse` reads its text back unchanged)
//!   each token must verify at its expiry, through the format's own
//!   `verify` and the `Verifier` (fixed format and `None`), naming the
//!   same access id, expiry and other attributes.
//! - 1: Domino. Bytes 0..4 and 4..8 are the creation and expiry times
//!   (seconds, big-endian), the rest (lossy UTF-8) the user name;
//!   `domino::create` makes the token with the vectors' secret, which must
//!   verify at its creation time exactly when the name is non-empty and it
//!   has not expired by then (beyond the one-minute clock skew), naming
//!   that user and those times.
//!
//! Signing is RSA, so this target runs far fewer inputs a second than the
//! others.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use ltpa::userdata::{EXPIRE_ATTRIBUTE, USER_ATTRIBUTE};
use ltpa::{AccessId, Invalid, TokenFormat, UserData, VerifyOptions, domino, ltpa1, ltpa2};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        websphere_writer(rest);
    } else {
        domino_writer(rest);
    }
});

fn split_u64(bytes: &[u8]) -> (u64, &[u8]) {
    let mut head = [0u8; 8];
    let n = bytes.len().min(8);
    head[..n].copy_from_slice(&bytes[..n]);
    (u64::from_be_bytes(head), &bytes[n..])
}

fn websphere_writer(bytes: &[u8]) {
    let (expiry, rest) = split_u64(bytes);
    let expires_ms = i64::try_from(expiry >> 1).expect("63 bits fit i64");
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.splitn(3, '\0');
    let realm = parts.next().unwrap_or_default();
    let unique_id = parts.next().unwrap_or_default();
    let extra = parts.next().unwrap_or_default();

    let access_id = AccessId::user(realm, unique_id);
    let mut userdata = UserData::parse(extra).unwrap_or_default();
    userdata.set(USER_ATTRIBUTE, vec![access_id.to_string()]);
    let representable = AccessId::parse(&access_id.to_string()).as_ref() == Ok(&access_id);
    let expected_attributes: std::collections::BTreeMap<_, _> = userdata
        .attributes()
        .iter()
        .filter(|(key, _)| *key != USER_ATTRIBUTE && *key != EXPIRE_ATTRIBUTE)
        .map(|(key, values)| (key.clone(), values.clone()))
        .collect();

    let keys = &common::key_file().keys;
    let verifier = common::verifier();
    let options = VerifyOptions::at(expires_ms);
    let tokens = [
        (TokenFormat::Ltpa2, ltpa2::create(keys, &userdata, expires_ms)),
        (TokenFormat::Ltpa1, ltpa1::create(keys, &userdata, expires_ms)),
    ];
    for (format, token) in tokens {
        common::verify_everywhere(&token, &options);
        if !representable {
            continue;
        }
        let direct = match format {
            TokenFormat::Ltpa2 => ltpa2::verify(keys, &token, &options),
            _ => ltpa1::verify(keys, &token, &options),
        };
        for (how, outcome) in [
            ("ltpa::verify", direct),
            ("Verifier, fixed format", verifier.verify(&token, Some(format), &options)),
            ("Verifier, any format", verifier.verify(&token, None, &options)),
        ] {
            let identity = outcome.unwrap_or_else(|error| {
                panic!(
                    "{format} token for {access_id:?} with {userdata:?} fails ({how}): {error:?}"
                )
            });
            assert_eq!(identity.format, format, "{how}");
            assert_eq!(identity.access_id.as_ref(), Some(&access_id), "{how}");
            assert_eq!(identity.user, unique_id, "{how}");
            assert_eq!(identity.realm.as_deref(), Some(realm), "{how}");
            assert_eq!(identity.expires_ms, expires_ms, "{how}");
            assert_eq!(identity.created_ms, None, "{how}");
            assert_eq!(identity.attributes, expected_attributes, "{how}");
        }
    }
}

fn domino_writer(bytes: &[u8]) {
    let (times, rest) = split_u64(bytes);
    let created_s = (times >> 32) as u32;
    let expires_s = times as u32;
    let user = String::from_utf8_lossy(rest);
    let secret = common::domino_secret();
    let token = domino::create(secret, &user, created_s, expires_s);

    let created_ms = i64::from(created_s) * 1000;
    let expires_ms = i64::from(expires_s) * 1000;
    let options = VerifyOptions::at(created_ms);
    common::verify_everywhere(&token, &options);

    let verifier = common::verifier();
    for outcome in [
        domino::verify(secret, &token, &options),
        verifier.verify(&token, Some(TokenFormat::Domino), &options),
        verifier.verify(&token, None, &options),
    ] {
        if user.is_empty() {
            // Too short to look like a Domino token, so `None` also tries
            // the WebSphere formats and may report theirs: any refusal.
            assert!(outcome.is_err(), "Domino token without a name: {outcome:?}");
        } else if created_ms - expires_ms > 60_000 {
            assert!(
                matches!(outcome, Err(Invalid::Expired { .. })),
                "Domino token expired before its creation: {outcome:?}"
            );
        } else {
            let identity = outcome.unwrap_or_else(|error| {
                panic!("Domino token for {user:?} ({created_s}..{expires_s}) fails: {error:?}")
            });
            assert_eq!(identity.format, TokenFormat::Domino);
            assert_eq!(identity.user, user);
            assert_eq!(identity.created_ms, Some(created_ms));
            assert_eq!(identity.expires_ms, expires_ms);
            assert_eq!(identity.realm, None);
        }
    }
}
