//! The testkit's slapd, checked with the OpenLDAP command-line tools.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use simul_testkit::{
    ALICE_DN, BOB_DN, BUILDERS_DN, DAVE_DN, EVERYONE_DN, PEOPLE_DN, ROOT_DN, ROOT_PASSWORD,
    SITE_MANAGERS_DN, SUFFIX, Slapd, ZOE_DN, closed_port,
};

/// What an OpenLDAP tool printed, and its exit code.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(self) -> String {
        assert_eq!(self.code, Some(0), "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self.stdout
    }
}

/// Runs an OpenLDAP tool; `ca` becomes `LDAPTLS_CACERT`.
fn run(tool: &str, ca: Option<&Path>, args: &[&str]) -> Run {
    let mut command = Command::new(tool);
    command.args(args);
    if let Some(ca) = ca {
        command.env("LDAPTLS_CACERT", ca);
    }
    let output = command.output().expect("run an OpenLDAP tool");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// An anonymous `ldapsearch -LLL` over the plain listener.
fn search(slapd: &Slapd, filter: &str, attrs: &[&str]) -> Run {
    search_with(slapd, &[], filter, attrs)
}

/// The same with more options (a bind DN and password, controls).
fn search_with(slapd: &Slapd, options: &[&str], filter: &str, attrs: &[&str]) -> Run {
    let url = slapd.url();
    let mut args = vec!["-x", "-LLL", "-o", "ldif-wrap=no", "-H", &url];
    args.extend_from_slice(options);
    args.extend_from_slice(&["-b", SUFFIX, filter]);
    args.extend_from_slice(attrs);
    run("ldapsearch", None, &args)
}

fn refused(port: u16) -> bool {
    TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err()
}

#[test]
fn anonymous_search_finds_alice() {
    let started = Instant::now();
    let slapd = Slapd::start();
    eprintln!("Slapd::start took {:?}", started.elapsed());
    assert!(slapd.url().starts_with("ldap://127.0.0.1:"));
    assert_eq!(slapd.url(), format!("ldap://127.0.0.1:{}", slapd.port()));
    let out = search(&slapd, "(uid=alice)", &["cn"]).ok();
    assert!(out.contains(&format!("dn: {ALICE_DN}")), "{out}");
    assert!(out.contains("cn: Alice Allen"), "{out}");
}

#[test]
fn fixture_has_the_documented_users_and_groups() {
    let slapd = Slapd::start();
    let out = search(&slapd, "(uid=alice)", &["title", "telephoneNumber", "l", "mail"]).ok();
    for line in [
        "title: Site Manager",
        "telephoneNumber: +1 617 555 0101",
        "l: Boston",
        "mail: alice@renovations.com",
    ] {
        assert!(out.contains(line), "{line} missing in {out}");
    }
    let out = search(&slapd, "(uid=bob)", &["title", "l"]).ok();
    assert!(out.contains("title: Builder") && out.contains("l: Cambridge"), "{out}");

    // ldapsearch prints non-ASCII values in base64.
    let out = search(&slapd, "(uid=zoe)", &["cn", "sn"]).ok();
    assert!(out.contains(&format!("dn: {ZOE_DN}")), "{out}");
    assert!(out.contains("cn:: Wm/DqyDDhW5nc3Ryw7ZtLcWBdWthc2lld2ljeg=="), "{out}");
    assert!(out.contains("sn:: w4VuZ3N0csO2bS3FgXVrYXNpZXdpY3o="), "{out}");

    let out = search(&slapd, "(employeeType=disabled)", &["1.1"]).ok();
    assert_eq!(out.trim(), format!("dn: {DAVE_DN}"));

    let out = search(&slapd, "(mail=carol@renovations.com)", &["uid"]).ok();
    assert!(out.contains("uid: carol1") && out.contains("uid: carol2"), "{out}");

    let out = search(&slapd, "(objectClass=inetOrgPerson)", &["1.1"]).ok();
    assert_eq!(out.matches("dn: ").count(), 6, "{out}");

    // Nested groups: alice ∈ site-managers ∈ builders ∈ everyone.
    let out = search(&slapd, "(objectClass=groupOfNames)", &["member"]).ok();
    for record in [
        format!("dn: {SITE_MANAGERS_DN}\nmember: {ALICE_DN}\n"),
        format!("dn: {BUILDERS_DN}\nmember: {BOB_DN}\nmember: {SITE_MANAGERS_DN}\n"),
        format!("dn: {EVERYONE_DN}\nmember: {BUILDERS_DN}\n"),
    ] {
        assert!(out.contains(&record), "{record} missing in {out}");
    }

    // A password is readable by its owner only.
    let password_as = |who: &[&str]| {
        let url = slapd.url();
        let mut args = vec!["-x", "-LLL", "-H", &url];
        args.extend_from_slice(who);
        args.extend_from_slice(&["-b", ALICE_DN, "-s", "base", "userPassword"]);
        run("ldapsearch", None, &args).ok()
    };
    // base64 of "alice-secret"
    let own = password_as(&["-D", ALICE_DN, "-w", "alice-secret"]);
    assert!(own.contains("userPassword:: YWxpY2Utc2VjcmV0"), "{own}");
    let other = password_as(&["-D", BOB_DN, "-w", "bob-secret"]);
    assert!(!other.contains("userPassword"), "{other}");
    let anonymous = password_as(&[]);
    assert!(!anonymous.contains("userPassword"), "{anonymous}");
}

#[test]
fn users_bind_with_their_passwords() {
    let slapd = Slapd::start();
    let url = slapd.url();
    let out =
        run("ldapwhoami", None, &["-x", "-H", &url, "-D", ALICE_DN, "-w", "alice-secret"]).ok();
    assert_eq!(out.trim(), format!("dn:{ALICE_DN}"));
    let as_alice = ["-D", ALICE_DN, "-w", "alice-secret"];
    let out = search_with(&slapd, &as_alice, "(uid=bob)", &["cn"]).ok();
    assert!(out.contains("cn: Bob Builder"), "{out}");

    let wrong = run("ldapwhoami", None, &["-x", "-H", &url, "-D", ALICE_DN, "-w", "bob-secret"]);
    assert_eq!(wrong.code, Some(49), "invalid credentials expected: {}", wrong.stderr);

    let out = run("ldapwhoami", None, &["-x", "-H", &url, "-D", ROOT_DN, "-w", ROOT_PASSWORD]).ok();
    assert_eq!(out.trim(), format!("dn:{ROOT_DN}"));
}

#[test]
fn ldaps_verifies_with_the_ca() {
    let slapd = Slapd::start();
    let ca = slapd.ca_pem_path();
    let url = slapd.ldaps_url();
    assert!(url.starts_with("ldaps://127.0.0.1:"));
    let out =
        run("ldapwhoami", Some(&ca), &["-x", "-H", &url, "-D", BOB_DN, "-w", "bob-secret"]).ok();
    assert_eq!(out.trim(), format!("dn:{BOB_DN}"));

    // The certificate names localhost too. (libldap cannot show it: for "localhost" it checks
    // the machine's hostname instead, so ask openssl, if it is installed.)
    let port = url.rsplit(':').next().expect("a port");
    for check in [["-verify_hostname", "localhost"], ["-verify_ip", "127.0.0.1"]] {
        let ca = ca.to_str().expect("a UTF-8 path");
        let connect = format!("127.0.0.1:{port}");
        let mut args = vec!["s_client", "-connect", &connect, "-CAfile", ca];
        args.extend_from_slice(&["-verify_return_error", check[0], check[1]]);
        match Command::new("openssl").args(&args).stdin(Stdio::null()).output() {
            Ok(out) => assert!(
                out.status.success(),
                "openssl {args:?}:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("not checking {check:?} with openssl: {e}"),
        }
    }

    // Without our CA (the system bundle from /etc/ldap/ldap.conf) the certificate is rejected.
    let untrusted = run("ldapwhoami", None, &["-x", "-H", &url]);
    assert_ne!(untrusted.code, Some(0), "{}", untrusted.stdout);
}

#[test]
fn starttls_works_on_the_plain_port() {
    let slapd = Slapd::start();
    let ca = slapd.ca_pem_path();
    let url = slapd.url();
    let out = run(
        "ldapwhoami",
        Some(&ca),
        &["-x", "-ZZ", "-H", &url, "-D", ALICE_DN, "-w", "alice-secret"],
    )
    .ok();
    assert_eq!(out.trim(), format!("dn:{ALICE_DN}"));
    let out = run(
        "ldapsearch",
        Some(&ca),
        &["-x", "-ZZ", "-LLL", "-H", &url, "-b", SUFFIX, "(uid=alice)", "cn"],
    )
    .ok();
    assert!(out.contains("cn: Alice Allen"), "{out}");
}

#[test]
fn stop_refuses_and_restart_serves_again() {
    let mut slapd = Slapd::start();
    let port = slapd.port();
    let ldaps_url = slapd.ldaps_url();
    slapd.modify(&format!("dn: {BOB_DN}\nchangetype: modify\nreplace: l\nl: Somerville\n"));

    slapd.stop();
    assert!(refused(port), "port {port} still accepts after stop");
    slapd.stop(); // idempotent
    let out = search(&slapd, "(uid=alice)", &["cn"]);
    assert_ne!(out.code, Some(0));

    slapd.restart();
    assert_eq!(slapd.port(), port);
    assert_eq!(slapd.ldaps_url(), ldaps_url);
    assert!(search(&slapd, "(uid=alice)", &["cn"]).ok().contains("cn: Alice Allen"));
    // The data survived, changes included.
    assert!(search(&slapd, "(uid=bob)", &["l"]).ok().contains("l: Somerville"));
    let ca = slapd.ca_pem_path();
    run("ldapwhoami", Some(&ca), &["-x", "-H", &ldaps_url]).ok();

    // Restarting a running server works too.
    slapd.restart();
    assert!(search(&slapd, "(uid=alice)", &["cn"]).ok().contains("cn: Alice Allen"));
}

#[test]
fn drop_stops_slapd() {
    let slapd = Slapd::start();
    let port = slapd.port();
    drop(slapd);
    assert!(refused(port), "port {port} still accepts after drop");
}

#[test]
fn modify_deletes_bob() {
    let slapd = Slapd::start();
    assert!(search(&slapd, "(uid=bob)", &["cn"]).ok().contains("Bob Builder"));
    slapd.modify(&format!("dn: {BOB_DN}\nchangetype: delete\n"));
    assert_eq!(search(&slapd, "(uid=bob)", &["cn"]).ok().trim(), "");
    // Others are still there.
    assert!(search(&slapd, "(uid=alice)", &["cn"]).ok().contains("Alice Allen"));
}

#[test]
#[should_panic(expected = "ldapmodify failed")]
fn modify_panics_on_failure() {
    let slapd = Slapd::start();
    slapd.modify(&format!("dn: uid=nobody,{PEOPLE_DN}\nchangetype: delete\n"));
}

#[test]
fn start_with_loads_extra_entries_and_paging_beats_the_size_limit() {
    let mut extra = String::new();
    for i in 0..600 {
        let _ = write!(
            extra,
            "dn: uid=user{i:03},{PEOPLE_DN}\nobjectClass: inetOrgPerson\nuid: user{i:03}\n\
             cn: User {i}\nsn: {i}\nuserPassword: user{i:03}-secret\n\n"
        );
    }
    let slapd = Slapd::start_with(&extra);
    let url = slapd.url();
    let out = run(
        "ldapwhoami",
        None,
        &["-x", "-H", &url, "-D", &format!("uid=user599,{PEOPLE_DN}"), "-w", "user599-secret"],
    )
    .ok();
    assert!(out.contains("uid=user599"), "{out}");

    // Without paging: sizeLimitExceeded (4) after 500 entries.
    let unpaged = search(&slapd, "(objectClass=inetOrgPerson)", &["1.1"]);
    assert_eq!(unpaged.code, Some(4), "{}", unpaged.stderr);
    assert_eq!(unpaged.stdout.matches("dn: ").count(), 500);

    // Paged: everything (606 users).
    let paged =
        search_with(&slapd, &["-E", "pr=200/noprompt"], "(objectClass=inetOrgPerson)", &["1.1"])
            .ok();
    assert_eq!(paged.matches("dn: ").count(), 606);

    // The root DN is not limited.
    let as_root = ["-D", ROOT_DN, "-w", ROOT_PASSWORD];
    let root = search_with(&slapd, &as_root, "(objectClass=inetOrgPerson)", &["1.1"]).ok();
    assert_eq!(root.matches("dn: ").count(), 606);
}

#[test]
fn several_run_side_by_side() {
    let a = Slapd::start();
    let b = Slapd::start();
    assert_ne!(a.port(), b.port());
    a.modify(&format!("dn: {BOB_DN}\nchangetype: delete\n"));
    assert_eq!(search(&a, "(uid=bob)", &["cn"]).ok().trim(), "");
    assert!(search(&b, "(uid=bob)", &["cn"]).ok().contains("Bob Builder"));
}

#[test]
fn closed_port_refuses_connections() {
    let port = closed_port();
    assert_ne!(port, 0);
    assert!(refused(port));
}
