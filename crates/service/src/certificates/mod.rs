//! The deployment's certificates, as the console's Certificates page and
//! `simul cert` / `simul trust` handle them: the server's certificate and
//! key (shown, imported and served without a restart), the signers
//! trusted for outgoing TLS, and "Retrieve from port". Every change is
//! written to the audit log.

mod live;
mod retrieve;
mod summary;
mod trust;
mod upload;

use std::path::PathBuf;

use ltpa::{Overwrite, secret_file};
use simul_store::Store;

pub use live::LiveCertificate;
pub use retrieve::{RETRIEVE_TIMEOUT, Retrieved, retrieve, system_roots};
pub use summary::{CertificateSummary, EXPIRY_WARNING_DAYS, bare_fingerprint, fingerprint, pem};
pub use trust::Signer;
pub use upload::{Upload, looks_like_pem};

use crate::{Actor, ServiceError};

/// Where the deployment keeps its certificates.
#[derive(Debug, Clone)]
pub struct CertificateDir {
    /// The server's certificate chain (PEM) the TLS listeners serve.
    pub certificate: PathBuf,
    /// Its private key (PEM, 0600).
    pub key: PathBuf,
    /// Whether the configuration names these files
    /// (`server.tls_certificate` and `server.tls_key`): they are the
    /// administrator's, and an import is refused.
    pub configured: bool,
    /// The directory of the added signers (`trust/`).
    pub trust: PathBuf,
}

/// The server's certificate as the listeners would serve it.
#[derive(Debug, Clone)]
pub struct ServerCertificate {
    /// The chain, the server's own certificate first.
    pub chain: Vec<CertificateSummary>,
    /// Where it comes from: `configured`, `self-signed` or `imported`.
    pub origin: &'static str,
    /// Its file.
    pub file: PathBuf,
}

/// The trust store: the signers added, and files that are not signers.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    /// The signers, by subject.
    pub signers: Vec<Signer>,
    /// Files of `trust/` that hold no certificate, with why.
    pub unreadable: Vec<String>,
}

/// The acts on the deployment's certificates, writing the audit log to
/// `store` and serving an import at once through `live` (the running
/// server's listeners; none for a command).
pub struct Certificates<'a> {
    store: &'a Store,
    dir: &'a CertificateDir,
    live: Option<&'a LiveCertificate>,
}

impl<'a> Certificates<'a> {
    /// The acts on the certificates of `dir`.
    pub fn new(
        store: &'a Store,
        dir: &'a CertificateDir,
        live: Option<&'a LiveCertificate>,
    ) -> Self {
        Self { store, dir, live }
    }

    /// Where the certificates are kept.
    pub fn dir(&self) -> &CertificateDir {
        self.dir
    }

    /// The server's certificate chain, described; none before a start
    /// with HTTPS or XMPP on made the self-signed one (or an import).
    pub fn server(&self) -> Result<Option<ServerCertificate>, ServiceError> {
        let file = &self.dir.certificate;
        if !self.dir.configured && !file.exists() {
            return Ok(None);
        }
        let bytes = std::fs::read(file)
            .map_err(|error| invalid(format!("cannot read {}: {error}", file.display())))?;
        let chain = rustls::pki_types::pem::PemObject::pem_slice_iter(&bytes)
            .map(|der: Result<rustls::pki_types::CertificateDer<'_>, _>| {
                der.map_err(|_| "damaged PEM".to_owned())
                    .and_then(|der| CertificateSummary::of(&der))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|why| invalid(format!("{}: {why}", file.display())))?;
        let Some(first) = chain.first() else {
            return Err(invalid(format!("{} holds no PEM certificate", file.display())));
        };
        let origin = match (self.dir.configured, first.self_signed) {
            (true, _) => "configured",
            (false, true) => "self-signed",
            (false, false) => "imported",
        };
        Ok(Some(ServerCertificate { chain, origin, file: file.clone() }))
    }

