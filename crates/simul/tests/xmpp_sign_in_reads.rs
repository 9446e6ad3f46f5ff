//! What an XMPP sign-in reads is read afresh each time, although the
//! store keeps connections of its own for those reads (crates/store
//! quick.rs): an account disabled by another process, and a contact list
//! changed on another door, show at the very next sign-in.

use crate::support;

use serde_json::json;
use simul_testkit::{RawXmpp, XmppTransport};
use support::vp::put_json;
use support::xmpp::{raw_client, xmpp_server};
use support::{deployment, log_in};

/// The SASL answer to `secret` (a password or a token) for `user` over
/// direct TLS: `success`, or the failure's condition.
async fn sasl_answer(
    direct: std::net::SocketAddr,
    data: &std::path::Path,
    user: &str,
    secret: &str,
) -> String {
    let pem = std::fs::read(data.join("tls-certificate.pem")).unwrap();
    let mut raw = RawXmpp::connect(direct, XmppTransport::DirectTls, &pem).await.unwrap();
    raw.open_stream("localhost").await.unwrap();
    raw.sasl_plain(user, secret).await.unwrap()
}

/// The roster of a new XMPP session of `user`.
async fn roster_at_sign_in(
    starttls: std::net::SocketAddr,
    data: &std::path::Path,
    user: &str,
) -> String {
    let mut raw = raw_client(starttls, data).await;
    raw.authenticate_plain(user, "long enough").await.unwrap();
    raw.bind().await.unwrap();
    raw.request("<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>").await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_disabled_by_simul_user_is_refused_at_the_next_sign_in() {
    let dir = deployment(&["alice"]);
    let data = dir.path().join("data");
    let (server, _, direct) = xmpp_server(&data);
    let (token, _) = log_in(&server, "alice", "long enough").await;
    // Her account is read (and found enabled) by a few sign-ins first.
    for _ in 0..3 {
        assert_eq!(sasl_answer(direct, &data, "alice", &token).await, "success");
    }
    let out = support::simul(dir.path(), &["user", "disable", "alice", "--data", "data"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // At once: not when the revocations are next caught up with.
    assert_eq!(sasl_answer(direct, &data, "alice", &token).await, "account-disabled");
    assert_eq!(sasl_answer(direct, &data, "alice", "long enough").await, "not-authorized");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_added_on_the_web_is_in_the_roster_of_the_next_xmpp_sign_in() {
    let dir = deployment(&["alice", "bob", "carol"]);
    let data = dir.path().join("data");
    let (server, starttls, _) = xmpp_server(&data);
    let (alice_web, _) = log_in(&server, "alice", "long enough").await;
    let list = json!({"groups": [{"name": "Team", "contacts": ["bob"]}]});
    assert!(put_json(&server, "/api/v1/contacts", &alice_web, &list).await.status().is_success());
    let roster = roster_at_sign_in(starttls, &data, "alice").await;
    assert!(roster.contains("bob@localhost") && !roster.contains("carol@localhost"), "{roster}");

    let list = json!({"groups": [{"name": "Team", "contacts": ["bob", "carol"]}]});
    assert!(put_json(&server, "/api/v1/contacts", &alice_web, &list).await.status().is_success());
    let roster = roster_at_sign_in(starttls, &data, "alice").await;
    assert!(roster.contains("carol@localhost"), "{roster}");
}
