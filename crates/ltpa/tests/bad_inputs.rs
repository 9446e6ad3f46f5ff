//! The table of bad inputs and the error each gets. Every parser of key
//! files and tokens must answer bad input with a precise error (never a
//! panic, never a wrong identity); the fuzz targets in `fuzz/` explore
//! beyond this table.

use std::path::Path;

use ltpa::{
    AccessId, KeyFile, KeyFileError, Password, UserData, Verifier, VerifyOptions, ltpa2, properties,
};

const GOOD: &str = include_str!("vectors/websphere-2013.keys");
const PASSWORD: &str = "password";
const NAME: &str = "cell.keys";

fn parse(text: &str, password: &str) -> Result<KeyFile, KeyFileError> {
    KeyFile::parse(text.as_bytes(), &Password::new(password), Path::new(NAME))
}

fn without_line(property: &str) -> String {
    GOOD.lines()
        .filter(|line| !line.starts_with(property))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Replaces the character at `offset` of `property`'s value.
fn with_char(property: &str, offset: usize, replacement: char) -> String {
    let mut out = String::new();
    for line in GOOD.lines() {
        match line.strip_prefix(&format!("{property}=")) {
            Some(value) => {
                let mut chars: Vec<char> = value.chars().collect();
                chars[offset] = if chars[offset] == replacement { 'B' } else { replacement };
                out.push_str(&format!("{property}={}\n", chars.into_iter().collect::<String>()));
            }
            None => out.push_str(&format!("{line}\n")),
        }
    }
    out
}

/// The file cut off `count` bytes before the end of `property`'s line.
fn cut_in(property: &str, count: usize) -> String {
    let start = GOOD.find(property).unwrap();
    let end = start + GOOD[start..].find('\n').unwrap();
    GOOD[..end - count].to_owned()
}

fn describe(error: &KeyFileError) -> String {
    match error {
        KeyFileError::MissingProperty { property, .. } => format!("missing {property}"),
        KeyFileError::CorruptBase64 { property, .. } => format!("base64 {property}"),
        KeyFileError::Truncated { property, .. } => format!("truncated {property}"),
        KeyFileError::Corrupt { property, .. } => format!("corrupt {property}"),
        KeyFileError::WrongPassword { .. } => "wrong password".into(),
        KeyFileError::Syntax { error, .. } => format!("syntax line {}", error.line),
        KeyFileError::Unsupported { .. } => "unsupported".into(),
        KeyFileError::Io { .. } | KeyFileError::Exists { .. } => unreachable!("not from parse"),
    }
}

#[test]
fn bad_key_files_get_distinct_errors_naming_file_and_property() {
    let fips = format!("{GOOD}com.ibm.websphere.ltpa.SharedKey=AAAA\n");
    let table: Vec<(&str, String, &str, &str)> = vec![
        ("empty file", String::new(), PASSWORD, "missing com.ibm.websphere.ltpa.3DESKey"),
        (
            "no private key",
            without_line("com.ibm.websphere.ltpa.PrivateKey"),
            PASSWORD,
            "missing com.ibm.websphere.ltpa.PrivateKey",
        ),
        (
            "no realm",
            without_line("com.ibm.websphere.ltpa.Realm"),
            PASSWORD,
            "missing com.ibm.websphere.ltpa.Realm",
        ),
        (
            "no version",
            without_line("com.ibm.websphere.ltpa.version"),
            PASSWORD,
            "missing com.ibm.websphere.ltpa.version",
        ),
        (
            "cut in the public key",
            cut_in("com.ibm.websphere.ltpa.PublicKey", 40),
            PASSWORD,
            "truncated com.ibm.websphere.ltpa.PublicKey",
        ),
        (
            "cut in the private key",
            cut_in("com.ibm.websphere.ltpa.PrivateKey", 30),
            PASSWORD,
            "truncated com.ibm.websphere.ltpa.PrivateKey",
        ),
        (
            "cut before the realm",
            cut_in("com.ibm.websphere.ltpa.Realm", 40),
            PASSWORD,
            "truncated com.ibm.websphere.ltpa.PublicKey",
        ),
        (
            "'*' in the shared key",
            with_char("com.ibm.websphere.ltpa.3DESKey", 5, '*'),
            PASSWORD,
            "base64 com.ibm.websphere.ltpa.3DESKey",
        ),
        (
            "'!' in the public key",
            with_char("com.ibm.websphere.ltpa.PublicKey", 9, '!'),
            PASSWORD,
            "base64 com.ibm.websphere.ltpa.PublicKey",
        ),
        (
            "changed private key",
            with_char("com.ibm.websphere.ltpa.PrivateKey", 100, 'A'),
            PASSWORD,
            "corrupt com.ibm.websphere.ltpa.PrivateKey",
        ),
        (
            "changed private key end",
            with_char("com.ibm.websphere.ltpa.PrivateKey", 356, 'A'),
            PASSWORD,
            "corrupt com.ibm.websphere.ltpa.PrivateKey",
        ),
        (
            "changed public key",
            with_char("com.ibm.websphere.ltpa.PublicKey", 50, 'A'),
            PASSWORD,
            "corrupt com.ibm.websphere.ltpa.PublicKey",
        ),
        (
            "changed shared key end",
            with_char("com.ibm.websphere.ltpa.3DESKey", 38, 'A'),
            PASSWORD,
            "corrupt com.ibm.websphere.ltpa.3DESKey",
        ),
        ("wrong password", GOOD.to_owned(), "Password", "wrong password"),
        ("empty password", GOOD.to_owned(), "", "wrong password"),
        ("bad \\u escape", format!("{GOOD}x=\\uZZ\n"), PASSWORD, "syntax line 10"),
        ("Liberty FIPS 140-3 file", fips, PASSWORD, "unsupported"),
    ];
    for (what, text, password, expected) in table {
        let error = parse(&text, password).map(|_| ()).unwrap_err();
        assert_eq!(describe(&error), expected, "{what}: {error}");
        assert!(error.to_string().starts_with(NAME), "{what}: names the file: {error}");
    }
}

#[test]
fn garbage_never_panics() {
    for text in
        ["=", "\\", "a\\\n", "com.ibm.websphere.ltpa.3DESKey=\n", "\u{0}\u{ff}", "#only comment"]
    {
        assert!(parse(text, PASSWORD).is_err(), "{text:?}");
    }
}

/// Keys whose shared key is the WebSphere file's but whose RSA pair is
/// the Connections file's: tokens they make decrypt under the WebSphere
/// keys but carry a foreign signature.
fn foreign_signer() -> KeyFile {
    let connections = KeyFile::parse(
        include_bytes!("vectors/connections-2020.keys"),
        &Password::new("lotus123"),
        Path::new("connections-2020.keys"),
    )
    .unwrap();
    let reexported = connections.to_bytes(&Password::new(PASSWORD));
    let foreign = properties::parse(&reexported).unwrap();
    let mut mixed = String::new();
    for line in GOOD.lines() {
        let replaced = ["com.ibm.websphere.ltpa.PrivateKey", "com.ibm.websphere.ltpa.PublicKey"]
            .into_iter()
            .find(|p| line.starts_with(p))
            .map(|p| format!("{p}={}", properties::get(&foreign, p).unwrap()));
        mixed.push_str(&replaced.unwrap_or_else(|| line.to_owned()));
        mixed.push('\n');
    }
    parse(&mixed, PASSWORD).unwrap()
}

#[test]
fn bad_tokens_get_precise_reasons() {
    let keys = parse(GOOD, PASSWORD).unwrap().keys;
    let verifier = Verifier::new().with_keys(keys.clone());
    let now = 1_700_000_000_000;
    let user = UserData::for_user(&AccessId::user("9.3.179.80:5389", "uid=jdoe"));
    let good = ltpa2::create(&keys, &user, now + 60_000);
    let other_keys = KeyFile::generate("r", "h").keys;
    let table: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "malformed"),
        ("not base64", "not base64!".into(), "malformed"),
        ("three bytes", "QUJD".into(), "malformed"),
        ("cut short", good[..good.len() - 8].to_owned(), "malformed"),
        ("other keys", ltpa2::create(&other_keys, &user, now + 60_000), "wrong_key"),
        (
            "foreign signature",
            ltpa2::create(&foreign_signer().keys, &user, now + 60_000),
            "bad_signature",
        ),
        ("expired", ltpa2::create(&keys, &user, now - 61_000), "expired"),
        ("no user", ltpa2::create(&keys, &UserData::default(), now + 60_000), "malformed"),
        ("expired before 1970", ltpa2::create(&keys, &user, -1000), "expired"),
        (
            "wrong realm",
            ltpa2::create(&keys, &UserData::for_user(&AccessId::user("other", "u")), now + 60_000),
            "wrong_realm",
        ),
    ];
    let options = VerifyOptions::at(now).trusting(["9.3.179.80:5389"]);
    assert!(verifier.verify(&good, None, &options).is_ok());
    for (what, token, reason) in table {
        let error = verifier.verify(&token, None, &options).unwrap_err();
        assert_eq!(error.reason(), reason, "{what}: {error}");
        assert!(!error.to_string().is_empty(), "{what}: has a detail");
    }
}
