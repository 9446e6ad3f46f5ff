//! `simul integrate connections|portal|inotes|bpm`: the output for a fixed
//! deployment is compared with golden files in `tests/golden/integrate/`.
//!
//! After an intended change of the output, regenerate them with
//! `UPDATE_GOLDEN=1 cargo nextest run -p simul integrate::` and review
//! the diff. Under `CI=true` the files are never written, only compared.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SIMUL: &str = env!("CARGO_BIN_EXE_simul");
const PRODUCTS: [&str; 4] = ["connections", "portal", "inotes", "bpm"];

/// The deployment of the golden files: public names on the standard
/// ports, one SSO domain, an LDAP directory with a realm name.
fn config_toml(dir: &Path, sso: bool) -> String {
    let sso = if sso { "[sso]\ndomains = [\".renovations.com\"]\n\n" } else { "" };
    format!(
        "[server]\ndomain = \"chat.renovations.com\"\nhttps = \"0.0.0.0:443\"\nhttp = \
         \"0.0.0.0:80\"\n\n{sso}[directory]\nkind = \"ldap\"\nrealm = \
         \"ldap.renovations.com:389\"\n\n[directory.ldap]\nhosts = \
         [\"ldap://ldap.renovations.com:389\"]\nbase_dn = \"dc=renovations,dc=com\"\nbind_dn = \
         \"cn=root,dc=renovations,dc=com\"\nbind_password_file = \"{}\"\n",
        dir.join("bind.pw").display()
    )
}

/// A scratch directory with `simul.toml` (and the bind password file it names).
fn deployment(sso: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bind_pw = dir.path().join("bind.pw");
    std::fs::write(&bind_pw, "not-a-real-password\n").unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&bind_pw, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(dir.path().join("simul.toml"), config_toml(dir.path(), sso)).unwrap();
    dir
}

/// `simul ARGS` in `dir`, with no SIMUL_* variable of the caller's.
fn simul(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(SIMUL);
    command.args(args).current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SIMUL_") {
            command.env_remove(name);
        }
    }
    command.output().unwrap()
}

fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The text with every run of white space as one space (prose is wrapped).
fn joined(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn golden_path(product: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/integrate")
        .join(format!("{product}.txt"))
}

/// Writing is asked for and allowed (never in CI).
fn updating() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") && !ci
}

