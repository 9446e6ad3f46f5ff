//! The HTTPS certificate: the configured one, or a self-signed one that the
//! first start creates, so `simul serve` answers on https out of the box.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use ltpa::{Overwrite, secret_file};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::ServerConfig;
use crate::data::DataDir;

/// The TLS configuration of the HTTPS listener, and where its certificate
/// came from (for the start-up message).
pub fn server_config(
    data: &DataDir,
    server: &ServerConfig,
) -> anyhow::Result<(Arc<rustls::ServerConfig>, String)> {
    let (certificate, key, origin) = match (&server.tls_certificate, &server.tls_key) {
        (Some(certificate), Some(key)) => {
            (certificate.clone(), key.clone(), format!("certificate {}", certificate.display()))
        }
        _ => {
            let (certificate, key) = data.self_signed_tls_paths();
            if !certificate.exists() || !key.exists() {
                generate(&certificate, &key, &server.domain)?;
                println!(
                    "Generated a self-signed HTTPS certificate for {} in {}; browsers will warn \
                     until you set server.tls_certificate and server.tls_key",
                    names(&server.domain).join(", "),
                    certificate.display()
                );
            }
            let origin = format!("self-signed certificate {}", certificate.display());
            (certificate, key, origin)
        }
    };
    let chain = CertificateDer::pem_file_iter(&certificate)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| {
            format!("cannot read the PEM certificate chain {}", certificate.display())
        })?;
    anyhow::ensure!(!chain.is_empty(), "{} holds no PEM certificate", certificate.display());
    let key = PrivateKeyDer::from_pem_file(&key)
        .with_context(|| format!("cannot read the PEM private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the HTTPS certificate and key do not belong together")?;
    // HTTP/1.1 only: WebSockets ride on it, and the API gains nothing from h2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), origin))
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
