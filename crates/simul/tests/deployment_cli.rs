//! Commands that work on a deployment (`--data DIR`, `--config FILE`):
//! `simul ltpa import|export --data` and `simul config check`.

use std::path::Path;
use std::process::{Command, Output};

const SIMUL: &str = env!("CARGO_BIN_EXE_simul");

fn vector(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ltpa/tests/vectors")
        .join(name)
        .display()
        .to_string()
}

fn simul(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(SIMUL).args(args).envs(env.iter().copied()).current_dir(dir).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn imported_keys_become_the_deployments_and_export_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("was.pw"), "password").unwrap();
    std::fs::write(d.join("out.pw"), "for-domino").unwrap();

    let none = simul(
        d,
        &["ltpa", "export", "--data", "dd", "--password-file", "out.pw", "--out", "x.keys"],
        &[],
    );
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("there is no deployment in dd"), "{}", text(&none.stderr));
    assert!(!d.join("dd").exists(), "exporting creates no deployment");
    let shown = simul(d, &["ltpa", "show", "--data", "dd"], &[]);
    assert_eq!(shown.status.code(), Some(2));
    assert!(!d.join("dd").exists(), "showing creates no deployment");

    let import = simul(
        d,
        &[
            "ltpa",
            "import",
            &vector("websphere-2013.keys"),
            "--password-file",
            "was.pw",
            "--data",
            "dd",
        ],
        &[],
    );
    assert!(import.status.success(), "{}", text(&import.stderr));
    #[cfg(unix)]
    {
        assert_eq!(mode(&d.join("dd")), 0o700);
        assert_eq!(mode(&d.join("dd/ltpa.keys")), 0o600);
        assert_eq!(mode(&d.join("dd/ltpa.password")), 0o600);
    }

    let export = simul(
        d,
        &["ltpa", "export", "--data", "dd", "--password-file", "out.pw", "--out", "x.keys"],
        &[],
    );
    assert!(export.status.success(), "{}", text(&export.stderr));
    let show = |file: &str, pw: &str| {
        let out = simul(d, &["ltpa", "show", file, "--password-file", pw, "--json"], &[]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(
        show("x.keys", "out.pw"),
        show(&vector("websphere-2013.keys"), "was.pw"),
        "same keys and properties"
    );

    // A token WebSphere made verifies with the deployment's keys as exported.
    let token = std::fs::read_to_string(vector("websphere-2013.ltpatoken2")).unwrap();
    let verify = simul(
        d,
        &[
            "ltpa",
            "token",
            "verify",
            token.trim(),
            "--keys",
            "x.keys",
            "--password-file",
            "out.pw",
            "--at",
            "1696698000000",
        ],
        &[],
    );
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

#[test]
fn config_check_fills_defaults_and_names_bad_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let variables = [("SIMUL_SERVER__DOMAIN", "chat.example.com"), ("SIMUL_BIN", "not a setting")];
    let ok = simul(d, &["config", "check"], &variables);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let out = text(&ok.stdout);
    assert!(out.contains("domain = \"chat.example.com\""), "{out}");
    assert!(out.contains("ltpa2_cookie_name = \"LtpaToken2\""), "{out}");

    std::fs::write(
        d.join("simul.toml"),
        "[sso]\ndomains = [\".renovations.com\"]\ninteroperability_mode = true\nexpiration_minutes = 720\n",
    )
    .unwrap();
    let ok = simul(d, &["config", "check", "--config", "simul.toml"], &[]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("expiration_minutes = 720"));

    let cases = [
        ("[sso]\ndomains = [\"localhost\"]\n", "sso.domains"),
        ("[sso]\nexpiration_minute = 5\n", "expiration_minute"),
        ("[server]\ndomain = 5\n", "server.domain"),
        // tracing reads a bare word as a module name, and then logs nothing else.
        ("log = \"verbose\"\n", "log: \"verbose\""),
    ];
    for (toml, expected) in cases {
        std::fs::write(d.join("bad.toml"), toml).unwrap();
        let bad = simul(d, &["config", "check", "--config", "bad.toml"], &[]);
        assert_eq!(bad.status.code(), Some(2), "{toml}");
        assert!(text(&bad.stderr).contains(expected), "{toml}: {}", text(&bad.stderr));
    }
    let typo = simul(d, &["config", "check"], &[("SIMUL_SERVER__DOMIAN", "x")]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(text(&typo.stderr).contains("domian"), "{}", text(&typo.stderr));
    let missing = simul(d, &["config", "check", "--config", "nope.toml"], &[]);
    assert!(
        text(&missing.stderr).contains("nope.toml does not exist"),
        "{}",
        text(&missing.stderr)
    );
}

#[test]
fn embedded_realm_users_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run_with_stdin = |args: &[&str], input: &str| {
        use std::io::Write as _;
        let mut child = Command::new(SIMUL)
            .args(args)
            .current_dir(d)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let add = run_with_stdin(
        &[
            "user",
            "add",
            "Alice",
            "--display-name",
            "Alice Anders",
            "--mail",
            "alice@example.com",
            "--password-stdin",
            "--data",
            "dd",
        ],
        "correct horse\n",
    );
    assert!(add.status.success(), "{}", text(&add.stderr));
    assert_eq!(text(&add.stdout), "Added user alice (Alice Anders)\n");
    std::fs::write(d.join("pw"), "battery staple\n").unwrap();
    let bob = simul(d, &["user", "add", "bob", "--password-file", "pw", "--data", "dd"], &[]);
    assert!(bob.status.success(), "{}", text(&bob.stderr));
    // Closed cleanly: the database alone, no write-ahead log left behind.
    for leftover in ["simul.db-wal", "simul.db-shm"] {
        assert!(!d.join("dd").join(leftover).exists(), "{leftover} left by `simul user add`");
    }

    let again = simul(d, &["user", "add", "bob", "--password-file", "pw", "--data", "dd"], &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("user \"bob\" exists already"), "{}", text(&again.stderr));
    let weak =
        run_with_stdin(&["user", "add", "carol", "--password-stdin", "--data", "dd"], "short\n");
    assert!(text(&weak.stderr).contains("at least 8 characters"), "{}", text(&weak.stderr));
    let no_password = simul(d, &["user", "add", "carol", "--data", "dd"], &[]);
    assert!(text(&no_password.stderr).contains("use --password-stdin or --password-file"));

    assert!(simul(d, &["user", "disable", "bob", "--data", "dd"], &[]).status.success());
    let list = simul(d, &["user", "list", "--data", "dd"], &[]);
    assert_eq!(
        text(&list.stdout),
        "alice\tAlice Anders\talice@example.com\tenabled\nbob\tbob\t\tdisabled\n"
    );
    assert!(
        simul(d, &["user", "passwd", "alice", "--password-file", "pw", "--data", "dd"], &[])
            .status
            .success()
    );
    assert!(simul(d, &["user", "remove", "bob", "--data", "dd"], &[]).status.success());
    let missing = simul(d, &["user", "remove", "bob", "--data", "dd"], &[]);
    assert!(text(&missing.stderr).contains("no user \"bob\""), "{}", text(&missing.stderr));
    let list = simul(d, &["user", "list", "--data", "dd"], &[]);
    assert_eq!(text(&list.stdout), "alice\tAlice Anders\talice@example.com\tenabled\n");
}

/// A certificate for `name` and its key, as PEM files in `dir`.
fn certificate_for(dir: &Path, name: &str) {
    let key = rcgen::KeyPair::generate().unwrap();
    let certificate =
        rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap().self_signed(&key).unwrap();
    std::fs::write(dir.join("cert.pem"), certificate.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
}

#[test]
fn config_check_refuses_what_cannot_work_and_warns_of_what_may_be_a_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let check = |toml: &str| {
        std::fs::write(d.join("simul.toml"), toml).unwrap();
        let out = simul(d, &["config", "check", "--config", "simul.toml"], &[]);
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let missing = "[server]\ntls_certificate = \"missing.pem\"\ntls_key = \"missing-key.pem\"\n";
    let errors = [
        (
            missing.to_owned(),
            "error: server.tls_certificate: missing.pem does not exist: give the path of the PEM \
             file",
        ),
        (missing.to_owned(), "error: server.tls_key: missing-key.pem does not exist"),
        (
            "[server]\nhttps = \"off\"\n\n[sso]\nrequires_ssl = true\n".to_owned(),
            "error: sso.requires_ssl = true, but server.https is off and no \
             server.trusted_proxies terminate TLS",
        ),
    ];
    for (toml, expected) in &errors {
        let (code, out, errors) = check(toml);
        assert_eq!(code, Some(2), "{toml}\n{out}{errors}");
        assert!(errors.contains(expected), "{expected:?} in:\n{errors}");
        assert!(!out.contains("The configuration is valid"), "{out}");
    }

    certificate_for(d, "chat.renovations.com");
    let tls = "tls_certificate = \"cert.pem\"\ntls_key = \"key.pem\"\n";
    let warnings = [
        (
            format!("[server]\nhttps = \"off\"\n{}", &missing["[server]\n".len()..]),
            "warning: server.tls_certificate: missing.pem does not exist",
        ),
        (
            "[server]\nhttps = \"off\"\ntrusted_proxies = [\"10.0.0.1/32\"]\n\n[sso]\n\
             requires_ssl = true\n"
                .to_owned(),
            "warning: sso.requires_ssl = true and server.https is off: the SSO cookies work only \
             through the proxies of server.trusted_proxies",
        ),
        (
            "[server]\ndomain = \"chat.example.net\"\n\n[sso]\ndomains = [\".renovations.com\"]\n"
                .to_owned(),
            "warning: server.domain \"chat.example.net\" is outside sso.domains \
             [\".renovations.com\"]",
        ),
        (
            format!("[server]\ndomain = \"portal.renovations.com\"\n{tls}"),
            "warning: server.domain \"portal.renovations.com\" is not among the names of \
             server.tls_certificate cert.pem (chat.renovations.com): browsers warn",
        ),
    ];
    for (toml, expected) in &warnings {
        let (code, out, errors) = check(toml);
        assert_eq!(code, Some(0), "{toml}\n{out}{errors}");
        assert!(errors.contains(expected), "{expected:?} in:\n{errors}");
        assert!(out.contains("The configuration is valid"), "{out}");
    }
    let fine = format!(
        "[server]\ndomain = \"chat.renovations.com\"\n{tls}\n[sso]\ndomains = [\".renovations.com\"]\n"
    );
    let (code, out, errors) = check(&fine);
    assert_eq!((code, errors.as_str()), (Some(0), ""), "{out}");
}

#[test]
fn config_check_prints_the_ldap_presets_filters_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("simul.toml"),
        "[directory]\nkind = \"ldap\"\n\n[directory.ldap]\npreset = \"active_directory\"\n\
         hosts = [\"ldap://ad.renovations.com\"]\nbase_dn = \"dc=renovations,dc=com\"\n\
         group_filter = \"(&(objectClass=group)(cn=simul-*))\"\n",
    )
    .unwrap();
    let out = simul(d, &["config", "check", "--config", "simul.toml"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = text(&out.stdout);
    for line in [
        "login_attributes = [\n    \"sAMAccountName\",\n    \"userPrincipalName\",\n    \"mail\",\n]",
        "user_filter = \"(&(objectCategory=person)(objectClass=user))\"",
        "disabled_filter = \"(userAccountControl:1.2.840.113556.1.4.803:=2)\"",
        // What is set by hand stays as it is.
        "group_filter = \"(&(objectClass=group)(cn=simul-*))\"",
        "display_name = \"displayName\"",
        "location = \"physicalDeliveryOfficeName\"",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
}

#[test]
fn passwd_asks_for_the_new_password_on_a_terminal() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "long enough\n").unwrap();
    let add =
        simul(dir.path(), &["user", "add", "bob", "--password-file", "pw", "--data", "dd"], &[]);
    assert!(add.status.success(), "{}", text(&add.stderr));
    // `script` (util-linux) runs the command on a pseudo-terminal, as an
    // administrator following the first start's hint would.
    let mut child = Command::new("script")
        .args(["-qec", &format!("{SIMUL} user passwd bob --data dd"), "/dev/null"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script, from util-linux");
    let mut typing = child.stdin.take().unwrap();
    for _ in 0..2 {
        std::thread::sleep(std::time::Duration::from_millis(500));
        typing.write_all(b"a new secret\r").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("New password: ") && shown.contains("(again)"), "{shown}");
    assert!(shown.contains("Changed the password of bob"), "{shown}");
    assert!(!shown.contains("a new secret"), "not echoed: {shown}");
}

#[test]
fn read_only_commands_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let commands: [&[&str]; 8] = [
        &["sso", "doctor", "--cookie-header", "JSESSIONID=0000x"],
        &["sso", "doctor", "--url", "http://chat.renovations.com/"],
        &["config", "check"],
        &["integrate", "connections"],
        &["user", "list"],
        &["user", "disable", "bob"],
        &["directory", "test"],
        &["ltpa", "show", "ltpa.keys", "--password-env", "NO_SUCH_VARIABLE"],
    ];
    for args in commands {
        let out = simul(d, args, &[]);
        let created: Vec<_> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(created.is_empty(), "{args:?} created {created:?}: {}", text(&out.stderr));
    }
    let doctor = simul(d, &["sso", "doctor", "--cookie-header", "JSESSIONID=0000x"], &[]);
    assert!(
        text(&doctor.stdout).contains(
            "Simul's LTPA keys: none, there is no deployment in simul-data (no such directory)"
        ),
        "{}",
        text(&doctor.stdout)
    );
    let list = simul(d, &["user", "list"], &[]);
    assert_eq!(list.status.code(), Some(2));
    assert!(
        text(&list.stderr).contains("there is no deployment in simul-data (no database)"),
        "{}",
        text(&list.stderr)
    );
}
