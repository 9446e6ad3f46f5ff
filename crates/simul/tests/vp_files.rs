//! Files on the Sametime VP door, with Debian's libmeanwhile (the library
//! inside Pidgin's plugin) on one side and the web API on the other: the
//! door ends file transfer channels itself, so a file a Sametime client
//! sends is kept and reaches any door, and a file sent from the web is
//! offered to a Sametime client. Pidgin's "Send File" is in the last test.

use crate::support;

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::json;
use simul_testkit::{MwClient, PurpleClient};
use support::files::{Part, download, upload};
use support::vp::{vp_server, vp_server_with};
use support::{deployment, eventually, get_json, next_of_type};

/// Bytes that are not a pattern a chunk boundary could hide behind.
fn varied_bytes(len: u32) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// A file of 137.5 chunks of 8192 bytes: the last one is short, and there
/// are more than the connection's burst of commands (100).
const LARGE: u32 = 1100 * 1024;

/// Writes `bytes` as `name` in `dir`; its path.
fn local_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The next line starting with each of `prefixes`, in whatever order they
/// come (the door sends them on different channels), in the order asked.
fn expect_all(client: &mut MwClient, prefixes: &[&str]) -> Vec<String> {
    let mut found = vec![None; prefixes.len()];
    while found.iter().any(Option::is_none) {
        let line = client.expect("");
        if let Some(i) = prefixes.iter().position(|p| line.starts_with(p)) {
            found[i].get_or_insert(line);
        }
    }
    found.into_iter().flatten().collect()
}

