//! Administrators' announcements (`/console/announcements`, `simul
//! announce`) on the real binary, received by real clients of every
//! door: the web client's event stream, Debian's libmeanwhile on the
//! Sametime VP door and slixmpp on the XMPP door. The text arrives as the
//! administrator wrote it (markup is text), once; bad input changes
//! nothing.

use crate::support;

use std::net::SocketAddr;

use serde_json::{Value, json};
use simul_testkit::{MwClient, XmppTransport};
use support::console::{console_deployment, csrf_of, page, request, submit};
use support::xmpp::{signed_in, xmpp_addresses};
use support::{Events, Server, log_in, next_of_type, simul, web_user};

/// Text with markup, quotes and an ampersand: every door must carry it
/// as text.
const MARKED_UP: &str = "Restart at 18:00 <script>alert(1)</script> <b>\"now\"</b> & then";

/// A server with every door: the web, VP and XMPP (STARTTLS) addresses.
fn server_with_every_door(data: &std::path::Path) -> (Server, SocketAddr, SocketAddr) {
    let server = Server::start_with(
        data,
        false,
        &[
            ("SIMUL_VP__LISTEN", "127.0.0.1:0"),
            ("SIMUL_XMPP__LISTEN", "127.0.0.1:0"),
            ("SIMUL_XMPP__LISTEN_TLS", "127.0.0.1:0"),
        ],
    );
    let vp = support::vp::vp_address(&server);
    let (xmpp, _) = xmpp_addresses(&server);
    (server, vp, xmpp)
}

/// The next announcement on a web session's stream.
async fn next_announcement(events: &mut Events) -> Value {
    next_of_type(events, "announcement").await
}

/// Sends an announcement from the console's page; the page it leads to.
async fn send(server: &Server, boss: &str, form: &[(&str, &str)]) -> String {
    let csrf = csrf_of(&page(server, "/console/announcements", boss).await);
    let mut form = form.to_vec();
    form.push(("csrf", &csrf));
    let back = submit(server, "/console/announcements/send", boss, &form).await;
    page(server, &back, boss).await
}

