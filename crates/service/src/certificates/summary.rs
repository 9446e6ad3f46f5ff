//! What a person reads of a certificate: subject, names, issuer,
//! fingerprint, validity.

use chrono::{DateTime, Utc};
use sha2::Digest as _;
use x509_parser::extensions::GeneralName;

/// How close to its end a certificate is worth a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// One certificate, described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    /// Its subject's distinguished name.
    pub subject: String,
    /// The DNS names and IP addresses it is for (subject alternative names).
    pub names: Vec<String>,
    /// Its issuer's distinguished name.
    pub issuer: String,
    /// SHA-256 of its DER, as `AB:CD:…` (what WebSphere and browsers show).
    pub sha256: String,
    /// From when it is valid.
    pub not_before: DateTime<Utc>,
    /// Until when it is valid.
    pub not_after: DateTime<Utc>,
    /// Whether it signed itself (issuer and subject are one).
    pub self_signed: bool,
    /// Whether it may sign other certificates (basic constraints CA).
    pub authority: bool,
}

impl CertificateSummary {
    /// The certificate `der`, or why it is not one.
    pub fn of(der: &[u8]) -> Result<Self, String> {
        let (_, parsed) = x509_parser::parse_x509_certificate(der)
            .map_err(|_| "it is not an X.509 certificate".to_owned())?;
        let time = |at: x509_parser::time::ASN1Time| {
            DateTime::from_timestamp(at.timestamp(), 0).unwrap_or_default()
        };
        let mut names = Vec::new();
        if let Ok(Some(alternatives)) = parsed.subject_alternative_name() {
            for name in &alternatives.value.general_names {
                match name {
                    GeneralName::DNSName(dns) => names.push((*dns).to_owned()),
                    GeneralName::IPAddress(bytes) => names.extend(ip_address(bytes)),
                    _ => {}
                }
            }
        }
        let authority = parsed
            .basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|constraints| constraints.value.ca);
        Ok(Self {
            subject: parsed.subject().to_string(),
            names,
            issuer: parsed.issuer().to_string(),
            sha256: fingerprint(der),
            not_before: time(parsed.validity().not_before),
            not_after: time(parsed.validity().not_after),
            self_signed: parsed.subject().as_raw() == parsed.issuer().as_raw(),
            authority,
        })
    }

    /// Whether it ends within [`EXPIRY_WARNING_DAYS`] of `now` (or has).
    pub fn expires_soon(&self, now: DateTime<Utc>) -> bool {
        self.not_after - now < chrono::Duration::days(EXPIRY_WARNING_DAYS)
    }

    /// Whether it has ended at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.not_after < now
    }
}

/// SHA-256 of `der` as upper-case hex pairs joined by colons.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = sha2::Sha256::digest(der);
    digest.iter().map(|byte| format!("{byte:02X}")).collect::<Vec<_>>().join(":")
}

/// A fingerprint as typed (any case, with or without colons or spaces),
/// as bare lower-case hex: how files of the trust store are named.
pub fn bare_fingerprint(typed: &str) -> String {
    typed.chars().filter(char::is_ascii_hexdigit).map(|c| c.to_ascii_lowercase()).collect()
}

/// `der` as PEM under `label` (`CERTIFICATE`, `PRIVATE KEY`).
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let base64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
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
