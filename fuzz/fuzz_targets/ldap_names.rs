//! The LDAP name handling that reads what servers and tokens send: DN
//! normalization (a DN from a WebSphere token or an LDAP answer), the
//! DN-or-login-name test, and Active Directory range options in
//! attribute names (`member;range=0-1499`).
//!
//! Checks: nothing panics; normalizing is idempotent; a DN is under
//! itself; a range that continues continues past where it started.

#![no_main]

use libfuzzer_sys::fuzz_target;
use simul_directory::ldap::{RangeEnd, is_under, looks_like_dn, normalize_dn, range_end};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let normal = normalize_dn(&text);
    assert_eq!(normalize_dn(&normal), normal, "normalizing {text:?} twice");
    assert!(is_under(&text, &text), "{text:?} is under itself");
    if let Some((dn, base)) = text.split_once('\n') {
        let _ = is_under(dn, base);
    }
    let _ = looks_like_dn(&text);
    if let Some(RangeEnd::Continue(next)) = range_end(&text, "member") {
        let low = text.split(';').skip(1).find_map(|option| {
            let (key, value) = option.split_once('=')?;
            key.eq_ignore_ascii_case("range").then(|| value.split('-').next()?.parse::<u64>().ok())?
        });
        if let Some(low) = low {
            assert!(next > low, "{text:?} continues at {next}, not after {low}");
        }
    }
});
