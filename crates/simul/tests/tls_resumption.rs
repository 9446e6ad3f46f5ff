//! TLS session resumption (RFC 8446 §2.2): a client that comes back resumes
//! its session from the ticket it keeps, however many others connected in
//! between (a community's thousands of clients reconnecting after a network
//! blip would otherwise all pay a full handshake).

use crate::support;

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::HandshakeKind;
use rustls::client::Resumption;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use simul_testkit::stream_header;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use support::deployment;
use support::xmpp::xmpp_server;

/// A TLS client trusting `pem`, which keeps the tickets it gets if `resumes`.
fn client(pem: &[u8], resumes: bool) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(pem) {
        roots.add(certificate.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"xmpp-client".to_vec()];
    if !resumes {
        config.resumption = Resumption::disabled();
    }
    TlsConnector::from(Arc::new(config))
}

/// Connects over direct TLS, opens a stream and reads its features (the
/// server's ticket comes before them); how the handshake went.
async fn visit(address: SocketAddr, connector: &TlsConnector) -> HandshakeKind {
    let tcp = TcpStream::connect(address).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    tls.write_all(stream_header("", "localhost").as_bytes()).await.unwrap();
    let mut read = Vec::new();
    while !String::from_utf8_lossy(&read).contains("</stream:features>") {
        let mut chunk = [0; 4096];
        let n = tls.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed: {}", String::from_utf8_lossy(&read));
        read.extend_from_slice(&chunk[..n]);
    }
    tls.get_ref().1.handshake_kind().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_resumes_its_tls_session_however_many_connected_since() {
    let dir = deployment(&[]);
    let data = dir.path().join("data");
    let (_server, _, direct) = xmpp_server(&data);
    let pem = std::fs::read(data.join("tls-certificate.pem")).unwrap();

    let returning = client(&pem, true);
    assert_eq!(visit(direct, &returning).await, HandshakeKind::Full);
    // rustls' own store of sessions keeps 256, and took two a handshake:
    // these would push the returning client's out.
    let others = client(&pem, false);
    for _ in 0..200 {
        assert_eq!(visit(direct, &others).await, HandshakeKind::Full);
    }
    assert_eq!(visit(direct, &returning).await, HandshakeKind::Resumed);
    // A ticket is used once; the resumed handshake gave the next one.
    assert_eq!(visit(direct, &returning).await, HandshakeKind::Resumed);
}
