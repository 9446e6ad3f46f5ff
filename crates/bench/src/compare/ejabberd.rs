//! ejabberd (Debian's `ejabberd` package) under comparison: a private
//! node under a directory of its own, with its own node name and
//! distribution port (no epmd), run in the foreground as whoever runs the
//! bench (a copy of `ejabberdctl` that does not switch to the `ejabberd`
//! user, whose limit on open files would be 1024).
//!
//! The users and contact lists are made before it starts: the bench
//! writes them as Erlang terms, and a bare Erlang node with the same name
//! puts them into ejabberd's Mnesia tables (`passwd`, `roster`, defined as
//! ejabberd defines them), in RAM first and then to disc in one go, which
//! takes seconds where `ejabberdctl load` of a text dump takes most of a
//! minute for 10,000 users.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use simul_directory::scram::{ScramCredentials, ScramHash};

use super::packaged::{self, DOMAIN};
use super::population::Population;
use super::running::{Archive, Endpoint, Owner, Running};
use super::xmpp_client::{Session, Tls, Transport};

/// PBKDF2 rounds of the stored SCRAM-SHA-1 keys: ejabberd's own, which it
/// runs again at every PLAIN sign-in.
const ITERATIONS: u32 = 4096;

/// One salt for every account: the keys are derived once instead of once
/// a user; each sign-in still costs ejabberd its own PBKDF2.
const SALT: &[u8] = b"simul-bench-compare";

/// The modules loaded: the same as Prosody's where both have them
/// (presence, messages and iq are ejabberd's core); no HTTP,
/// server-to-server, MUC, MQTT or STUN; the archive (`mod_mam`) only when
/// asked for.
const MODULES: [&str; 5] = ["mod_roster", "mod_carboncopy", "mod_disco", "mod_offline", "mod_ping"];

/// The archive's SQLite database, under the spool directory, when the
/// messages are archived (`erlang-p1-sqlite3`; ejabberd makes its tables
/// at the first start).
const ARCHIVE_DATABASE: &str = "ejabberd.db";

/// Listen backlog, as every server under comparison gets (ejabberd's
/// default is 5).
const BACKLOG: u32 = 4096;

/// Largest stanza, as Prosody's default.
const MAX_STANZA: u32 = 262_144;

/// Longest wait for the users and contact lists to be put in the tables.
const LOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Longest wait for an answer to a query of the archive.
const ARCHIVE_ANSWER: Duration = Duration::from_secs(10);

/// Longest wait for the first sign-in after the start, and again for the
/// archive to answer.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Debian's control script, copied and changed.
const EJABBERDCTL: &str = "/usr/sbin/ejabberdctl";

