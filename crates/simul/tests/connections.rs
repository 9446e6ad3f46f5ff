//! Connections that never finish a request, or too many of them: the
//! listeners close the slow ones and refuse what is over the caps, and
//! everyone else keeps being served.

use crate::support;

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use support::{Server, deployment_with_names};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};

/// The server's address (`http://127.0.0.1:PORT` → the socket address).
fn address(base: &str) -> SocketAddr {
    base.rsplit("//").next().unwrap().parse().unwrap()
}

/// A TCP connection to `to` from the loopback address `from`.
async fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(to).await.unwrap()
}

/// The value of one series (`name{labels}`) in the text of /metrics.
fn metric(metrics: &str, series: &str) -> Option<f64> {
    let value = metrics.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))?;
    value.parse().ok()
}

/// What the server sends until it closes the connection (at most 10 s).
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received));
    read.await.expect("the server closes the connection").ok();
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_headers_idle_connections_and_silent_tls_clients_are_closed() {
    let dir = deployment_with_names(&[]);
    let server = Server::start_with(
        &dir.path().join("data"),
        true,
        &[
            ("SIMUL_SERVER__HEADER_TIMEOUT_SECONDS", "1"),
            ("SIMUL_SERVER__TLS_HANDSHAKE_TIMEOUT_SECONDS", "1"),
        ],
    );
    // Half a request, then nothing.
    let mut slow = TcpStream::connect(address(&server.base)).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    let said = until_closed(&mut slow).await;
    assert!(said.is_empty() || said.starts_with("HTTP/1.1 408"), "{said}");

    // A connection that never says anything.
    let mut mute = TcpStream::connect(address(&server.base)).await.unwrap();
    assert_eq!(until_closed(&mut mute).await, "");

    // A whole request, then an idle keep-alive connection.
    let mut idle = TcpStream::connect(address(&server.base)).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let said = until_closed(&mut idle).await;
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");

    // A TLS client that never says hello.
    let https = server.https_base.clone().unwrap();
    let mut silent = TcpStream::connect(address(&https)).await.unwrap();
    assert_eq!(until_closed(&mut silent).await, "");

    let healthy = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(healthy.status(), StatusCode::OK, "everyone else is served");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_are_capped_per_address_and_in_all() {
    let dir = deployment_with_names(&[]);
    let server = Server::start_with(
        &dir.path().join("data"),
        false,
        &[
            ("SIMUL_SERVER__MAX_CONNECTIONS_PER_ADDRESS", "3"),
            ("SIMUL_SERVER__MAX_CONNECTIONS", "5"),
        ],
    );
    let to = address(&server.base);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from([127, 0, 0, 1], to).await);
    }
    // The fourth from the same address is refused, with a word why.
    let mut fourth = connect_from([127, 0, 0, 1], to).await;
    let said = until_closed(&mut fourth).await;
    assert!(said.starts_with("HTTP/1.1 503"), "{said}");
    assert!(said.contains("too many connections"), "{said}");

    // Another address is welcome, up to the total.
    let mut other = connect_from([127, 0, 0, 2], to).await;
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(until_closed(&mut other).await.starts_with("HTTP/1.1 200"));
    held.push(connect_from([127, 0, 0, 2], to).await);
    held.push(connect_from([127, 0, 0, 3], to).await);
    let mut over = connect_from([127, 0, 0, 4], to).await;
    assert!(until_closed(&mut over).await.starts_with("HTTP/1.1 503"), "the sixth in all");

    // Closed connections give their places back (the server may take a
    // moment to notice): /metrics is served again, and counted the refusals.
    held.clear();
    support::eventually("the places are given back", || async {
        reqwest::get(server.url("/healthz")).await.is_ok_and(|r| r.status().is_success())
    })
    .await;
    let metrics = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    for reason in ["per_address", "total"] {
        let series = format!("simul_connections_refused_total{{reason=\"{reason}\"}}");
        let count = metric(&metrics, &series);
        assert!(matches!(count, Some(n) if n >= 1.0), "{series} in\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sametime_and_xmpp_doors_count_with_the_web_per_address() {
    let dir = deployment_with_names(&[]);
    let server = Server::start_with(
        &dir.path().join("data"),
        false,
        &[
            ("SIMUL_SERVER__MAX_CONNECTIONS_PER_ADDRESS", "2"),
            ("SIMUL_VP__LISTEN", "127.0.0.1:0"),
            ("SIMUL_XMPP__LISTEN", "127.0.0.1:0"),
        ],
    );
    let port_of = |line: String| -> SocketAddr {
        line.split(' ').find_map(|word| word.parse().ok()).expect("an address")
    };
    let vp = port_of(server.log_line("Sametime VP door listening on "));
    let xmpp = port_of(server.log_line("XMPP door listening on "));
    let _web = connect_from([127, 0, 0, 1], address(&server.base)).await;
    let _sametime = connect_from([127, 0, 0, 1], vp).await;
    // `connect` returns once the kernel has the connection, before the
    // doors' accept loops have counted it: wait until /metrics (asked from
    // a third address, its own connection counted too) shows all three.
    let metrics = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 3]))
        .build()
        .unwrap();
    support::eventually("both connections counted", || async {
        let Ok(answer) = metrics.get(server.url("/metrics")).send().await else { return false };
        let text = answer.text().await.unwrap_or_default();
        metric(&text, "simul_connections").is_some_and(|open| open >= 3.0)
    })
    .await;
    // A third connection from the same address, to any door: closed.
    let mut third = connect_from([127, 0, 0, 1], xmpp).await;
    assert_eq!(until_closed(&mut third).await, "", "closed without a word");
    // From another address the XMPP door answers.
    let mut other = connect_from([127, 0, 0, 2], xmpp).await;
    let header = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' \
                  xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
    other.write_all(header.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    while !String::from_utf8_lossy(&answer).contains("starttls") {
        let mut chunk = vec![0; 4096];
        let read = tokio::time::timeout(Duration::from_secs(10), other.read(&mut chunk));
        let n = read.await.expect("the stream features in time").unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&chunk[..n]);
    }
}
