//! Test support for Simul: a real OpenLDAP `slapd` on loopback, loaded with a small fixture
//! directory, for integration tests of the LDAP code.
//!
//! It needs the Debian packages `slapd` (`/usr/sbin/slapd`, `/usr/sbin/slapadd`, modules in
//! `/usr/lib/ldap`, schemas in `/etc/ldap/schema`) and `ldap-utils` (`ldapmodify`, used by
//! [`Slapd::modify`]). Every [`Slapd`] has its own temporary directory (configuration, TLS
//! certificates, database, log) and its own ports, so tests can run several at once, in one
//! process or in many.
//!
//! ```no_run
//! let slapd = simul_testkit::Slapd::start();
//! // slapd.url() is "ldap://127.0.0.1:PORT"; bind as simul_testkit::ALICE_DN with "alice-secret".
//! ```
//!
//! # The fixture directory
//!
//! Suffix [`SUFFIX`] (`dc=renovations,dc=com`, a `dcObject`/`organization` entry) with
//! `ou=people` ([`PEOPLE_DN`]) and `ou=groups` ([`GROUPS_DN`]) below it. The root DN
//! [`ROOT_DN`] binds with [`ROOT_PASSWORD`] and is not subject to access rules or limits.
//!
//! Users are `inetOrgPerson`s under `ou=people`; every password is `<uid>-secret`, stored in
//! plain text:
//!
//! | uid      | DN constant     | cn                          | mail                    | other attributes |
//! |----------|-----------------|-----------------------------|-------------------------|------------------|
//! | `alice`  | [`ALICE_DN`]    | Alice Allen                 | alice@renovations.com   | title "Site Manager", telephoneNumber "+1 617 555 0101", l "Boston" |
//! | `bob`    | [`BOB_DN`]      | Bob Builder                 | bob@renovations.com     | title "Builder", telephoneNumber "+1 617 555 0102", l "Cambridge" |
//! | `zoe`    | [`ZOE_DN`]      | Zoë Ångström-Łukasiewicz    | zoe@renovations.com     | sn "Ångström-Łukasiewicz" (non-ASCII) |
//! | `dave`   | [`DAVE_DN`]     | Dave Disabled               | dave@renovations.com    | employeeType "disabled" |
//! | `carol1` | [`CAROL1_DN`]   | Carol One                   | carol@renovations.com   | the same mail as `carol2` |
//! | `carol2` | [`CAROL2_DN`]   | Carol Two                   | carol@renovations.com   | the same mail as `carol1` |
//!
//! So alice's password is `alice-secret`, carol2's is `carol2-secret`. The `sn`s are the last
//! word of the `cn` (Allen, Builder, Ångström-Łukasiewicz, Disabled, One, Two).
//!
//! Groups are `groupOfNames` under `ou=groups`, nested:
//!
//! - `cn=site-managers` ([`SITE_MANAGERS_DN`]): member alice;
//! - `cn=builders` ([`BUILDERS_DN`]): members bob and `cn=site-managers`;
//! - `cn=everyone` ([`EVERYONE_DN`]): member `cn=builders`;
//!
//! so alice ∈ site-managers ∈ builders ∈ everyone.
//!
//! # Access and limits
//!
//! `userPassword` can be used to bind (anonymous `auth`) and is readable and writable by its
//! owner only (OpenLDAP's `write` includes `read`); everything else is readable by everyone,
//! anonymous included, and writable only by the root DN. Searches return at
//! most [`SIZE_LIMIT`] (500) entries: a search without the paged-results control that matches
//! more gets `sizeLimitExceeded` (result code 4) after 500 entries, while a paged search
//! (any page size up to 500) may return any number in total. The root DN is exempt.
//!
//! # TLS
//!
//! Each instance generates a CA and a server certificate signed by it (ECDSA P-256, subject
//! alternative names `127.0.0.1` and `localhost`). [`Slapd::ldaps_url`] is an LDAPS listener;
//! the plain listener ([`Slapd::url`]) supports StartTLS. Clients verify with
//! [`Slapd::ca_pem_path`] (with the OpenLDAP tools: `LDAPTLS_CACERT=<path>`).
//!
//! # Other real programs
//!
//! - [`Nginx`]: Debian's nginx as the reverse proxy in front of Simul.
//! - [`MwClient`]: the scripted libmeanwhile client of `vp-protocol.md` §12.3
//!   (`mwclient/vp-mwclient.c`, compiled by the tests against Debian's `libmeanwhile-dev`,
//!   with `libglib2.0-dev`, `pkg-config` and `gcc`): it logs in to a VP server on loopback,
//!   takes commands on stdin and reports events one line each, so VP tests talk to the
//!   protocol code Pidgin's Sametime plugin runs.
//!
//! - [`PurpleClient`]: Pidgin's own Sametime plugin without a UI, `vp-protocol.md` §12.4
//!   (`purpleclient/vp-purpleclient.c`, a nullclient-style program compiled by the tests
//!   against Debian's `libpurple-dev`): it signs in with a fresh profile directory, takes
//!   commands on stdin and reports what Pidgin would show (sign-on, connection errors, buddy
//!   statuses, displayed IM and chat lines) one line each.
//!
//! ```no_run
//! # let addr: std::net::SocketAddr = "127.0.0.1:1533".parse().unwrap();
//! let mut alice = simul_testkit::MwClient::start(addr, "alice", "alice-secret");
//! alice.expect("LOGGED_IN");
//! alice.send("watch bob");
//! assert!(alice.expect("PRESENCE bob ").contains("online=1"));
//!
//! let mut pidgin = simul_testkit::PurpleClient::start(addr, "carol", "carol-secret");
//! pidgin.expect("SIGNED_ON");
//! pidgin.send("im alice hello");
//! ```