/// Starts a fresh private ejabberd under `dir` (an empty directory the
/// caller owns and removes) with `population`'s users and contact lists,
/// listening on 127.0.0.1 (a STARTTLS port that also takes PLAIN without
/// TLS, and a direct-TLS port, both free), and returns once a client can
/// sign in. The process started is the Erlang VM itself (`beam.smp`), so
/// SIGTERM to it stops the node. `archive`: every 1:1 message is also
/// kept in an archive (`mod_mam`, on SQLite), as Simul keeps its history.
pub async fn start(dir: &Path, population: &Population, archive: bool) -> anyhow::Result<Running> {
    anyhow::ensure!(population.users > 0, "a population without users");
    // ejabberdctl splits its options on blanks.
    anyhow::ensure!(
        !dir.to_string_lossy().contains(char::is_whitespace),
        "ejabberd cannot live in a directory whose path has blanks: {}",
        dir.display()
    );
    let version = packaged::version("ejabberd")?;
    let ca_pem = packaged::certificates(dir)?;
    let [starttls, direct_tls, distribution] = packaged::free_ports()?;
    let node = format!("simulbench{distribution}@localhost");
    let (conf, spool, logs) = (dir.join("conf"), dir.join("spool"), dir.join("logs"));
    for made in [&conf, &spool, &logs] {
        std::fs::create_dir(made)?;
    }
    std::fs::write(
        conf.join("ejabberd.yml"),
        config_text(dir, population, [starttls, direct_tls], archive),
    )?;
    std::fs::write(conf.join("ejabberdctl.cfg"), control_config(&node, distribution))?;
    let control = write_control(dir)?;

    let began = Instant::now();
    let terms = dir.join("users.etf");
    let (written, people) = (terms.clone(), population.clone());
    tokio::task::spawn_blocking(move || {
        std::fs::write(written, users_and_rosters(&people)?).map_err(anyhow::Error::from)
    })
    .await
    .context("the writer of ejabberd's users panicked")??;
    load_tables(dir, &node, distribution, &terms).await?;
    // Tens of MB, read once.
    std::fs::remove_file(&terms)?;
    eprintln!(
        "ejabberd: {} users × {} contacts put in its tables in {:.1} s",
        population.users,
        population.roster,
        began.elapsed().as_secs_f64()
    );

    let mut command = Command::new(&control);
    command
        .arg("--config-dir")
        .arg(&conf)
        .arg("--spool")
        .arg(&spool)
        .arg("--logs")
        .arg(&logs)
        .arg("foreground")
        // The Erlang cookie of the node, its loader and its garbage collector.
        .env("HOME", dir);
    let endpoint = packaged::endpoint([starttls, direct_tls], ca_pem, population);
    let log = logs.join("ejabberd.log");
    let process =
        packaged::launch(command, dir, &endpoint, population, &log, START_TIMEOUT).await?;
    if archive {
        await_archive(&endpoint, &log).await?;
    }
    let pid = process.0.id();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim() != "beam.smp" {
        bail!("ejabberdctl did not become the Erlang VM (process {pid} is {comm:?})");
    }

    Ok(Running {
        name: "ejabberd",
        version,
        endpoint,
        settings: settings(population, archive),
        collect_garbage: Some(
            erl_client(
                dir,
                &format!("gc{distribution}@localhost"),
                distribution,
                &collect_garbage_code(&node),
            )
            .into_iter()
            .map(Into::into)
            .collect(),
        ),
        owner: Owner::Process(process),
        archive: archive.then(|| Archive {
            database: spool.join(ARCHIVE_DATABASE),
            // One row in the sender's archive, one in the recipient's.
            count: "SELECT COUNT(*) / 2 FROM archive",
        }),
    })
}

