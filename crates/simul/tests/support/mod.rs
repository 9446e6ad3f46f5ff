//! What the tests of `simul serve` share: a server started as a user
//! starts it, scratch deployments, logins and WebSocket sessions.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::{Value, json};

pub mod console;
pub mod files;
pub mod vp;
pub mod xmpp;

pub const SIMUL: &str = env!("CARGO_BIN_EXE_simul");

/// A running server, stopped when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// `https://127.0.0.1:PORT` when started with HTTPS.
    pub https_base: Option<String>,
    /// What it printed before it listened.
    pub greeting: Vec<String>,
    /// What it prints after (its log, at `SIMUL_LOG`'s level), a line at a time.
    output: std::sync::mpsc::Receiver<String>,
}

/// The URL at the start of a "Simul listening on URL (...)" line.
fn url_in(rest: &str) -> String {
    rest.split_whitespace().next().unwrap().to_owned()
}

impl Server {
    /// Starts `simul serve --data DATA` on a free loopback port (HTTP only).
    pub fn start(data: &Path) -> Self {
        Self::start_with(data, false, &[])
    }

    /// The same with HTTPS on another free port if `https`, and these
    /// environment variables.
    pub fn start_with(data: &Path, https: bool, env: &[(&str, &str)]) -> Self {
        Self::launch(data, https, env, &[])
    }

    /// `simul serve --config CONFIG` (HTTP only).
    pub fn start_configured(data: &Path, config: &Path) -> Self {
        Self::start_configured_with(data, config, &[])
    }

    /// The same with these environment variables.
    pub fn start_configured_with(data: &Path, config: &Path, env: &[(&str, &str)]) -> Self {
        Self::launch(data, false, env, &["--config".as_ref(), config.as_os_str()])
    }

    fn launch(data: &Path, https: bool, env: &[(&str, &str)], args: &[&std::ffi::OsStr]) -> Self {
        let https_listen = if https { "127.0.0.1:0" } else { "off" };
        let mut child = Command::new(SIMUL)
            .args(["serve", "--http", "127.0.0.1:0", "--https", https_listen, "--data"])
            .arg(data)
            .args(args)
            .env("SIMUL_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut greeting, mut base, mut https_base) = (Vec::new(), None, None);
        while base.is_none() || (https && https_base.is_none()) {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("the server stopped before listening: {greeting:?}");
            };
            match line.strip_prefix("Simul listening on ") {
                Some(rest) if rest.starts_with("https:") => https_base = Some(url_in(rest)),
                Some(rest) => base = Some(url_in(rest)),
                None => greeting.push(line),
            }
        }
        // Read on, so the log can be checked and the pipe never fills up.
        let (sender, output) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, base: base.unwrap(), https_base, greeting, output }
    }

    /// Sends a signal (`-HUP`, `-TERM`) to the server.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args([signal, &pid]).status().unwrap().success());
    }

    /// The next line of output that contains `needle` (at most 10 s).
    pub fn log_line(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.output.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line with {needle:?} within 10 s"),
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident memory (`VmRSS` of /proc/PID/status), in kB.
    pub fn resident_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// The exit status, if the process has ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Sends SIGTERM and waits (at most 30 s) for the process to end.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        self.signal("-TERM");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "still running 30 s after SIGTERM");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// The URL of a path on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that trusts the deployment's self-signed certificate, and the
/// server's HTTPS address under the name the certificate carries
/// (`localhost`, with the port the server printed).
pub fn https_client(server: &Server, data: &Path) -> (reqwest::Client, String) {
    let certificate = std::fs::read(data.join("tls-certificate.pem")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&certificate).unwrap())
        .build()
        .unwrap();
    let base = server.https_base.clone().expect("started with HTTPS");
    (client, base.replace("127.0.0.1", "localhost"))
}

/// The realm the LDAP tests configure, as the other servers of the domain would.
pub const REALM: &str = "ldap.renovations.com:389";

