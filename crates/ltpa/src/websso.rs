//! A Domino-style Web SSO configuration: what Domino keeps in its Web SSO
//! configuration document (`names.nsf`, view `($WebSSOConfigs)`), so that
//! both of Domino's key sources work here: "Create Domino SSO Key" (a
//! 20-byte secret, Domino-format tokens) and "Keys ▸ Import WebSphere LTPA
//! Keys" (a WebSphere key set; the file's realm becomes the document's
//! "LDAP Realm" and the tokens are WebSphere's).
//!
//! The field names of Domino's internal storage of imported keys are not
//! public; this struct is Simul's own model of the document.

use crate::domino::{DominoSecret, DominoSecretError};
use crate::keyfile::KeyFile;
use crate::keys::LtpaKeys;
use crate::sso::SsoSettings;
use crate::token::TokenFormat;
use crate::verifier::Verifier;

/// Domino's Web SSO "Token Format" choices for WebSphere keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebSphereTokenFormat {
    /// `LtpaToken` (version 1) only.
    LtpaToken,
    /// `LtpaToken2` only.
    LtpaToken2,
    /// Both cookies (what WebSphere's interoperability mode expects).
    Both,
}

/// A Web SSO configuration document.
#[derive(Debug, Clone)]
pub struct WebSsoDocument {
    /// Configuration (and cookie) name, `LtpaToken` by default.
    pub name: String,
    /// Organization, for Internet Site configurations.
    pub organization: String,
    /// DNS domains with their leading dots.
    pub dns_domains: Vec<String>,
    /// Token expiration in minutes (Domino's default is 30; seeds use 120 or 720).
    pub expiration_minutes: u32,
    /// Idle session timeout in minutes, for Domino-format tokens only.
    pub idle_timeout_minutes: Option<u32>,
    /// "Require SSL protected communication".
    pub require_ssl: bool,
    /// "Restrict use of the SSO token to HTTP/HTTPS" (HttpOnly).
    pub http_only: bool,
    /// "Token Format" used with WebSphere keys.
    pub token_format: WebSphereTokenFormat,
    /// "LDAP Realm" (from imported WebSphere keys).
    pub ldap_realm: Option<String>,
    /// "LTPA Version" (from imported WebSphere keys).
    pub ltpa_version: Option<String>,
    /// The Domino secret, if one was created or imported.
    pub domino_secret: Option<DominoSecret>,
    /// The WebSphere key set, if imported.
    pub websphere_keys: Option<LtpaKeys>,
}

impl Default for WebSsoDocument {
    fn default() -> Self {
        Self {
            name: "LtpaToken".into(),
            organization: String::new(),
            dns_domains: Vec::new(),
            expiration_minutes: 30,
            idle_timeout_minutes: None,
            require_ssl: false,
            http_only: false,
            token_format: WebSphereTokenFormat::LtpaToken,
            ldap_realm: None,
            ltpa_version: None,
            domino_secret: None,
            websphere_keys: None,
        }
    }
}

impl WebSsoDocument {
    /// Stores a Domino secret given as the Base64 of `LTPA_DominoSecret`.
    pub fn import_domino_secret(&mut self, base64: &str) -> Result<(), DominoSecretError> {
        self.domino_secret = Some(DominoSecret::from_base64(base64)?);
        Ok(())
    }

    /// "Import WebSphere LTPA Keys": stores the key set and takes the file's
    /// realm and version as LDAP Realm and LTPA Version.
    pub fn import_websphere_keys(&mut self, file: &KeyFile) {
        self.websphere_keys = Some(file.keys.clone());
        self.ldap_realm = Some(file.realm.clone()).filter(|r| !r.is_empty());
        self.ltpa_version = Some(file.version.clone());
    }

    /// The token formats this document issues: WebSphere's (per Token
    /// Format) once keys are imported, Domino's otherwise.
    pub fn issued_formats(&self) -> Vec<TokenFormat> {
        if self.websphere_keys.is_none() {
            return vec![TokenFormat::Domino];
        }
        match self.token_format {
            WebSphereTokenFormat::LtpaToken => vec![TokenFormat::Ltpa1],
            WebSphereTokenFormat::LtpaToken2 => vec![TokenFormat::Ltpa2],
            WebSphereTokenFormat::Both => vec![TokenFormat::Ltpa2, TokenFormat::Ltpa1],
        }
    }

    /// A verifier for every token this document's keys can check.
    pub fn verifier(&self) -> Verifier {
        let mut verifier = Verifier::new();
        if let Some(keys) = &self.websphere_keys {
            verifier = verifier.with_keys(keys.clone());
        }
        if let Some(secret) = &self.domino_secret {
            verifier = verifier.with_domino_secret(secret.clone());
        }
        verifier
    }

    /// The equivalent WebSphere-page settings: the cookie named after the
    /// configuration, interoperability mode when both formats are issued.
    pub fn sso_settings(&self) -> SsoSettings {
        SsoSettings {
            domains: self.dns_domains.clone(),
            requires_ssl: self.require_ssl,
            interoperability_mode: self.issued_formats().contains(&TokenFormat::Ltpa1),
            ltpa1_cookie_name: self.name.clone(),
            expiration_minutes: self.expiration_minutes,
            http_only: self.http_only,
            accept_domino_tokens: self.domino_secret.is_some(),
            ..SsoSettings::default()
        }
    }
}
