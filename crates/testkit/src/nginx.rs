//! A real nginx (Debian's `nginx` package) as the reverse proxy in front of
//! Simul, as IBM HTTP Server or an F5 stands in front of Sametime: it
//! passes WebSocket upgrades and adds `X-Forwarded-For`,
//! `X-Forwarded-Proto` and `X-Forwarded-Host`.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long nginx gets to accept connections after the spawn.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running nginx on a free 127.0.0.1 port; stopped when dropped.
#[derive(Debug)]
pub struct Nginx {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

impl Nginx {
    /// Starts nginx proxying every path to `upstream` (`127.0.0.1:PORT`),
    /// as one process in the foreground with its own configuration, log
    /// and temporary files in a temporary directory.
    ///
    /// # Panics
    ///
    /// If nginx is not installed or does not come up; the message has its
    /// error log.
    pub fn start(upstream: &str) -> Nginx {
        let dir = tempfile::Builder::new()
            .prefix("simul-nginx-")
            .tempdir()
            .expect("create a temporary directory for nginx");
        let port = crate::closed_port();
        let root = dir.path().display().to_string();
        let config = dir.path().join("nginx.conf");
        fs::write(&config, configuration(&root, port, upstream)).expect("write nginx.conf");
        let binary = crate::tool("nginx");
        let child = Command::new(&binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {} (is the nginx package installed?): {e}", binary.display())
            });
        let mut nginx = Nginx { dir, child, port };
        let started = Instant::now();
        while !crate::accepts(port) {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!("nginx exited with {status}:\n{}", nginx.error_log());
            }
            if started.elapsed() > START_TIMEOUT {
                panic!("nginx did not listen within {START_TIMEOUT:?}:\n{}", nginx.error_log());
            }
            thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn error_log(&self) -> String {
        let path: PathBuf = self.dir.path().join("error.log");
        fs::read_to_string(path).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One process, no daemon, everything under `root`; WebSocket upgrades
/// passed on; the forwarding headers a real deployment sets.
fn configuration(root: &str, port: u16, upstream: &str) -> String {
    format!(
        "daemon off;
master_process off;
worker_processes 1;
error_log {root}/error.log warn;
pid {root}/nginx.pid;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
    upstream simul {{ server {upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://simul;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
        }}
    }}
}}
"
    )
}
