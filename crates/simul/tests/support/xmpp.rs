//! What the XMPP tests share: a server with both XMPP listeners, signed-in
//! slixmpp clients, raw clients past TLS and SASL.

use std::net::SocketAddr;
use std::path::Path;

use simul_testkit::{RawXmpp, XmppClient, XmppTransport};

use super::Server;

/// A server with both XMPP listeners on free ports: (STARTTLS, direct TLS).
pub fn xmpp_server(data: &Path) -> (Server, SocketAddr, SocketAddr) {
    xmpp_server_with(data, &[])
}

/// The same with these environment variables too.
pub fn xmpp_server_with(data: &Path, env: &[(&str, &str)]) -> (Server, SocketAddr, SocketAddr) {
    let mut all =
        vec![("SIMUL_XMPP__LISTEN", "127.0.0.1:0"), ("SIMUL_XMPP__LISTEN_TLS", "127.0.0.1:0")];
    all.extend_from_slice(env);
    let server = Server::start_with(data, false, &all);
    let address = |transport: &str| {
        let line = server.log_line(&format!("({transport})"));
        line.split(' ').nth(4).unwrap().parse().unwrap()
    };
    let (starttls, direct) = (address("STARTTLS"), address("direct TLS"));
    (server, starttls, direct)
}

/// A slixmpp client of `user` (password "long enough"), signed in.
pub fn signed_in(address: SocketAddr, user: &str, transport: XmppTransport) -> XmppClient {
    let mut client =
        XmppClient::start(address, &format!("{user}@localhost"), "long enough", transport);
    client.expect(&format!("SESSION_START {user}@localhost/"));
    client
}

/// A raw client over STARTTLS that trusts the deployment in `data`, TLS
/// up and no stream opened on it yet.
pub async fn raw_tls(address: SocketAddr, data: &Path) -> RawXmpp {
    let certificate = std::fs::read(data.join("tls-certificate.pem")).unwrap();
    RawXmpp::connect(address, XmppTransport::StartTls, &certificate).await.unwrap()
}

/// The same with its stream open (features read).
pub async fn raw_client(address: SocketAddr, data: &Path) -> RawXmpp {
    let mut raw = raw_tls(address, data).await;
    raw.open_stream("localhost").await.unwrap();
    raw
}

/// A raw client signed in as `user` (password "long enough") by PLAIN;
/// the stream is to be opened again.
pub async fn raw_authenticated(address: SocketAddr, data: &Path, user: &str) -> RawXmpp {
    let mut raw = raw_client(address, data).await;
    raw.authenticate_plain(user, "long enough").await.unwrap();
    raw
}

/// The stream error condition in what a server sent before it closed.
pub fn stream_error_in(got: &str) -> Option<&str> {
    let error = got.split("<stream:error>").nth(1)?;
    let condition = error.trim_start().strip_prefix('<')?;
    condition.split([' ', '/', '>']).next()
}
