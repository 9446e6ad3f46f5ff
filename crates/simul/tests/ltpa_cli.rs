//! The `simul ltpa` command line, run as a user runs it. Its arguments,
//! outputs and exit statuses are a contract (README.md).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const SIMUL: &str = env!("CARGO_BIN_EXE_simul");
const WEBSPHERE_USER: &str = "uid=u0000000,ou=users,ou=PERF,dc=ism.ibm,dc=com";

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ltpa/tests/vectors")
}

fn vector(name: &str) -> String {
    vectors().join(name).display().to_string()
}

fn vector_text(name: &str) -> String {
    std::fs::read_to_string(vectors().join(name)).unwrap().trim().to_owned()
}

/// A scratch directory with password files.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for (name, password) in
            [("pw", "s3cret\n"), ("pw2", "other-Pässword"), ("websphere.pw", "password")]
        {
            std::fs::write(dir.path().join(name), password).unwrap();
        }
        Self(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.path().join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(SIMUL)
            .args(args)
            .current_dir(self.0.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write as _;
        let mut child = Command::new(SIMUL)
            .args(args)
            .current_dir(self.0.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn status(output: &Output) -> i32 {
    output.status.code().unwrap()
}

/// Exit status 2 and an error message containing `expected`.
fn assert_usage_error(output: &Output, expected: &str) {
    assert_eq!(status(output), 2, "{}", stderr(output));
    assert!(stderr(output).contains(expected), "{}", stderr(output));
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(output)))
}

#[test]
fn generate_writes_an_owner_only_file_and_refuses_to_overwrite() {
    let s = Scratch::new();
    let out = s.run(&[
        "ltpa",
        "generate",
        "--realm",
        "defaultWIMFileBasedRealm",
        "--password-file",
        "pw",
        "--out",
        "ltpa.keys",
    ]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(s.path("ltpa.keys")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(s.path("ltpa.keys")).unwrap();
    assert!(text.starts_with("#IBM WebSphere Application Server key file\n"));
    assert!(text.contains("com.ibm.websphere.ltpa.Realm=defaultWIMFileBasedRealm\n"));

    let again =
        s.run(&["ltpa", "generate", "--realm", "r", "--password-file", "pw", "--out", "ltpa.keys"]);
    assert_usage_error(&again, "ltpa.keys already exists");
    assert_eq!(std::fs::read_to_string(s.path("ltpa.keys")).unwrap(), text, "untouched");

    let forced = s.run(&[
        "ltpa",
        "generate",
        "--realm",
        "r",
        "--password-file",
        "pw",
        "--out",
        "ltpa.keys",
        "--force",
    ]);
    assert_eq!(status(&forced), 0, "{}", stderr(&forced));
    assert_ne!(std::fs::read_to_string(s.path("ltpa.keys")).unwrap(), text);
}

#[test]
fn show_prints_properties_and_fingerprints_never_keys() {
    let s = Scratch::new();
    let out = s.run(&[
        "ltpa",
        "show",
        &vector("websphere-2013.keys"),
        "--password-file",
        "websphere.pw",
        "--json",
    ]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let value = json(&out);
    let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "creation_date",
            "creation_host",
            "public_key_fingerprint",
            "realm",
            "shared_key_fingerprint",
            "version"
        ]
    );
    assert_eq!(value["realm"], "9.3.179.80:5389");
    assert_eq!(value["version"], "1.0");
    assert_eq!(value["creation_date"], "Tue Jul 30 08:45:34 CDT 2013");
    assert_eq!(value["creation_host"], "IBM-JM2PND08AMR");
    assert!(value["shared_key_fingerprint"].as_str().unwrap().starts_with("SHA256:"));

    let text =
        s.run(&["ltpa", "show", &vector("websphere-2013.keys"), "--password-file", "websphere.pw"]);
    let text = stdout(&text);
    assert!(text.contains("Realm:       9.3.179.80:5389"), "{text}");
    let file = std::fs::read_to_string(vector("websphere-2013.keys")).unwrap();
    for line in file.lines().filter(|l| l.contains("Key=")) {
        let secret = line.split_once('=').unwrap().1.replace('\\', "");
        assert!(!text.contains(&secret[..20]), "shows no key material");
    }
}

#[test]
fn export_keeps_the_keys_under_a_new_password() {
    let s = Scratch::new();
    let exported = s.run(&[
        "ltpa",
        "export",
        &vector("connections-2020.keys"),
        "--password-env",
        "OLD_PW",
        "--new-password-file",
        "pw2",
        "--out",
        "for-websphere.keys",
    ]);
    // --password-env names a variable that is not set: a clear error.
    assert_usage_error(&exported, "OLD_PW is not set");

    let exported = Command::new(SIMUL)
        .args(["ltpa", "export", &vector("connections-2020.keys"), "--password-env", "OLD_PW"])
        .args(["--new-password-file", &s.path("pw2"), "--out", &s.path("for-websphere.keys")])
        .env("OLD_PW", "lotus123")
        .output()
        .unwrap();
    assert_eq!(status(&exported), 0, "{}", stderr(&exported));
    let show = |file: &str, pw: &str| {
        json(&s.run(&["ltpa", "show", file, "--password-file", pw, "--json"]))
    };
    std::fs::write(s.path("lotus.pw"), "lotus123").unwrap();
    let before = show(&vector("connections-2020.keys"), "lotus.pw");
    let after = show("for-websphere.keys", "pw2");
    assert_eq!(before, after, "same keys and properties");

    let wrong = s.run(&["ltpa", "show", "for-websphere.keys", "--password-file", "lotus.pw"]);
    assert_usage_error(&wrong, "for-websphere.keys: wrong password");
}

#[test]
fn key_file_errors_are_distinct_and_name_file_and_property() {
    let s = Scratch::new();
    let original = std::fs::read_to_string(vector("websphere-2013.keys")).unwrap();
    let missing: String =
        original.lines().filter(|l| !l.contains("PublicKey")).map(|l| format!("{l}\n")).collect();
    std::fs::write(s.path("missing.keys"), missing).unwrap();
    let corrupt = original.replace("PublicKey=AKsf1", "PublicKey=AKsf*");
    std::fs::write(s.path("corrupt.keys"), corrupt).unwrap();
    for (file, expected) in [
        ("missing.keys", "missing.keys: property com.ibm.websphere.ltpa.PublicKey is missing"),
        (
            "corrupt.keys",
            "corrupt.keys: property com.ibm.websphere.ltpa.PublicKey is not valid Base64",
        ),
        ("absent.keys", "absent.keys: No such file"),
    ] {
        let out = s.run(&["ltpa", "show", file, "--password-file", "websphere.pw"]);
        assert_usage_error(&out, expected);
    }
    let no_password = s.run(&["ltpa", "show", &vector("websphere-2013.keys")]);
    assert_usage_error(&no_password, "use --password-file or --password-env");
}

#[test]
fn websphere_tokens_are_recreated_byte_for_byte() {
    let s = Scratch::new();
    for (format, file, expires) in [
        ("ltpa2", "websphere-2013.ltpatoken2", "1696698581000"),
        ("ltpa1", "websphere-2013.ltpatoken1", "1696698481000"),
    ] {
        let out = s.run(&[
            "ltpa",
            "token",
            "create",
            "--keys",
            &vector("websphere-2013.keys"),
            "--password-file",
            "websphere.pw",
            "--user",
            WEBSPHERE_USER,
            "--format",
            format,
            "--expires-at",
            expires,
        ]);
        assert_eq!(status(&out), 0, "{}", stderr(&out));
        assert_eq!(stdout(&out).trim(), vector_text(file), "{format}");
    }
}

#[test]
fn verify_reports_identity_or_reason_with_exit_status() {
    let s = Scratch::new();
    let keys = vector("websphere-2013.keys");
    let verify = |token: &str, extra: &[&str]| {
        let mut args = vec![
            "ltpa",
            "token",
            "verify",
            token,
            "--keys",
            &keys,
            "--password-file",
            "websphere.pw",
            "--json",
        ];
        args.extend_from_slice(extra);
        s.run(&args)
    };
    let token = vector_text("websphere-2013.ltpatoken2");
    let valid = verify(&token, &["--at", "2023-10-07T17:00:00Z"]);
    assert_eq!(status(&valid), 0, "{}", stderr(&valid));
    let value = json(&valid);
    assert_eq!(value["valid"], true);
    assert_eq!(value["format"], "ltpa2");
    assert_eq!(value["user"], WEBSPHERE_USER);
    assert_eq!(value["realm"], "9.3.179.80:5389");
    assert_eq!(value["expires"], "2023-10-07T17:09:41Z");
    assert_eq!(value["expires_ms"], 1_696_698_581_000_i64);
    assert_eq!(value["attributes"], serde_json::json!({}));

    let v1 = verify(&vector_text("websphere-2013.ltpatoken1"), &["--at", "1696698000000"]);
    assert_eq!(json(&v1)["format"], "ltpa1");

    let connections = vector_text("connections-2020.ltpatoken2.txt");
    let cases: [(&str, &[&str], &str); 4] = [
        (&token, &[], "expired"),
        (&token, &["--at", "1696698000000", "--realm", "defaultWIMFileBasedRealm"], "wrong_realm"),
        ("bm90IGEgdG9rZW4=", &[], "malformed"),
        (connections.lines().next().unwrap(), &[], "wrong_key"),
    ];
    for (token, extra, reason) in cases {
        let out = verify(token, extra);
        assert_eq!(status(&out), 1, "{reason}: {}", stderr(&out));
        let value = json(&out);
        assert_eq!(value["valid"], false);
        assert_eq!(value["reason"], reason, "{value}");
        assert!(!value["detail"].as_str().unwrap().is_empty());
    }

    let from_stdin = s.run_with_stdin(
        &[
            "ltpa",
            "token",
            "verify",
            "-",
            "--keys",
            &keys,
            "--password-file",
            "websphere.pw",
            "--at",
            "1696698000000",
        ],
        &format!("{token}\n"),
    );
    assert_eq!(status(&from_stdin), 0, "{}", stderr(&from_stdin));
    assert!(
        stdout(&from_stdin).starts_with("valid ltpa2 token\nuser:      uid=u0000000"),
        "{}",
        stdout(&from_stdin)
    );

    let no_keys = s.run(&["ltpa", "token", "verify", &token]);
    assert_usage_error(&no_keys, "--domino-secret-file");
}

#[test]
fn domino_secret_tokens_create_and_verify() {
    let s = Scratch::new();
    let out = s.run(&["ltpa", "domino", "generate", "--out", "domino.secret"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let secret = std::fs::read_to_string(s.path("domino.secret")).unwrap();
    assert_eq!(secret.trim().len(), 28, "Base64 of 20 bytes");
    let again = s.run(&["ltpa", "domino", "generate", "--out", "domino.secret"]);
    assert_eq!(status(&again), 2);

    let created = s.run(&[
        "ltpa",
        "token",
        "create",
        "--format",
        "domino",
        "--domino-secret-file",
        "domino.secret",
        "--user",
        "CN=Jane Doe/O=Acme",
        "--created-at",
        "1234567890",
        "--expires-at",
        "1234573290000",
    ]);
    assert_eq!(status(&created), 0, "{}", stderr(&created));
    let token = stdout(&created).trim().to_owned();
    let verified = s.run(&[
        "ltpa",
        "token",
        "verify",
        &token,
        "--domino-secret-file",
        "domino.secret",
        "--at",
        "1234567900000",
        "--json",
    ]);
    assert_eq!(status(&verified), 0, "{}", stderr(&verified));
    let value = json(&verified);
    assert_eq!(value["format"], "domino");
    assert_eq!(value["user"], "CN=Jane Doe/O=Acme");
    assert_eq!(value["expires_ms"], 1_234_573_290_000_i64);
    assert_eq!(value["realm"], Value::Null);

    // markusberg/ltpa's token and secret.
    std::fs::write(s.path("mb.secret"), "AAECAwQFBgcICQoLDA0ODxAREhM=").unwrap();
    let theirs = "AAECAzQ5OTYwMmQyNDk5NjE3ZWFNeSBUZXN0IFVzZXJ1HUi4fVHSeb8JgA2xsVK0kjromg==";
    let out = s.run(&[
        "ltpa",
        "token",
        "verify",
        theirs,
        "--domino-secret-file",
        "mb.secret",
        "--at",
        "1234567890000",
        "--json",
    ]);
    assert_eq!(json(&out)["user"], "My Test User");
    let out = s.run(&[
        "ltpa",
        "token",
        "verify",
        theirs,
        "--domino-secret-file",
        "domino.secret",
        "--at",
        "1234567890000",
        "--json",
    ]);
    assert_eq!(json(&out)["reason"], "bad_signature");
}

#[test]
fn decode_reports_every_field_and_check() {
    let s = Scratch::new();
    let out = s.run(&[
        "ltpa",
        "token",
        "decode",
        &vector_text("websphere-2013.ltpatoken2"),
        "--keys",
        &vector("websphere-2013.keys"),
        "--password-file",
        "websphere.pw",
        "--json",
    ]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let value = json(&out);
    assert_eq!(value["valid"], false, "expired today");
    let checks: Vec<(&str, bool)> = value["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        checks,
        [
            ("signature", true),
            ("expiry fields", true),
            ("expiry", false),
            ("user", true),
            ("realm", true)
        ]
    );
    assert_eq!(value["identity"]["user"], WEBSPHERE_USER);
    let text = s.run(&[
        "ltpa",
        "token",
        "decode",
        &vector_text("websphere-2013.ltpatoken2"),
        "--keys",
        &vector("websphere-2013.keys"),
        "--password-file",
        "websphere.pw",
    ]);
    assert!(stdout(&text).contains("FAILED  expiry: expired"), "{}", stdout(&text));
}

#[test]
fn help_explains_every_ltpa_command() {
    let out = Command::new(SIMUL).args(["ltpa", "--help"]).output().unwrap();
    let text = stdout(&out);
    for command in ["generate", "show", "export", "domino", "token"] {
        assert!(text.contains(command), "{command}: {text}");
    }
    let out = Command::new(SIMUL).args(["ltpa", "token", "verify", "--help"]).output().unwrap();
    assert!(stdout(&out).contains("--password-file"));
}
