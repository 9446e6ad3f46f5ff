//! Prosody (Debian's `prosody` package) under comparison: a private
//! instance under a directory of its own, its users and contact lists
//! written straight into its file store before it starts (`prosodyctl
//! register` takes 65 ms a user), run in the foreground (`prosody -F`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use simul_directory::scram::{ScramCredentials, ScramHash};

use super::packaged::{self, DOMAIN};
use super::population::Population;
use super::running::{Archive, Owner, Running};

/// PBKDF2 rounds of the stored SCRAM-SHA-1 keys: Prosody 0.12's own
/// (`iteration_count`), which it runs again at every PLAIN sign-in.
const ITERATIONS: u32 = 10_000;

/// One salt for every account: the keys are derived once instead of once
/// a user; each sign-in still costs Prosody its own PBKDF2.
const SALT: &str = "simul-bench-compare";

/// The modules loaded: the same as ejabberd's where both have them, no
/// HTTP, server-to-server, MUC or limits (`mod_limits`); the archive
/// (`mam`) only when asked for. `posix` handles the signals (SIGTERM
/// stops it).
const MODULES: [&str; 11] = [
    "roster", "saslauth", "tls", "disco", "carbons", "ping", "presence", "message", "iq",
    "offline", "posix",
];

/// Longest wait for the first sign-in after the start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The archive's SQLite database, under the data directory, when the
/// messages are archived (`lua-dbi-sqlite3`).
const ARCHIVE_DATABASE: &str = "archive.sqlite";

/// Listen backlog, as every server under comparison gets (Prosody's
/// default is 128; the kernel's `somaxconn` here is 4096).
const BACKLOG: u32 = 4096;

/// Starts a fresh private Prosody under `dir` (an empty directory the
/// caller owns and removes) with `population`'s users and contact lists,
/// listening on 127.0.0.1 (a STARTTLS port that also takes PLAIN without
/// TLS, and a direct-TLS port, both free), and returns once a client can
/// sign in. `archive`: every 1:1 message is also kept in an archive
/// (`mod_mam`, on SQLite), as Simul keeps its history.
pub async fn start(dir: &Path, population: &Population, archive: bool) -> anyhow::Result<Running> {
    anyhow::ensure!(population.users > 0, "a population without users");
    let version = packaged::version("prosody")?;
    let ca_pem = packaged::certificates(dir)?;
    let [starttls, direct_tls] = packaged::free_ports()?;

    let began = Instant::now();
    let data = dir.join("data");
    let (written, people) = (data.clone(), population.clone());
    tokio::task::spawn_blocking(move || write_store(&written, &people))
        .await
        .context("the writer of Prosody's store panicked")??;
    eprintln!(
        "prosody: {} users × {} contacts written in {:.1} s",
        population.users,
        population.roster,
        began.elapsed().as_secs_f64()
    );

    let config = dir.join("prosody.cfg.lua");
    std::fs::write(&config, config_text(dir, starttls, direct_tls, archive))
        .context("cannot write prosody.cfg.lua")?;
    let mut command = Command::new("prosody");
    command.arg("--config").arg(&config).arg("-F");
    let endpoint = packaged::endpoint([starttls, direct_tls], ca_pem, population);
    let log = dir.join("prosody.log");
    let process = packaged::launch(command, dir, &endpoint, population, &log, START_TIMEOUT)
        .await
        .context("prosody (apt-get install prosody)")?;

    Ok(Running {
        name: "prosody",
        version,
        endpoint,
        settings: settings(archive),
        collect_garbage: None,
        archive: archive.then(|| Archive {
            database: data.join(ARCHIVE_DATABASE),
            // One row in the sender's archive, one in the recipient's.
            count: "SELECT COUNT(*) / 2 FROM prosodyarchive WHERE store = 'archive'",
        }),
        owner: Owner::Process(process),
    })
}

