//! The certificate of an https application: whether this machine's trust
//! store accepts it (the "Retrieve from port" step of WebSphere's signer
//! certificates, seed 001), its chain, and how to trust its signer.

use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, SignatureScheme};

use super::Findings;

/// How long the connection and the handshake may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The system's verifier, keeping the chain it was shown.
#[derive(Debug)]
struct Recording {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *self.chain.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = chain;
        self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Connects to `host:port`, reports whether the certificate is trusted and
/// shows its chain; `save` gets the chain as PEM.
pub(super) fn examine(findings: &mut Findings, host: &str, port: u16, save: Option<&Path>) {
    let (outcome, chain) = handshake(host, port);
    match outcome {
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
                "trust its signer: save the chain (--save-chain signer.pem), then on Debian `cp \
                 signer.pem /usr/local/share/ca-certificates/{host}.crt && update-ca-certificates`; \
                 in WebSphere the same step is Security ▸ SSL certificate and key management ▸ Key \
                 stores and certificates ▸ NodeDefaultTrustStore ▸ Signer certificates ▸ Retrieve \
                 from port ({host}, {port})"
            ),
        ),
    }
    for (n, certificate) in chain.iter().enumerate() {
        findings.note(&format!("certificate {n}: {}", describe(certificate)));
    }
    if let Some(file) = save.filter(|_| !chain.is_empty()) {
        let pem: String = chain.iter().map(pem_of).collect();
        match std::fs::write(file, pem) {
            Ok(()) => findings.note(&format!("chain written to {}", file.display())),
            Err(error) => findings.note(&format!("cannot write {}: {error}", file.display())),
        }
    }
}

fn handshake(host: &str, port: u16) -> (Result<(), String>, Vec<CertificateDer<'static>>) {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(certificate);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = match rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    {
        Ok(inner) => inner,
        Err(error) => return (Err(format!("the system trust store is unusable: {error}")), vec![]),
    };
    let recording = Arc::new(Recording { inner, chain: Mutex::new(Vec::new()) });
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(builder) => builder
            .dangerous()
            .with_custom_certificate_verifier(recording.clone())
            .with_no_client_auth(),
        Err(error) => return (Err(error.to_string()), vec![]),
    };
    let outcome = connect(config, host, port);
    let chain = recording.chain.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    (outcome, chain)
}

fn connect(config: rustls::ClientConfig, host: &str, port: u16) -> Result<(), String> {
    let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
    let mut connection =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let address = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let mut socket = TcpStream::connect_timeout(&address, TIMEOUT).map_err(|e| e.to_string())?;
    socket.set_read_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
    socket.set_write_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
    while connection.is_handshaking() {
        connection.complete_io(&mut socket).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Subject, issuer and validity, for a person to read.
fn describe(certificate: &CertificateDer<'_>) -> String {
    match x509_parser::parse_x509_certificate(certificate.as_ref()) {
        Ok((_, parsed)) => format!(
            "subject {}; issuer {}; valid {} to {}",
            parsed.subject(),
            parsed.issuer(),
            parsed.validity().not_before,
            parsed.validity().not_after
        ),
        Err(_) => "(not a certificate Simul can read)".to_owned(),
    }
}

fn pem_of(certificate: &CertificateDer<'_>) -> String {
    use base64::Engine as _;
    let base64 = base64::engine::general_purpose::STANDARD.encode(certificate.as_ref());
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}