mod mwclient;
mod nginx;
mod prosody;
mod purpleclient;
mod rawxmpp;
mod scripted;
mod xmppclient;
mod xmppjsclient;

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

pub use mwclient::{MwClient, MwOptions};
pub use nginx::Nginx;
pub use prosody::Prosody;
pub use purpleclient::PurpleClient;
pub use rawxmpp::{RawXmpp, TlsResumption, attributes, stream_header};
pub use scripted::Scripted;
pub use xmppclient::{XmppClient, XmppTransport};
pub use xmppjsclient::{XmppJsClient, XmppJsMechanism};

/// The fixture directory's suffix (its root entry).
pub const SUFFIX: &str = "dc=renovations,dc=com";
/// The root DN: binds with [`ROOT_PASSWORD`], bypasses access control and limits.
pub const ROOT_DN: &str = "cn=admin,dc=renovations,dc=com";
/// The root DN's password.
pub const ROOT_PASSWORD: &str = "admin-secret";

/// The container of the users.
pub const PEOPLE_DN: &str = "ou=people,dc=renovations,dc=com";
/// The container of the groups.
pub const GROUPS_DN: &str = "ou=groups,dc=renovations,dc=com";
/// Alice Allen, site manager in Boston; password `alice-secret`.
pub const ALICE_DN: &str = "uid=alice,ou=people,dc=renovations,dc=com";
/// Bob Builder, builder in Cambridge; password `bob-secret`.
pub const BOB_DN: &str = "uid=bob,ou=people,dc=renovations,dc=com";
/// Zoë Ångström-Łukasiewicz (non-ASCII `cn` and `sn`); password `zoe-secret`.
pub const ZOE_DN: &str = "uid=zoe,ou=people,dc=renovations,dc=com";
/// Dave Disabled, `employeeType: disabled`; password `dave-secret`.
pub const DAVE_DN: &str = "uid=dave,ou=people,dc=renovations,dc=com";
/// Carol One, mail `carol@renovations.com` like [`CAROL2_DN`]; password `carol1-secret`.
pub const CAROL1_DN: &str = "uid=carol1,ou=people,dc=renovations,dc=com";
/// Carol Two, mail `carol@renovations.com` like [`CAROL1_DN`]; password `carol2-secret`.
pub const CAROL2_DN: &str = "uid=carol2,ou=people,dc=renovations,dc=com";
/// Group `cn=site-managers`: member alice.
pub const SITE_MANAGERS_DN: &str = "cn=site-managers,ou=groups,dc=renovations,dc=com";
/// Group `cn=builders`: members bob and the group [`SITE_MANAGERS_DN`].
pub const BUILDERS_DN: &str = "cn=builders,ou=groups,dc=renovations,dc=com";
/// Group `cn=everyone`: member the group [`BUILDERS_DN`].
pub const EVERYONE_DN: &str = "cn=everyone,ou=groups,dc=renovations,dc=com";

