//! The signers Simul trusts for its outgoing TLS besides the system's
//! (the LDAP directory reads them too): one PEM file a certificate in
//! the data directory's `trust/`, named by its SHA-256 fingerprint.

use std::path::{Path, PathBuf};

use ltpa::{Overwrite, secret_file};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use super::summary::{CertificateSummary, bare_fingerprint, pem};

/// The shortest fingerprint prefix that names a signer to remove.
const MIN_PREFIX: usize = 8;

/// A trusted signer, as its file holds it.
#[derive(Debug, Clone)]
pub struct Signer {
    /// The certificate, described.
    pub summary: CertificateSummary,
    /// Its file.
    pub file: PathBuf,
}

/// The signers in `dir`, by subject; files that do not hold a
/// certificate are named in the second list (they are not trusted).
pub(crate) fn list(dir: &Path) -> Result<(Vec<Signer>, Vec<String>), String> {
    let mut signers = Vec::new();
    let mut unreadable = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], vec![])),
        Err(error) => return Err(format!("cannot read {}: {error}", dir.display())),
    };
    for entry in entries.flatten() {
        let file = entry.path();
        if file.extension().is_none_or(|extension| extension != "pem") {
            continue;
        }
        match CertificateDer::from_pem_file(&file)
            .map_err(|e| e.to_string())
            .and_then(|der| CertificateSummary::of(&der))
        {
            Ok(summary) => signers.push(Signer { summary, file }),
            Err(why) => unreadable.push(format!("{}: {why}", file.display())),
        }
    }
    signers.sort_by(|a, b| a.summary.subject.cmp(&b.summary.subject));
    Ok((signers, unreadable))
}

/// The certificate in `bytes` (the first PEM certificate, or DER).
pub(crate) fn certificate_of(bytes: &[u8]) -> Result<CertificateDer<'static>, String> {
    let der = match CertificateDer::pem_slice_iter(bytes).next() {
        Some(Ok(der)) => der,
        Some(Err(_)) => return Err("the file is damaged PEM: a block does not decode".into()),
        None if x509_parser::parse_x509_certificate(bytes).is_ok() => {
            CertificateDer::from(bytes.to_vec())
        }
        None if super::upload::contains(bytes, b"PRIVATE KEY") => {
            return Err("the file holds a private key, not a certificate: a signer is only its \
                        certificate"
                .into());
        }
        None => return Err("the file holds no certificate (PEM BEGIN CERTIFICATE, or DER)".into()),
    };
    CertificateSummary::of(&der)?;
    Ok(der)
}

/// Keeps `der` in `dir` (0600); refuses a signer already there.
pub(crate) fn add(dir: &Path, der: &CertificateDer<'_>) -> Result<Signer, String> {
    let summary = CertificateSummary::of(der)?;
    let file = dir.join(format!("{}.pem", bare_fingerprint(&summary.sha256)));
    if file.exists() {
        return Err(format!("{} is trusted already", summary.subject));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    secret_file::write(&file, pem("CERTIFICATE", der).as_bytes(), Overwrite::Refuse)
        .map_err(|error| format!("cannot write {}: {error}", file.display()))?;
    Ok(Signer { summary, file })
}

/// Removes the signer whose fingerprint is, or starts with, `typed`.
pub(crate) fn remove(dir: &Path, typed: &str) -> Result<Signer, String> {
    let wanted = bare_fingerprint(typed);
    if wanted.len() < MIN_PREFIX {
        return Err(format!(
            "give the signer's SHA-256 fingerprint (at least its first {MIN_PREFIX} hex digits)"
        ));
    }
    let (signers, _) = list(dir)?;
    let mut matching =
        signers.into_iter().filter(|s| bare_fingerprint(&s.summary.sha256).starts_with(&wanted));
    let (Some(signer), None) = (matching.next(), matching.next()) else {
        return Err(format!(
            "no single trusted signer has a fingerprint starting {typed:?}: `simul trust list` \
             shows them"
        ));
    };
    std::fs::remove_file(&signer.file)
        .map_err(|error| format!("cannot remove {}: {error}", signer.file.display()))?;
    Ok(signer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(name: &str) -> CertificateDer<'static> {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn signers_are_added_once_listed_and_removed_by_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let trust = dir.path().join("trust");
        assert!(list(&trust).unwrap().0.is_empty(), "no directory yet: no signers");
        let (one, two) = (certificate("one.example"), certificate("two.example"));
        let added = add(&trust, &one).unwrap();
        add(&trust, &two).unwrap();
        assert!(add(&trust, &one).unwrap_err().contains("trusted already"));
        std::fs::write(trust.join("junk.pem"), "not a certificate").unwrap();
        let (signers, unreadable) = list(&trust).unwrap();
        assert_eq!(signers.len(), 2);
        assert_eq!(unreadable.len(), 1, "{unreadable:?}");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&added.file).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);

        assert!(remove(&trust, "AB:CD").unwrap_err().contains("at least its first 8"));
        assert!(remove(&trust, "00000000").unwrap_err().contains("no single trusted signer"));
        let typed = added.summary.sha256[..23].to_lowercase().replace(':', " ");
        assert_eq!(remove(&trust, &typed).unwrap().summary, added.summary);
        assert_eq!(list(&trust).unwrap().0.len(), 1);
    }

    #[test]
    fn only_certificates_become_signers() {
        let der = certificate("pem.example");
        let pem_text = crate::certificates::pem("CERTIFICATE", &der);
        assert_eq!(certificate_of(pem_text.as_bytes()).unwrap(), der);
        assert_eq!(certificate_of(&der).unwrap(), der, "DER is taken as it is");
        let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
        assert!(certificate_of(key.as_bytes()).unwrap_err().contains("private key"));
        assert!(certificate_of(b"garbage").unwrap_err().contains("holds no certificate"));
    }
}
