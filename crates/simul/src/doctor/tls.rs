//! The certificate of an https application: whether this machine's trust
//! store accepts it (the "Retrieve from port" step of WebSphere's signer
//! certificates, seed 001, which `simul trust retrieve` shares), its
//! chain, and how to trust its signer.

use std::path::Path;

use rustls::pki_types::CertificateDer;
use simul_service::certificates::{CertificateSummary, pem, retrieve, system_roots};

use super::Findings;

/// Connects to `host:port`, reports whether the certificate is trusted and
/// shows its chain; `save` gets the chain as PEM.
pub(super) fn examine(findings: &mut Findings, host: &str, port: u16, save: Option<&Path>) {
    let retrieved = retrieve(host, port, system_roots());
    let chain = &retrieved.chain;
    match retrieved.verdict {
        Ok(()) => findings.ok(&format!(
            "the certificate of {host}:{port} is trusted by this machine's trust store"
        )),
        Err(error) if chain.is_empty() => findings.problem(
            &format!("no TLS answer from {host}:{port}: {error}"),
            "check the host name and port, and that the application listens for https there",
        ),
        Err(error) => findings.problem(
            &format!("the certificate of {host}:{port} is not trusted here: {error}"),
            &format!(
                "trust its signer: for Simul's own connections (LDAP) `simul trust retrieve \
                 {host}:{port}`; for this machine, save the chain (--save-chain signer.pem), then \
                 on Debian `cp signer.pem /usr/local/share/ca-certificates/{host}.crt && \
                 update-ca-certificates`; in WebSphere the same step is Security ▸ SSL \
                 certificate and key management ▸ Key stores and certificates ▸ \
                 NodeDefaultTrustStore ▸ Signer certificates ▸ Retrieve from port ({host}, {port})"
            ),
        ),
    }
    for (n, certificate) in chain.iter().enumerate() {
        findings.note(&format!("certificate {n}: {}", describe(certificate)));
    }
    if let Some(file) = save.filter(|_| !chain.is_empty()) {
        let pem: String = chain.iter().map(|der| pem("CERTIFICATE", der)).collect();
        match std::fs::write(file, pem) {
            Ok(()) => findings.note(&format!("chain written to {}", file.display())),
            Err(error) => findings.note(&format!("cannot write {}: {error}", file.display())),
        }
    }
}

/// Subject, issuer and validity, for a person to read.
fn describe(certificate: &CertificateDer<'_>) -> String {
    match CertificateSummary::of(certificate) {
        Ok(summary) => format!(
            "subject {}; issuer {}; valid {} to {}; SHA-256 {}",
            summary.subject, summary.issuer, summary.not_before, summary.not_after, summary.sha256
        ),
        Err(_) => "(not a certificate Simul can read)".to_owned(),
    }
}