/// The most entries a search returns (`sizelimit`), except for paged searches as a whole and
/// the root DN: a search without paging that matches more gets `sizeLimitExceeded`.
pub const SIZE_LIMIT: usize = 500;
/// How many people the fixture holds (alice, bob, zoe, dave, carol1, carol2).
pub const FIXTURE_PEOPLE: usize = 6;

/// The DN of person `i` of a [`crowd_ldif`]: `uid=person000042,ou=people,dc=renovations,dc=com`.
pub fn crowd_dn(i: usize) -> String {
    format!("uid=person{i:06},{PEOPLE_DN}")
}

/// `count` more people for [`Slapd::start_with`], to try things at the sizes real communities
/// have: `person000000`, `person000001`…, `cn` "Person 000000", mail
/// `person000000@renovations.com`, title "Engineer", password `person000000-secret`.
pub fn crowd_ldif(count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "dn: {}\nobjectClass: inetOrgPerson\nuid: person{i:06}\ncn: Person {i:06}\n\
                 sn: {i:06}\nmail: person{i:06}@renovations.com\ntitle: Engineer\n\
                 userPassword: person{i:06}-secret\n\n",
                crowd_dn(i)
            )
        })
        .collect()
}

/// The fixture directory as LDIF (what [`Slapd::start`] loads; see the crate documentation).
pub const FIXTURE_LDIF: &str = "\
dn: dc=renovations,dc=com
objectClass: top
objectClass: dcObject
objectClass: organization
dc: renovations
o: Renovations

dn: ou=people,dc=renovations,dc=com
objectClass: top
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=renovations,dc=com
objectClass: top
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,dc=renovations,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
uid: alice
cn: Alice Allen
sn: Allen
mail: alice@renovations.com
title: Site Manager
telephoneNumber: +1 617 555 0101
l: Boston
userPassword: alice-secret

dn: uid=bob,ou=people,dc=renovations,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
uid: bob
cn: Bob Builder
sn: Builder
mail: bob@renovations.com
title: Builder
telephoneNumber: +1 617 555 0102
l: Cambridge
userPassword: bob-secret

# cn: Zoë Ångström-Łukasiewicz, sn: Ångström-Łukasiewicz (UTF-8, so base64 in LDIF)
dn: uid=zoe,ou=people,dc=renovations,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
uid: zoe
cn:: Wm/DqyDDhW5nc3Ryw7ZtLcWBdWthc2lld2ljeg==
sn:: w4VuZ3N0csO2bS3FgXVrYXNpZXdpY3o=
mail: zoe@renovations.com
userPassword: zoe-secret

dn: uid=dave,ou=people,dc=renovations,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
uid: dave
cn: Dave Disabled
sn: Disabled
mail: dave@renovations.com
employeeType: disabled
userPassword: dave-secret

dn: uid=carol1,ou=people,dc=renovations,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
uid: carol1
cn: Carol One
sn: One
mail: carol@renovations.com
userPassword: carol1-secret

dn: uid=carol2,ou=people,dc=renovations,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
uid: carol2
cn: Carol Two
sn: Two
mail: carol@renovations.com
userPassword: carol2-secret