#[tokio::test]
async fn an_announcement_reaches_every_door_as_text_once() {
    let dir = console_deployment();
    for user in ["bob", "carol"] {
        let out =
            simul(dir.path(), &["user", "add", user, "--password-file", "pw", "--data", "data"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (server, vp, xmpp) = server_with_every_door(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let (_alice, mut alice) = web_user(&server, "alice").await;
    let mut bob = MwClient::start(vp, "bob", "long enough");
    bob.expect("LOGGED_IN");
    let mut carol = signed_in(xmpp, "carol", XmppTransport::StartTls);

    let sent = send(&server, &boss, &[("to", "everyone"), ("text", MARKED_UP)]).await;
    assert!(sent.contains("Sent. Everyone it names"), "{sent}");

    let event = next_announcement(&mut alice).await;
    assert_eq!((event["from"].as_str(), event["text"].as_str()), (Some("boss"), Some(MARKED_UP)));
    let line = bob.expect("ANNOUNCE");
    assert_eq!(line, format!("ANNOUNCE from=boss may_reply=0 text={MARKED_UP}"));
    let line = carol.expect("HEADLINE");
    assert_eq!(line, format!("HEADLINE localhost subject=Announcement from boss body={MARKED_UP}"));

    // The console lists it, escaped, with the three people it reached;
    // the audit log has the act.
    let listed = page(&server, "/console/announcements", &boss).await;
    assert!(listed.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{listed}");
    assert!(!listed.contains("<script>"), "the page shows markup as text");
    assert!(listed.contains("<td>everyone online</td>"), "{listed}");
    assert!(listed.contains("<td class=\"c-num\">3</td>"), "alice, bob, carol: {listed}");
    let audit = page(&server, "/console/audit", &boss).await;
    assert!(audit.contains("<td>announce</td><td><code>everyone online</code>"), "{audit}");

    // To chosen people: only they see it; and nobody sees the first twice.
    send(&server, &boss, &[("to", "users"), ("users", "carol, bob"), ("text", "for two")]).await;
    assert!(bob.expect("ANNOUNCE").ends_with("text=for two"));
    assert!(carol.expect("HEADLINE").ends_with("body=for two"));
    send(&server, &boss, &[("to", "everyone"), ("text", "third")]).await;
    assert_eq!(next_announcement(&mut alice).await["text"], "third", "not 'for two', not again");
}

#[tokio::test]
async fn the_command_announces_while_the_server_runs() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (_alice, mut alice) = web_user(&server, "alice").await;
    let (_mallory, mut mallory) = web_user(&server, "mallory").await;

    let out =
        simul(dir.path(), &["announce", "--user", "alice", "Lunch is served", "--data", "data"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("kept"));
    let event = next_announcement(&mut alice).await;
    assert_eq!(event["text"], "Lunch is served");
    assert!(event["from"].as_str().unwrap().ends_with("(system user)"), "{event}");

    let out = simul(dir.path(), &["announce", "To all", "--data", "data"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Mallory's first announcement is the one to everyone: the one to
    // alice alone never reached her, and alice's next is not a repeat.
    assert_eq!(next_announcement(&mut mallory).await["text"], "To all");
    assert_eq!(next_announcement(&mut alice).await["text"], "To all");

    let out = simul(dir.path(), &["audit", "--json", "--data", "data"]);
    let entries: Value = serde_json::from_slice(&out.stdout).unwrap();
    let targets: Vec<_> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "announce")
        .map(|entry| entry["target"].clone())
        .collect();
    assert_eq!(targets, [json!("everyone online"), json!("users alice")]);
}

#[tokio::test]
async fn bad_announcements_are_refused_and_change_nothing() {
    let dir = console_deployment();
    let server = Server::start(&dir.path().join("data"));
    let (boss, _) = log_in(&server, "boss", "long enough").await;
    let long = "x".repeat(simul_service::MAX_ANNOUNCEMENT_CHARS + 1);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("to", "everyone"), ("text", "  \n ")], "write the text"),
        (&[("to", "everyone"), ("text", &long)], "the text is too long"),
        (&[("to", "users"), ("users", "alice, nobody"), ("text", "hi")], "does not exist"),
        (&[("to", "group"), ("group", " "), ("text", "hi")], "name the group"),
        (&[("to", "martians"), ("text", "hi")], "choose everyone"),
    ];
    for (form, sentence) in cases {
        let answer = send(&server, &boss, form).await;
        assert!(answer.contains("Nothing was sent") && answer.contains(sentence), "{answer}");
    }
    // Beyond what a console form may be at all.
    let huge = "x".repeat(70_000);
    let csrf = csrf_of(&page(&server, "/console/announcements", &boss).await);
    let form = [("to", "everyone"), ("text", huge.as_str()), ("csrf", csrf.as_str())];
    let (status, _) =
        request(&server, reqwest::Method::POST, "/console/announcements/send", Some(&boss), &form)
            .await;
    assert_eq!(status, reqwest::StatusCode::PAYLOAD_TOO_LARGE);

    for (args, error) in [
        (vec!["announce", " ", "--data", "data"], "the announcement is empty"),
        (vec!["announce", &long, "--data", "data"], "characters; the limit is 2000"),
        (vec!["announce", "--user", "nobody", "hi", "--data", "data"], "no such user: nobody"),
    ] {
        let out = simul(dir.path(), &args);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(error), "{args:?}: {stderr}");
    }
    let listed = page(&server, "/console/announcements", &boss).await;
    assert!(listed.contains("None yet."), "nothing was kept: {listed}");
    let audit = page(&server, "/console/audit", &boss).await;
    assert!(!audit.contains("<td>announce</td>"), "{audit}");
}
