//! Running Simul as a service: systemd's readiness protocol, and the unit
//! and configuration files in `packaging/` as systemd and Simul read them.

use crate::support;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{SIMUL, Server, simul};

fn packaging(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging").join(file)
}

fn next_notification(socket: &UnixDatagram) -> String {
    let mut buffer = [0u8; 512];
    let length = socket.recv(&mut buffer).expect("a notification within 10 s");
    String::from_utf8_lossy(&buffer[..length]).into_owned()
}

#[test]
fn serve_tells_systemd_when_it_is_ready_and_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let server = Server::start_with(
        &dir.path().join("data"),
        false,
        &[("NOTIFY_SOCKET", path.to_str().unwrap())],
    );
    assert_eq!(next_notification(&socket), "READY=1\n");
    // Ready means ready: the listener answers.
    let health = std::net::TcpStream::connect(server.url("").trim_start_matches("http://"));
    assert!(health.is_ok());
    assert!(server.terminate().success());
    assert_eq!(next_notification(&socket), "STOPPING=1\n");
}

#[test]
fn the_systemd_unit_verifies_without_a_complaint() {
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(packaging("simul.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/simul serve --config /etc/simul/simul.toml"));
    // systemd checks that the program exists: this build's stands in.
    let unit = unit.replace("/usr/local/bin/simul", SIMUL);
    let path = dir.path().join("simul.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze (Debian's systemd package; scripts/test installs it)");
    let complaints = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && complaints.trim().is_empty(), "{complaints}");
}

#[test]
fn the_packaged_configuration_and_the_container_settings_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let config = packaging("simul.toml");
    let out = simul(dir.path(), &["config", "check", "--config", config.to_str().unwrap()]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("data = \"/var/lib/simul\""), "{printed}");

    // The variables the Dockerfile sets (and shows in its `docker run`)
    // are configuration keys.
    let dockerfile = std::fs::read_to_string(packaging("../Dockerfile")).unwrap();
    let variables: Vec<(String, String)> = dockerfile
        .split_whitespace()
        .filter_map(|word| word.strip_prefix("SIMUL_"))
        .filter_map(|setting| setting.split_once('='))
        .map(|(name, value)| (format!("SIMUL_{name}"), value.to_owned()))
        .collect();
    assert!(variables.iter().any(|(name, _)| name == "SIMUL_DATA"), "{variables:?}");
    let out = Command::new(SIMUL)
        .args(["config", "check"])
        .current_dir(dir.path())
        .envs(variables)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("http = \"0.0.0.0:8080\""), "{printed}");
}