dn: cn=site-managers,ou=groups,dc=renovations,dc=com
objectClass: top
objectClass: groupOfNames
cn: site-managers
member: uid=alice,ou=people,dc=renovations,dc=com

dn: cn=builders,ou=groups,dc=renovations,dc=com
objectClass: top
objectClass: groupOfNames
cn: builders
member: uid=bob,ou=people,dc=renovations,dc=com
member: cn=site-managers,ou=groups,dc=renovations,dc=com

dn: cn=everyone,ou=groups,dc=renovations,dc=com
objectClass: top
objectClass: groupOfNames
cn: everyone
member: cn=builders,ou=groups,dc=renovations,dc=com
";

/// How long [`Slapd::start`] and [`Slapd::restart`] wait for the listeners.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`Slapd::stop`] waits after SIGTERM before killing.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Fresh port pairs [`Slapd::start`] tries when slapd cannot bind (another process took one).
const START_ATTEMPTS: usize = 5;

/// A running OpenLDAP `slapd` on 127.0.0.1 serving the fixture directory (see the crate
/// documentation), with a plain listener (StartTLS available) and an LDAPS listener.
///
/// Dropping it stops slapd and deletes its temporary directory.
#[derive(Debug)]
pub struct Slapd {
    /// Holds the configuration, certificates, database and log; deleted on drop.
    dir: tempfile::TempDir,
    /// The daemon, while it runs.
    child: Option<Child>,
    /// The plain LDAP port.
    port: u16,
    /// The LDAPS port.
    ldaps_port: u16,
    /// `slapd.conf`.
    config: PathBuf,
}

impl Slapd {
    /// Starts slapd with the fixture directory (suffix [`SUFFIX`]), plain LDAP and LDAPS
    /// listeners on free 127.0.0.1 ports, and TLS configured (so StartTLS works on the plain
    /// port too). Returns once both ports accept connections.
    ///
    /// # Panics
    ///
    /// If slapd cannot be set up or does not come up within 10 seconds; the message has the
    /// tail of slapd's log.
    pub fn start() -> Slapd {
        Slapd::start_with("")
    }