/// Waits until ejabberd's archive answers. ejabberd takes sign-ins before
/// its SQL connection is up, and a message sent meanwhile is delivered
/// but not archived (mod_mam's hook crashes: "not an already existing
/// atom", `ejabberd_sql_localhost_1`, in its log). A query of the archive
/// goes through the same connection and adds nothing to it.
async fn await_archive(endpoint: &Endpoint, log: &Path) -> anyhow::Result<()> {
    let tls = Tls::new(&endpoint.ca_pem)?;
    let localhost = std::net::Ipv4Addr::LOCALHOST.into();
    let secret = endpoint.secrets.of(0);
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let mut session = Session::sign_in(
            endpoint,
            &tls,
            Transport::Cleartext,
            localhost,
            &Population::name(0),
            secret,
        )
        .await?;
        session
            .writer
            .send(b"<iq type='set' id='mam'><query xmlns='urn:xmpp:mam:2'/></iq>")
            .await?;
        let answer = loop {
            let element = tokio::time::timeout(ARCHIVE_ANSWER, session.reader.element())
                .await
                .context("ejabberd's archive did not answer a query")??;
            if element.starts_with("<iq") {
                break element;
            }
        };
        session.writer.close().await;
        if answer.contains("type='result'") || answer.contains("type=\"result\"") {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "ejabberd's archive still answers {answer} after {START_TIMEOUT:?}:\n{}",
                packaged::log_tail(log)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Writes what Debian's ejabberd needs besides its two configuration
/// files: the certificate and its key in one file, `inetrc`, and the
/// changed `ejabberdctl` (see [`control_script`]); that script's path.
fn write_control(dir: &Path) -> anyhow::Result<PathBuf> {
    let server_pem =
        [std::fs::read(dir.join("server.pem"))?, std::fs::read(dir.join("server-key.pem"))?];
    std::fs::write(dir.join("ejabberd.pem"), server_pem.concat())?;
    std::fs::copy("/etc/ejabberd/inetrc", dir.join("conf").join("inetrc"))
        .context("no /etc/ejabberd/inetrc (apt-get install ejabberd)")?;
    let control = dir.join("ejabberdctl");
    std::fs::write(&control, control_script()?)?;
    std::fs::set_permissions(&control, std::fs::Permissions::from_mode(0o700))?;
    Ok(control)
}

/// The settings that matter for a fair comparison, one line each.
fn settings(population: &Population, archive: bool) -> Vec<String> {
    let archiving = if archive {
        format!(
            "archive: mod_mam, every message (default: always), on SQLite (sql_type sqlite, spool/{ARCHIVE_DATABASE}, ejabberd's own SQLite settings)"
        )
    } else {
        "no archiving (no mod_mam)".to_owned()
    };
    vec![
        format!("listen backlog {BACKLOG} (listener backlog; default 5)"),
        "log: warning and above, to files".to_owned(),
        format!(
            "passwords: auth_password_format scram, SCRAM-SHA-1 keys of PBKDF2-SHA1 ×{ITERATIONS}, run again at each PLAIN sign-in"
        ),
        "storage: Mnesia, users and contact lists on disc (disc_only_copies, ejabberd's default)"
            .to_owned(),
        archiving,
        "no HTTP, no server-to-server, no MUC, no MQTT, no STUN".to_owned(),
        "no shaper or limits (no c2s_shaper, listeners' shaper none, no max_user_sessions)"
            .to_owned(),
        format!(
            "modules: {}{} (presence, messages, iq: core)",
            MODULES.join(", "),
            if archive { ", mod_mam" } else { "" }
        ),
        format!(
            "caches (contact lists, accounts…): cache_size {} (default 1000)",
            cache_size(population)
        ),
        format!("max stanza {MAX_STANZA} bytes"),
        "PLAIN without TLS taken on the STARTTLS port (starttls_required: false)".to_owned(),
        "Erlang VM: +P 1000000 processes, 65536 ports, runs as the bench's user".to_owned(),
    ]
}

/// Entries per cache: every user's, so that no cache shrinks mid-run.
fn cache_size(population: &Population) -> usize {
    population.users.max(1000)
}

/// `ejabberd.yml` of an instance living in `dir`.
fn config_text(
    dir: &Path,
    population: &Population,
    [starttls, direct_tls]: [u16; 2],
    archive: bool,
) -> String {
    let path = |name: &str| dir.join(name).display().to_string();
    let listener = |port: u16, tls: &str| {
        format!(
            "  - port: {port}\n    ip: \"127.0.0.1\"\n    module: ejabberd_c2s\n    backlog: {BACKLOG}\n    max_stanza_size: {MAX_STANZA}\n{tls}"
        )
    };
    let mut modules: String = MODULES.iter().map(|module| format!("  {module}: {{}}\n")).collect();
    let sql = if archive {
        // Accounts and contact lists stay in Mnesia, where the bench put
        // them; only the archive is on SQLite.
        modules.push_str("  mod_mam:\n    db_type: sql\n    default: always\n");
        let database = path(&format!("spool/{ARCHIVE_DATABASE}"));
        format!("sql_type: sqlite\nsql_database: \"{database}\"\n")
    } else {
        String::new()
    };
    format!(
        "# Generated by simul-bench compare.\n\
         loglevel: warning\n\
         log_rotate_count: 0\n\
         hosts: [{DOMAIN}]\n\
         certfiles: [\"{cert}\"]\n\
         ca_file: \"{ca}\"\n\
         listen:\n{starttls}{direct}\
         auth_method: internal\n\
         auth_password_format: scram\n\
         cache_size: {cache}\n\
         {sql}\
         modules:\n{modules}",
        cert = path("ejabberd.pem"),
        ca = path("ca.pem"),
        starttls = listener(starttls, "    starttls: true\n    starttls_required: false\n"),
        direct = listener(direct_tls, "    tls: true\n"),
        cache = cache_size(population),
    )
}

/// `ejabberdctl.cfg`: the node's own name and distribution port on
/// 127.0.0.1, so that no epmd runs and nothing clashes with another node.
fn control_config(node: &str, distribution: u16) -> String {
    format!(
        "ERLANG_NODE={node}\n\
         ERL_DIST_PORT={distribution}\n\
         ERL_OPTIONS=\"-kernel inet_dist_use_interface {{127,0,0,1}}\"\n\
         ERL_MAX_PORTS=65536\n\
         ERL_PROCESSES=1000000\n\
         EJABBERD_BYPASS_WARNINGS=true\n"
    )
}

/// Debian's `ejabberdctl`, changed to run as whoever runs it (not `su
/// ejabberd`) and to `exec` the VM, so that the process started is the VM.
fn control_script() -> anyhow::Result<String> {
    let script = std::fs::read_to_string(EJABBERDCTL)
        .with_context(|| format!("cannot read {EJABBERDCTL} (apt-get install ejabberd)"))?;
    let mut changed = script;
    for (from, to) in [
        ("\nINSTALLUSER=ejabberd\n", "\nINSTALLUSER=\n"),
        ("as_current_user) \"$@\" ;;", "as_current_user) exec \"$@\" ;;"),
    ] {
        anyhow::ensure!(changed.contains(from), "{EJABBERDCTL} has no {from:?}: another version?");
        changed = changed.replace(from, to);
    }
    Ok(changed)
}

/// The command line of a hidden Erlang node `name` that evaluates `code`
/// and connects to nodes on the distribution port (`HOME` = `dir`: the
/// node's cookie).
fn erl_client(dir: &Path, name: &str, distribution: u16, code: &str) -> Vec<String> {
    [
        "env",
        &format!("HOME={}", dir.display()),
        "erl",
        "-sname",
        name,
        "-hidden",
        "-noinput",
        "-erl_epmd_port",
        &distribution.to_string(),
        "-start_epmd",
        "false",
        "-dist_listen",
        "false",
        "-eval",
        code,
    ]
    .map(str::to_owned)
    .into()
}

/// Erlang that garbage-collects every process of `node`.
fn collect_garbage_code(node: &str) -> String {
    format!(
        "case rpc:call('{node}', lists, foreach, [fun erlang:garbage_collect/1, rpc:call('{node}', erlang, processes, [])]) of \
         ok -> halt(0); Error -> io:format(standard_error, \"~p~n\", [Error]), halt(1) end."
    )
}

/// Makes ejabberd's Mnesia schema for `node` in `dir/spool` with the
/// users and contact lists of `terms` in its `passwd` and `roster` tables,
/// defined as ejabberd 23.01 defines them (it keeps tables it finds with
/// its own definition: on disc only, the roster indexed by user).
///
/// Written in RAM, then to disc in one go: 12 s for 10,000 users × 20
/// contacts, where writing each to disc takes 84 s (timed by hand on 2
/// busy cores). (Indexing the roster once on disc is faster, but the
/// index it makes is lost when the node stops.)
async fn load_tables(
    dir: &Path,
    node: &str,
    distribution: u16,
    terms: &Path,
) -> anyhow::Result<()> {
    let code = format!(
        "try\n\
           {{ok, Terms}} = file:read_file(\"{terms}\"),\n\
           {{Passwd, Roster}} = binary_to_term(Terms),\n\
           ok = mnesia:create_schema([node()]),\n\
           ok = mnesia:start(),\n\
           {{atomic, ok}} = mnesia:create_table(passwd, [{{ram_copies, [node()]}}, {{attributes, [us, password]}}]),\n\
           {{atomic, ok}} = mnesia:create_table(roster, [{{ram_copies, [node()]}}, {{index, [us]}},\n\
             {{attributes, [usj, us, jid, name, subscription, ask, groups, askmessage, xs]}}]),\n\
           lists:foreach(fun mnesia:dirty_write/1, Passwd),\n\
           lists:foreach(fun mnesia:dirty_write/1, Roster),\n\
           {{atomic, ok}} = mnesia:change_table_copy_type(passwd, node(), disc_only_copies),\n\
           {{atomic, ok}} = mnesia:change_table_copy_type(roster, node(), disc_only_copies),\n\
           stopped = mnesia:stop(),\n\
           halt(0)\n\
         catch Class:Reason:Stack ->\n\
           io:format(standard_error, \"~p:~p~n~p~n\", [Class, Reason, Stack]), halt(1)\n\
         end.",
        terms = terms.display(),
    );
    let loading = tokio::process::Command::new("erl")
        .args(["-sname", node, "-noinput", "-erl_epmd_port", &distribution.to_string()])
        .args(["-start_epmd", "false", "-kernel", "inet_dist_use_interface", "{127,0,0,1}"])
        .arg("-mnesia")
        .arg("dir")
        .arg(format!("\"{}\"", dir.join("spool").display()))
        .args(["-eval", &code])
        .env("HOME", dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(LOAD_TIMEOUT, loading)
        .await
        .context("the tables were not made in time")?
        .context("cannot run erl (apt-get install ejabberd)")?;
    anyhow::ensure!(
        out.status.success(),
        "the tables could not be made ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// `{Passwd, Roster}` in Erlang's external term format: a `passwd` record
/// per user (SCRAM-SHA-1 keys, as `auth_password_format: scram` stores
/// them) and a `roster` record per contact (subscription `both`, no
/// groups), as ejabberd 23.01's records are.
fn users_and_rosters(population: &Population) -> anyhow::Result<Vec<u8>> {
    let keys = ScramCredentials::derive(ScramHash::Sha1, &population.password, SALT, ITERATIONS)
        .context("the password is refused by SASLprep")?;
    let [stored, server, salt] =
        [&keys.stored_key, &keys.server_key, &keys.salt].map(|key| BASE64.encode(key));
    let names = population.names();
    let mut out = Terms::new();
    out.tuple(2);
    out.list(names.len());
    for name in &names {
        out.tuple(3);
        out.atom("passwd");
        out.user(name);
        out.tuple(6);
        out.atom("scram");
        for key in [&stored, &server, &salt] {
            out.binary(key.as_bytes());
        }
        out.atom("sha");
        out.integer(ITERATIONS);
    }
    out.end_list(names.len());
    let contacts: usize =
        (0..population.users).map(|index| population.contacts(index).count()).sum();
    out.list(contacts);
    for (index, name) in names.iter().enumerate() {
        for contact in population.contacts(index) {
            let contact = &names[contact];
            out.tuple(10);
            out.atom("roster");
            // usj: {User, Server, ContactJid}
            out.tuple(3);
            out.binary(name.as_bytes());
            out.binary(DOMAIN.as_bytes());
            out.contact(contact);
            out.user(name);
            out.contact(contact);
            out.binary(b""); // name
            out.atom("both");
            out.atom("none"); // ask
            out.list(0); // groups
            out.binary(b""); // askmessage
            out.list(0); // xs
        }
    }
    out.end_list(contacts);
    Ok(out.0)
}

/// A writer of Erlang's external term format (version 131), the little of
/// it the records need.
struct Terms(Vec<u8>);

impl Terms {
    fn new() -> Self {
        Self(vec![131])
    }

    fn tuple(&mut self, arity: u8) {
        self.0.extend([104, arity]);
    }

    /// The start of a list of `length` elements, which follow, then
    /// [`Terms::end_list`].
    fn list(&mut self, length: usize) {
        if length == 0 {
            self.0.push(106);
        } else {
            self.0.push(108);
            self.0.extend(u32::try_from(length).expect("a list below 4 G elements").to_be_bytes());
        }
    }

    /// The end of a list of `length` elements.
    fn end_list(&mut self, length: usize) {
        if length > 0 {
            self.0.push(106);
        }
    }

    fn atom(&mut self, name: &str) {
        self.0.extend([119, u8::try_from(name.len()).expect("a short atom")]);
        self.0.extend(name.as_bytes());
    }

    fn binary(&mut self, bytes: &[u8]) {
        self.0.push(109);
        self.0.extend(u32::try_from(bytes.len()).expect("a short binary").to_be_bytes());
        self.0.extend(bytes);
    }

    fn integer(&mut self, value: u32) {
        self.0.push(98);
        self.0.extend(i32::try_from(value).expect("a small integer").to_be_bytes());
    }

    /// `{User, Server}`: a user's `us`.
    fn user(&mut self, name: &str) {
        self.tuple(2);
        self.binary(name.as_bytes());
        self.binary(DOMAIN.as_bytes());
    }

    /// `{User, Server, Resource}` with no resource: a contact's JID.
    fn contact(&mut self, name: &str) {
        self.tuple(3);
        self.binary(name.as_bytes());
        self.binary(DOMAIN.as_bytes());
        self.binary(b"");
    }
}

#[cfg(test)]
mod tests {
    use super::Terms;

    /// The bytes are Erlang's own: `term_to_binary({roster, {<<"a">>,
    /// <<"b">>}, [], [x], 4096}, [{minor_version, 2}])` in erl (OTP 25).
    #[test]
    fn terms_are_erlangs_external_format() {
        let mut terms = Terms::new();
        terms.tuple(5);
        terms.atom("roster");
        terms.tuple(2);
        terms.binary(b"a");
        terms.binary(b"b");
        terms.list(0);
        terms.list(1);
        terms.atom("x");
        terms.end_list(1);
        terms.integer(4096);
        let erlang = [
            131, 104, 5, 119, 6, 114, 111, 115, 116, 101, 114, 104, 2, 109, 0, 0, 0, 1, 97, 109, 0,
            0, 0, 1, 98, 106, 108, 0, 0, 0, 1, 119, 1, 120, 106, 98, 0, 0, 16, 0,
        ];
        assert_eq!(terms.0, erlang);
    }
}
