//! An uploaded server certificate: PEM (the chain, with its key in the
//! same file or another) or PKCS#12 with its password, checked until it
//! can serve: every refusal is one sentence naming the problem.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use zeroize::Zeroizing;

use super::summary::{CertificateSummary, pem};

/// What an administrator uploads to become the server's certificate.
pub struct Upload<'a> {
    /// The certificate file: PEM (chain, maybe with the key) or PKCS#12.
    pub file: &'a [u8],
    /// A separate PEM key file, when the certificate file holds no key.
    pub key: Option<&'a [u8]>,
    /// The PKCS#12 file's password (empty for PEM).
    pub password: &'a str,
}

/// A certificate chain and its key that belong together.
pub struct Pair {
    /// The chain, the server's own certificate first.
    pub(crate) chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// The server's own certificate, described.
    pub(crate) summary: CertificateSummary,
}

impl Pair {
    /// The chain as PEM, and the key as PEM (wiped when dropped).
    pub(crate) fn to_pem(&self) -> (String, Zeroizing<String>) {
        let chain = self.chain.iter().map(|der| pem("CERTIFICATE", der)).collect();
        let label = match &self.key {
            PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
            PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
            _ => "PRIVATE KEY",
        };
        (chain, Zeroizing::new(pem(label, self.key.secret_der())))
    }
}

impl Upload<'_> {
    /// The chain and key of the upload, checked: readable, a key that
    /// rustls can sign with and that belongs to the first certificate,
    /// which is valid now; else the one sentence that names the problem.
    pub fn read(&self) -> Result<Pair, String> {
        let (chain, key) =
            if looks_like_pem(self.file) { self.read_pem()? } else { self.read_pkcs12()? };
        pair(chain, key)
    }

    fn read_pem(&self) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(self.file).collect::<Result<_, _>>().map_err(|_| {
                "the certificate file is damaged PEM: a block does not decode".to_owned()
            })?;
        let key_in_file = PrivateKeyDer::from_pem_slice(self.file).ok();
        if chain.is_empty() {
            return Err(if key_in_file.is_some() {
                "the certificate file holds a private key but no certificate: choose the \
                 certificate (PEM, BEGIN CERTIFICATE) as the file and the key as the key file"
            } else {
                "the certificate file holds no PEM certificate (BEGIN CERTIFICATE)"
            }
            .to_owned());
        }
        let encrypted = |bytes: &[u8]| contains(bytes, b"ENCRYPTED PRIVATE KEY");
        if key_in_file.is_none() && (encrypted(self.file) || self.key.is_some_and(encrypted)) {
            return Err("the private key is encrypted: decrypt it first (openssl pkey -in \
                        key.pem -out plain.pem), or upload a PKCS#12 file with its password"
                .to_owned());
        }
        let key = match (key_in_file, self.key) {
            (Some(key), _) => key,
            (None, Some(bytes)) => PrivateKeyDer::from_pem_slice(bytes).map_err(|_| {
                if CertificateDer::from_pem_slice(bytes).is_ok() {
                    "the key file holds a certificate, not a private key".to_owned()
                } else {
                    "the key file holds no PEM private key (BEGIN PRIVATE KEY, RSA PRIVATE KEY or \
                     EC PRIVATE KEY)"
                        .to_owned()
                }
            })?,
            (None, None) => {
                return Err("the certificate file holds no private key: give its key file too, \
                            or upload a PKCS#12 file that holds both"
                    .to_owned());
            }
        };
        Ok((chain, key))
    }

    fn read_pkcs12(
        &self,
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
        use p12_keystore::error::Error;
        if x509_parser::parse_x509_certificate(self.file).is_ok() {
            return Err("the file is a single certificate (DER) without its private key: upload \
                        the PKCS#12 file or the PEM chain with its key"
                .to_owned());
        }
        let open = |policy| p12_keystore::KeyStore::from_pkcs12(self.file, self.password, policy);
        let mut store = open(p12_keystore::Pkcs12ImportPolicy::Strict);
        // Some exports leave out the local key ids that pair a key with its
        // certificate: pair them by order then (the key check follows).
        if store.as_ref().is_ok_and(|store| store.private_key_chain().is_none()) {
            store = open(p12_keystore::Pkcs12ImportPolicy::Relaxed);
        }
        let store = store.map_err(|error| match error {
            Error::MacError(_) | Error::UnpadError | Error::Pkcs5Error(_) => {
                "the password does not open this PKCS#12 file".to_owned()
            }
            Error::UnsupportedEncryptionScheme | Error::UnsupportedMacAlgorithm => {
                "this PKCS#12 file is protected by a cipher Simul cannot read: export it again \
                 with AES (openssl pkcs12 -export -certpbe AES-256-CBC -keypbe AES-256-CBC)"
                    .to_owned()
            }
            _ => "the file is neither PEM nor PKCS#12 (.p12, .pfx), or it is damaged".to_owned(),
        })?;
        let Some((_, entry)) = store.private_key_chain() else {
            return Err("the PKCS#12 file holds no private key with its certificate".to_owned());
        };
        let chain: Vec<CertificateDer<'static>> =
            entry.certs().iter().map(|c| CertificateDer::from(c.as_der().to_vec())).collect();
        if chain.is_empty() {
            return Err("the PKCS#12 file holds a private key without its certificate".to_owned());
        }
        let key = PrivatePkcs8KeyDer::from(entry.key().as_der().to_vec());
        Ok((chain, PrivateKeyDer::Pkcs8(key)))
    }
}

/// Whether `bytes` are PEM text (a `-----BEGIN ` line), not DER
/// (PKCS#12): only PKCS#12 has a password.
pub fn looks_like_pem(bytes: &[u8]) -> bool {
    contains(bytes, b"-----BEGIN ")
}

/// Whether `part` occurs in `bytes` (PEM labels in uploaded files).
pub(crate) fn contains(bytes: &[u8], part: &[u8]) -> bool {
    bytes.windows(part.len()).any(|window| window == part)
}

/// The chain and key, checked to belong together and to serve now.
pub(crate) fn pair(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Pair, String> {
    let summary = CertificateSummary::of(&chain[0])
        .map_err(|_| "the first certificate of the chain is not an X.509 certificate".to_owned())?;
    let now = chrono::Utc::now();
    if summary.expired(now) {
        return Err(format!(
            "the certificate expired on {}: renew it first",
            summary.not_after.format("%Y-%m-%d")
        ));
    }
    signing_pair(chain.clone(), &key)?;
    Ok(Pair { chain, key, summary })
}

/// What rustls serves: the chain and a signer of `key`, checked to be
/// the key of the first certificate.
pub(crate) fn signing_pair(
    chain: Vec<CertificateDer<'static>>,
    key: &PrivateKeyDer<'_>,
) -> Result<Arc<CertifiedKey>, String> {
    let signer = rustls::crypto::ring::sign::any_supported_type(key).map_err(|_| {
        "the private key is of a kind Simul cannot serve with (use RSA, ECDSA P-256/P-384 or \
         Ed25519)"
            .to_owned()
    })?;
    let certified = CertifiedKey::new(chain, signer);
    certified.keys_match().map_err(|error| match error {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            "the private key does not belong to the certificate: choose the key the certificate \
             was issued for"
                .to_owned()
        }
        _ => "the certificate's public key cannot be checked against the private key".to_owned(),
    })?;
    Ok(Arc::new(certified))
}
