//! Property tests: whatever is created verifies to the same identity, and
//! no single-bit change of a token is accepted.

use std::path::Path;
use std::sync::OnceLock;

use base64::Engine as _;
use ltpa::{
    AccessId, DominoSecret, KeyFile, Password, TokenFormat, UserData, Verifier, VerifyOptions,
    domino, ltpa1, ltpa2,
};
use proptest::prelude::*;

const NOW: i64 = 1_800_000_000_000;

fn keys() -> &'static KeyFile {
    static KEYS: OnceLock<KeyFile> = OnceLock::new();
    KEYS.get_or_init(|| {
        KeyFile::parse(
            include_bytes!("vectors/liberty-2026.keys"),
            &Password::new("WebAS"),
            Path::new("liberty-2026.keys"),
        )
        .unwrap()
    })
}

fn secret() -> DominoSecret {
    DominoSecret::from_base64("AAECAwQFBgcICQoLDA0ODxAREhM=").unwrap()
}

/// Realms and ids with every separator and escape character in them.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 =,.:$%|\\\\/é]{1,24}"
}

/// Realms have no `/` and do not end in `:` (which could read as a URL scheme).
fn realm() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 =,.:$%|\\\\é]{0,15}[a-zA-Z0-9.é]"
}

fn verifier() -> Verifier {
    Verifier::new().with_keys(keys().keys.clone()).with_domino_secret(secret())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn ltpa2_round_trips(realm in realm(), id in text(), extra in proptest::collection::btree_map("[a-z.]{1,8}", text(), 0..3)) {
        let mut data = UserData::for_user(&AccessId::user(&realm, &id));
        for (key, value) in &extra {
            if key != "u" && key != "expire" {
                data.set(key, vec![value.clone()]);
            }
        }
        let token = ltpa2::create(&keys().keys, &data, NOW + 1000);
        let identity = verifier().verify(&token, None, &VerifyOptions::at(NOW)).unwrap();
        prop_assert_eq!(identity.format, TokenFormat::Ltpa2);
        prop_assert_eq!(identity.realm.as_deref(), Some(realm.as_str()));
        prop_assert_eq!(identity.user, id);
        prop_assert_eq!(identity.expires_ms, NOW + 1000);
        for (key, value) in data.attributes().iter().filter(|(k, _)| *k != "u" && *k != "expire") {
            prop_assert_eq!(identity.attributes.get(key), Some(value));
        }
    }

    #[test]
    fn ltpa1_round_trips(realm in realm(), id in text()) {
        let token = ltpa1::create(&keys().keys, &UserData::for_user(&AccessId::user(&realm, &id)), NOW);
        let identity = verifier().verify(&token, None, &VerifyOptions::at(NOW)).unwrap();
        prop_assert_eq!(identity.format, TokenFormat::Ltpa1);
        prop_assert_eq!(identity.realm.as_deref(), Some(realm.as_str()));
        prop_assert_eq!(identity.user, id);
    }

    #[test]
    fn domino_round_trips(name in text(), created in 0u32..2_000_000_000, life in 1u32..100_000) {
        let token = domino::create(&secret(), &name, created, created + life);
        let identity = verifier().verify(&token, None, &VerifyOptions::at(i64::from(created) * 1000)).unwrap();
        prop_assert_eq!(identity.format, TokenFormat::Domino);
        prop_assert_eq!(identity.user, name);
        prop_assert_eq!(identity.expires_ms, i64::from(created + life) * 1000);
    }

    #[test]
    fn user_data_round_trips(attributes in proptest::collection::btree_map("[a-z$:%|\\\\]{1,6}", proptest::collection::vec(text(), 1..3), 1..4)) {
        let mut data = UserData::default();
        for (key, values) in attributes {
            let values = if key == "u" { values[..1].to_vec() } else { values };
            data.set(&key, values);
        }
        prop_assert_eq!(UserData::parse(&data.to_wire()).unwrap(), data);
    }
}

/// Flips one bit of the token's bytes and re-encodes them canonically.
fn flip(token: &str, bit: usize) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut bytes = engine.decode(token).unwrap();
    let bit = bit % (bytes.len() * 8);
    bytes[bit / 8] ^= 1 << (bit % 8);
    engine.encode(bytes)
}

/// Every bit of every format, exhaustively: no flipped token verifies.
#[test]
fn every_single_bit_change_is_rejected() {
    let data = UserData::for_user(&AccessId::user("defaultRealm", "uid=jdoe,o=acme"));
    let tokens = [
        ltpa2::create(&keys().keys, &data, NOW + 1000),
        ltpa1::create(&keys().keys, &data, NOW + 1000),
        domino::create(
            &secret(),
            "CN=John Doe/O=Acme",
            (NOW / 1000) as u32,
            (NOW / 1000) as u32 + 60,
        ),
    ];
    let verifier = verifier();
    let options = VerifyOptions::at(NOW);
    for token in &tokens {
        assert!(verifier.verify(token, None, &options).is_ok());
        let bits = base64::engine::general_purpose::STANDARD.decode(token).unwrap().len() * 8;
        for bit in 0..bits {
            let changed = flip(token, bit);
            assert!(verifier.verify(&changed, None, &options).is_err(), "bit {bit} of {token}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any one character of the token text changed to another Base64
    /// character is rejected too (strict decoding: no two spellings).
    #[test]
    fn any_changed_character_is_rejected(position in 0usize..400, replacement in "[A-Za-z0-9+/]") {
        let data = UserData::for_user(&AccessId::user("defaultRealm", "jdoe"));
        let token = ltpa2::create(&keys().keys, &data, NOW + 1000);
        let position = position % token.trim_end_matches('=').len();
        let mut chars: Vec<char> = token.chars().collect();
        let replacement = replacement.chars().next().unwrap();
        prop_assume!(chars[position] != replacement);
        chars[position] = replacement;
        let changed: String = chars.into_iter().collect();
        prop_assert!(verifier().verify(&changed, None, &VerifyOptions::at(NOW)).is_err());
    }
}
