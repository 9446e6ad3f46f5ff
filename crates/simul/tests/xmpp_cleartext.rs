//! The XMPP door's cleartext listener (`[xmpp] listen_cleartext`): for a
//! TLS-terminating proxy on this host or among `server.trusted_proxies`
//! (and for benchmarks without TLS). It signs such a client in without
//! TLS, offers nothing to bind SCRAM to, and closes a connection from
//! anywhere else before it reads a byte.

use crate::support;

use std::net::{IpAddr, SocketAddr};

use base64::Engine as _;
use support::{Server, deployment};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};

/// The client's stream header.
const HEADER: &str = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' \
                      xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/// A server with only the cleartext XMPP listener, on `listen`, and
/// where it took it.
fn cleartext_server(data: &std::path::Path, listen: &str, env: &[(&str, &str)]) -> (Server, u16) {
    let mut all = vec![("SIMUL_XMPP__LISTEN_CLEARTEXT", listen)];
    all.extend_from_slice(env);
    let server = Server::start_with(data, false, &all);
    let line = server.log_line("(cleartext");
    let address: SocketAddr = line.split(' ').nth(4).unwrap().parse().unwrap();
    (server, address.port())
}

/// Reads from `tcp` until what was read holds `needle`; everything read.
async fn read_until(tcp: &mut TcpStream, needle: &str) -> String {
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&read).contains(needle) {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), tcp.read(&mut buffer))
            .await
            .expect("the server answers")
            .unwrap();
        assert_ne!(n, 0, "closed before {needle:?}: {}", String::from_utf8_lossy(&read));
        read.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8(read).unwrap()
}

/// Connects from `source` to `port` of `to`.
async fn connect_from(source: IpAddr, to: IpAddr, port: u16) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source, 0)).unwrap();
    socket.connect(SocketAddr::new(to, port)).await.unwrap()
}

/// This host's address on its way out, which is not loopback: where a
/// proxy on another host would come from, as far as the server can tell.
fn outside_address() -> IpAddr {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    // A UDP "connection" sends nothing: it only picks the route's source.
    socket.connect("198.51.100.1:9").expect("this test needs a network interface besides loopback");
    let address = socket.local_addr().unwrap().ip();
    assert!(!address.is_loopback(), "no address besides loopback: {address}");
    address
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_on_this_host_signs_its_clients_in_without_tls() {
    let dir = deployment(&["alice"]);
    let (_server, port) = cleartext_server(&dir.path().join("data"), "127.0.0.1:0", &[]);
    // Any loopback address is this host.
    let loopback = "127.0.0.1".parse().unwrap();
    let mut tcp = connect_from("127.0.0.2".parse().unwrap(), loopback, port).await;
    tcp.write_all(HEADER.as_bytes()).await.unwrap();
    let features = read_until(&mut tcp, "</stream:features>").await;
    assert!(!features.contains("starttls"), "{features}");
    assert!(features.contains(">PLAIN<") && features.contains(">SCRAM-SHA-256<"), "{features}");
    // No TLS here: nothing to bind SCRAM to.
    assert!(
        !features.contains("-PLUS") && !features.contains("sasl-channel-binding"),
        "{features}"
    );

    let wrong = base64::engine::general_purpose::STANDARD.encode("\0alice\0wrong");
    let auth = |data: &str| {
        format!("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{data}</auth>")
    };
    tcp.write_all(auth(&wrong).as_bytes()).await.unwrap();
    assert!(read_until(&mut tcp, "</failure>").await.contains("not-authorized"));
    let right = base64::engine::general_purpose::STANDARD.encode("\0alice\0long enough");
    tcp.write_all(auth(&right).as_bytes()).await.unwrap();
    read_until(&mut tcp, "<success").await;
    tcp.write_all(HEADER.as_bytes()).await.unwrap();
    read_until(&mut tcp, "</stream:features>").await;
    let bind = "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
                <resource>proxied</resource></bind></iq>";
    tcp.write_all(bind.as_bytes()).await.unwrap();
    let bound = read_until(&mut tcp, "</iq>").await;
    assert!(bound.contains("<jid>alice@localhost/proxied</jid>"), "{bound}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cleartext_listener_takes_no_connection_from_elsewhere_unless_a_trusted_proxy() {
    let outside = outside_address();
    let dir = deployment(&["alice"]);
    let (server, port) = cleartext_server(&dir.path().join("data"), "0.0.0.0:0", &[]);
    let mut tcp = connect_from(outside, outside, port).await;
    // What a client would send first is never read: the connection ends.
    let _ = tcp.write_all(HEADER.as_bytes()).await;
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), tcp.read(&mut buffer))
        .await
        .expect("the server closes the connection");
    assert!(matches!(read, Ok(0) | Err(_)), "no answer, not even a stream header: {read:?}");
    server.log_line("a cleartext connection from outside loopback and server.trusted_proxies");
    drop(server);

    // Named among the trusted proxies, the same address is taken.
    let proxies = format!("[\"{outside}/32\"]");
    let dir = deployment(&["alice"]);
    let env = [("SIMUL_SERVER__TRUSTED_PROXIES", proxies.as_str())];
    let (_server, port) = cleartext_server(&dir.path().join("data"), "0.0.0.0:0", &env);
    let mut tcp = connect_from(outside, outside, port).await;
    tcp.write_all(HEADER.as_bytes()).await.unwrap();
    assert!(read_until(&mut tcp, "</stream:features>").await.contains(">PLAIN<"));
}
