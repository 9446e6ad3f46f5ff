//! The HTTPS certificate: the configured one, or a self-signed one that the
//! first start creates, so `simul serve` answers on https out of the box.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use ltpa::{Overwrite, secret_file};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use x509_parser::extensions::GeneralName;

use crate::config::ServerConfig;
use crate::data::DataDir;

/// The TLS configuration of the HTTPS listener, and where its certificate
/// came from (for the start-up message).
pub fn server_config(
    data: &DataDir,
    server: &ServerConfig,
) -> anyhow::Result<(Arc<rustls::ServerConfig>, String)> {
    let (certificate, key, origin) = certificate_files(data, server)?;
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

/// The certificate and key files the TLS listeners use, and where they
/// came from: the configured ones, or the self-signed ones (made on the
/// first start).
fn certificate_files(
    data: &DataDir,
    server: &ServerConfig,
) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf, String)> {
    Ok(match (&server.tls_certificate, &server.tls_key) {
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
    })
}

/// The `tls-server-end-point` channel binding of the TLS listeners (RFC
/// 5929 §4.1): the hash of their certificate, with the hash of its
/// signature algorithm, SHA-256 for MD5, SHA-1 and any other. The
/// certificate is read once at start, as the listeners read it.
pub fn server_end_point(data: &DataDir, server: &ServerConfig) -> anyhow::Result<Vec<u8>> {
    use sha2::Digest as _;
    use x509_parser::oid_registry::{
        OID_PKCS1_SHA384WITHRSA, OID_PKCS1_SHA512WITHRSA, OID_SIG_ECDSA_WITH_SHA384,
        OID_SIG_ECDSA_WITH_SHA512,
    };
    let (file, _, _) = certificate_files(data, server)?;
    let der = first_certificate(&file)?;
    let certificate = parsed(&der, &file)?;
    let algorithm = &certificate.signature_algorithm.algorithm;
    Ok(if [OID_PKCS1_SHA384WITHRSA, OID_SIG_ECDSA_WITH_SHA384].contains(algorithm) {
        sha2::Sha384::digest(der.as_ref()).to_vec()
    } else if [OID_PKCS1_SHA512WITHRSA, OID_SIG_ECDSA_WITH_SHA512].contains(algorithm) {
        sha2::Sha512::digest(der.as_ref()).to_vec()
    } else {
        sha2::Sha256::digest(der.as_ref()).to_vec()
    })
}

/// Where the TLS listeners' certificate comes from and when it expires
/// (the console's overview).
pub fn certificate_expiry(
    data: &DataDir,
    server: &ServerConfig,
) -> anyhow::Result<(String, chrono::DateTime<chrono::Utc>)> {
    let (file, _, origin) = certificate_files(data, server)?;
    let der = first_certificate(&file)?;
    let certificate = parsed(&der, &file)?;
    let seconds = certificate.validity().not_after.timestamp();
    let not_after = chrono::DateTime::from_timestamp(seconds, 0)
        .with_context(|| format!("{} expires at an impossible time", file.display()))?;
    Ok((origin, not_after))
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
    let mut names = Vec::new();
    if let Ok(Some(alternatives)) = certificate.subject_alternative_name() {
        for name in &alternatives.value.general_names {
            match name {
                GeneralName::DNSName(dns) => names.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => names.extend(ip_address(bytes)),
                _ => {}
            }
        }
    }
    if names.is_empty() {
        let common = certificate.subject().iter_common_name();
        names.extend(common.filter_map(|cn| cn.as_str().ok().map(str::to_owned)));
    }
    Ok(names)
}

/// An IP address of a certificate (4 or 16 bytes) as text.
fn ip_address(bytes: &[u8]) -> Option<String> {
    let address: std::net::IpAddr = match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok()?.into(),
        16 => <[u8; 16]>::try_from(bytes).ok()?.into(),
        _ => return None,
    };
    Some(address.to_string())
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
