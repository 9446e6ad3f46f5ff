//! The server's certificate and the trust store on the real binary:
//! `simul cert import` of PEM and PKCS#12 files made by the openssl
//! command (and refused, with a sentence and nothing changed, when
//! damaged, under another password or with another certificate's key);
//! the running HTTPS and XMPP listeners serving an import without a
//! restart, and after one; `simul trust retrieve|add|list|remove` against the
//! server's own TLS port; the Certificates page doing the same through
//! its forms. Every route is also in `tests/console.rs`'s walk.

use crate::support;

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION};
use support::console::{client, console_deployment, csrf_of, page};
use support::files::{BOUNDARY, Part, form};
use support::{Server, log_in, simul};

/// The administrator's password (support's deployments use it for all).
const PASSWORD: &str = "long enough";

/// Runs openssl in `dir`; panics with its error output if it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// In `dir`: a CA (`ca.pem`), a server certificate for localhost that it
/// signed (`server.pem`, key `server.key`), the chain (`chain.pem`),
/// the same as PKCS#12 under the password `p12 secret` (`server.p12`),
/// and a key of no certificate (`other.key`).
fn make_certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let mut ca = vec!["req", "-x509", "-days", "30", "-subj", "/CN=Test Signing CA/O=Acme"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
    ]);
    openssl(dir, &ca);
    let mut request = vec!["req", "-subj", "/CN=localhost/O=Acme"];
    request.extend(ec);
    request.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(dir, &request);
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-days",
            "300",
            "-extfile",
            "san.ext",
            "-out",
            "server.pem",
        ],
    );
    let chain = [
        std::fs::read(dir.join("server.pem")).unwrap(),
        std::fs::read(dir.join("ca.pem")).unwrap(),
    ];
    std::fs::write(dir.join("chain.pem"), chain.concat()).unwrap();
    openssl(
        dir,
        &[
            "pkcs12",
            "-export",
            "-in",
            "server.pem",
            "-inkey",
            "server.key",
            "-certfile",
            "ca.pem",
            "-passout",
            "pass:p12 secret",
            "-out",
            "server.p12",
        ],
    );
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "other.key",
        ],
    );
    openssl(
        dir,
        &["pkey", "-in", "server.key", "-aes256", "-passout", "pass:locked", "-out", "locked.key"],
    );
    std::fs::write(dir.join("p12.pw"), "p12 secret\n").unwrap();
    std::fs::write(dir.join("wrong.pw"), "not the password\n").unwrap();
    std::fs::write(
        dir.join("garbage.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    std::fs::write(dir.join("garbage.p12"), [0x30u8, 0x82, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef])
        .unwrap();
}

/// The SHA-256 fingerprint openssl gives a PEM certificate (`AB:CD:…`).
fn fingerprint(dir: &Path, file: &str) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in", file])
        .current_dir(dir)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim().rsplit('=').next().unwrap().to_owned()
}