/// The settings that matter for a fair comparison, one line each.
fn settings(archive: bool) -> Vec<String> {
    let archiving = if archive {
        format!(
            "archive: mod_mam, every message (default_archive_policy = true), on SQLite (storage sql, data/{ARCHIVE_DATABASE}, Prosody's own SQLite settings)"
        )
    } else {
        "no archiving (no mod_mam)".to_owned()
    };
    vec![
        format!("listen backlog {BACKLOG} (network_settings.tcp_backlog; default 128)"),
        "log: warn and above, to a file".to_owned(),
        format!(
            "passwords: internal_hashed, SCRAM-SHA-1 keys of PBKDF2-SHA1 ×{ITERATIONS}, run again at each PLAIN sign-in"
        ),
        "storage: internal (one file per account and per contact list)".to_owned(),
        archiving,
        "no HTTP, no server-to-server, no MUC".to_owned(),
        "no shaper or rate limits (mod_limits not loaded)".to_owned(),
        format!("modules: {}{}", MODULES.join(", "), if archive { ", mam" } else { "" }),
        "roster cache: a user's contact list is read at sign-in and kept while online (no size to set)"
            .to_owned(),
        "max stanza 262144 bytes (c2s_stanza_size_limit, default)".to_owned(),
        "PLAIN without TLS taken on the STARTTLS port (allow_unencrypted_plain_auth)".to_owned(),
    ]
}

/// Writes every account and contact list of `population` into the
/// internal store under `data` (`data/localhost/accounts/userN.dat`,
/// `data/localhost/roster/userN.dat`), as Prosody 0.12's
/// `internal_hashed` and rostermanager write them.
fn write_store(data: &Path, population: &Population) -> anyhow::Result<()> {
    // Host and user names are letters and digits: no %XX encoding needed.
    let host = data.join(DOMAIN);
    let (accounts, rosters) = (host.join("accounts"), host.join("roster"));
    std::fs::create_dir_all(&accounts)?;
    std::fs::create_dir_all(&rosters)?;
    let keys = ScramCredentials::derive(
        ScramHash::Sha1,
        &population.password,
        SALT.as_bytes(),
        ITERATIONS,
    )
    .context("the password is refused by SASLprep")?;
    let account = format!(
        "return {{\n\t[\"server_key\"] = \"{}\";\n\t[\"stored_key\"] = \"{}\";\n\t[\"iteration_count\"] = {ITERATIONS};\n\t[\"salt\"] = \"{SALT}\";\n}};\n",
        hex(&keys.server_key),
        hex(&keys.stored_key),
    );
    let mut roster = String::new();
    for index in 0..population.users {
        let name = Population::name(index);
        std::fs::write(accounts.join(format!("{name}.dat")), &account)?;
        roster.clear();
        // The `false` key is the list's metadata (core/rostermanager.lua).
        roster.push_str("return {\n\t[false] = { [\"version\"] = 1; [\"pending\"] = {}; };\n");
        for contact in population.contacts(index) {
            let contact = Population::name(contact);
            let _ = writeln!(
                roster,
                "\t[\"{contact}@{DOMAIN}\"] = {{ [\"subscription\"] = \"both\"; [\"groups\"] = {{}}; }};"
            );
        }
        roster.push_str("};\n");
        std::fs::write(rosters.join(format!("{name}.dat")), &roster)?;
    }
    Ok(())
}

