//! Backup, restore and upgrades: `simul backup` of a server under load,
//! `simul restore` into a new deployment that then serves the same users,
//! messages and SSO tokens, archives that must be refused, and what start
//! does with an older or a newer database.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Server, deployment, get_json, log_in, simul};

/// Whoever receives the load's messages, in turn: with a few of them,
/// each conversation stays within the 200 messages a history shows.
const LOAD_RECIPIENTS: [&str; 4] = ["dave", "erin", "frank", "grace"];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file below `dir` with its contents, to see that nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(snapshot(&path));
        } else {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files.sort();
    files
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// `base`: the server's address (a `Server` stays on the test's task).
async fn send_im(base: &str, token: &str, to: &str, text: &str) -> StatusCode {
    let answer = reqwest::Client::new()
        .post(format!("{base}/api/v1/im/{to}"))
        .bearer_auth(token)
        .json(&json!({"text": text}))
        .send()
        .await
        .unwrap();
    answer.status()
}

async fn put_contacts(base: &str, token: &str, group: &str) -> StatusCode {
    let contacts = json!({"groups": [{"name": group, "contacts": ["alice"]}]});
    let answer = reqwest::Client::new()
        .put(format!("{base}/api/v1/contacts"))
        .bearer_auth(token)
        .json(&contacts)
        .send()
        .await
        .unwrap();
    answer.status()
}

async fn history_texts(server: &Server, token: &str, with: &str) -> Vec<String> {
    let history = get_json(server, &format!("/api/v1/im/{with}/history"), token).await;
    history.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect()
}

/// The load: carol sends messages (to the recipients in turn) and
/// rewrites her contact list until `stop`; `acknowledged` counts the
/// messages the server confirmed, `lists` the contact lists.
fn keep_writing(
    base: String,
    carol: String,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicUsize>,
    lists: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            let n = acknowledged.load(Ordering::Relaxed);
            let to = LOAD_RECIPIENTS[n % LOAD_RECIPIENTS.len()];
            assert_eq!(send_im(&base, &carol, to, &format!("load {n}")).await, StatusCode::OK);
            acknowledged.fetch_add(1, Ordering::Relaxed);
            if n.is_multiple_of(10) {
                let list = lists.load(Ordering::Relaxed);
                let status = put_contacts(&base, &carol, &format!("list {list}")).await;
                assert_eq!(status, StatusCode::OK);
                lists.fetch_add(1, Ordering::Relaxed);
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    })
}

