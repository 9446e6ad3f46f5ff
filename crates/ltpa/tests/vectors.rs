//! Key files and tokens made by the real products (see `vectors/README.md`
//! for where each comes from). Everything must import, verify and be
//! re-created byte for byte.

use std::path::Path;

use ltpa::token::rfc3339;
use ltpa::{
    AccessId, DominoSecret, KeyFile, KeyFileError, Password, TokenFormat, UserData, Verifier,
    VerifyOptions, domino, ltpa1, ltpa2, properties,
};

fn vector(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn vector_text(name: &str) -> String {
    String::from_utf8(vector(name)).unwrap().trim().to_owned()
}

fn key_file(name: &str, password: &str) -> KeyFile {
    KeyFile::parse(&vector(name), &Password::new(password), Path::new(name)).unwrap()
}

/// (file, password, realm, creation host)
const KEY_FILES: [(&str, &str, &str, &str); 3] = [
    ("websphere-2013.keys", "password", "9.3.179.80:5389", "IBM-JM2PND08AMR"),
    ("connections-2020.keys", "lotus123", "defaultWIMFileBasedRealm", "ic.beibm.com"),
    ("liberty-2026.keys", "WebAS", "defaultRealm", "localhost"),
];

const KEY_PROPERTIES: [&str; 3] = [
    "com.ibm.websphere.ltpa.3DESKey",
    "com.ibm.websphere.ltpa.PrivateKey",
    "com.ibm.websphere.ltpa.PublicKey",
];

#[test]
fn real_key_files_import_with_their_properties() {
    for (name, password, realm, host) in KEY_FILES {
        let file = key_file(name, password);
        assert_eq!(file.realm, realm, "{name}");
        assert_eq!(file.version, "1.0", "{name}");
        assert_eq!(file.creation_host, host, "{name}");
        assert!(!file.creation_date.is_empty(), "{name}");
        assert!(file.other_properties.is_empty(), "{name}");
    }
    let file = key_file("websphere-2013.keys", "password");
    assert_eq!(file.creation_date, "Tue Jul 30 08:45:34 CDT 2013");
}

#[test]
fn export_with_the_same_password_reproduces_every_key_property() {
    for (name, password, _, _) in KEY_FILES {
        let file = key_file(name, password);
        let exported = file.to_bytes(&Password::new(password));
        let original = properties::parse(&vector(name)).unwrap();
        let again = properties::parse(&exported).unwrap();
        for property in KEY_PROPERTIES
            .into_iter()
            .chain(["com.ibm.websphere.ltpa.Realm", "com.ibm.websphere.CreationDate"])
        {
            assert_eq!(
                properties::get(&again, property),
                properties::get(&original, property),
                "{name}: {property}"
            );
        }
    }
}

#[test]
fn export_with_a_new_password_keeps_the_keys() {
    let file = key_file("connections-2020.keys", "lotus123");
    let exported = file.to_bytes(&Password::new("n3w-Pässword"));
    let again =
        KeyFile::parse(&exported, &Password::new("n3w-Pässword"), Path::new("new.keys")).unwrap();
    assert_eq!(again.keys.shared_key_fingerprint(), file.keys.shared_key_fingerprint());
    assert_eq!(again.keys.public_key_fingerprint(), file.keys.public_key_fingerprint());
    let old = KeyFile::parse(&exported, &Password::new("lotus123"), Path::new("new.keys"));
    assert!(matches!(old, Err(KeyFileError::WrongPassword { .. })));
    // A token made with the re-exported keys verifies with the originals.
    let token =
        ltpa2::create(&again.keys, &UserData::for_user(&AccessId::user("r", "u")), 2_000_000);
    assert!(ltpa2::verify(&file.keys, &token, &VerifyOptions::at(1_000_000)).is_ok());
}

#[test]
fn wrong_password_is_reported_for_every_real_file() {
    for (name, _, _, _) in KEY_FILES {
        let error =
            KeyFile::parse(&vector(name), &Password::new("not it"), Path::new(name)).unwrap_err();
        assert!(matches!(error, KeyFileError::WrongPassword { .. }), "{name}: {error}");
        assert!(error.to_string().starts_with(name), "names the file: {error}");
    }
}

#[test]
fn websphere_ltpatoken2_verifies_and_is_recreated_byte_for_byte() {
    let file = key_file("websphere-2013.keys", "password");
    let token = vector_text("websphere-2013.ltpatoken2");
    let identity =
        ltpa2::verify(&file.keys, &token, &VerifyOptions::at(1_696_698_000_000)).unwrap();
    assert_eq!(identity.user, "uid=u0000000,ou=users,ou=PERF,dc=ism.ibm,dc=com");
    assert_eq!(identity.realm.as_deref(), Some("9.3.179.80:5389"));
    assert_eq!(identity.expires_ms, 1_696_698_581_000);
    assert_eq!(rfc3339(identity.expires_ms), "2023-10-07T17:09:41Z");
    assert!(identity.attributes.is_empty());

    let data = UserData::for_user(identity.access_id.as_ref().unwrap());
    assert_eq!(ltpa2::create(&file.keys, &data, identity.expires_ms), token);
}

#[test]
fn websphere_ltpatoken1_verifies_and_is_recreated_byte_for_byte() {
    let file = key_file("websphere-2013.keys", "password");
    let token = vector_text("websphere-2013.ltpatoken1");
    let identity =
        ltpa1::verify(&file.keys, &token, &VerifyOptions::at(1_696_698_000_000)).unwrap();
    assert_eq!(identity.format, TokenFormat::Ltpa1);
    assert_eq!(identity.user, "uid=u0000000,ou=users,ou=PERF,dc=ism.ibm,dc=com");
    assert_eq!(identity.realm.as_deref(), Some("9.3.179.80:5389"));
    assert_eq!(identity.expires_ms, 1_696_698_481_000);

    let data = UserData::for_user(identity.access_id.as_ref().unwrap());
    assert_eq!(ltpa1::create(&file.keys, &data, identity.expires_ms), token);
}

#[test]
fn websphere_tokens_expire_and_check_the_realm() {
    let file = key_file("websphere-2013.keys", "password");
    let token = vector_text("websphere-2013.ltpatoken2");
    let late = ltpa2::verify(&file.keys, &token, &VerifyOptions::at(1_696_698_581_000 + 3_600_000))
        .unwrap_err();
    assert_eq!(late.reason(), "expired");
    assert!(late.to_string().starts_with("expired 1 h ago"), "{late}");
    let options = VerifyOptions::at(1_696_698_000_000).trusting(["defaultWIMFileBasedRealm"]);
    assert_eq!(ltpa2::verify(&file.keys, &token, &options).unwrap_err().reason(), "wrong_realm");
    let options = VerifyOptions::at(1_696_698_000_000).trusting(["9.3.179.80:5389"]);
    assert!(ltpa2::verify(&file.keys, &token, &options).is_ok());
}

#[test]
fn connections_tokens_verify_and_the_broken_one_is_rejected() {
    let file = key_file("connections-2020.keys", "lotus123");
    let lines = vector_text("connections-2020.ltpatoken2.txt");
    let lines: Vec<&str> = lines.lines().map(str::trim).collect();
    assert_eq!(lines.len(), 4);
    let expiries = [1_595_836_888_000, 1_595_891_331_000, 1_595_938_284_000];
    for (token, expires_ms) in lines[..3].iter().zip(expiries) {
        let identity =
            ltpa2::verify(&file.keys, token, &VerifyOptions::at(expires_ms - 60_000)).unwrap();
        assert_eq!(identity.user, "CN=Pieter Geerts,O=beibm");
        assert_eq!(identity.realm.as_deref(), Some("defaultWIMFileBasedRealm"));
        assert_eq!(identity.expires_ms, expires_ms);
        let data = UserData::for_user(identity.access_id.as_ref().unwrap());
        assert_eq!(&ltpa2::create(&file.keys, &data, expires_ms), token);
    }
    // Made by a broken script (space padding, single SHA-1).
    let broken =
        ltpa2::verify(&file.keys, lines[3], &VerifyOptions::at(1_595_836_888_000)).unwrap_err();
    // Its space padding is not PKCS#5, exactly what a token under other keys looks like.
    assert_eq!(broken.reason(), "wrong_key", "{broken:?}");
}

#[test]
fn tokens_from_one_cell_are_refused_by_another() {
    let websphere = key_file("websphere-2013.keys", "password");
    let connections = key_file("connections-2020.keys", "lotus123");
    let token = vector_text("websphere-2013.ltpatoken2");
    let error = ltpa2::verify(&connections.keys, &token, &VerifyOptions::at(0)).unwrap_err();
    assert_eq!(error.reason(), "wrong_key", "{error}");
    let v1 = vector_text("websphere-2013.ltpatoken1");
    let verifier = Verifier::new().with_keys(connections.keys.clone());
    assert_eq!(
        verifier.verify(&v1, None, &VerifyOptions::at(0)).unwrap_err().reason(),
        "wrong_key"
    );
    // Both cells' keys: auto-detection finds the format and the key set.
    let both = Verifier::new().with_keys(connections.keys).with_keys(websphere.keys);
    let at = VerifyOptions::at(1_696_698_000_000);
    assert_eq!(both.verify(&token, None, &at).unwrap().format, TokenFormat::Ltpa2);
    assert_eq!(both.verify(&v1, None, &at).unwrap().format, TokenFormat::Ltpa1);
}

const DOMINO_SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhM=";
/// (token, created, expires) from markusberg/ltpa's tests.
const DOMINO_TOKENS: [(&str, u32, u32); 3] = [
    (
        "AAECAzQ5OTYwMWE2NDk5NjE5MTZNeSBUZXN0IFVzZXJjcHMKyXIrtD4SZcV7DKWd67EFng==",
        1_234_567_590,
        1_234_573_590,
    ),
    (
        "AAECAzQ5OTYwMmQyNDk5NjE3ZWFNeSBUZXN0IFVzZXJ1HUi4fVHSeb8JgA2xsVK0kjromg==",
        1_234_567_890,
        1_234_573_290,
    ),
    (
        "AAECAzQ5OTYwMmQyNDk5NjAyZGNNeSBUZXN0IFVzZXJs8zRFVehH/c9RpQ/KvUPhBM5tdQ==",
        1_234_567_890,
        1_234_567_900,
    ),
];

#[test]
fn domino_tokens_verify_with_their_secret_only() {
    let secret = DominoSecret::from_base64(DOMINO_SECRET).unwrap();
    let other = DominoSecret::from_base64("AAABAQICAwMEBAUFBgYHBwgICQk=").unwrap();
    for (token, created, expires) in DOMINO_TOKENS {
        let at = VerifyOptions::at(i64::from(created) * 1000);
        let identity = domino::verify(&secret, token, &at).unwrap();
        assert_eq!(identity.user, "My Test User");
        assert_eq!(identity.created_ms, Some(i64::from(created) * 1000));
        assert_eq!(identity.expires_ms, i64::from(expires) * 1000);
        assert_eq!(domino::verify(&other, token, &at).unwrap_err().reason(), "bad_signature");
        let late = VerifyOptions::at(i64::from(expires) * 1000 + 61_000);
        assert_eq!(domino::verify(&secret, token, &late).unwrap_err().reason(), "expired");
        let early = VerifyOptions::at(i64::from(created) * 1000 - 61_000);
        assert_eq!(domino::verify(&secret, token, &early).unwrap_err().reason(), "not_yet_valid");
    }
}

#[test]
fn domino_tokens_are_recreated_apart_from_hex_case() {
    let secret = DominoSecret::from_base64(DOMINO_SECRET).unwrap();
    for (token, created, expires) in DOMINO_TOKENS {
        let ours = domino::create(&secret, "My Test User", created, expires);
        let decode = |t: &str| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.decode(t).unwrap()
        };
        let (ours_bytes, theirs_bytes) = (decode(&ours), decode(token));
        assert_eq!(ours_bytes[..20].to_ascii_lowercase(), theirs_bytes[..20]);
        assert_eq!(ours_bytes[20..32], theirs_bytes[20..32], "user name");
        let at = VerifyOptions::at(i64::from(created) * 1000);
        assert!(domino::verify(&secret, &ours, &at).is_ok());
    }
}

#[test]
fn verifier_routes_domino_tokens_by_their_header() {
    let websphere = key_file("websphere-2013.keys", "password");
    let secret = DominoSecret::from_base64(DOMINO_SECRET).unwrap();
    let verifier = Verifier::new().with_keys(websphere.keys).with_domino_secret(secret);
    let (token, created, _) = DOMINO_TOKENS[0];
    let identity =
        verifier.verify(token, None, &VerifyOptions::at(i64::from(created) * 1000)).unwrap();
    assert_eq!(identity.format, TokenFormat::Domino);
}

#[test]
fn websphere_export_layout_is_reproduced_line_for_line() {
    for (name, password) in
        [("websphere-2013.keys", "password"), ("connections-2020.keys", "lotus123")]
    {
        let original = String::from_utf8(vector(name)).unwrap();
        let exported = key_file(name, password).to_bytes(&Password::new(password));
        let exported = std::str::from_utf8(&exported).unwrap();
        // Only the second line, the export's own time stamp, differs.
        let skip_stamp = |text: &str| {
            text.lines()
                .enumerate()
                .filter(|(i, _)| *i != 1)
                .map(|(_, l)| l.to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(skip_stamp(exported), skip_stamp(&original), "{name}");
    }
}
