//! `properties::parse` (Java `Properties.load` semantics) on arbitrary bytes.
//!
//! Checks: parsing never panics; entries that parse are written by
//! `properties::store` (with and without comment lines) as pure ASCII
//! text that parses back to exactly the same entries, in the same order.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ltpa::properties;

fuzz_target!(|data: &[u8]| {
    let entries = match properties::parse(data) {
        Ok(entries) => entries,
        Err(error) => {
            assert!(error.line >= 1, "line numbers are 1-based: {error:?}");
            let _ = error.to_string();
            return;
        }
    };
    for comments in [&[][..], &["a comment", "Thu Jan 01 00:00:00 UTC 1970"][..]] {
        let stored = properties::store(comments, &entries);
        assert!(stored.is_ascii(), "store wrote non-ASCII text: {stored:?}");
        let again = properties::parse(stored.as_bytes())
            .unwrap_or_else(|error| panic!("stored text does not parse ({error}): {stored:?}"));
        assert_eq!(again, entries, "round trip through {stored:?}");
    }
    // `get` returns the last value of a key, as Java does.
    if let Some((key, _)) = entries.first() {
        let last = entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        assert_eq!(properties::get(&entries, key), last);
    }
});