/// A scratch directory with `simul.toml` for these LDAP hosts (and bind
/// password file `bind.pw`), plus `extra` TOML lines under `[directory.ldap]`.
pub fn configured(hosts: &[String], extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let bind_pw = dir.path().join("bind.pw");
    std::fs::write(&bind_pw, format!("{}\n", simul_testkit::ROOT_PASSWORD)).unwrap();
    std::fs::set_permissions(&bind_pw, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = dir.path().join("simul.toml");
    let hosts = hosts.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ");
    let (root_dn, suffix) = (simul_testkit::ROOT_DN, simul_testkit::SUFFIX);
    std::fs::write(
        &config,
        format!(
            "[directory]\nkind = \"ldap\"\nrealm = \"{REALM}\"\n\n[directory.ldap]\n\
             hosts = [{hosts}]\nbind_dn = \"{root_dn}\"\nbind_password_file = \"{}\"\n\
             base_dn = \"{suffix}\"\nlogin_attributes = [\"uid\", \"mail\"]\n\
             disabled_filter = \"(employeeType=disabled)\"\ntimeout_seconds = 2\n{extra}\n",
            bind_pw.display()
        ),
    )
    .unwrap();
    (dir, config)
}

pub fn simul(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(SIMUL).args(args).current_dir(dir).output().unwrap()
}

/// A token made "by another server": `simul ltpa token create` with the
/// exported key file `x.keys` (password file `export.pw`) in `dir`.
pub fn mint(dir: &Path, args: &[&str]) -> String {
    let mut all =
        vec!["ltpa", "token", "create", "--keys", "x.keys", "--password-file", "export.pw"];
    all.extend_from_slice(args);
    let out = simul(dir, &all);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Exports the deployment's keys (`data`) to `x.keys` under the password
/// in `export.pw`, as they would go to WebSphere.
pub fn export_keys(dir: &Path) {
    std::fs::write(dir.join("export.pw"), "for-websphere").unwrap();
    let args =
        ["ltpa", "export", "--data", "data", "--password-file", "export.pw", "--out", "x.keys"];
    let out = simul(dir, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `simul ltpa token verify --json` of a token with the exported keys.
pub fn verify_with_exported_keys(dir: &Path, token: &str) -> Value {
    let args = [
        "ltpa",
        "token",
        "verify",
        token,
        "--keys",
        "x.keys",
        "--password-file",
        "export.pw",
        "--json",
    ];
    serde_json::from_slice(&simul(dir, &args).stdout).unwrap()
}

pub fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        c.strip_prefix(&format!("{name}=")).map(|rest| rest.split(';').next().unwrap().to_owned())
    })
}

/// A scratch directory whose deployment (`data`) has these users, all
/// with the password `long enough`, each shown by their login name.
pub fn deployment(users: &[&str]) -> tempfile::TempDir {
    deployment_with_names(&users.iter().map(|u| (*u, *u)).collect::<Vec<_>>())
}

/// The same with display names: `(login, display name)`.
pub fn deployment_with_names(users: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "long enough\n").unwrap();
    for (name, display) in users {
        let args = [
            "user",
            "add",
            name,
            "--display-name",
            display,
            "--password-file",
            "pw",
            "--data",
            "data",
        ];
        let out = simul(dir.path(), &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    dir
}

/// Logs `user` in and returns the LtpaToken2 and the CSRF token.
pub async fn log_in(server: &Server, user: &str, password: &str) -> (String, String) {
    let login = reqwest::Client::new()
        .post(server.url("/api/v1/login"))
        .json(&json!({"user": user, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let token = cookie(&login, "LtpaToken2").unwrap();
    let csrf = login.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_owned();
    (token, csrf)
}

/// A web session's event stream.
pub type Events =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A web user signed in (password "long enough") with a live event
/// stream: their token and the stream.
pub async fn web_user(server: &Server, user: &str) -> (String, Events) {
    let (token, _) = log_in(server, user, "long enough").await;
    let stream = events(server, &token).await;
    (token, stream)
}

/// The next event of a web session is a 1:1 message from `from` saying
/// `text`.
pub async fn expect_web_im(events: &mut Events, from: &str, text: &str) {
    let event = next_event(events).await;
    assert_eq!((&event["type"], &event["from"]), (&json!("im"), &json!(from)), "{event}");
    assert_eq!(event["text"], text);
}

pub async fn events(server: &Server, token: &str) -> Events {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let mut request =
        server.url("/api/v1/events").replacen("http", "ws", 1).into_client_request().unwrap();
    request.headers_mut().insert("cookie", format!("LtpaToken2={token}").parse().unwrap());
    let mut socket = tokio_tungstenite::connect_async(request).await.expect("WebSocket upgrade").0;
    assert_eq!(next_event(&mut socket).await["type"], "ready", "the session is live");
    socket
}

pub async fn next_event(
    socket: &mut (
             impl futures_util::Stream<
        Item = Result<
            tokio_tungstenite::tungstenite::Message,
            tokio_tungstenite::tungstenite::Error,
        >,
    > + Unpin
         ),
) -> Value {
    use futures_util::StreamExt as _;
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("an event in time")
            .expect("the socket is open")
            .expect("a WebSocket frame");
        // Keepalive pings (answered by tungstenite itself) are no events.
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Waits (at most 10 s) until `condition` holds: for what the server
/// learns from the store once a second (`simul user` runs in another
/// process).
pub async fn eventually<F: Future<Output = bool>>(what: &str, mut condition: impl FnMut() -> F) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !condition().await {
        assert!(std::time::Instant::now() < deadline, "not within 10 s: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// `GET path` with a bearer token; the answer's JSON (any status).
/// The texts of a history (`GET path`: 1:1 or n-way), oldest first.
pub async fn history_texts(server: &Server, path: &str, token: &str) -> Vec<String> {
    let history = get_json(server, path, token).await;
    let entries = history.as_array().expect("a history is a list");
    entries.iter().map(|m| m["text"].as_str().expect("a text").to_owned()).collect()
}

pub async fn get_json(server: &Server, path: &str, token: &str) -> Value {
    let answer = reqwest::Client::new().get(server.url(path)).bearer_auth(token).send().await;
    answer.unwrap().json().await.unwrap()
}

/// `method path` with a bearer token and an optional JSON body: the status
/// and the answer's JSON.
pub async fn request_json(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, server.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    (answer.status(), answer.json().await.unwrap())
}

/// `POST path` with a bearer token and a JSON body; the answer's JSON.
pub async fn post_json(server: &Server, path: &str, token: &str, body: &Value) -> Value {
    let answer =
        reqwest::Client::new().post(server.url(path)).bearer_auth(token).json(body).send().await;
    answer.unwrap().json().await.unwrap()
}

/// Waits for a web session to hear that a chat's members are `members`.
pub async fn next_members(events: &mut Events, members: &[&str]) {
    while next_of_type(events, "nway_members").await["members"] != json!(members) {}
}

/// Asks the web session to watch `user`.
pub async fn watch(events: &mut Events, user: &str) {
    use futures_util::SinkExt as _;
    let watch = json!({"type": "watch", "users": [user]}).to_string();
    events.send(tokio_tungstenite::tungstenite::Message::text(watch)).await.unwrap();
}

/// The next event of `kind` on a web session.
pub async fn next_of_type(events: &mut Events, kind: &str) -> Value {
    loop {
        let event = next_event(events).await;
        if event["type"] == kind {
            return event;
        }
    }
}

/// The next status event of `user` with `status`.
pub async fn next_status(events: &mut Events, user: &str, status: &str) -> Value {
    loop {
        let event = next_of_type(events, "status").await;
        if event["user"] == user && event["status"] == status {
            return event;
        }
    }
}