/// Lower-case hexadecimal, as Prosody stores the SCRAM keys.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// The configuration of an instance living in `dir`.
fn config_text(dir: &Path, starttls: u16, direct_tls: u16, archive: bool) -> String {
    let path = |name: &str| dir.join(name).display().to_string();
    let mut modules: Vec<String> = MODULES.iter().map(|m| format!("{m:?}")).collect();
    let storage = if archive {
        modules.push("\"mam\"".to_owned());
        // Archives on SQLite, the rest (accounts, contact lists) where
        // the bench wrote them; kept as long as the run.
        format!(
            "{{ archive = \"sql\" }}\n\
             sql = {{ driver = \"SQLite3\", database = \"{ARCHIVE_DATABASE}\" }}\n\
             default_archive_policy = true\n\
             archive_expires_after = \"never\""
        )
    } else {
        "\"internal\"".to_owned()
    };
    format!(
        r#"-- Generated by simul-bench compare.
run_as_root = true
pidfile = "{pid}"
data_path = "{data}"
plugin_paths = {{}}
log = {{ {{ levels = {{ min = "warn" }}, to = "file", filename = "{log}" }} }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {starttls} }}
c2s_direct_tls_ports = {{ {direct_tls} }}
s2s_ports = {{}}
http_ports = {{}}
https_ports = {{}}
network_settings = {{ tcp_backlog = {BACKLOG} }}
modules_enabled = {{ {modules} }}
modules_disabled = {{ "s2s" }}
authentication = "internal_hashed"
storage = {storage}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
certificates = "{dir}"
ssl = {{ certificate = "{cert}", key = "{key}" }}

VirtualHost "{DOMAIN}"
"#,
        pid = path("prosody.pid"),
        data = path("data"),
        log = path("prosody.log"),
        dir = dir.display(),
        cert = path("server.pem"),
        key = path("server-key.pem"),
        modules = modules.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use simul_testkit::{RawXmpp, XmppTransport};

    use super::super::population::Population;
    use super::super::running::Endpoint;
    use super::super::xmpp_client::{Session, Tls, Transport};

    /// `user`'s session at `address`, bound to a resource.
    async fn signed_in(
        endpoint: &Endpoint,
        address: std::net::SocketAddr,
        transport: XmppTransport,
        user: &str,
    ) -> RawXmpp {
        let mut raw = RawXmpp::connect(address, transport, &endpoint.ca_pem).await.unwrap();
        raw.open_stream(&endpoint.domain).await.unwrap();
        raw.authenticate_plain(user, endpoint.secrets.of(0)).await.unwrap();
        raw.bind().await.unwrap();
        raw
    }

    /// Prosody starts with the population's users and contact lists, and
    /// user1 signs in with PLAIN over STARTTLS, direct TLS and without TLS.
    #[tokio::test]
    async fn prosody_starts_with_the_population() {
        let dir = tempfile::tempdir().unwrap();
        let population = Population::new(50, 4, "a password");
        let running = super::start(dir.path(), &population, false).await.unwrap();
        let endpoint = running.endpoint.clone();
        assert_eq!(running.name, "prosody");
        assert!(running.version.starts_with("0."), "{}", running.version);
        let comm = std::fs::read_to_string(format!("/proc/{}/comm", running.pid())).unwrap();
        assert_eq!(comm.trim(), "lua5.4");

        for (address, transport) in [
            (endpoint.starttls, XmppTransport::StartTls),
            (endpoint.direct_tls, XmppTransport::DirectTls),
        ] {
            let mut raw = signed_in(&endpoint, address, transport, "user1").await;
            let roster = raw
                .request("<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>")
                .await
                .unwrap();
            assert_eq!(roster.matches("<item ").count(), 4, "{roster}");
            for contact in
                ["user2@localhost", "user3@localhost", "user50@localhost", "user49@localhost"]
            {
                assert!(roster.contains(contact), "{contact} missing: {roster}");
            }
            assert!(
                roster.contains("subscription='both'") || roster.contains("subscription=\"both\""),
                "{roster}"
            );
        }
        let tls = Tls::new(&endpoint.ca_pem).unwrap();
        let localhost = std::net::Ipv4Addr::LOCALHOST.into();
        let sign_in = |secret| {
            Session::sign_in(&endpoint, &tls, Transport::Cleartext, localhost, "user1", secret)
        };
        let session = sign_in(endpoint.secrets.of(0)).await.unwrap();
        assert_eq!(session.roster_items, 4);
        assert!(sign_in("not the password").await.is_err());

        running.stop().await.unwrap();
        // Stopped: nothing listens any more.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(tokio::net::TcpStream::connect(endpoint.starttls).await.is_err());
    }

    /// With the archive asked for, a message user1 sends user2 is kept in
    /// Prosody's SQLite archive (`lua-dbi-sqlite3`), and counted once.
    #[tokio::test]
    async fn prosody_archives_messages_on_sqlite_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let population = Population::new(4, 2, "a password");
        let running = super::start(dir.path(), &population, true).await.unwrap();
        let endpoint = running.endpoint.clone();
        let transport = XmppTransport::DirectTls;
        let mut sessions = Vec::new();
        for user in ["user1", "user2"] {
            let mut raw = signed_in(&endpoint, endpoint.direct_tls, transport, user).await;
            raw.send(b"<presence/>").await.unwrap();
            sessions.push(raw);
        }
        let message = "<message to='user2@localhost' type='chat'><body>kept</body></message>";
        sessions[0].send(message.as_bytes()).await.unwrap();
        let received = sessions[1].read_until("kept</body>").await.unwrap();
        assert!(received.contains("user1@localhost"), "{received}");

        let archive = running.archive.clone().expect("an archive");
        running.stop().await.unwrap();
        let measured = archive.measure().await.unwrap();
        assert_eq!(measured["messages"], 1, "{measured}");
        assert!(measured["bytes"].as_u64().unwrap() > 0, "{measured}");
    }
}
