//! Files over the API, against the real binary: `POST /api/v1/files`
//! (1:1 and n-way, limits, refusals) and `GET /api/v1/files/{id}` (for
//! the conversation's members only, served so that no browser renders
//! or sniffs it), and how the bytes are kept on disk.

use crate::support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::files::{BOUNDARY, Part, download, form, try_upload, upload};
use support::{
    Server, deployment, events, get_json, log_in, next_members, next_of_type, post_json,
};

/// `[files] max_mb` of these tests.
const MAX_BYTES: usize = 1 << 20;
fn header<'a>(answer: &'a reqwest::Response, name: &str) -> &'a str {
    answer.headers().get(name).map_or("", |value| value.to_str().unwrap())
}

/// Every regular file under `dir`, with its mode, and every directory's.
fn modes(dir: &Path) -> Vec<(std::path::PathBuf, u32, bool)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let metadata = entry.metadata().unwrap();
        let mode = metadata.permissions().mode() & 0o777;
        found.push((entry.path(), mode, metadata.is_dir()));
        if metadata.is_dir() {
            found.extend(modes(&entry.path()));
        }
    }
    found
}

fn start(dir: &Path) -> Server {
    Server::start_with(&dir.join("data"), false, &[("SIMUL_FILES__MAX_MB", "1")])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_1_1_file_reaches_the_recipient_and_only_the_two_may_download_it() {
    let dir = deployment(&["alice", "bob", "carol"]);
    let server = start(dir.path());
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let (carol, _) = log_in(&server, "carol", "long enough").await;
    let mut bob_events = events(&server, &bob).await;

    let bytes = b"%PDF-1.7 quarterly figures".repeat(40);
    let (status, sent) = upload(
        &server,
        &alice,
        &[Part::Text("to", "bob"), Part::File("q3.pdf", "application/pdf", &bytes)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let file = &sent["file"];
    let url = file["url"].as_str().unwrap();
    assert_eq!(
        (&file["name"], &file["size"], &file["type"]),
        (&json!("q3.pdf"), &json!(1040), &json!("application/pdf"))
    );
    assert_eq!(sent["url"], format!("{}{url}", server.url("")));

    // Bob's web session gets the message with the file; its text, for
    // doors that show text only, names it and links to it.
    let event = next_of_type(&mut bob_events, "im").await;
    assert_eq!(
        (&event["from"], &event["id"], &event["file"]),
        (&json!("alice"), &sent["id"], file)
    );
    assert_eq!(event["text"], format!("File: q3.pdf (1 KB) {}", sent["url"].as_str().unwrap()));
    // So does the history, for both.
    for token in [&alice, &bob] {
        let with = if *token == alice { "bob" } else { "alice" };
        let history = get_json(&server, &format!("/api/v1/im/{with}/history"), token).await;
        assert_eq!(&history[0]["file"], file, "{history}");
    }

    for token in [&alice, &bob] {
        let answer = download(&server, token, url).await;
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(header(&answer, "content-type"), "application/octet-stream");
        assert_eq!(header(&answer, "content-length"), "1040");
        assert_eq!(answer.bytes().await.unwrap(), bytes);
    }
    // Carol, a wrong id and a made-up one: one answer, alike to the byte.
    let refused = download(&server, &carol, url).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let refused = refused.text().await.unwrap();
    for other in ["/api/v1/files/00000000000000000000000000000000", "/api/v1/files/x"] {
        let answer = download(&server, &bob, other).await;
        assert_eq!(
            (answer.status(), answer.text().await.unwrap()),
            (StatusCode::NOT_FOUND, refused.clone())
        );
    }
    let anonymous = reqwest::get(server.url(url)).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn n_way_files_are_for_members_and_refused_to_others_before_the_bytes() {
    let dir = deployment(&["alice", "bob", "carol"]);
    let server = start(dir.path());
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let (carol, _) = log_in(&server, "carol", "long enough").await;
    let mut alice_events = events(&server, &alice).await;
    let created =
        post_json(&server, "/api/v1/nway", &alice, &json!({"invite": ["bob"], "topic": "Plans"}))
            .await;
    let chat = created["id"].as_u64().unwrap().to_string();
    post_json(&server, &format!("/api/v1/nway/{chat}/join"), &bob, &json!({})).await;
    next_members(&mut alice_events, &["alice", "bob"]).await;

    let part = Part::File("plan.txt", "text/plain", b"step one");
    let (status, sent) = upload(&server, &bob, &[Part::Text("chat", &chat), part]).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let event = next_of_type(&mut alice_events, "nway_message").await;
    assert_eq!(event["file"], sent["file"]);
    let history = get_json(&server, &format!("/api/v1/nway/{chat}/history"), &alice).await;
    assert_eq!(history[0]["file"], sent["file"]);
    let url = sent["file"]["url"].as_str().unwrap();
    assert_eq!(download(&server, &alice, url).await.status(), StatusCode::OK);
    assert_eq!(download(&server, &carol, url).await.status(), StatusCode::NOT_FOUND);

    // Carol may not send into the chat, nor into one that does not exist;
    // the body is not kept (no temporary file left behind).
    for target in [chat.as_str(), "999999"] {
        let part = Part::File("x.txt", "text/plain", b"sneaky");
        let (status, answer) = upload(&server, &carol, &[Part::Text("chat", target), part]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    }
    let uploads = dir.path().join("data/files/tmp");
    assert_eq!(std::fs::read_dir(&uploads).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn too_large_malformed_and_misaddressed_uploads_are_refused() {
    let dir = deployment(&["alice", "bob"]);
    let server = start(dir.path());
    let (alice, csrf) = log_in(&server, "alice", "long enough").await;

    let big = vec![b'x'; MAX_BYTES + 1];
    let (status, answer) =
        upload(&server, &alice, &[Part::Text("to", "bob"), Part::File("big.bin", "", &big)]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["error"], "a file may hold at most 1 MB (files.max_mb)");
    // A body far over the limit is cut off as it streams in: the client
    // reads the 413, or, still sending, finds the connection closed.
    let huge = vec![b'x'; 8 * MAX_BYTES];
    let parts = [Part::Text("to", "bob"), Part::File("huge.bin", "", &huge)];
    match try_upload(&server, &alice, &parts).await {
        Ok((status, _)) => assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE),
        Err(error) => assert!(error.is_request(), "{error:?}"),
    }
    let fits = vec![b'x'; MAX_BYTES];
    let (status, _) =
        upload(&server, &alice, &[Part::Text("to", "bob"), Part::File("fits.bin", "", &fits)])
            .await;
    assert_eq!(status, StatusCode::OK);

    let file = || Part::File("a.txt", "text/plain", b"a");
    for (parts, expected) in [
        (vec![file()], StatusCode::BAD_REQUEST),
        (vec![file(), Part::Text("to", "bob")], StatusCode::BAD_REQUEST),
        (vec![Part::Text("to", "bob")], StatusCode::BAD_REQUEST),
        (vec![Part::Text("to", "bob"), Part::Text("chat", "1"), file()], StatusCode::BAD_REQUEST),
        (vec![Part::Text("chat", "one"), file()], StatusCode::BAD_REQUEST),
        (vec![Part::Text("other", "x"), file()], StatusCode::BAD_REQUEST),
        (vec![Part::Text("", "1"), file()], StatusCode::BAD_REQUEST),
        (
            vec![Part::Text("to", "bob"), Part::File("empty.txt", "text/plain", b"")],
            StatusCode::BAD_REQUEST,
        ),
        (vec![Part::Text("to", "nobody"), file()], StatusCode::NOT_FOUND),
    ] {
        let (status, answer) = upload(&server, &alice, &parts).await;
        assert_eq!(status, expected, "{answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let not_a_form = reqwest::Client::new()
        .post(server.url("/api/v1/files"))
        .bearer_auth(&alice)
        .json(&json!({"to": "bob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // With the cookie, a write needs the CSRF header (a page of another
    // site cannot post a file in the user's name).
    let by_cookie = |csrf: Option<&str>| {
        let request = reqwest::Client::new()
            .post(server.url("/api/v1/files"))
            .header("cookie", format!("LtpaToken2={alice}"))
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(form(&[Part::Text("to", "bob"), Part::File("c.txt", "text/plain", b"c")]));
        match csrf {
            Some(csrf) => request.header("x-csrf-token", csrf),
            None => request,
        }
        .send()
    };
    assert_eq!(by_cookie(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(by_cookie(Some(&csrf)).await.unwrap().status(), StatusCode::OK);
    let uploads = dir.path().join("data/files/tmp");
    assert_eq!(std::fs::read_dir(&uploads).unwrap().count(), 0, "nothing half-received left");
}

#[tokio::test(flavor = "multi_thread")]
async fn names_and_types_cannot_reach_the_disk_or_a_browser_as_markup() {
    let dir = deployment(&["alice", "bob"]);
    let server = start(dir.path());
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let database = dir.path().join("data/simul.db");

    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
    let html = b"<!doctype html><script>alert(document.cookie)</script>";
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    for (name, content_type, bytes, kept, served, disposition) in [
        (
            "../../simul.db",
            "application/x-sqlite3",
            &b"not a database"[..],
            "simul.db",
            "application/octet-stream",
            "attachment; filename=\"simul.db\"; filename*=UTF-8''simul.db",
        ),
        (
            "..\\..\\keys\\ltpa.keys",
            "text/plain",
            b"k",
            "ltpa.keys",
            "application/octet-stream",
            "attachment; filename=\"ltpa.keys\"; filename*=UTF-8''ltpa.keys",
        ),
        (
            "logo.svg",
            "image/svg+xml",
            svg,
            "logo.svg",
            "application/octet-stream",
            "attachment; filename=\"logo.svg\"; filename*=UTF-8''logo.svg",
        ),
        (
            "page.html",
            "text/html",
            html,
            "page.html",
            "application/octet-stream",
            "attachment; filename=\"page.html\"; filename*=UTF-8''page.html",
        ),
        // Declared as an image, it is still served with nosniff.
        (
            "x.png",
            "image/png",
            html,
            "x.png",
            "image/png",
            "attachment; filename=\"x.png\"; filename*=UTF-8''x.png",
        ),
        (
            "a.gif",
            "image/gif",
            gif,
            "a.gif",
            "image/gif",
            "attachment; filename=\"a.gif\"; filename*=UTF-8''a.gif",
        ),
        (
            "Ünïcödé 報告.txt",
            "text/plain",
            b"u",
            "Ünïcödé 報告.txt",
            "application/octet-stream",
            "attachment; filename=\"_n_c_d_ __.txt\"; filename*=UTF-8''%C3%9Cn%C3%AFc%C3%B6d%C3%A9%20%E5%A0%B1%E5%91%8A.txt",
        ),
        (
            "it's; \\\"here\\\".txt",
            "text/plain",
            b"q",
            "it's; \"here\".txt",
            "application/octet-stream",
            "attachment; filename=\"it's; _here_.txt\"; filename*=UTF-8''it%27s%3B%20%22here%22.txt",
        ),
        (
            "a%22b.txt",
            "text/plain",
            b"p",
            "a\"b.txt",
            "application/octet-stream",
            "attachment; filename=\"a_b.txt\"; filename*=UTF-8''a%22b.txt",
        ),
    ] {
        let (status, sent) = upload(
            &server,
            &alice,
            &[Part::Text("to", "bob"), Part::File(name, content_type, bytes)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {sent}");
        assert_eq!(sent["file"]["name"], kept, "{name}");
        let answer = download(&server, &bob, sent["file"]["url"].as_str().unwrap()).await;
        assert_eq!(header(&answer, "content-type"), served, "{name}");
        assert_eq!(header(&answer, "content-disposition"), disposition, "{name}");
        assert_eq!(header(&answer, "x-content-type-options"), "nosniff");
        assert_eq!(header(&answer, "content-security-policy"), "sandbox; default-src 'none'");
        assert_eq!(header(&answer, "cross-origin-resource-policy"), "same-origin");
        assert_eq!(answer.bytes().await.unwrap(), bytes, "{name}");
    }
    // The database is still the database.
    let head = std::fs::read(&database).unwrap();
    assert!(head.starts_with(b"SQLite format 3\0"));

    // On disk: under files/, named by hash only, owner-only.
    let files = dir.path().join("data/files");
    assert_eq!(std::fs::metadata(&files).unwrap().permissions().mode() & 0o777, 0o700);
    let kept = modes(&files);
    assert!(kept.iter().filter(|(_, _, is_dir)| !is_dir).count() >= 8, "{kept:?}");
    for (path, mode, is_dir) in kept {
        assert_eq!(mode, if is_dir { 0o700 } else { 0o600 }, "{}", path.display());
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name == "tmp" || name.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_the_file_routes() {
    let dir = deployment(&[]);
    let server = Server::start(&dir.path().join("data"));
    let document: Value =
        reqwest::get(server.url("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    let paths = &document["paths"];
    let upload = &paths["/api/v1/files"]["post"];
    assert!(upload["requestBody"]["content"]["multipart/form-data"].is_object(), "{upload}");
    for status in ["200", "400", "401", "403", "404", "408", "413", "415", "429"] {
        assert!(upload["responses"][status].is_object(), "POST /api/v1/files {status}");
    }
    let download = &paths["/api/v1/files/{id}"]["get"];
    for status in ["200", "401", "404"] {
        assert!(download["responses"][status].is_object(), "GET /api/v1/files/{{id}} {status}");
    }
    assert!(paths["/api/v1/files/limits"]["get"].is_object());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_carries_the_files_and_a_restore_serves_them_again() {
    let dir = deployment(&["alice", "bob"]);
    let server = start(dir.path());
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let bytes = b"minutes of the meeting".repeat(1000);
    let part = Part::File("minutes.txt", "text/plain", &bytes);
    let (status, sent) = upload(&server, &alice, &[Part::Text("to", "bob"), part]).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    // Half an upload is no part of a backup.
    let uploads = dir.path().join("data/files/tmp");
    std::fs::write(uploads.join(".upload-half"), "half").unwrap();

    let backup = support::simul(dir.path(), &["backup", "--data", "data", "--out", "b.tar.gz"]);
    let said = String::from_utf8_lossy(&backup.stdout);
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    assert!(said.contains(", 1 sent file."), "{said}");
    drop(server);
    let restored = support::simul(dir.path(), &["restore", "b.tar.gz", "--data", "restored"]);
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));

    let server = Server::start(&dir.path().join("restored"));
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let answer = download(&server, &bob, sent["file"]["url"].as_str().unwrap()).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.bytes().await.unwrap(), bytes);
    let kept = modes(&dir.path().join("restored/files"));
    assert_eq!(kept.iter().filter(|(_, _, is_dir)| !is_dir).count(), 1, "{kept:?}");
    for (path, mode, is_dir) in kept {
        assert_eq!(mode, if is_dir { 0o700 } else { 0o600 }, "{}", path.display());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_file_message_takes_its_file_away_and_a_file_is_never_edited() {
    let dir = deployment(&["alice", "bob"]);
    let server = start(dir.path());
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let parts = [Part::Text("to", "bob"), Part::File("plan.txt", "text/plain", b"the plan")];
    let (status, sent) = upload(&server, &alice, &parts).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let (id, url) = (sent["id"].as_u64().unwrap(), sent["file"]["url"].as_str().unwrap());
    assert_eq!(download(&server, &bob, url).await.status(), StatusCode::OK);
    // The conversations list shows the latest message as a file too.
    let listed = get_json(&server, "/api/v1/conversations", &bob).await;
    assert_eq!(listed[0]["last"]["file"]["name"], "plan.txt", "{listed}");

    let path = server.url(&format!("/api/v1/messages/{id}"));
    let client = reqwest::Client::new();
    let edit = client.patch(&path).bearer_auth(&alice).json(&json!({"text": "not a plan"}));
    let answer = edit.send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer.text().await.unwrap().contains("delete it instead"));

    let deleted = client.delete(&path).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    for who in [&alice, &bob] {
        assert_eq!(download(&server, who, url).await.status(), StatusCode::NOT_FOUND);
    }
    let history = get_json(&server, "/api/v1/im/alice/history", &bob).await;
    assert_eq!(history[0]["deleted"], true, "{history}");
    assert!(history[0].get("file").is_none(), "{history}");
}