#[test]
fn every_product_prints_its_golden_output() {
    let dir = deployment(true);
    let mut stale = Vec::new();
    for product in PRODUCTS {
        let output =
            stdout_of(&simul(dir.path(), &["integrate", product, "--config", "simul.toml"]));
        let path = golden_path(product);
        if updating() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &output).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "{}: {error}; create it with UPDATE_GOLDEN=1 cargo nextest run -p simul \
                 integrate::",
                path.display()
            )
        });
        if output != expected {
            let line = output
                .lines()
                .zip(expected.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| output.lines().count().min(expected.lines().count()));
            stale.push(format!(
                "{product}: differs from {} at line {}:\n  got:      {:?}\n  expected: {:?}",
                path.display(),
                line + 1,
                output.lines().nth(line).unwrap_or("(end)"),
                expected.lines().nth(line).unwrap_or("(end)")
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "{}\n(an intended change? UPDATE_GOLDEN=1 cargo nextest run -p simul integrate::, \
         then review the diff)",
        stale.join("\n")
    );
}

#[test]
fn golden_outputs_name_the_deployment_and_never_localhost() {
    let dir = deployment(true);
    // While another test rewrites the files, read what it writes.
    let golden = |product: &str| {
        if updating() {
            stdout_of(&simul(dir.path(), &["integrate", product, "--config", "simul.toml"]))
        } else {
            std::fs::read_to_string(golden_path(product)).unwrap()
        }
    };
    for product in PRODUCTS {
        let path = golden_path(product);
        let text = golden(product);
        assert!(!text.contains("localhost"), "{} mentions localhost", path.display());
        assert!(text.contains("https://chat.renovations.com"), "{product}");
        assert!(text.contains(".renovations.com"), "{product}");
        assert!(text.contains("ldap.renovations.com:389"), "{product}");
        assert!(!text.contains("warning:"), "{product}: the golden deployment needs no warning");
        assert!(
            text.contains(
                "simul ltpa export --data simul-data --password-file ltpa-export.pw --out \
                 simul-ltpa.keys"
            ),
            "{product}"
        );
        assert!(text.contains("/stwebapi/getstatus?userId="), "{product}");
        assert!(text.contains("Checklist"), "{product}");
        // Snippets open and close.
        let opened =
            text.lines().filter(|l| l.starts_with("--- ") && !l.starts_with("--- end of ")).count();
        let closed = text.lines().filter(|l| l.starts_with("--- end of ")).count();
        assert!(opened > 0 && opened == closed, "{product}: {opened} snippets, {closed} ends");
    }
    let connections = golden("connections");
    for expected in [
        "serviceName=\"sametimeProxy\" ssl_enabled=\"true\"",
        "<sloc:static href=\"http://chat.renovations.com\"",
        "ssl_href=\"https://chat.renovations.com\"/>",
        "<sloc:interService href=\"https://chat.renovations.com\"/>",
        "href=\"http://chat.renovations.com/stwebapi/\"",
        "<proxy:cookie>LtpaToken2</proxy:cookie>",
        "<proxy:header>X-ST-CSRF-Token</proxy:header>",
        "Security > Global security > LTPA > Cross-cell single sign-on",
    ] {
        assert!(connections.contains(expected), "connections lacks {expected}");
    }
    let portal = golden("portal");
    for expected in [
        "cc.sametime.proxy.scheme=https\ncc.sametime.proxy.host=chat.renovations.com\n\
         cc.sametime.proxy.port=443\n",
        "\"wp_sametime_proxy\"",
    ] {
        assert!(portal.contains(expected), "portal lacks {expected}");
    }
    let inotes = golden("inotes");
    for expected in [
        "iNotes_WA_SametimeProxyServer=http://chat.renovations.com\n",
        "iNotes_WA_SametimeProxyServerSSL=https://chat.renovations.com\n",
        "iNotes_WA_SametimeProxyLogin=0\n",
        "Keys > Import WebSphere LTPA Keys",
        "Expiration (minutes)                         120",
    ] {
        assert!(inotes.contains(expected), "inotes lacks {expected}");
    }
}

#[test]
fn without_sso_domains_a_warning_says_there_is_no_sso() {
    let dir = deployment(false);
    for product in PRODUCTS {
        let output =
            stdout_of(&simul(dir.path(), &["integrate", product, "--config", "simul.toml"]));
        assert!(
            joined(&output).contains(
                "warning: sso.domains is empty: set sso.domains = [\".renovations.com\"]; without \
                 a shared cookie domain there is no SSO"
            ),
            "{product}:\n{output}"
        );
    }
    // iNotes then falls back to its own login prompt.
    let inotes = stdout_of(&simul(dir.path(), &["integrate", "inotes", "--config", "simul.toml"]));
    assert!(inotes.contains("iNotes_WA_SametimeProxyLogin=1\n"), "{inotes}");
}

#[test]
fn a_url_that_is_not_http_is_a_usage_error_naming_the_flag() {
    let dir = deployment(true);
    for url in ["ftp://x", "https://st.example.com/chat", "st.example.com"] {
        let out = simul(
            dir.path(),
            &["integrate", "connections", "--config", "simul.toml", "--url", url],
        );
        assert_eq!(out.status.code(), Some(2), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--url"), "{url}: {stderr}");
        assert!(out.stdout.is_empty(), "{url}");
    }
}

#[test]
fn a_url_is_used_as_given_without_its_trailing_slash() {
    let dir = deployment(true);
    let args =
        ["integrate", "connections", "--config", "simul.toml", "--url", "https://st.example.com/"];
    let output = stdout_of(&simul(dir.path(), &args));
    assert!(output.contains("<sloc:static href=\"https://st.example.com\""), "{output}");
    assert!(output.contains("ssl_href=\"https://st.example.com\"/>"), "{output}");
    assert!(output.contains("href=\"https://st.example.com/stwebapi/\""), "{output}");
    assert!(!output.contains("st.example.com//"), "{output}");
    assert!(!output.contains("chat.renovations.com/"), "only the --url address: {output}");
    // Outside the SSO domain: said, not silently printed.
    assert!(
        joined(&output)
            .contains("warning: st.example.com is not in the SSO domain .renovations.com"),
        "{output}"
    );

    let portal =
        ["integrate", "portal", "--config", "simul.toml", "--url", "http://st.example.com:8080/"];
    let output = stdout_of(&simul(dir.path(), &portal));
    assert!(output.contains("cc.sametime.proxy.scheme=http\n"), "{output}");
    assert!(output.contains("cc.sametime.proxy.host=st.example.com\n"), "{output}");
    assert!(output.contains("cc.sametime.proxy.port=8080\n"), "{output}");
}

#[test]
fn every_product_has_help_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for product in PRODUCTS {
        let out = simul(dir.path(), &["integrate", product, "--help"]);
        let help = stdout_of(&out);
        assert!(help.contains("--config <FILE>") && help.contains("--url <URL>"), "{help}");
        assert!(
            help.contains(&format!("Examples:\n  simul integrate {product} --config")),
            "{help}"
        );
    }
}
