//! Files between XMPP clients (slixmpp's own HTTP upload, XEP-0363, and
//! out-of-band links, XEP-0066) and web users, in 1:1 conversations and
//! rooms: each reader gets a link of their own, which opens the file
//! without a sign-in while they may read it, and nothing else opens it.

use crate::support;

use std::net::SocketAddr;
use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Value, json};
use simul_testkit::{RawXmpp, XmppTransport, attributes};
use support::files::{Part, upload};
use support::xmpp::{raw_authenticated, signed_in, xmpp_server};
use support::{deployment, log_in, next_of_type, post_json};

/// 100 KB that no two offsets of the same content could hide a mix-up in.
fn varied_bytes() -> Vec<u8> {
    (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// `GET url` without any credential: status and bytes.
async fn fetch(url: &str) -> (StatusCode, Vec<u8>) {
    let answer = reqwest::get(url).await.unwrap();
    (answer.status(), answer.bytes().await.unwrap().to_vec())
}

/// `url` with one character of its capability changed.
fn tampered(url: &str) -> String {
    let mut parts: Vec<String> = url.rsplitn(3, '/').map(str::to_owned).collect();
    let capability = &mut parts[1];
    let last = if capability.ends_with('0') { '1' } else { '0' };
    capability.pop();
    capability.push(last);
    parts.reverse();
    parts.join("/")
}

/// The text after `prefix` in a client's line (its last word: a URL).
fn url_in(line: &str) -> String {
    line.rsplit(' ').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_xmpp_upload_reaches_the_web_and_a_web_file_reaches_xmpp_each_reader_with_own_link() {
    let dir = deployment(&["alice", "bob", "carol"]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;
    let (carol, _) = log_in(&server, "carol", "long enough").await;
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    alice.send("presence");

    // Alice uploads a picture the way slixmpp does (disco, slot, PUT) and
    // sends its link: Bob's web page gets the file itself.
    let bytes = varied_bytes();
    let path = dir.path().join("site photo.png");
    std::fs::write(&path, &bytes).unwrap();
    alice.send(&format!("upload chat bob@localhost {}", path.display()));
    let own_link = url_in(&alice.expect("UPLOADED "));
    let im = next_of_type(&mut bob_events, "im").await;
    let file = &im["file"];
    assert_eq!(
        (&im["from"], &file["name"], &file["size"], &file["type"]),
        (&json!("alice"), &json!("site photo.png"), &json!(100_000), &json!("image/png")),
        "{im}"
    );
    let members_url = server.url(file["url"].as_str().unwrap());
    let signed =
        |token: &str| reqwest::Client::new().get(&members_url).bearer_auth(token.to_owned());
    let answer = signed(&bob).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.bytes().await.unwrap().to_vec(), bytes);
    assert_eq!(signed(&carol).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // Her own link opens it without a sign-in; changed by one character,
    // or pointing at another file, it opens nothing.
    assert_eq!(fetch(&own_link).await, (StatusCode::OK, bytes.clone()));
    assert_eq!(fetch(&tampered(&own_link)).await.0, StatusCode::NOT_FOUND);

    // Bob answers with a file from the web: Alice's client gets a link of
    // her own, as out-of-band data.
    let reply = b"%PDF-1.7 the plan".repeat(300);
    let (status, sent) = upload(
        &server,
        &bob,
        &[Part::Text("to", "alice"), Part::File("plan.pdf", "application/pdf", &reply)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let alices = url_in(&alice.expect("FILE bob@localhost "));
    assert_ne!(alices, sent["url"].as_str().unwrap(), "not the web's link");
    assert_eq!(fetch(&alices).await, (StatusCode::OK, reply.to_vec()));
    let file_of = |url: &str| url.rsplit('/').nth(2).unwrap().to_owned();
    let crossed = alices.replacen(&file_of(&alices), &file_of(&own_link), 1);
    assert_eq!(fetch(&crossed).await.0, StatusCode::NOT_FOUND, "a link opens its own file only");

    // Her archive shows both as files, with her links.
    alice.send("mam bob@localhost 10");
    let archived: Vec<String> = (0..2).map(|_| alice.expect("ARCHIVED ")).collect();
    assert!(archived[0].ends_with(&own_link), "{archived:?}");
    assert!(archived[1].ends_with(&alices), "{archived:?}");
    alice.expect("ARCHIVE_END ");
}

#[tokio::test(flavor = "multi_thread")]
async fn room_files_open_for_members_only_while_they_are_members() {
    let dir = deployment(&["alice", "bob"]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    alice.send("presence");
    let created =
        post_json(&server, "/api/v1/nway", &bob, &json!({"invite": ["alice"], "topic": "Plans"}))
            .await;
    let id = created["id"].as_u64().unwrap();
    let room = format!("chat-{id}@conference.localhost");
    alice.expect("INVITED ");
    alice.send(&format!("join {room} Alice"));
    alice.expect("SUBJECT ");
    support::next_members(&mut bob_events, &["alice", "bob"]).await;

    // Alice's upload into the room reaches Bob's page as a file.
    let bytes = varied_bytes();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, &bytes).unwrap();
    alice.send(&format!("upload groupchat {room} {}", path.display()));
    alice.expect("UPLOADED ");
    let line = loop {
        let line = next_of_type(&mut bob_events, "nway_message").await;
        if line["from"] == "alice" {
            break line;
        }
    };
    assert_eq!(
        (&line["file"]["name"], &line["file"]["size"]),
        (&json!("notes.txt"), &json!(100_000))
    );
    // Her reflection carries her own link.
    let alices = url_in(&alice.expect(&format!("GROUPCHAT_FILE {room} alice ")));
    assert_eq!(fetch(&alices).await, (StatusCode::OK, bytes));

    // Bob's file from the web comes to her room as a link of hers, which
    // stops opening when she leaves the chat.
    let (status, sent) = upload(
        &server,
        &bob,
        &[Part::Text("chat", &id.to_string()), Part::File("a.bin", "", b"0123456789")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let bobs = url_in(&alice.expect(&format!("GROUPCHAT_FILE {room} bob ")));
    assert_eq!(fetch(&bobs).await, (StatusCode::OK, b"0123456789".to_vec()));
    alice.send(&format!("leave {room}"));
    alice.expect("LEFT ");
    support::next_members(&mut bob_events, &["bob"]).await;
    assert_eq!(fetch(&bobs).await.0, StatusCode::NOT_FOUND);
    assert_eq!(fetch(&alices).await.0, StatusCode::NOT_FOUND);
}

/// A bound raw session of `user`.
async fn raw_session(address: SocketAddr, data: &Path, user: &str) -> RawXmpp {
    let mut raw = raw_authenticated(address, data, user).await;
    raw.bind().await.unwrap();
    raw
}

/// Asks for a slot for `size` bytes: the answer.
async fn slot(raw: &mut RawXmpp, id: &str, size: u64) -> String {
    let request = format!(
        "<iq type='get' id='{id}' to='upload.localhost'><request xmlns='urn:xmpp:http:upload:0' \
         filename='f.bin' size='{size}' content-type='application/octet-stream'/></iq>"
    );
    raw.request(&request).await.unwrap()
}

/// `PUT body` to `url`: the status.
async fn put(url: &str, body: Vec<u8>) -> StatusCode {
    reqwest::Client::new().put(url).body(body).send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_takes_exactly_its_bytes_once_and_nothing_opens_a_file_not_yet_sent() {
    let dir = deployment(&["alice", "bob"]);
    let data = dir.path().join("data");
    let (server, starttls, _) =
        support::xmpp::xmpp_server_with(&data, &[("SIMUL_FILES__MAX_MB", "1")]);
    let mut raw = raw_session(starttls, &data, "alice").await;

    // The service says what it takes.
    let info = raw
        .request("<iq type='get' id='i' to='upload.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        .await
        .unwrap();
    assert!(info.contains("category='store'") || info.contains("category=\"store\""), "{info}");
    assert!(info.contains("<value>1048576</value>"), "{info}");

    // Over the limit: refused with the limit; an empty file too.
    let refused = slot(&mut raw, "big", 2 << 20).await;
    assert!(refused.contains("not-acceptable") && refused.contains("file-too-large"), "{refused}");
    assert!(refused.contains("<max-file-size>1048576</max-file-size>"), "{refused}");
    assert!(slot(&mut raw, "empty", 0).await.contains("bad-request"));

    // Fewer bytes than reserved: 400, and the slot is spent.
    let answer = slot(&mut raw, "s1", 10).await;
    let (put_url, get_url) = (attributes(&answer, "url")[0], attributes(&answer, "url")[1]);
    let port = server.url("").rsplit(':').next().unwrap().to_owned();
    let base = format!("http://localhost:{port}");
    assert!(put_url.starts_with(&format!("{base}/api/v1/uploads/")), "{answer}");
    assert_eq!(fetch(get_url).await.0, StatusCode::NOT_FOUND, "not sent yet");
    assert_eq!(put(put_url, b"short".to_vec()).await, StatusCode::BAD_REQUEST);
    assert_eq!(put(put_url, b"0123456789".to_vec()).await, StatusCode::NOT_FOUND);

    // More bytes than reserved: 413. A right upload is taken once.
    let answer = slot(&mut raw, "s2", 10).await;
    let put_url = attributes(&answer, "url")[0].to_owned();
    assert_eq!(put(&put_url, vec![7; 11]).await, StatusCode::PAYLOAD_TOO_LARGE);
    let answer = slot(&mut raw, "s3", 10).await;
    let put_url = attributes(&answer, "url")[0].to_owned();
    let get_url = attributes(&answer, "url")[1].to_owned();
    assert_eq!(put(&put_url, vec![7; 10]).await, StatusCode::CREATED);
    assert_eq!(put(&put_url, vec![7; 10]).await, StatusCode::NOT_FOUND);
    // A wrong secret opens no slot.
    assert_eq!(put(&tampered(&put_url), vec![7; 10]).await, StatusCode::NOT_FOUND);

    // Someone else sending its link sends text, not the file.
    let mut bob = raw_session(starttls, &data, "bob").await;
    let text = format!(
        "<message type='chat' to='alice@localhost' id='m1'><body>{get_url}</body></message>"
    );
    bob.send(text.as_bytes()).await.unwrap();
    // (A session handles its stanzas in order: after the answer to a
    // ping, the message was sent.)
    bob.request("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>").await.unwrap();
    let (bob_web, _) = log_in(&server, "bob", "long enough").await;
    let history: Value = support::get_json(&server, "/api/v1/im/alice/history", &bob_web).await;
    let last = &history.as_array().unwrap()[0];
    assert_eq!(last["text"], get_url, "{history}");
    assert!(last.get("file").is_none(), "{history}");
    assert_eq!(fetch(&get_url).await.0, StatusCode::NOT_FOUND);
}
