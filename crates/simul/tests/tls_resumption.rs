//! TLS session resumption (RFC 8446 §2.2): a client that comes back resumes
//! its session from the ticket it keeps, however many others connected in
//! between (a community's thousands of clients reconnecting after a network
//! blip would otherwise all pay a full handshake).

use crate::support;

use std::net::SocketAddr;

use simul_testkit::{RawXmpp, TlsResumption, XmppTransport};

use support::deployment;
use support::xmpp::xmpp_server;

/// Connects over direct TLS, resuming if `resumption` says so, and opens a
/// stream up to its features (the server's tickets come before them):
/// whether the handshake resumed a session.
async fn visit(address: SocketAddr, pem: &[u8], resumption: TlsResumption) -> bool {
    let direct = XmppTransport::DirectTls;
    let mut raw = RawXmpp::connect_with(address, direct, pem, resumption).await.unwrap();
    raw.open_stream("localhost").await.unwrap();
    raw.resumed()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_resumes_its_tls_session_however_many_connected_since() {
    let dir = deployment(&[]);
    let data = dir.path().join("data");
    let (_server, _, direct) = xmpp_server(&data);
    let pem = std::fs::read(data.join("tls-certificate.pem")).unwrap();

    assert!(!visit(direct, &pem, TlsResumption::On).await, "a first visit is a full handshake");
    // rustls' own store of sessions keeps 256, and took two a handshake:
    // these would push the returning client's out.
    for _ in 0..200 {
        assert!(!visit(direct, &pem, TlsResumption::Off).await);
    }
    assert!(visit(direct, &pem, TlsResumption::On).await, "the returning client resumes");
    // A ticket is used once; the resumed handshake gave the next one.
    assert!(visit(direct, &pem, TlsResumption::On).await);
}
