//! Reaching the servers: the primary first, then each failover in order,
//! over ldap://, ldaps:// or ldap:// with StartTLS, trusting the system's
//! signers or those of `ca_file`, and those of the data directory's trust
//! store.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use super::settings::Resolved;
use crate::DirectoryError;

/// Result code of a bind with a wrong DN or password.
const INVALID_CREDENTIALS: u32 = 49;

/// Opens connections to the repository.
pub(crate) struct Connector {
    settings: Arc<Resolved>,
    /// The TLS settings, and the trust store's modification time they
    /// were made at (a signer added or removed changes it).
    tls: Mutex<(Option<SystemTime>, Arc<rustls::ClientConfig>)>,
    /// Index in `hosts` of the server tried first.
    preferred: AtomicUsize,
}

/// A connection and the server it reached.
pub(crate) struct Connection {
    /// The operations handle (clones share the connection).
    pub(crate) ldap: Ldap,
    /// The URL that answered.
    pub(crate) url: String,
}

impl Connector {
    /// A connector for these settings; fails if `ca_file` cannot be read.
    pub(crate) fn new(settings: Arc<Resolved>) -> Result<Self, DirectoryError> {
        let stamp = trust_stamp(&settings);
        let tls = Mutex::new((stamp, Arc::new(client_config(&settings)?)));
        Ok(Self { settings, tls, preferred: AtomicUsize::new(0) })
    }

    /// The TLS settings, made again when the trust store changed since.
    fn tls(&self) -> Arc<rustls::ClientConfig> {
        let stamp = trust_stamp(&self.settings);
        let mut tls = self.tls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if tls.0 != stamp {
            match client_config(&self.settings) {
                Ok(config) => *tls = (stamp, Arc::new(config)),
                // ca_file was read at start: it is the one that can fail.
                Err(error) => tracing::warn!(%error, "LDAP: the trusted signers did not reload"),
            }
        }
        tls.1.clone()
    }

    /// A connection to the first server that answers a simple bind as
    /// `dn`, in the configured order, and the server's answer to the bind.
    /// A server that accepts the connection but does not answer the bind in
    /// time (hung, overloaded) does not answer either: the next one is
    /// tried. The error lists every server tried and why each failed.
    async fn open(
        &self,
        dn: &str,
        password: &str,
    ) -> Result<(Connection, ldap3::LdapResult), DirectoryError> {
        let mut attempts = Vec::new();
        let hosts = &self.settings.hosts;
        // The server that answered last goes first: with a hung primary,
        // each login would otherwise wait out its timeout again.
        let first = self.preferred.load(Ordering::Relaxed).min(hosts.len() - 1);
        let order = std::iter::once(first).chain((0..hosts.len()).filter(move |i| *i != first));
        for index in order {
            let url = &hosts[index];
            let bound = match self.open_one(url).await {
                Ok(mut ldap) => {
                    let bind = ldap.with_timeout(self.settings.timeout).simple_bind(dn, password);
                    bind.await
                        .map(|result| (ldap, result))
                        .map_err(|e| format!("bind: {}", describe(&e)))
                }
                Err(reason) => Err(reason),
            };
            match bound {
                Ok((ldap, result)) => {
                    if !attempts.is_empty() {
                        tracing::warn!(
                            repository = %self.settings.repository_id,
                            failover = %url,
                            "LDAP failover in use: {}",
                            attempts.join("; ")
                        );
                    }
                    self.preferred.store(index, Ordering::Relaxed);
                    return Ok((Connection { ldap, url: url.clone() }, result));
                }
                Err(reason) => attempts.push(format!("{url}: {reason}")),
            }
        }
        Err(DirectoryError::Unreachable {
            repository: self.settings.repository_id.clone(),
            attempts: attempts.join("; "),
        })
    }

    /// Makes the primary the first server tried again (after a failover,
    /// at each refresh: WebSphere returns to its primary too).
    pub(crate) fn prefer_primary(&self) {
        self.preferred.store(0, Ordering::Relaxed);
    }

    /// The server tried first now, when it is not the primary: a failover
    /// took over after the primary did not answer.
    pub(crate) fn failover(&self) -> Option<String> {
        let preferred = self.preferred.load(Ordering::Relaxed);
        (preferred > 0).then(|| self.settings.hosts.get(preferred).cloned()).flatten()
    }

    /// Tries every server on its own: how long each took to answer, or why
    /// it did not.
    pub(crate) async fn probe(&self) -> Vec<(String, Result<std::time::Duration, String>)> {
        let mut results = Vec::new();
        for url in &self.settings.hosts {
            let started = std::time::Instant::now();
            // An anonymous bind proves the server answers, not just accepts.
            let reached = match self.open_one(url).await {
                Ok(mut ldap) => {
                    let bind = ldap.with_timeout(self.settings.timeout).simple_bind("", "").await;
                    let _ = ldap.unbind().await;
                    bind.map(|_| started.elapsed()).map_err(|e| format!("bind: {}", describe(&e)))
                }
                Err(reason) => Err(reason),
            };
            results.push((url.clone(), reached));
        }
        results
    }

