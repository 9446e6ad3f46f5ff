//! The server's life: HTTPS out of the box, and a clean stop on SIGTERM.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Server, deployment_with_names, events, log_in};

#[tokio::test(flavor = "multi_thread")]
async fn https_uses_the_self_signed_certificate_and_serves_requires_ssl_deployments() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let data = dir.path().join("data");
    let server = Server::start_with(&data, true, &[("SIMUL_SSO__REQUIRES_SSL", "true")]);
    let certificate = std::fs::read(data.join("tls-certificate.pem")).unwrap();
    let key = data.join("tls-key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the private key is the owner's alone");
    }
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&certificate).unwrap())
        .build()
        .unwrap();
    // The certificate names localhost; the port is the one the server printed.
    let base = server.https_base.clone().unwrap().replace("127.0.0.1", "localhost");
    let credentials = json!({"user": "alice", "password": "long enough"});
    let login = https.post(format!("{base}/api/v1/login")).json(&credentials).send().await;
    let login = login.expect("the self-signed certificate verifies for localhost");
    assert_eq!(login.status(), StatusCode::OK);
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.starts_with("LtpaToken2=") && set_cookie.contains("; Secure"),
        "{set_cookie}"
    );

    // Over plain HTTP the same deployment refuses to hand out the cookie.
    let plain = reqwest::Client::new().post(server.url("/api/v1/login")).json(&credentials).send();
    let plain = plain.await.unwrap();
    assert_eq!(plain.status(), StatusCode::FORBIDDEN);
    let error = plain.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("requires HTTPS"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_server_cleanly_with_sessions_open() {
    let dir = deployment_with_names(&[("alice", "Alice")]);
    let server = Server::start_with(&dir.path().join("data"), true, &[]);
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let _socket = events(&server, &alice).await;
    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}
