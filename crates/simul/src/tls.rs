//! The HTTPS certificate: the configured one, or a self-signed one that the
//! first start creates, so `simul serve` answers on https out of the box.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use ltpa::{Overwrite, secret_file};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use simul_service::certificates::{CertificateDir, CertificateSummary, LiveCertificate};

use crate::config::ServerConfig;
use crate::data::DataDir;

/// The TLS configuration of the HTTPS listener (the XMPP door takes it
/// too), serving the certificate the returned [`LiveCertificate`] holds
/// (an import swaps it while they run), and where it came from (for the
/// start-up message).
pub fn server_config(
    data: &DataDir,
    server: &ServerConfig,
) -> anyhow::Result<(Arc<rustls::ServerConfig>, Arc<LiveCertificate>, String)> {
    let (certificate, key, origin) = certificate_files(data, server)?;
    let live = Arc::new(LiveCertificate::load(&certificate, &key).map_err(anyhow::Error::msg)?);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(live.clone());
    // HTTP/1.1 only: WebSockets ride on it, and the API gains nothing from h2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    resume_by_ticket(&mut config)?;
    Ok((Arc::new(config), live, origin))
}

/// Lets clients resume their TLS sessions from a ticket they keep (RFC
/// 8446 §2.2), however many there are: rustls' default keeps the
/// sessions itself, 256 of them, which a community of thousands pushes
/// out long before anyone comes back, so every reconnection (a laptop
/// waking, an office's network back after a blip) paid a full handshake.
/// Tickets are sealed with keys that live in memory and rotate every 6
/// hours (a restart makes clients do one full handshake); rustls' two a
/// handshake are kept (a client that reconnects on several connections at
/// once resumes them all: one a handshake resumed fewer in
/// `simul-bench xmpp-logins`). Resumption keeps an ephemeral key exchange
/// (rustls resumes with PSK and (EC)DHE only) and no early data.
fn resume_by_ticket(config: &mut rustls::ServerConfig) -> anyhow::Result<()> {
    config.ticketer = rustls::crypto::ring::Ticketer::new()
        .map_err(|error| anyhow::anyhow!("TLS session tickets: {error}"))?;
    Ok(())
}

/// Where the deployment keeps its certificates: the pair the listeners
/// serve (the configured one, else the data directory's, which the first
/// start makes self-signed) and the trust store.
pub fn certificate_dir(data: &DataDir, server: &ServerConfig) -> CertificateDir {
    let (configured, (certificate, key)) = match (&server.tls_certificate, &server.tls_key) {
        (Some(certificate), Some(key)) => (true, (certificate.clone(), key.clone())),
        _ => (false, data.self_signed_tls_paths()),
    };
    CertificateDir { certificate, key, configured, trust: data.trust_dir() }
}

/// The certificate and key files the TLS listeners use, and where they
/// came from: the configured ones, or the data directory's (made
/// self-signed on the first start, or imported since).
fn certificate_files(
    data: &DataDir,
    server: &ServerConfig,
) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf, String)> {
    let CertificateDir { certificate, key, configured, .. } = certificate_dir(data, server);
    if configured {
        let origin = format!("certificate {}", certificate.display());
        return Ok((certificate, key, origin));
    }
    if !certificate.exists() || !key.exists() {
        generate(&certificate, &key, &server.domain)?;
        println!(
            "Generated a self-signed HTTPS certificate for {} in {}; browsers will warn until \
             you import one (simul cert import, or the console's Certificates page)",
            names(&server.domain).join(", "),
            certificate.display()
        );
    }
    let origin = format!("certificate {} of the data directory", certificate.display());
    Ok((certificate, key, origin))
}

/// The first certificate of the PEM file `file`.
fn first_certificate(file: &Path) -> anyhow::Result<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(file)
        .and_then(|mut certs| certs.next().transpose())
        .with_context(|| format!("cannot read the PEM certificate {}", file.display()))?
        .with_context(|| format!("{} holds no PEM certificate", file.display()))
}

/// `der`, read from `file`, as X.509.
fn parsed<'a>(
    der: &'a CertificateDer<'_>,
    file: &Path,
) -> anyhow::Result<x509_parser::certificate::X509Certificate<'a>> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(|error| {
        anyhow::anyhow!("{} is not an X.509 certificate: {error}", file.display())
    })?;
    Ok(certificate)
}

/// The names a PEM certificate (the first of a chain) is for: its
/// subject alternative names (DNS names and IP addresses), else its
/// common name, as a browser checks them.
pub fn certificate_names(file: &Path) -> anyhow::Result<Vec<String>> {
    let der = first_certificate(file)?;
    let certificate = parsed(&der, file)?;
    let mut names = CertificateSummary::of(&der).map_err(anyhow::Error::msg)?.names;
    if names.is_empty() {
        let common = certificate.subject().iter_common_name();
        names.extend(common.filter_map(|cn| cn.as_str().ok().map(str::to_owned)));
    }
    Ok(names)
}

/// Whether a certificate name covers `host`: equal in any case, or a
/// wildcard (`*.example.com`) for exactly one more label, as browsers match.
pub fn name_matches(name: &str, host: &str) -> bool {
    let (name, host) = (name.to_ascii_lowercase(), host.trim_end_matches('.').to_ascii_lowercase());
    match name.strip_prefix("*.") {
        Some(parent) => {
            host.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest == parent)
        }
        None => name == host,
    }
}

/// The names a self-signed certificate covers.
fn names(domain: &str) -> Vec<String> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    if !names.iter().any(|n| n == domain) {
        names.insert(0, domain.to_owned());
    }
    names
}

fn generate(certificate: &Path, key: &Path, domain: &str) -> anyhow::Result<()> {
    let mut params = rcgen::CertificateParams::new(names(domain))
        .context("cannot make a certificate for these names")?;
    params.distinguished_name.push(rcgen::DnType::CommonName, format!("Simul {domain}"));
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Simul (self-signed)");
    let signing_key = rcgen::KeyPair::generate().context("cannot generate a key pair")?;
    let generated =
        params.self_signed(&signing_key).context("cannot sign the self-signed certificate")?;
    secret_file::write(key, signing_key.serialize_pem().as_bytes(), Overwrite::Replace)
        .with_context(|| format!("cannot write {}", key.display()))?;
    // Public, but every file of the data directory is the owner's only.
    secret_file::write(certificate, generated.pem().as_bytes(), Overwrite::Replace)
        .with_context(|| format!("cannot write {}", certificate.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_matches("chat.example.com", "Chat.Example.com"));
        assert!(name_matches("*.example.com", "chat.example.com"));
        assert!(!name_matches("*.example.com", "a.chat.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(!name_matches("chat.example.com", "example.com"));
    }

    #[test]
    fn names_come_from_the_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let (certificate, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        generate(&certificate, &key, "chat.example.com").unwrap();
        let names = certificate_names(&certificate).unwrap();
        assert_eq!(names, ["chat.example.com", "localhost", "127.0.0.1", "::1"]);
    }
}