/// No flood limit gets in the way of the load.
const UNLIMITED: [(&str, &str); 2] =
    [("SIMUL_SERVER__MESSAGES_PER_MINUTE", "1000000"), ("SIMUL_SERVER__MESSAGE_BURST", "1000000")];

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_under_load_restores_users_messages_and_sso_keys() {
    let dir = deployment(&["alice", "bob", "carol", "dave", "erin", "frank", "grace"]);
    let data = dir.path().join("data");
    let server = Server::start_with(&data, true, &UNLIMITED);
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (carol, _) = log_in(&server, "carol", "long enough").await;
    for i in 0..150 {
        assert_eq!(
            send_im(&server.base, &alice, "bob", &format!("hello {i}")).await,
            StatusCode::OK
        );
    }
    assert_eq!(put_contacts(&server.base, &alice, "Team").await, StatusCode::OK);
    // The tokens above are now of the previous keys (in `ltpa-previous/`).
    let rotated = simul(dir.path(), &["ltpa", "rotate", "--data", "data", "--keep-previous", "2h"]);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));

    let (stop, acknowledged, lists) =
        (Arc::new(AtomicBool::new(false)), Arc::default(), Arc::default());
    let load = keep_writing(
        server.base.clone(),
        carol.clone(),
        stop.clone(),
        Arc::clone(&acknowledged),
        Arc::clone(&lists),
    );
    support::eventually("the load is under way", || {
        let sent = acknowledged.load(Ordering::Relaxed);
        async move { sent >= 20 }
    })
    .await;
    let (messages_before, lists_before) =
        (acknowledged.load(Ordering::Relaxed), lists.load(Ordering::Relaxed));
    let backup = tokio::task::spawn_blocking({
        let dir = dir.path().to_owned();
        move || simul(&dir, &["backup", "--data", "data", "--out", "simul.tar.gz"])
    })
    .await
    .unwrap();
    let messages_during = acknowledged.load(Ordering::Relaxed) - messages_before;
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    let said = text(&backup.stdout);
    assert!(said.starts_with("Wrote simul.tar.gz ("), "{said}");
    assert!(said.contains("ltpa-previous/"), "{said}");
    assert!(said.contains("ltpa.keys, ltpa.password, tls-certificate.pem, tls-key.pem"), "{said}");
    assert!(said.contains("keep it as safe as a password"), "{said}");
    let archive = dir.path().join("simul.tar.gz");
    #[cfg(unix)]
    assert_eq!(mode(&archive), 0o600);
    let leftovers = names(dir.path()).into_iter().filter(|name| name.starts_with('.'));
    assert_eq!(leftovers.count(), 0, "no temporary file left behind");
    let total = acknowledged.load(Ordering::Relaxed);
    assert!(total < 190 * LOAD_RECIPIENTS.len(), "the load outran the history shown: slow it");
    // For the record (`--nocapture`): the load wrote during the backup.
    eprintln!("load: {messages_before} messages before the backup, {messages_during} during it");
    server.terminate();

    let restored = simul(dir.path(), &["restore", "simul.tar.gz", "--data", "restored"]);
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let said = text(&restored.stdout);
    assert!(said.starts_with("Restored simul.tar.gz (taken "), "{said}");
    assert!(said.contains("  simul.db (") && said.contains("  ltpa.keys ("), "{said}");
    let restored_data = dir.path().join("restored");
    #[cfg(unix)]
    {
        assert_eq!(mode(&restored_data), 0o700);
        assert_eq!(mode(&restored_data.join("ltpa-previous")), 0o700);
        for (path, _) in snapshot(&restored_data) {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    let keys = |data: &Path| {
        let mut files = snapshot(data);
        // The database was copied by SQLite, not as a file; the lock is the server's.
        files
            .retain(|(path, _)| !path.file_name().unwrap().to_str().unwrap().starts_with("simul."));
        files
            .into_iter()
            .map(|(path, bytes)| (path.strip_prefix(data).unwrap().to_owned(), bytes))
            .collect::<Vec<_>>()
    };
    let (original, copied) = (keys(&data), keys(&restored_data));
    assert_eq!(copied, original, "the key files, previous keys and certificate came back");
    assert!(copied.iter().any(|(path, _)| path.starts_with("ltpa-previous")), "{copied:?}");

    let server = Server::start_with(&restored_data, true, &[]);
    assert!(
        server.greeting.iter().all(|line| !line.starts_with("Generated")),
        "the restored keys and certificate are used: {:?}",
        server.greeting
    );
    // Tokens the first server issued (with the keys that are now the
    // previous ones): the same key files accept them.
    for (token, user) in [(&alice, "alice"), (&carol, "carol")] {
        let me = get_json(&server, "/api/v1/me", token).await;
        assert_eq!(me["user"]["id"], user, "{me}");
    }
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let hellos = history_texts(&server, &bob, "alice").await;
    assert_eq!(hellos, (0..150).map(|i| format!("hello {i}")).collect::<Vec<_>>());
    let contacts = get_json(&server, "/api/v1/contacts", &alice).await;
    assert_eq!(contacts["groups"][0]["name"], "Team", "{contacts}");
    let (carol, _) = log_in(&server, "carol", "long enough").await;
    let mut load_texts = Vec::new();
    for recipient in LOAD_RECIPIENTS {
        load_texts.extend(history_texts(&server, &carol, recipient).await);
    }
    for n in 0..messages_before {
        assert!(load_texts.contains(&format!("load {n}")), "load {n} was acknowledged, then lost");
    }
    let list = get_json(&server, "/api/v1/contacts", &carol).await;
    let name = list["groups"][0]["name"].as_str().unwrap();
    let number: usize = name.strip_prefix("list ").unwrap().parse().unwrap();
    assert!(number + 1 >= lists_before, "contact list {name}, {lists_before} were acknowledged");
    // A consistent copy: no message the load did not acknowledge by the end.
    assert!(load_texts.len() <= total, "{} of {total}", load_texts.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_waits_for_the_server_to_stop_and_keeps_what_it_replaces() {
    let dir = deployment(&["alice"]);
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let backup = simul(dir.path(), &["backup", "--data", "data", "--out", "b.tar.gz"]);
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    let again = simul(dir.path(), &["backup", "--data", "data", "--out", "b.tar.gz"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("b.tar.gz exists: give another --out, or --force"));
    let inside = simul(dir.path(), &["backup", "--data", "data", "--out", "data/b.tar.gz"]);
    assert!(text(&inside.stderr).contains("is inside the data directory"), "{inside:?}");
    let forced = simul(dir.path(), &["backup", "--data", "data", "--out", "b.tar.gz", "--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));

    let running = simul(dir.path(), &["restore", "b.tar.gz", "--data", "data", "--force"]);
    assert_eq!(running.status.code(), Some(2));
    let error = text(&running.stderr);
    assert!(error.contains("a server (pid ") && error.contains("is running on data"), "{error}");
    server.terminate();

    let before = snapshot(&data);
    let not_empty = simul(dir.path(), &["restore", "b.tar.gz", "--data", "data"]);
    let error = text(&not_empty.stderr);
    assert!(error.contains("data is not empty (ltpa.keys, ltpa.password, simul.db"), "{error}");
    assert!(error.contains("give --force to move its contents"), "{error}");
    assert_eq!(snapshot(&data), before, "nothing changed");

    let forced = simul(dir.path(), &["restore", "b.tar.gz", "--data", "data", "--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    let aside = names(dir.path()).into_iter().find(|n| n.starts_with("data.before-restore-"));
    let aside = dir.path().join(aside.expect("the old contents were moved aside"));
    assert!(text(&forced.stdout).contains("What data held before is in"), "{forced:?}");
    assert!(aside.join("simul.db").exists() && aside.join("ltpa.keys").exists());
    let listed = simul(dir.path(), &["user", "list", "--data", "data"]);
    assert!(text(&listed.stdout).starts_with("alice\t"), "{listed:?}");

    let nothing = simul(dir.path(), &["backup", "--data", "nowhere", "--out", "n.tar.gz"]);
    assert!(text(&nothing.stderr).contains("nowhere holds no Simul database"), "{nothing:?}");
    assert!(!dir.path().join("nowhere").exists() && !dir.path().join("n.tar.gz").exists());
}

#[cfg(unix)]
#[test]
fn root_restoring_a_services_data_gives_the_files_to_its_owner() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = deployment(&["alice"]);
    let backup = simul(dir.path(), &["backup", "--data", "data", "--out", "b.tar.gz"]);
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    // The service's directory, as systemd's StateDirectory= makes it.
    let service = dir.path().join("service");
    std::fs::create_dir(&service).unwrap();
    if std::os::unix::fs::chown(&service, Some(65534), Some(65534)).is_err() {
        return; // Not root: only root can restore for another user.
    }
    let restored = simul(dir.path(), &["restore", "b.tar.gz", "--data", "service"]);
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    for (path, _) in snapshot(&service) {
        let metadata = std::fs::metadata(&path).unwrap();
        assert_eq!((metadata.uid(), metadata.gid()), (65534, 65534), "{}", path.display());
    }
}

/// The archive's entries, in order, with their contents.
fn entries(archive: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read as _;
    let file = std::fs::File::open(archive).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut entries = Vec::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        entries.push((path, bytes));
    }
    entries
}

/// Writes `entries` as an archive, as `simul backup` would.
fn write_archive(path: &Path, entries: &[(String, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let gzip = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gzip);
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o600);
        header.set_size(bytes.len() as u64);
        tar.append_data(&mut header, name, bytes.as_slice()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
}

#[test]
fn damaged_archives_and_one_from_a_newer_simul_change_nothing() {
    let dir = deployment(&["alice"]);
    let backup = simul(dir.path(), &["backup", "--data", "data", "--out", "good.tar.gz"]);
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    // The target: another deployment, which a failed restore must leave be.
    let other = simul(dir.path(), &["user", "add", "zoe", "--password-file", "pw", "--data", "t"]);
    assert!(other.status.success(), "{}", text(&other.stderr));
    let good = std::fs::read(dir.path().join("good.tar.gz")).unwrap();
    std::fs::write(dir.path().join("truncated.tar.gz"), &good[..good.len() / 2]).unwrap();
    let mut damaged = entries(&dir.path().join("good.tar.gz"));
    let database = damaged.iter_mut().find(|(name, _)| name == "simul.db").unwrap();
    let middle = database.1.len() / 2;
    database.1[middle] ^= 1;
    write_archive(&dir.path().join("damaged.tar.gz"), &damaged);
    let mut newer = entries(&dir.path().join("good.tar.gz"));
    let mut manifest: Value = serde_json::from_slice(&newer[0].1).unwrap();
    manifest["schema"] = json!(9999);
    manifest["simul_version"] = json!("9.0.0");
    newer[0].1 = serde_json::to_vec(&manifest).unwrap();
    write_archive(&dir.path().join("newer.tar.gz"), &newer);
    std::fs::write(dir.path().join("not-a-backup.tar.gz"), "hello").unwrap();

    let target = dir.path().join("t");
    let before = snapshot(&target);
    for (archive, expected) in [
        (
            "truncated.tar.gz",
            "truncated.tar.gz is not a whole Simul backup (damaged, or a copy cut short?)",
        ),
        (
            "damaged.tar.gz",
            "damaged.tar.gz: simul.db does not match its checksum in the manifest: the archive is damaged",
        ),
        (
            "newer.tar.gz",
            "newer.tar.gz was taken from a newer Simul (9.0.0, schema 9999; this binary knows up to schema",
        ),
        ("not-a-backup.tar.gz", "not-a-backup.tar.gz is not a whole Simul backup"),
        ("missing.tar.gz", "cannot read missing.tar.gz"),
    ] {
        for into in ["t", "fresh"] {
            let out = simul(dir.path(), &["restore", archive, "--data", into, "--force"]);
            assert_eq!(out.status.code(), Some(2), "{archive}");
            let error = text(&out.stderr);
            assert!(error.starts_with(&format!("error: {expected}")), "{archive}: {error}");
            assert_eq!(snapshot(&target), before, "{archive}: the target is unchanged");
            assert!(!dir.path().join("fresh").exists(), "{archive}: no directory left");
            let aside = names(dir.path()).into_iter().any(|n| n.contains("before-restore"));
            assert!(!aside, "{archive}: nothing moved aside");
        }
    }
    let good = simul(dir.path(), &["restore", "good.tar.gz", "--data", "fresh"]);
    assert!(good.status.success(), "{}", text(&good.stderr));
}

/// Runs SQL on a deployment's database, as another Simul would have.
async fn execute(database: &Path, sql: &str) {
    use sqlx::Connection as _;
    let url = format!("sqlite:{}", database.display());
    let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut connection).await.unwrap();
    connection.close().await.unwrap();
}

/// The newest migration of the database (the schema version).
async fn schema(database: &Path) -> i64 {
    use sqlx::Connection as _;
    let url = format!("sqlite:{}", database.display());
    let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let version = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
    version
}

#[tokio::test]
async fn start_upgrades_an_older_database_after_copying_it_and_refuses_a_newer_one() {
    let dir = deployment(&["alice"]);
    let database = dir.path().join("data/simul.db");
    let latest = schema(&database).await;
    // Undo the last migration (0020_audit_by_action.sql; the next one
    // changes this).
    execute(
        &database,
        &format!(
            "DROP INDEX audit_by_action; \
             DELETE FROM _sqlx_migrations WHERE version = {latest};"
        ),
    )
    .await;
    // The version before (migration numbers may have gaps).
    let previous = schema(&database).await;

    let listed = simul(dir.path(), &["user", "list", "--data", "data"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert!(text(&listed.stdout).starts_with("alice\t"), "standard output is the list alone");
    let copy = dir.path().join(format!("data/simul.db.before-{latest}"));
    assert_eq!(
        text(&listed.stderr).trim_end(),
        format!(
            "Upgraded the database data/simul.db from schema {} to {latest}; the database as it \
             was is in {} (to undo the upgrade, stop Simul, put that file back as simul.db and \
             run the previous version)",
            previous,
            copy.strip_prefix(dir.path()).unwrap().display()
        )
    );
    #[cfg(unix)]
    assert_eq!(mode(&copy), 0o600);
    assert_eq!(schema(&copy).await, previous, "the copy is the database as it was");
    assert_eq!(schema(&database).await, latest);

    execute(
        &database,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', 1, x'00', 0)",
    )
    .await;
    let before = std::fs::read(&database).unwrap();
    let serve = std::process::Command::new(support::SIMUL)
        .args(["serve", "--data", "data", "--http", "127.0.0.1:0", "--https", "off"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(serve.status.code(), Some(2));
    assert_eq!(
        text(&serve.stderr).trim_end(),
        format!(
            "error: cannot open the database data/simul.db: this data directory was written by a \
             newer Simul (schema 9999, this binary knows up to {latest}): run that version or \
             restore a backup"
        )
    );
    assert_eq!(std::fs::read(&database).unwrap(), before, "the database is left as it was");
    let copies = names(&dir.path().join("data")).into_iter().filter(|n| n.contains("before"));
    assert_eq!(copies.count(), 1, "no copy for a database that is not upgraded");
}