    /// Like [`Slapd::start`], with `extra_ldif` (entry records, no `version:` line) appended to
    /// the fixture and loaded with `slapadd` before slapd starts.
    ///
    /// # Panics
    ///
    /// As [`Slapd::start`]; also if `slapadd` rejects the LDIF (the message has its output).
    pub fn start_with(extra_ldif: &str) -> Slapd {
        let dir = tempfile::Builder::new()
            .prefix("simul-slapd-")
            .tempdir()
            .expect("create a temporary directory for slapd");
        let root = dir.path();
        write_certificates(root);
        let data = root.join("data");
        fs::create_dir(&data).expect("create slapd's database directory");
        let config = root.join("slapd.conf");
        fs::write(&config, slapd_conf(root)).expect("write slapd.conf");

        let mut ldif = String::from(FIXTURE_LDIF);
        if !extra_ldif.trim().is_empty() {
            ldif.push('\n');
            ldif.push_str(extra_ldif);
            if !ldif.ends_with('\n') {
                ldif.push('\n');
            }
        }
        let ldif_path = root.join("fixture.ldif");
        fs::write(&ldif_path, ldif).expect("write the fixture LDIF");
        let output = Command::new(tool("slapadd"))
            .arg("-q")
            .arg("-f")
            .arg(&config)
            .arg("-l")
            .arg(&ldif_path)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run slapadd (is the slapd package installed?): {e}")
            });
        if !output.status.success() {
            panic!(
                "slapadd failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }

        let mut slapd = Slapd { dir, child: None, port: 0, ldaps_port: 0, config };
        let mut failures = String::new();
        for _ in 0..START_ATTEMPTS {
            let (port, ldaps_port) = two_free_ports();
            slapd.port = port;
            slapd.ldaps_port = ldaps_port;
            match slapd.spawn() {
                Ok(()) => return slapd,
                Err(e) => {
                    let _ = writeln!(failures, "on ports {port}/{ldaps_port}: {e}");
                }
            }
        }
        panic!(
            "slapd did not start in {START_ATTEMPTS} attempts:\n{failures}\nslapd log:\n{}",
            slapd.log_tail()
        );
    }

    /// The plain listener, `ldap://127.0.0.1:PORT` (StartTLS available).
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// The LDAPS listener, `ldaps://127.0.0.1:PORT`. The certificate has the subject
    /// alternative names `127.0.0.1` and `localhost` and is signed by [`Slapd::ca_pem_path`].
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    /// The CA certificate (PEM) that signed the server certificate.
    pub fn ca_pem_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The plain listener's port (the one in [`Slapd::url`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs `ldapmodify` bound as the root DN with `ldif` (change records:
    /// `changetype: add`, `modify`, `delete`, `modrdn`) against the plain listener.
    ///
    /// # Panics
    ///
    /// If ldapmodify fails; the message has its output and the tail of slapd's log.
    pub fn modify(&self, ldif: &str) {
        let mut file = tempfile::Builder::new()
            .prefix("modify-")
            .suffix(".ldif")
            .tempfile_in(self.dir.path())
            .expect("create a temporary LDIF file");
        file.write_all(ldif.as_bytes())
            .and_then(|()| file.flush())
            .expect("write the LDIF for ldapmodify");
        let output = Command::new(tool("ldapmodify"))
            .env("LDAPNOINIT", "1")
            .arg("-x")
            .arg("-H")
            .arg(self.url())
            .arg("-D")
            .arg(ROOT_DN)
            .arg("-w")
            .arg(ROOT_PASSWORD)
            .arg("-f")
            .arg(file.path())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run ldapmodify (is the ldap-utils package installed?): {e}")
            });
        if !output.status.success() {
            panic!(
                "ldapmodify failed ({}):\n{}{}\nLDIF:\n{ldif}\nslapd log:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                self.log_tail()
            );
        }
    }

    /// Stops slapd (SIGTERM, then waits; SIGKILL if it has not exited after 10 seconds).
    /// Does nothing if it is not running. Dropping the `Slapd` stops it too.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        // std cannot send SIGTERM, and this crate has no libc; kill(1) can.
        let terminated = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if terminated {
            let deadline = Instant::now() + STOP_TIMEOUT;
            while Instant::now() < deadline {
                if !matches!(child.try_wait(), Ok(None)) {
                    return;
                }
                thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts slapd again (stopping it first if it runs) on the same ports with the same data,
    /// including changes made through [`Slapd::modify`]; for failover tests.
    ///
    /// # Panics
    ///
    /// If it does not come up within 10 seconds, for instance because another process took
    /// one of the ports meanwhile.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(e) = self.spawn() {
            panic!(
                "slapd did not restart on ports {}/{}: {e}\nslapd log:\n{}",
                self.port,
                self.ldaps_port,
                self.log_tail()
            );
        }
    }

    /// Spawns slapd on `self.port`/`self.ldaps_port` and waits until it is ready: its pid
    /// file exists and both ports accept connections. slapd binds the listeners before it
    /// writes the pid file (so a foreign listener on one of the ports cannot pass for it: slapd
    /// exits without writing one) and calls `listen` only once the database is open. On
    /// failure slapd is not running.
    fn spawn(&mut self) -> Result<(), String> {
        let pid_file = self.dir.path().join("slapd.pid");
        let _ = fs::remove_file(&pid_file);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| format!("cannot open the log: {e}"))?;
        let log_err = log.try_clone().map_err(|e| format!("cannot open the log: {e}"))?;
        let urls =
            format!("ldap://127.0.0.1:{}/ ldaps://127.0.0.1:{}/", self.port, self.ldaps_port);
        // `-d` keeps slapd in the foreground, so the child is the daemon, logging to stderr.
        // Level `none` logs errors (bind failures, TLS and configuration problems) but not
        // every operation; `-d 0` would log nothing at all, not even why slapd exited.
        let child = Command::new(tool("slapd"))
            .arg("-f")
            .arg(&self.config)
            .arg("-h")
            .arg(urls)
            .arg("-d")
            .arg("none")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot run slapd (is the slapd package installed?): {e}"))?;
        self.child = Some(child);

        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let child = self.child.as_mut().expect("just spawned");
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.child = None;
                    return Err(format!("slapd exited ({status})"));
                }
                Ok(None) => {}
                Err(e) => {
                    self.stop();
                    return Err(format!("cannot wait for slapd: {e}"));
                }
            }
            let pid_written = fs::read_to_string(&pid_file).is_ok_and(|s| s.ends_with('\n'));
            if pid_written && accepts(self.port) && accepts(self.ldaps_port) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.stop();
                return Err(format!("not ready after {READY_TIMEOUT:?}"));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("slapd.log")
    }

    /// The last lines of slapd's log, for panic messages.
    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on (for "host unreachable" tests): connecting