    /// A connection bound as the service DN (or anonymous without one).
    pub(crate) async fn service(&self) -> Result<Connection, DirectoryError> {
        let Some((dn, password)) = &self.settings.bind else {
            // An anonymous bind, only to see that the server answers: a
            // refusal leaves the connection anonymous as it was.
            return Ok(self.open("", "").await?.0);
        };
        let (connection, result) = self.open(dn, &password.0).await?;
        if result.rc != 0 {
            let hint = if result.rc == INVALID_CREDENTIALS {
                "check directory.ldap.bind_dn and the bind password"
            } else {
                "see the server's log"
            };
            return Err(DirectoryError::ServiceBind {
                repository: self.settings.repository_id.clone(),
                dn: dn.clone(),
                detail: format!("{} ({hint})", describe_result(&result)),
            });
        }
        Ok(connection)
    }

    /// Whether `password` is `dn`'s: a bind on a connection of its own, so
    /// the service connection never changes identity.
    pub(crate) async fn password_matches(
        &self,
        dn: &str,
        password: &str,
    ) -> Result<bool, DirectoryError> {
        // An empty password would be an unauthenticated bind, which
        // servers accept for any DN (RFC 4513 5.1.2).
        if password.is_empty() {
            return Ok(false);
        }
        let (mut connection, result) = self.open(dn, password).await?;
        let _ = connection.ldap.unbind().await;
        match result.rc {
            0 => Ok(true),
            INVALID_CREDENTIALS => Ok(false),
            _ => Err(DirectoryError::Ldap {
                repository: self.settings.repository_id.clone(),
                detail: format!("bind as {dn}: {}", describe_result(&result)),
            }),
        }
    }

    /// An operation failure, as a directory error naming the repository.
    pub(crate) fn failed(&self, operation: &str, error: LdapError) -> DirectoryError {
        DirectoryError::Ldap {
            repository: self.settings.repository_id.clone(),
            detail: format!("{operation}: {}", describe(&error)),
        }
    }

    async fn open_one(&self, url: &str) -> Result<Ldap, String> {
        let settings = LdapConnSettings::new()
            .set_conn_timeout(self.settings.timeout)
            .set_starttls(self.settings.starttls && url.starts_with("ldap://"))
            .set_config(self.tls());
        // The connect timeout covers TCP only; TLS and StartTLS get the same again.
        let connecting = LdapConnAsync::with_settings(settings, url);
        let (connection, ldap) = tokio::time::timeout(2 * self.settings.timeout, connecting)
            .await
            .map_err(|_| format!("no answer within {} s", self.settings.timeout.as_secs()))?
            .map_err(|error| describe(&error))?;
        ldap3::drive!(connection);
        Ok(ldap)
    }
}

/// The PEM files of the trust store's directory.
fn trust_files(settings: &Resolved) -> Vec<std::path::PathBuf> {
    let Some(dir) = &settings.trust_dir else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let pem = |path: &std::path::Path| path.extension().is_some_and(|e| e == "pem");
    entries.flatten().map(|entry| entry.path()).filter(|path| pem(path)).collect()
}

/// When the trust store's directory last changed (none: no trust store).
fn trust_stamp(settings: &Resolved) -> Option<SystemTime> {
    let dir = settings.trust_dir.as_ref()?;
    std::fs::metadata(dir).and_then(|meta| meta.modified()).ok()
}

/// The trust store: `ca_file` when given (and only it: the system's signers
/// are not trusted then), else the system's; with either, the signers an
/// administrator added to the data directory's trust store.
fn client_config(settings: &Resolved) -> Result<rustls::ClientConfig, DirectoryError> {
    let mut roots = rustls::RootCertStore::empty();
    match &settings.ca_file {
        Some(file) => {
            let unreadable = |detail: String| {
                DirectoryError::Settings(super::SettingsError {
                    key: "ca_file",
                    problem: format!("{}: {detail}", file.display()),
                })
            };
            let certificates = CertificateDer::pem_file_iter(file)
                .map_err(|error| unreadable(error.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| unreadable(error.to_string()))?;
            if certificates.is_empty() {
                return Err(unreadable("no PEM certificate in it".into()));
            }
            for certificate in certificates {
                roots.add(certificate).map_err(|error| unreadable(error.to_string()))?;
            }
        }
        None => {
            for certificate in rustls_native_certs::load_native_certs().certs {
                // A system certificate rustls cannot use is simply not trusted.
                let _ = roots.add(certificate);
            }
        }
    }
    // Added by an administrator for this server: trusted with either.
    for file in trust_files(settings) {
        let certificates = CertificateDer::pem_file_iter(&file).into_iter().flatten().flatten();
        for certificate in certificates {
            let _ = roots.add(certificate);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| DirectoryError::Ldap {
            repository: settings.repository_id.clone(),
            detail: format!("TLS set-up: {error}"),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// An LDAP error in words an administrator can act on.
fn describe(error: &LdapError) -> String {
    match error {
        LdapError::LdapResult { result } => describe_result(result),
        LdapError::Io { source } if source.to_string().contains("invalid peer certificate") => {
            format!(
                "{source}: the server's TLS certificate is not trusted; add its signer with \
                 `simul trust retrieve HOST:PORT` (or the console's Certificates page), or put \
                 it (PEM) in the file named by directory.ldap.ca_file"
            )
        }
        LdapError::Io { source } => source.to_string(),
        LdapError::Timeout { .. } => "the server did not answer in time".into(),
        other => other.to_string(),
    }
}

fn describe_result(result: &ldap3::LdapResult) -> String {
    let text = result.to_string();
    // "rc=49 (invalidCredentials), dn: "", text: """: keep what says something.
    match text.split_once(", dn:") {
        Some((code, _)) if result.text.is_empty() => code.to_owned(),
        Some((code, _)) => format!("{code}: {}", result.text),
        None => text,
    }
}
