//! What the tests of the XMPP door share (`xmpp.rs`, `xmpp_resume.rs`):
//! a server with both XMPP listeners on free ports, and what a web user
//! beside the XMPP clients watches.

use std::net::SocketAddr;

use serde_json::{Value, json};

use super::{Events, Server};

/// A server with both XMPP listeners on free ports: (STARTTLS, direct TLS).
pub fn xmpp_server(data: &std::path::Path) -> (Server, SocketAddr, SocketAddr) {
    xmpp_server_with(data, &[])
}

/// The same with more environment variables (limits, the log).
pub fn xmpp_server_with(
    data: &std::path::Path,
    env: &[(&str, &str)],
) -> (Server, SocketAddr, SocketAddr) {
    let mut all =
        vec![("SIMUL_XMPP__LISTEN", "127.0.0.1:0"), ("SIMUL_XMPP__LISTEN_TLS", "127.0.0.1:0")];
    all.extend_from_slice(env);
    let server = Server::start_with(data, false, &all);
    let (starttls, direct) = xmpp_addresses(&server);
    (server, starttls, direct)
}

/// Where a server started with both XMPP listeners took them: (STARTTLS,
/// direct TLS). The server says so after the other doors (read theirs
/// first).
pub fn xmpp_addresses(server: &Server) -> (SocketAddr, SocketAddr) {
    let address = |transport: &str| {
        let line = server.log_line(&format!("({transport})"));
        line.split(' ').nth(4).unwrap().parse().unwrap()
    };
    (address("STARTTLS"), address("direct TLS"))
}

/// Asks a web session to watch `user`.
pub async fn watch(events: &mut Events, user: &str) {
    use futures_util::SinkExt as _;
    let watch = json!({"type": "watch", "users": [user]}).to_string();
    events.send(tokio_tungstenite::tungstenite::Message::text(watch)).await.unwrap();
}

/// The next event of `kind` on a web session.
pub async fn next_of_type(events: &mut Events, kind: &str) -> Value {
    loop {
        let event = super::next_event(events).await;
        if event["type"] == kind {
            return event;
        }
    }
}

/// The next status event of `user` with `status`.
pub async fn next_status(events: &mut Events, user: &str, status: &str) -> Value {
    loop {
        let event = next_status_of(events, user).await;
        if event["status"] == status {
            return event;
        }
    }
}

/// The next status event of `user`, whatever it says.
pub async fn next_status_of(events: &mut Events, user: &str) -> Value {
    loop {
        let event = next_of_type(events, "status").await;
        if event["user"] == user {
            return event;
        }
    }
}