/// `simul ARGS` in `dir`, expected to succeed: its standard output.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = simul(dir, args);
    assert!(out.status.success(), "simul {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// `simul ARGS` in `dir`, expected to be refused: its error output.
fn refused(dir: &Path, args: &[&str]) -> String {
    let out = simul(dir, args);
    assert_eq!(out.status.code(), Some(2), "simul {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

/// The `host:port` of the server's HTTPS listener.
fn https_address(server: &Server) -> String {
    server.https_base.as_deref().unwrap().trim_start_matches("https://").to_owned()
}

/// The audit log's actions, newest first.
fn audited(dir: &Path) -> Vec<String> {
    let out = ok(dir, &["audit", "--json", "--data", "data"]);
    let entries: serde_json::Value = serde_json::from_str(&out).unwrap();
    entries.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn imports_are_checked_served_at_once_and_kept() {
    let dir = console_deployment();
    let root = dir.path();
    make_certificates(root);
    let xmpp = [("SIMUL_XMPP__LISTEN", "127.0.0.1:0"), ("SIMUL_XMPP__LISTEN_TLS", "127.0.0.1:0")];
    let server = Server::start_with(&root.join("data"), true, &xmpp);
    let address = https_address(&server);
    let (_, direct_tls) = support::xmpp::xmpp_addresses(&server);
    let shown = ok(root, &["cert", "show", "--data", "data"]);
    assert!(shown.contains("(self-signed)"), "{shown}");
    let before = std::fs::read(root.join("data/tls-certificate.pem")).unwrap();

    // Each bad upload is one sentence, and nothing changes.
    for (args, sentence) in [
        (vec!["garbage.pem"], "damaged PEM"),
        (vec!["garbage.p12", "--password-file", "p12.pw"], "neither PEM nor PKCS#12"),
        (
            vec!["server.p12", "--password-file", "wrong.pw"],
            "the password does not open this PKCS#12 file",
        ),
        (vec!["server.key"], "holds a private key but no certificate"),
        (vec!["server.pem"], "holds no private key"),
        (
            vec!["server.pem", "--key", "other.key"],
            "the private key does not belong to the certificate",
        ),
        (
            vec!["server.pem", "--key", "ca.pem"],
            "the key file holds a certificate, not a private key",
        ),
        (vec!["server.pem", "--key", "locked.key"], "the private key is encrypted"),
    ] {
        let mut all = vec!["cert", "import"];
        all.extend(&args);
        all.extend(["--data", "data"]);
        let error = refused(root, &all);
        assert!(error.contains(sentence), "{args:?}: {error}");
        assert!(error.contains("nothing was changed"), "{args:?}: {error}");
        assert_eq!(error.trim().lines().count(), 1, "one sentence: {error}");
    }
    assert_eq!(std::fs::read(root.join("data/tls-certificate.pem")).unwrap(), before);

    // The running listener is not trusted by anyone yet; retrieving shows its chain.
    let server_fingerprint = fingerprint(root, "server.pem");
    let imported =
        ok(root, &["cert", "import", "server.p12", "--password-file", "p12.pw", "--data", "data"]);
    assert!(imported.contains(&server_fingerprint), "{imported}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(root.join("data/tls-key.pem")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let retrieve = ["trust", "retrieve", address.as_str(), "--data", "data"];
    let served = eventually_prints(root, &retrieve, &server_fingerprint).await;
    assert!(served.contains(&server_fingerprint), "the new certificate is served: {served}");
    // The XMPP door serves the same certificate, swapped too.
    let xmpp_served = ok(root, &["trust", "retrieve", &direct_tls.to_string(), "--data", "data"]);
    assert!(xmpp_served.contains(&server_fingerprint), "{xmpp_served}");
    assert!(served.contains("not trusted yet"), "{served}");
    assert!(served.contains("Nothing was added: run again with --yes"), "{served}");

    // Trust its signer (the CA at the top of the chain): now it is trusted.
    let ca_fingerprint = fingerprint(root, "ca.pem");
    let added = ok(root, &["trust", "retrieve", &address, "--yes", "--data", "data"]);
    assert!(added.contains(&format!("SHA-256 {ca_fingerprint}")), "{added}");
    let listed = ok(root, &["trust", "list", "--data", "data"]);
    assert!(listed.contains(&ca_fingerprint) && listed.contains("Test Signing CA"), "{listed}");
    let again = ok(root, &["trust", "retrieve", &address, "--data", "data"]);
    assert!(again.contains("is trusted already"), "{again}");
    assert!(
        refused(root, &["trust", "add", "ca.pem", "--data", "data"]).contains("trusted already")
    );
    assert!(
        refused(root, &["trust", "add", "server.key", "--data", "data"])
            .contains("private key, not a certificate")
    );

    // After a restart the imported pair is served still.
    server.terminate();
    let server = Server::start_with(&root.join("data"), true, &[]);
    let shown = ok(root, &["cert", "show", "--data", "data"]);
    assert!(shown.contains("(imported)"), "{shown}");
    let after = ok(root, &["trust", "retrieve", &https_address(&server), "--data", "data"]);
    assert!(after.contains(&server_fingerprint) && after.contains("trusted already"), "{after}");

    // PEM with the key beside it (the same pair) imports too.
    let pem = ok(root, &["cert", "import", "chain.pem", "--key", "server.key", "--data", "data"]);
    assert!(pem.contains(&server_fingerprint), "{pem}");
    let shown = ok(root, &["cert", "show", "--data", "data"]);
    assert!(shown.contains("certificate 1:") && shown.contains("Test Signing CA"), "{shown}");

    let removed = ok(root, &["trust", "remove", &ca_fingerprint[..11], "--data", "data"]);
    assert!(removed.contains("No longer trusted"), "{removed}");
    assert!(ok(root, &["trust", "list", "--data", "data"]).contains("No signers added"));
    let actions = audited(root);
    for action in ["import-certificate", "trust-signer", "untrust-signer"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
}

/// Runs `simul ARGS` every 200 ms (at most 10 s) until its output holds `needle`.
async fn eventually_prints(dir: &Path, args: &[&str], needle: &str) -> String {
    let mut printed = String::new();
    for _ in 0..50 {
        printed = ok(dir, args);
        if printed.contains(needle) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    printed
}

/// The configured files are the administrator's: no import over them,
/// but a renewal written over them is served without a restart.
#[tokio::test]
async fn a_configured_certificate_is_not_replaced_but_followed() {
    let dir = console_deployment();
    let root = dir.path();
    make_certificates(root);
    let config = root.join("simul.toml");
    let text = format!(
        "data = {:?}\n[server]\ntls_certificate = {:?}\ntls_key = {:?}\n",
        root.join("data"),
        root.join("chain.pem"),
        root.join("server.key")
    );
    std::fs::write(&config, text).unwrap();
    let config = config.display().to_string();
    let shown = ok(root, &["cert", "show", "--config", &config]);
    assert!(shown.contains("(configured)") && shown.contains("Test Signing CA"), "{shown}");
    let error =
        refused(root, &["cert", "import", "chain.pem", "--key", "server.key", "--config", &config]);
    assert!(
        error.contains("server.tls_certificate") && error.contains("server.tls_key"),
        "{error}"
    );

    let tls = [("SIMUL_XMPP__LISTEN_TLS", "127.0.0.1:0"), ("SIMUL_XMPP__LISTEN", "127.0.0.1:0")];
    let server = Server::start_configured_with(&root.join("data"), Path::new(&config), &tls);
    let (_, direct_tls) = support::xmpp::xmpp_addresses(&server);
    let address = direct_tls.to_string();
    let retrieve = ["trust", "retrieve", address.as_str(), "--config", config.as_str()];
    let served = ok(root, &retrieve);
    assert!(served.contains(&fingerprint(root, "server.pem")), "{served}");
    // A renewal (certbot, say) writes a new pair over the files.
    openssl(
        root,
        &[
            "req",
            "-x509",
            "-days",
            "90",
            "-subj",
            "/CN=localhost",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "chain.pem",
        ],
    );
    let renewed = fingerprint(root, "chain.pem");
    let served = eventually_prints(root, &retrieve, &renewed).await;
    assert!(served.contains(&renewed), "the renewed pair is served: {served}");
}

/// Posts a multipart console form; the status and where it sends the
/// browser (or the page).
async fn post_form(
    server: &Server,
    path: &str,
    token: &str,
    parts: &[Part<'_>],
) -> (StatusCode, String) {
    let response = client()
        .post(server.url(path))
        .header(COOKIE, format!("LtpaToken2={token}"))
        .header(CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(form(parts))
        .send()
        .await
        .unwrap();
    let status = response.status();
    match response.headers().get(LOCATION) {
        Some(location) => (status, location.to_str().unwrap().to_owned()),
        None => (status, response.text().await.unwrap()),
    }
}

#[tokio::test]
async fn the_page_imports_retrieves_and_trusts() {
    let dir = console_deployment();
    let root = dir.path();
    make_certificates(root);
    let server = Server::start_with(&root.join("data"), true, &[]);
    let (token, _) = log_in(&server, "boss", PASSWORD).await;
    let shown = page(&server, "/console/certificates", &token).await;
    assert!(shown.contains("self-signed") && shown.contains("Import a certificate"), "{shown}");
    let csrf = csrf_of(&shown);
    let p12 = std::fs::read(root.join("server.p12")).unwrap();

    // The administrator's own password first; then the file's.
    for (admin, password, sentence) in [
        ("wrong", "p12 secret", "Your own password was wrong: nothing was changed."),
        (PASSWORD, "wrong", "The password does not open this PKCS#12 file: nothing was changed."),
    ] {
        let parts = [
            Part::Text("csrf", &csrf),
            Part::Text("admin_password", admin),
            Part::Text("password", password),
            Part::File("file", "application/x-pkcs12", &p12),
        ];
        let (status, body) =
            post_form(&server, "/console/certificates/import", &token, &parts).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains(sentence), "{body}");
    }
    let parts = [
        Part::Text("csrf", &csrf),
        Part::Text("admin_password", PASSWORD),
        Part::Text("password", "p12 secret"),
        Part::File("file", "application/x-pkcs12", &p12),
    ];
    let (status, location) =
        post_form(&server, "/console/certificates/import", &token, &parts).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/console/certificates?done=imported")
    );
    let shown = page(&server, "/console/certificates?done=imported", &token).await;
    assert!(
        shown.contains("imported") && shown.contains(&fingerprint(root, "server.pem")),
        "{shown}"
    );

    // Retrieve from the server's own HTTPS port; add its signer.
    let (host, port) =
        https_address(&server).rsplit_once(':').map(|(h, p)| (h.to_owned(), p.to_owned())).unwrap();
    let parts = [Part::Text("csrf", &csrf), Part::Text("host", &host), Part::Text("port", &port)];
    let (status, body) = post_form(&server, "/console/certificates/retrieve", &token, &parts).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("is not trusted yet") && body.contains(&fingerprint(root, "ca.pem")),
        "{body}"
    );
    let start = body.find("name=\"certificate\" value=\"").unwrap() + 26;
    let signer = body[start..].split('"').next().unwrap().replace("&#10;", "\n");
    let parts = [
        Part::Text("csrf", &csrf),
        Part::Text("admin_password", PASSWORD),
        Part::Text("certificate", &signer),
    ];
    let (status, location) =
        post_form(&server, "/console/certificates/trust/add", &token, &parts).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/console/certificates?done=trusted")
    );
    let shown = page(&server, "/console/certificates", &token).await;
    assert!(
        shown.contains("data-testid=\"signers\"") && shown.contains("Test Signing CA"),
        "{shown}"
    );

    // A port with no TLS: a sentence, nothing to add.
    let plain = server.base.trim_start_matches("http://").rsplit_once(':').unwrap().1.to_owned();
    let parts =
        [Part::Text("csrf", &csrf), Part::Text("host", "127.0.0.1"), Part::Text("port", &plain)];
    let (_, body) = post_form(&server, "/console/certificates/retrieve", &token, &parts).await;
    assert!(body.contains("No TLS answer from 127.0.0.1"), "{body}");

    let parts = [
        Part::Text("csrf", &csrf),
        Part::Text("admin_password", PASSWORD),
        Part::Text("fingerprint", &fingerprint(root, "ca.pem")),
    ];
    let (_, location) =
        post_form(&server, "/console/certificates/trust/remove", &token, &parts).await;
    assert_eq!(location, "/console/certificates?done=untrusted");
    assert!(page(&server, "/console/certificates", &token).await.contains("No signers added."));

    // Retrieving connects anywhere the server reaches: a few a minute only.
    let mut limited = String::new();
    for _ in 0..5 {
        let parts =
            [Part::Text("csrf", &csrf), Part::Text("host", &host), Part::Text("port", &port)];
        let (_, body) = post_form(&server, "/console/certificates/retrieve", &token, &parts).await;
        if body.contains("Too many retrievals from ports") {
            limited = body;
            break;
        }
    }
    assert!(!limited.is_empty(), "retrievals are limited");
}