/// is refused at once.
pub fn closed_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// Two distinct ports that were free a moment ago.
fn two_free_ports() -> (u16, u16) {
    let a = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    let b = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    (a.local_addr().expect("local address").port(), b.local_addr().expect("local address").port())
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub(crate) fn accepts(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// A program of Debian's packages (OpenLDAP's, nginx): the Debian location if it is there,
/// otherwise from `PATH`.
pub(crate) fn tool(name: &str) -> PathBuf {
    ["/usr/sbin", "/usr/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Writes `ca.pem`, `server.pem` and `server-key.pem` (PKCS#8) into `dir`: a fresh CA and a
/// certificate it signs for `localhost` and `127.0.0.1` (ECDSA P-256 keys), for the servers the
/// tests and the benchmarks start.
///
/// # Panics
///
/// If a key cannot be made or a file cannot be written.
pub fn write_certificates(dir: &Path) {
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = DistinguishedName::new();
    ca_params.distinguished_name.push(DnType::CommonName, "Simul testkit CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // rcgen's default, valid until 4096, makes ejabberd's certificate store crash: it sets a
    // timer for the expiry, and Erlang's timers reach a few centuries at most.
    ca_params.not_after = rcgen::date_time_ymd(2100, 1, 1);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().expect("generate the CA key");
    let ca_cert = ca_params.self_signed(&ca_key).expect("sign the CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("valid subject alternative names");
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let key = KeyPair::generate().expect("generate the server key");
    let cert = params.signed_by(&key, &issuer).expect("sign the server certificate");

    let write = |name: &str, contents: String| {
        let mut file = File::create(dir.join(name)).expect("create a certificate file");
        file.write_all(contents.as_bytes()).expect("write a certificate file");
    };
    write("ca.pem", ca_cert.pem());
    write("server.pem", cert.pem());
    write("server-key.pem", key.serialize_pem());
}

/// The slapd.conf for an instance living in `dir`.
fn slapd_conf(dir: &Path) -> String {
    let path = |name: &str| dir.join(name).display().to_string();
    format!(
        r#"# Generated by simul-testkit.
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema

modulepath /usr/lib/ldap
moduleload back_mdb

pidfile "{pid}"
argsfile "{args}"

TLSCACertificateFile "{ca}"
TLSCertificateFile "{cert}"
TLSCertificateKeyFile "{key}"

database mdb
maxsize 104857600
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory "{data}"

index objectClass eq
index uid,mail,cn eq
index member eq

# At most {SIZE_LIMIT} entries per search, but a paged search may return any number in total.
sizelimit size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} size.prtotal=unlimited

access to attrs=userPassword
    by anonymous auth
    by self write
    by * none
access to *
    by * read
"#,
        pid = path("slapd.pid"),
        args = path("slapd.args"),
        ca = path("ca.pem"),
        cert = path("server.pem"),
        key = path("server-key.pem"),
        data = path("data"),
    )
}
