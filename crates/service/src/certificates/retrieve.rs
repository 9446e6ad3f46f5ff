//! "Retrieve from port" (WebSphere's signer certificates): connect to an
//! https (or any TLS) port, keep the chain it presents whether or not it
//! is trusted, and say whether the given roots trust it.

use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, SignatureScheme};

/// How long the connection and the handshake may take, each.
pub const RETRIEVE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a port presented.
#[derive(Debug, Clone)]
pub struct Retrieved {
    /// The chain, the server's own certificate first (empty when no
    /// handshake got that far).
    pub chain: Vec<CertificateDer<'static>>,
    /// Whether the roots trust it, else why not (or why nothing came).
    pub verdict: Result<(), String>,
}

impl Retrieved {
    /// The certificate to trust: the top of the chain (the CA, or the
    /// self-signed certificate itself).
    pub fn signer(&self) -> Option<&CertificateDer<'static>> {
        self.chain.last()
    }
}

/// The roots of this machine's trust store.
pub fn system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_native_certs::load_native_certs().certs {
        // A system certificate rustls cannot use is simply not trusted.
        let _ = roots.add(certificate);
    }
    roots
}

/// Connects to `host:port` (blocking, each step within
/// [`RETRIEVE_TIMEOUT`]) and keeps what it presents, judged by `roots`.
pub fn retrieve(host: &str, port: u16, roots: rustls::RootCertStore) -> Retrieved {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = match rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    {
        Ok(inner) => inner,
        Err(error) => {
            let verdict = Err(format!("the trust store is unusable: {error}"));
            return Retrieved { chain: vec![], verdict };
        }
    };
    let recording = Arc::new(Recording { inner, chain: Mutex::new(Vec::new()) });
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(builder) => builder
            .dangerous()
            .with_custom_certificate_verifier(recording.clone())
            .with_no_client_auth(),
        Err(error) => return Retrieved { chain: vec![], verdict: Err(error.to_string()) },
    };
    let verdict = connect(config, host, port);
    let chain = recording.chain.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    Retrieved { chain, verdict }
}

/// A verifier that keeps the chain it was shown, then judges it.
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

fn connect(config: rustls::ClientConfig, host: &str, port: u16) -> Result<(), String> {
    let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
    let mut connection =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let address = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let mut socket =
        TcpStream::connect_timeout(&address, RETRIEVE_TIMEOUT).map_err(|e| e.to_string())?;
    socket.set_read_timeout(Some(RETRIEVE_TIMEOUT)).map_err(|e| e.to_string())?;
    socket.set_write_timeout(Some(RETRIEVE_TIMEOUT)).map_err(|e| e.to_string())?;
    // A port that trickles bytes would hold each read just under the
    // timeout: the handshake as a whole has one too.
    let started = std::time::Instant::now();
    while connection.is_handshaking() {
        if started.elapsed() > RETRIEVE_TIMEOUT {
            return Err(format!("no TLS handshake within {} s", RETRIEVE_TIMEOUT.as_secs()));
        }
        connection.complete_io(&mut socket).map_err(|e| e.to_string())?;
    }
    Ok(())
}
