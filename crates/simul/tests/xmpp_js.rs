//! The XMPP door spoken to by a second, independent client library:
//! xmpp.js (`@xmpp/client` from npm) through `simul_testkit::XmppJsClient`,
//! for what slixmpp shows in xmpp.rs: sign-in by SCRAM, PLAIN and an LTPA
//! token, the roster, presence and messages with a web user, a group chat
//! a web user started.
//!
//! xmpp.js knows SCRAM-SHA-1 and PLAIN (not SCRAM-SHA-256): it picks
//! SCRAM-SHA-1, which Simul offers next to SCRAM-SHA-256.

use crate::support;

use std::net::SocketAddr;
use std::path::Path;

use serde_json::json;
use simul_testkit::{XmppJsClient, XmppJsMechanism, XmppTransport};
use support::vp::put_json;
use support::xmpp::xmpp_server;
use support::{
    deployment, deployment_with_names, log_in, next_members, next_status, post_json, watch,
};

/// An xmpp.js client of `user` with `password`, trusting the deployment
/// of `data`.
fn xmpp_js(
    address: SocketAddr,
    data: &Path,
    user: &str,
    password: &str,
    transport: XmppTransport,
    mechanism: XmppJsMechanism,
) -> XmppJsClient {
    let certificate = data.join("tls-certificate.pem");
    let jid = format!("{user}@localhost");
    XmppJsClient::start(address, &jid, password, transport, mechanism, &certificate)
}

/// An xmpp.js client of `user` (password "long enough") signed in by its
/// own choice of mechanism over STARTTLS.
fn signed_in(address: SocketAddr, data: &Path, user: &str) -> XmppJsClient {
    let mut client = xmpp_js(
        address,
        data,
        user,
        "long enough",
        XmppTransport::StartTls,
        XmppJsMechanism::Preferred,
    );
    client.expect(&format!("SESSION_START {user}@localhost/"));
    client
}

#[tokio::test(flavor = "multi_thread")]
async fn signs_in_by_scram_plain_and_an_ltpa_token_and_a_wrong_password_is_refused() {
    let dir = deployment(&["alice"]);
    let data = dir.path().join("data");
    let (server, starttls, direct) = xmpp_server(&data);
    let password = "long enough";
    for (transport, address) in
        [(XmppTransport::StartTls, starttls), (XmppTransport::DirectTls, direct)]
    {
        let mut scram =
            xmpp_js(address, &data, "alice", password, transport, XmppJsMechanism::Preferred);
        assert_eq!(scram.expect("AUTH "), "AUTH SCRAM-SHA-1");
        scram.expect("SESSION_START alice@localhost/");
        let mut plain =
            xmpp_js(address, &data, "alice", password, transport, XmppJsMechanism::Plain);
        assert_eq!(plain.expect("AUTH "), "AUTH PLAIN");
        plain.expect("SESSION_START alice@localhost/");
    }

    // The web's LtpaToken2 is a password for PLAIN (SCRAM cannot carry one).
    let (token, _) = log_in(&server, "alice", password).await;
    let mut sso =
        xmpp_js(starttls, &data, "alice", &token, XmppTransport::StartTls, XmppJsMechanism::Plain);
    assert_eq!(sso.expect("AUTH "), "AUTH PLAIN");
    sso.expect("SESSION_START alice@localhost/");
    let mut scram_token = xmpp_js(
        starttls,
        &data,
        "alice",
        &token,
        XmppTransport::StartTls,
        XmppJsMechanism::Preferred,
    );
    assert_eq!(scram_token.expect("FAILED_AUTH "), "FAILED_AUTH SCRAM-SHA-1 not-authorized");

    for mechanism in [XmppJsMechanism::Preferred, XmppJsMechanism::Plain] {
        let mut wrong =
            xmpp_js(starttls, &data, "alice", "wrong", XmppTransport::StartTls, mechanism);
        let failed = wrong.expect("FAILED_AUTH ");
        assert!(failed.ends_with(" not-authorized"), "{failed}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_roster_presence_and_messages_meet_a_web_user() {
    let dir = deployment_with_names(&[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")]);
    let data = dir.path().join("data");
    let (server, starttls, _) = xmpp_server(&data);
    let (alice_web, _) = log_in(&server, "alice", "long enough").await;
    let contacts =
        json!({"groups": [{"name": "Team", "contacts": ["bob"]}], "aliases": {"bob": "Bobby"}});
    assert!(
        put_json(&server, "/api/v1/contacts", &alice_web, &contacts).await.status().is_success()
    );
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;
    watch(&mut bob_events, "alice").await;

    // The roster is the contact list the web keeps.
    let mut alice = signed_in(starttls, &data, "alice");
    alice.send("roster");
    assert_eq!(
        alice.expect("ROSTER "),
        "ROSTER bob@localhost name=Bobby groups=Team subscription=both"
    );
    alice.expect("ROSTER_END");

    support::xmpp::meet_a_web_user(
        &mut alice,
        &server,
        &bob,
        &mut bob_events,
        "hello from xmpp.js",
    )
    .await;

    // The web edits the contact list: a roster push of what changed, and
    // the next roster shows it.
    let contacts = json!({"groups": [{"name": "Team", "contacts": ["bob", "carol"]}]});
    put_json(&server, "/api/v1/contacts", &alice_web, &contacts).await;
    assert_eq!(
        alice.expect("ROSTER_PUSH "),
        "ROSTER_PUSH carol@localhost name= groups=Team subscription=both"
    );
    alice.send("roster");
    assert_eq!(
        alice.expect("ROSTER "),
        "ROSTER bob@localhost name=Bobby groups=Team subscription=both"
    );
    assert_eq!(
        alice.expect("ROSTER "),
        "ROSTER carol@localhost name= groups=Team subscription=both"
    );
    alice.expect("ROSTER_END");

    // Signing out is seen on the web.
    alice.send("quit");
    next_status(&mut bob_events, "alice", "offline").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_web_users_group_chat_is_a_room_xmpp_js_enters_talks_in_and_leaves() {
    let dir = deployment(&["alice", "bob", "carol"]);
    let data = dir.path().join("data");
    let (server, starttls, _) = xmpp_server(&data);
    let (bob, mut bob_events) = support::web_user(&server, "bob").await;
    let mut alice = signed_in(starttls, &data, "alice");
    alice.send("presence");

    let chat = json!({"invite": ["alice", "carol"], "topic": "Site visit"});
    let created = post_json(&server, "/api/v1/nway", &bob, &chat).await;
    let room = format!("chat-{}@conference.localhost", created["id"]);
    let messages = format!("/api/v1/nway/{}/messages", created["id"]);
    post_json(&server, &messages, &bob, &json!({"text": "before you came"})).await;
    assert_eq!(alice.expect("INVITED "), format!("INVITED {room} from=bob@localhost"));

    let id = created["id"].as_u64().unwrap();
    support::xmpp::enter_and_talk_in_a_web_chat(
        &mut alice,
        &server,
        &bob,
        &mut bob_events,
        id,
        "Site visit",
    )
    .await;

    alice.send(&format!("leave {room} Alice"));
    alice.expect_matching("OCCUPANT ", &[&room, " alice ", "type=unavailable"]);
    next_members(&mut bob_events, &["bob"]).await;
}