    /// Makes the uploaded pair the server's certificate: checked first
    /// (a damaged file, a wrong password, a key of another certificate
    /// are refused with a sentence and nothing changes), then written
    /// 0600 over the data directory's pair and served at once.
    pub async fn import(
        &self,
        actor: &Actor,
        upload: &Upload<'_>,
    ) -> Result<CertificateSummary, ServiceError> {
        if self.dir.configured {
            return Err(invalid(format!(
                "the configuration names the certificate files (server.tls_certificate = {}, \
                 server.tls_key = {}): replace those files, or remove both keys from the \
                 configuration to import certificates here",
                self.dir.certificate.display(),
                self.dir.key.display()
            )));
        }
        let pair = upload.read().map_err(|why| invalid(format!("{why}: nothing was changed")))?;
        let (chain, key) = pair.to_pem();
        // The key first: a listener that reads the pair between the two
        // writes finds a mismatch and keeps serving the old one.
        for (file, bytes) in
            [(&self.dir.key, key.as_bytes()), (&self.dir.certificate, chain.as_bytes())]
        {
            secret_file::write(file, bytes, Overwrite::Replace)
                .map_err(|error| invalid(format!("cannot write {}: {error}", file.display())))?;
        }
        if let Some(live) = self.live {
            live.reload().map_err(|why| invalid(format!("the new pair does not serve: {why}")))?;
        }
        record(self.store, actor, "import-certificate", &pair.summary).await?;
        Ok(pair.summary)
    }

    /// The signers added to the trust store.
    pub fn trust_store(&self) -> Result<TrustStore, ServiceError> {
        let (signers, unreadable) = trust::list(&self.dir.trust).map_err(invalid)?;
        Ok(TrustStore { signers, unreadable })
    }

    /// Trusts the certificate in `bytes` (PEM or DER) as a signer.
    pub async fn add_signer(
        &self,
        actor: &Actor,
        bytes: &[u8],
    ) -> Result<CertificateSummary, ServiceError> {
        let der = trust::certificate_of(bytes)
            .map_err(|why| invalid(format!("{why}: nothing was changed")))?;
        let signer = trust::add(&self.dir.trust, &der).map_err(invalid)?;
        record(self.store, actor, "trust-signer", &signer.summary).await?;
        Ok(signer.summary)
    }

    /// Stops trusting the signer whose fingerprint is (or starts with) `fingerprint`.
    pub async fn remove_signer(
        &self,
        actor: &Actor,
        fingerprint: &str,
    ) -> Result<CertificateSummary, ServiceError> {
        let signer = trust::remove(&self.dir.trust, fingerprint).map_err(invalid)?;
        record(self.store, actor, "untrust-signer", &signer.summary).await?;
        Ok(signer.summary)
    }

    /// The roots Simul's outgoing TLS trusts: the system's and the added signers.
    pub fn roots(&self) -> rustls::RootCertStore {
        let mut roots = system_roots();
        for signer in trust::list(&self.dir.trust).map(|(s, _)| s).unwrap_or_default() {
            if let Ok(der) = rustls::pki_types::pem::PemObject::from_pem_file(&signer.file) {
                let der: rustls::pki_types::CertificateDer<'_> = der;
                let _ = roots.add(der);
            }
        }
        roots
    }

    /// Retrieves the chain `host:port` presents, judged by [`Self::roots`],
    /// within [`RETRIEVE_TIMEOUT`] (the blocking handshake runs beside the
    /// runtime).
    pub async fn retrieve(&self, host: &str, port: u16) -> Retrieved {
        let (host, roots) = (host.to_owned(), self.roots());
        let work = tokio::task::spawn_blocking(move || retrieve(&host, port, roots));
        match tokio::time::timeout(RETRIEVE_TIMEOUT * 2, work).await {
            Ok(Ok(retrieved)) => retrieved,
            _ => Retrieved {
                chain: vec![],
                verdict: Err(format!("no answer within {} s", RETRIEVE_TIMEOUT.as_secs() * 2)),
            },
        }
    }
}

/// "Retrieve from port"s an administrator may start a minute, and at once.
const RETRIEVALS_PER_MINUTE: u32 = 12;
const RETRIEVAL_BURST: u32 = 4;

pub(crate) fn retrieve_limits() -> crate::flood::UserLimit {
    crate::flood::UserLimit::per_minute(RETRIEVALS_PER_MINUTE, RETRIEVAL_BURST, |seconds| {
        format!("too many retrievals from ports; wait {seconds} s")
    })
}

fn invalid(why: String) -> ServiceError {
    ServiceError::Invalid(why)
}

/// The audit entry of a change: the certificate's subject and fingerprint.
async fn record(
    store: &Store,
    actor: &Actor,
    action: &str,
    certificate: &CertificateSummary,
) -> Result<(), ServiceError> {
    let target = format!("{} (SHA-256 {})", certificate.subject, certificate.sha256);
    crate::record_audit(store, actor, action, &target).await
}
