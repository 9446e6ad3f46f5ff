//! The certificate the TLS listeners serve, swapped while they run: an
//! import (console or `simul cert import`) replaces the files, and the
//! listeners present the new pair from the next handshake on.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::upload::signing_pair;

/// How often the files are looked at for a change made by a command.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);

/// The listeners' certificate: the pair the files held when last read.
#[derive(Debug)]
pub struct LiveCertificate {
    certificate: PathBuf,
    key: PathBuf,
    current: RwLock<Loaded>,
}

/// A pair as read, with what tells a later change of its files.
#[derive(Debug, Clone)]
struct Loaded {
    certified: Arc<CertifiedKey>,
    end_point: Vec<u8>,
    stamp: (Option<SystemTime>, Option<SystemTime>),
}

impl LiveCertificate {
    /// The pair in these PEM files; fails with a sentence naming the file
    /// and the problem.
    pub fn load(certificate: &Path, key: &Path) -> Result<Self, String> {
        let loaded = read(certificate, key)?;
        Ok(Self {
            certificate: certificate.to_owned(),
            key: key.to_owned(),
            current: RwLock::new(loaded),
        })
    }

    /// Reads the files again and serves their pair from the next
    /// handshake on; a pair that does not load leaves the one in use.
    pub fn reload(&self) -> Result<(), String> {
        let loaded = read(&self.certificate, &self.key)?;
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = loaded;
        Ok(())
    }

    /// [`Self::reload`] if the files changed since they were read;
    /// whether they did.
    fn reload_if_changed(&self) -> Result<bool, String> {
        let stamp = (modified(&self.certificate), modified(&self.key));
        if self.loaded().stamp == stamp {
            return Ok(false);
        }
        self.reload().map(|()| true)
    }

    /// The `tls-server-end-point` channel binding of the certificate
    /// served now (RFC 5929 §4.1): its hash, with the hash of its
    /// signature algorithm, SHA-256 for MD5, SHA-1 and any other.
    pub fn server_end_point(&self) -> Vec<u8> {
        self.loaded().end_point
    }

    /// Looks at the files every two seconds and serves a changed pair
    /// (what `simul cert import` wrote while the server runs).
    pub async fn follow(self: Arc<Self>) {
        let mut tick = tokio::time::interval(FOLLOW_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tick.tick().await;
            match self.reload_if_changed() {
                Ok(true) => {
                    failing = false;
                    tracing::info!(file = %self.certificate.display(), "serving the new TLS certificate");
                }
                Ok(false) => failing = false,
                // Once a change: the files may be mid-write, and stay wrong.
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, "the TLS certificate files changed but do not load; the previous certificate stays");
                }
                Err(_) => {}
            }
        }
    }

    fn loaded(&self) -> Loaded {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

impl ResolvesServerCert for LiveCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .certified
                .clone(),
        )
    }
}

fn modified(file: &Path) -> Option<SystemTime> {
    std::fs::metadata(file).and_then(|meta| meta.modified()).ok()
}

fn read(certificate: &Path, key: &Path) -> Result<Loaded, String> {
    let stamp = (modified(certificate), modified(key));
    let chain = CertificateDer::pem_file_iter(certificate)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| {
            format!("cannot read the PEM certificate chain {}: {error}", certificate.display())
        })?;
    if chain.is_empty() {
        return Err(format!("{} holds no PEM certificate", certificate.display()));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|error| format!("cannot read the PEM private key {}: {error}", key.display()))?;
    let end_point = end_point(&chain[0]);
    let certified = signing_pair(chain, &private)
        .map_err(|why| format!("{} and {}: {why}", certificate.display(), key.display()))?;
    Ok(Loaded { certified, end_point, stamp })
}

fn end_point(der: &CertificateDer<'_>) -> Vec<u8> {
    use sha2::Digest as _;
    use x509_parser::oid_registry::{
        OID_PKCS1_SHA384WITHRSA, OID_PKCS1_SHA512WITHRSA, OID_SIG_ECDSA_WITH_SHA384,
        OID_SIG_ECDSA_WITH_SHA512,
    };
    let algorithm = x509_parser::parse_x509_certificate(der.as_ref())
        .map(|(_, parsed)| parsed.signature_algorithm.algorithm.clone())
        .ok();
    let is = |oids: [x509_parser::der_parser::oid::Oid<'static>; 2]| {
        algorithm.as_ref().is_some_and(|algorithm| oids.contains(algorithm))
    };
    if is([OID_PKCS1_SHA384WITHRSA, OID_SIG_ECDSA_WITH_SHA384]) {
        sha2::Sha384::digest(der.as_ref()).to_vec()
    } else if is([OID_PKCS1_SHA512WITHRSA, OID_SIG_ECDSA_WITH_SHA512]) {
        sha2::Sha512::digest(der.as_ref()).to_vec()
    } else {
        sha2::Sha256::digest(der.as_ref()).to_vec()
    }
}
