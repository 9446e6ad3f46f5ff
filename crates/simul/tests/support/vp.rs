//! What the tests of the Sametime VP door share (`vp.rs`, `vp_pidgin.rs`):
//! a server with the door on a free port, and the web calls they make
//! beside the Sametime clients.

use std::net::SocketAddr;

use serde_json::{Value, json};

use super::Server;

/// A server with the VP door on a free port, and that port.
pub fn vp_server(data: &std::path::Path) -> (Server, SocketAddr) {
    vp_server_with(data, &[])
}

/// The same with more environment variables (limits, a fixed VP port).
pub fn vp_server_with(data: &std::path::Path, env: &[(&str, &str)]) -> (Server, SocketAddr) {
    let mut all = vec![("SIMUL_VP__LISTEN", "127.0.0.1:0")];
    all.extend_from_slice(env);
    let server = Server::start_with(data, false, &all);
    let address = vp_address(&server);
    (server, address)
}

/// Where a server started with `SIMUL_VP__LISTEN` took the VP door.
pub fn vp_address(server: &Server) -> SocketAddr {
    let line = server.log_line("Sametime VP door listening on ");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// `PUT path` with a bearer token and a JSON body, as a web client does.
pub async fn put_json(server: &Server, path: &str, token: &str, body: &Value) -> reqwest::Response {
    let answer =
        reqwest::Client::new().put(server.url(path)).bearer_auth(token).json(body).send().await;
    answer.unwrap()
}

/// The value of one counter of `/metrics` (`name{labels}` as Prometheus
/// prints it), 0 when it was never counted.
pub async fn metric(server: &Server, counter: &str) -> u64 {
    let text = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    let value = text.lines().find_map(|line| line.strip_prefix(counter)?.strip_prefix(' '));
    value.map_or(0, |n| n.trim().parse().unwrap())
}

/// Waits (at most 10 s) until a web caller with `token` sees `user` with
/// `status` and, when given, `message` (`GET /api/v1/awareness`).
pub async fn web_sees(
    server: &Server,
    token: &str,
    user: &str,
    status: &str,
    message: Option<&str>,
) {
    let path = format!("/api/v1/awareness?user={user}");
    let what = format!("the web sees {user} {status} {message:?}");
    super::eventually(&what, || async {
        let seen = super::get_json(server, &path, token).await;
        seen[user]["status"] == status && message.is_none_or(|m| seen[user]["message"] == m)
    })
    .await;
}

/// The next event of a web session is an invitation from `from` to a
/// chat about `topic`; the web user joins it. The chat's id.
pub async fn web_joins_invitation(
    server: &Server,
    token: &str,
    events: &mut super::Events,
    from: &str,
    topic: &str,
) -> u64 {
    let invite = super::next_event(events).await;
    assert_eq!((&invite["type"], &invite["from"]), (&json!("nway_invite"), &json!(from)));
    assert_eq!(invite["topic"], topic);
    let id = invite["id"].as_u64().unwrap();
    super::post_json(server, &format!("/api/v1/nway/{id}/join"), token, &json!({})).await;
    id
}
