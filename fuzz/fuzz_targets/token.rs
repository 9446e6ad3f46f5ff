//! Token text as a cookie carries it: the input, lossily decoded as UTF-8.
//!
//! Checks: `Verifier::verify` and `Verifier::inspect` with the
//! `websphere-2013` test-vector keys and the vectors' Domino secret never
//! panic, for every format choice (`None`, LtpaToken2, LtpaToken v1,
//! Domino), and `verify` returns exactly `inspect(..).into_result()`. The
//! same text is also parsed as token user data (`UserData::parse`): it
//! never panics, and data that parses is re-read identically from its
//! canonical form (`to_wire`), which is itself a fixed point.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use ltpa::{UserData, VerifyOptions};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    common::verify_everywhere(&text, &VerifyOptions::at(common::NOW_MS));

    if let Ok(userdata) = UserData::parse(&text) {
        let wire = userdata.to_wire();
        let again = UserData::parse(&wire)
            .unwrap_or_else(|error| panic!("canonical user data {wire:?} does not parse: {error}"));
        assert_eq!(again, userdata, "user data changed through {wire:?}");
        assert_eq!(again.to_wire(), wire);
        // The accessors must not panic on any parsed data.
        let _ = userdata.access_id();
        let _ = userdata.expire_ms();
    }
});