/// Whether Pidgin offers "Send File" for the buddy `who`, once it is
/// offered or after 5 s (the attribute follows the snapshot that shows the
/// buddy online): the `CAN_SEND_FILE` line.
fn can_send_file(pidgin: &mut PurpleClient, who: &str) -> String {
    for _ in 0..50 {
        pidgin.send(&format!("can_send_file {who}"));
        let answer = pidgin.expect(&format!("CAN_SEND_FILE {who} "));
        if answer.ends_with(" 1") {
            return answer;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    pidgin.send(&format!("can_send_file {who}"));
    pidgin.expect(&format!("CAN_SEND_FILE {who} "))
}

/// Every regular file the server keeps or is receiving (`files/`, the
/// uploads under way included).
fn kept_files(data: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&data.join("files"), &mut found);
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_a_sametime_client_sends_is_kept_and_a_web_user_downloads_it() {
    let dir = deployment(&["alice", "bob"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;
    let mut alice = MwClient::start(address, "alice", "long enough");
    alice.expect("LOGGED_IN");

    let bytes = varied_bytes(LARGE);
    let path = local_file(dir.path(), "figures.bin", &bytes);
    alice.send(&format!("file_send bob {}", path.display()));
    alice.expect("FILE_OPENED bob");
    assert_eq!(alice.expect("FILE_SENT "), "FILE_SENT bob name=figures.bin size=1126400");
    assert_eq!(alice.expect("FILE_CLOSED "), "FILE_CLOSED bob 0x00000000 remaining=0");

    // The web user gets it as any file: a message carrying it, whose text
    // links to it on the web door.
    let event = next_of_type(&mut bob_events, "im").await;
    assert_eq!(event["from"], "alice");
    let file = &event["file"];
    assert_eq!((&file["name"], &file["size"]), (&json!("figures.bin"), &json!(LARGE)));
    let url = file["url"].as_str().unwrap();
    let port = server.url("").rsplit(':').next().unwrap().to_owned();
    let text = event["text"].as_str().unwrap();
    assert!(text.starts_with("File: figures.bin (1.1 MB) http://"), "{text}");
    assert!(text.ends_with(&format!(":{port}{url}")), "the web door's port: {text}");
    let answer = download(&server, &bob, url).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.bytes().await.unwrap(), bytes, "the same bytes");
    // Kept in the history like every file.
    let history = get_json(&server, "/api/v1/im/alice/history", &bob).await;
    assert_eq!(&history[0]["file"], file, "{history}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_from_the_web_is_offered_to_a_sametime_client_which_takes_or_declines_it() {
    let dir = deployment(&["alice", "bob"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let (bob, _) = support::web_user(&server, "bob").await;
    let mut alice = MwClient::start(address, "alice", "long enough");
    alice.expect("LOGGED_IN");

    let bytes = varied_bytes(LARGE);
    let file = Part::File("photo.raw", "application/octet-stream", &bytes);
    let (status, sent) = upload(&server, &bob, &[Part::Text("to", "alice"), file]).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    // The text line stays (it is what history keeps), and the file is offered.
    let [line, offer] = &expect_all(&mut alice, &["IM bob ", "FILE_OFFERED "])[..] else {
        unreachable!()
    };
    assert!(line.starts_with("IM bob File: photo.raw (1.1 MB) http://"), "{line}");
    assert_eq!(offer, "FILE_OFFERED bob name=photo.raw size=1126400");
    let got = dir.path().join("got.raw");
    alice.send(&format!("file_accept {}", got.display()));
    alice.expect("FILE_OPENED bob");
    assert!(alice.expect("FILE_RECEIVED ").starts_with("FILE_RECEIVED bob name=photo.raw"));
    assert_eq!(alice.expect("FILE_CLOSED "), "FILE_CLOSED bob 0x00000000 remaining=0");
    assert_eq!(std::fs::read(&got).unwrap(), bytes, "the same bytes");

    // Declined: the door stops quietly, the conversation goes on.
    let file = Part::File("other.txt", "text/plain", b"not wanted");
    let (status, _) = upload(&server, &bob, &[Part::Text("to", "alice"), file]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(alice.expect("FILE_OFFERED "), "FILE_OFFERED bob name=other.txt size=10");
    alice.send("file_decline");
    assert_eq!(alice.expect("FILE_CLOSED "), "FILE_CLOSED bob 0x08000606 remaining=10");
    // Offers left unanswered: the ninth withdraws the oldest (a
    // connection has at most eight transfers open; its text line stays).
    for size in 1..=9 {
        let bytes = vec![b'x'; size];
        let file = Part::File("waiting.txt", "text/plain", &bytes);
        let (status, _) = upload(&server, &bob, &[Part::Text("to", "alice"), file]).await;
        assert_eq!(status, StatusCode::OK);
        let offered = format!("FILE_OFFERED bob name=waiting.txt size={size}");
        if size < 9 {
            assert_eq!(alice.expect("FILE_OFFERED "), offered);
        } else {
            let seen = expect_all(&mut alice, &["FILE_CLOSED ", "FILE_OFFERED "]);
            assert_eq!(seen, ["FILE_CLOSED bob 0x00000000 remaining=1".to_owned(), offered]);
        }
    }
    let text = json!({"text": "still there?"});
    support::post_json(&server, "/api/v1/im/alice", &bob, &text).await;
    assert_eq!(alice.expect("IM bob still"), "IM bob still there?");
}

#[tokio::test(flavor = "multi_thread")]
async fn over_the_limit_cancelled_and_misaddressed_files_are_refused_and_nothing_is_kept() {
    let dir = deployment(&["alice", "bob"]);
    let data = dir.path().join("data");
    let (server, address) = vp_server_with(&data, &[("SIMUL_FILES__MAX_MB", "1")]);
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;
    let mut alice = MwClient::start(address, "alice", "long enough");
    alice.expect("LOGGED_IN");

    // One byte over `[files] max_mb`: refused on the offer, before a byte,
    // with the policy refusal.
    let big = local_file(dir.path(), "big.bin", &varied_bytes((1 << 20) + 1));
    alice.send(&format!("file_send bob {}", big.display()));
    assert_eq!(alice.expect("FILE_CLOSED "), "FILE_CLOSED bob 0x80000003 remaining=1048577");

    // Cancelled by the sender after two chunks: nothing is kept.
    let path = local_file(dir.path(), "half.bin", &varied_bytes(100 * 1024));
    alice.send(&format!("file_send bob {} 16384", path.display()));
    alice.expect("FILE_OPENED bob");
    assert_eq!(alice.expect("FILE_CLOSED "), "FILE_CLOSED bob 0x00000000 remaining=86016");

    // Someone the directory does not know.
    alice.send(&format!("file_send nobody {}", path.display()));
    assert_eq!(alice.expect("FILE_CLOSED "), "FILE_CLOSED nobody 0x80002000 remaining=102400");

    eventually("the cancelled upload is removed", || async { kept_files(&data).is_empty() }).await;
    let history = get_json(&server, "/api/v1/im/alice/history", &bob).await;
    assert_eq!(history.as_array().map(Vec::len), Some(0), "{history}");

    // The door still takes a file after all that, and it is the first
    // message bob gets.
    let small = local_file(dir.path(), "small.txt", b"fits");
    alice.send(&format!("file_send bob {}", small.display()));
    assert_eq!(alice.expect("FILE_CLOSED "), "FILE_CLOSED bob 0x00000000 remaining=0");
    let event = next_of_type(&mut bob_events, "im").await;
    assert_eq!(event["file"]["name"], "small.txt", "{event}");
}

#[tokio::test(flavor = "multi_thread")]
async fn watchers_see_the_file_transfer_attribute_of_online_users_and_pidgin_offers_send_file() {
    let dir = deployment(&["alice", "bob", "carol", "dave", "erin"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let (_bob, _bob_events) = support::web_user(&server, "bob").await;
    let mut alice = MwClient::start(address, "alice", "long enough");
    alice.expect("LOGGED_IN");

    // Online when watched: after the snapshot.
    alice.send("watch bob");
    let seen = expect_all(&mut alice, &["PRESENCE bob ", "ATTRIBUTE bob "]);
    assert!(seen[0].contains("online=1"), "{seen:?}");
    assert_eq!(seen[1], "ATTRIBUTE bob key=0x6 value=1");
    // Coming online later: with the update.
    alice.send("watch carol");
    alice.expect_matching("PRESENCE carol ", &["online=0"]);
    let mut carol = MwClient::start(address, "carol", "long enough");
    carol.expect("LOGGED_IN");
    let seen = expect_all(&mut alice, &["PRESENCE carol ", "ATTRIBUTE carol "]);
    assert!(seen[0].contains("online=1"), "{seen:?}");
    assert_eq!(seen[1], "ATTRIBUTE carol key=0x6 value=1");

    // Pidgin's own plugin offers "Send File" for an online buddy, and not
    // for one never seen online.
    let mut pidgin = PurpleClient::start(address, "dave", "long enough");
    pidgin.expect("SIGNED_ON");
    pidgin.send("add bob");
    pidgin.expect("BUDDY_SIGNED_ON bob ");
    pidgin.send("add erin");
    pidgin.expect_matching("BUDDY_STATUS erin ", &["offline"]);
    assert_eq!(can_send_file(&mut pidgin, "bob"), "CAN_SEND_FILE bob 1");
    assert_eq!(can_send_file(&mut pidgin, "erin"), "CAN_SEND_FILE erin 0");
}

#[tokio::test(flavor = "multi_thread")]
async fn pidgin_sends_a_file_to_a_web_user_and_saves_one_from_the_web() {
    let dir = deployment(&["alice", "bob"]);
    let (server, address) = vp_server(&dir.path().join("data"));
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;
    let mut alice = PurpleClient::start(address, "alice", "long enough");
    alice.expect("SIGNED_ON");

    // Pidgin's "Send File" (offered for a buddy with the attribute), chunk
    // by chunk on each acknowledgement.
    alice.send("add bob");
    alice.expect("BUDDY_SIGNED_ON bob ");
    assert_eq!(can_send_file(&mut alice, "bob"), "CAN_SEND_FILE bob 1");
    let bytes = varied_bytes(LARGE);
    let path = local_file(dir.path(), "slides.odp", &bytes);
    alice.send(&format!("send_file bob {}", path.display()));
    assert_eq!(alice.expect("FILE_SENT "), "FILE_SENT bob slides.odp");
    let event = next_of_type(&mut bob_events, "im").await;
    assert_eq!((&event["from"], &event["file"]["name"]), (&json!("alice"), &json!("slides.odp")));
    let answer = download(&server, &bob, event["file"]["url"].as_str().unwrap()).await;
    assert_eq!(answer.bytes().await.unwrap(), bytes, "the same bytes");

    // A file from the web: declined first (nothing saved), then saved.
    let file = Part::File("notes.txt", "text/plain", b"first");
    upload(&server, &bob, &[Part::Text("to", "alice"), file]).await;
    assert_eq!(alice.expect("FILE_OFFERED "), "FILE_OFFERED bob notes.txt 5");
    let saved = dir.path().join("saved");
    std::fs::create_dir(&saved).unwrap();
    alice.send(&format!("accept_files {}", saved.display()));
    let bytes = varied_bytes(LARGE / 2);
    let file = Part::File("photo.raw", "application/octet-stream", &bytes);
    upload(&server, &bob, &[Part::Text("to", "alice"), file]).await;
    assert_eq!(alice.expect("FILE_OFFERED "), "FILE_OFFERED bob photo.raw 563200");
    let received = alice.expect("FILE_RECEIVED ");
    assert_eq!(received, format!("FILE_RECEIVED bob {}", saved.join("photo.raw").display()));
    assert_eq!(std::fs::read(saved.join("photo.raw")).unwrap(), bytes, "the same bytes");
    assert!(!saved.join("notes.txt").exists(), "the declined file was not saved");
}
