//! `simul cert show|import` and `simul trust list|add|retrieve|remove`:
//! the server's certificate and the signers Simul trusts. The acts are
//! the console's ([`Certificates`]), so both check uploads alike and
//! write the audit log; a running server serves an imported certificate
//! within two seconds and its LDAP connections trust a changed trust
//! store from their next connection.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use simul_service::certificates::{
    CertificateDir, CertificateSummary, Certificates, Retrieved, Upload, looks_like_pem,
};
use zeroize::Zeroizing;

use crate::Outcome;
use crate::data::DataArgs;
use crate::ltpa::{PasswordArgs, Prompt};
use crate::user::command_line_actor;

/// The server's HTTPS (and XMPP) certificate.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Show the certificate the TLS listeners serve: subject, names,
    /// issuer, SHA-256 fingerprint, expiry, and where it comes from.
    Show {
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Make a certificate and its key the server's
    ///
    /// FILE is PEM (the chain, the server's certificate first, with its
    /// key in it or in --key) or PKCS#12 (.p12, .pfx; its password from
    /// --password-file, --password-env or a prompt). It is checked first:
    /// a damaged file, a wrong password or a key of another certificate
    /// changes nothing. The pair is kept 0600 in the data directory; a
    /// running server serves it within two seconds. Refused when the
    /// configuration names server.tls_certificate and server.tls_key.
    #[command(after_help = "Examples:\n  \
        simul cert import chat.p12 --password-file p12.pw --data /var/lib/simul\n  \
        simul cert import fullchain.pem --key privkey.pem --config /etc/simul/simul.toml")]
    Import {
        /// The certificate file (PEM or PKCS#12).
        file: PathBuf,
        /// The private key (PEM), when FILE holds only certificates.
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        deployment: DataArgs,
    },
}

/// The signers Simul trusts for its own TLS connections (LDAP), besides
/// the system's or directory.ldap.ca_file's.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// List the added signers: subject, SHA-256 fingerprint, expiry.
    List {
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Trust the certificate in FILE (PEM or DER) as a signer.
    Add {
        /// The signer's certificate.
        file: PathBuf,
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Show the chain HOST:PORT presents, then trust its top certificate
    ///
    /// WebSphere's "Retrieve from port": the connection is made whether
    /// or not the chain is trusted (within 10 s), each certificate is
    /// shown with its fingerprint, and the top one (the CA, or the
    /// self-signed certificate) is added after you confirm, or at once
    /// with --yes.
    #[command(after_help = "Examples:\n  \
        simul trust retrieve ldap.example.com:636 --data /var/lib/simul\n  \
        simul trust retrieve portal.example.com:10041 --yes --config /etc/simul/simul.toml")]
    Retrieve {
        /// The TLS port: HOST:PORT.
        address: String,
        /// Add the signer without asking.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        deployment: DataArgs,
    },
    /// Stop trusting a signer, named by its SHA-256 fingerprint (or at
    /// least its first 8 hex digits; colons optional).
    Remove {
        /// The fingerprint, as `simul trust list` shows it.
        fingerprint: String,
        #[command(flatten)]
        deployment: DataArgs,
    },
}

impl CertCommand {
    /// Runs the command on a small runtime of its own.
    pub fn run(self) -> anyhow::Result<Outcome> {
        crate::user::on_runtime(self.run_async())
    }

    async fn run_async(self) -> anyhow::Result<Outcome> {
        let (Self::Show { deployment } | Self::Import { deployment, .. }) = &self;
        let (store, dir) = open(deployment).await?;
        let certificates = Certificates::new(&store, &dir, None);
        match self {
            Self::Show { .. } => {
                let Some(server) = certificates.server()? else {
                    println!(
                        "No server certificate yet: the first start of simul serve with HTTPS or \
                         XMPP on makes a self-signed one; or import one (simul cert import)"
                    );
                    store.close().await;
                    return Ok(Outcome::Success);
                };
                println!("Server certificate ({}) in {}", server.origin, server.file.display());
                for (n, certificate) in server.chain.iter().enumerate() {
                    print_certificate(n, certificate);
                }
            }
            Self::Import { file, key, password, .. } => {
                let bytes = read(&file)?;
                let key = key.as_ref().map(read).transpose()?;
                let password = if looks_like_pem(&bytes) {
                    None
                } else {
                    Some(password.password("PKCS#12 file password", Prompt::Once)?)
                };
                let password = password
                    .as_ref()
                    .map(|p| std::str::from_utf8(p.as_bytes()).unwrap_or_default())
                    .unwrap_or_default();
                let upload = Upload { file: &bytes, key: key.as_deref().map(|k| &k[..]), password };
                let summary = certificates.import(&command_line_actor(), &upload).await?;
                println!("Imported; a running server serves it within two seconds:");
                print_certificate(0, &summary);
            }
        }
        store.close().await;
        Ok(Outcome::Success)
    }
}

impl TrustCommand {
    /// Runs the command on a small runtime of its own.
    pub fn run(self) -> anyhow::Result<Outcome> {
        crate::user::on_runtime(self.run_async())
    }

    async fn run_async(self) -> anyhow::Result<Outcome> {
        let (Self::List { deployment }
        | Self::Add { deployment, .. }
        | Self::Retrieve { deployment, .. }
        | Self::Remove { deployment, .. }) = &self;
        let (store, dir) = open(deployment).await?;
        let certificates = Certificates::new(&store, &dir, None);
        let actor = command_line_actor();
        match self {
            Self::List { .. } => {
                let trust = certificates.trust_store()?;
                if trust.signers.is_empty() {
                    println!("No signers added (the system's trust store applies)");
                }
                for signer in &trust.signers {
                    let s = &signer.summary;
                    println!("{}\t{}\texpires {}", s.sha256, s.subject, s.not_after.format("%F"));
                }
                for problem in &trust.unreadable {
                    eprintln!("warning: not a signer: {problem}");
                }
            }
            Self::Add { file, .. } => {
                let summary = certificates.add_signer(&actor, &read(&file)?).await?;
                println!("Trusted {} (SHA-256 {})", summary.subject, summary.sha256);
            }
            Self::Retrieve { address, yes, .. } => {
                let (host, port) = host_and_port(&address)?;
                let retrieved = certificates.retrieve(&host, port).await;
                let signer = show_retrieved(&address, &retrieved)?;
                if !yes && !confirmed(&signer)? {
                    println!("(Nothing was added.)");
                } else {
                    let summary = certificates.add_signer(&actor, signer.as_ref()).await?;
                    println!("Trusted {} (SHA-256 {})", summary.subject, summary.sha256);
                }
            }
            Self::Remove { fingerprint, .. } => {
                let summary = certificates.remove_signer(&actor, &fingerprint).await?;
                println!("No longer trusted: {} (SHA-256 {})", summary.subject, summary.sha256);
            }
        }
        store.close().await;
        Ok(Outcome::Success)
    }
}

/// The deployment's store (for the audit log) and where its certificates are.
async fn open(deployment: &DataArgs) -> anyhow::Result<(simul_store::Store, CertificateDir)> {
    let config = deployment.config()?;
    let store = crate::user::deployment_store(deployment).await?;
    let data = deployment.data_dir()?;
    Ok((store, crate::tls::certificate_dir(&data, &config.server)))
}

fn read(file: &PathBuf) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    Ok(Zeroizing::new(
        std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?,
    ))
}

/// `HOST:PORT` (`[v6]:PORT` for an IPv6 address).
fn host_and_port(address: &str) -> anyhow::Result<(String, u16)> {
    let parsed = address.rsplit_once(':').and_then(|(host, port)| {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        Some((host.to_owned(), port.parse::<u16>().ok()?)).filter(|(host, _)| !host.is_empty())
    });
    parsed.with_context(|| format!("{address:?} is not HOST:PORT (e.g. ldap.example.com:636)"))
}

/// Prints the chain and verdict; the certificate to trust, if any came.
fn show_retrieved(
    address: &str,
    retrieved: &Retrieved,
) -> anyhow::Result<rustls::pki_types::CertificateDer<'static>> {
    match (&retrieved.verdict, retrieved.chain.is_empty()) {
        (Err(error), true) => {
            bail!(
                "no TLS answer from {address}: {error}; check the host name and port, and that \
                 it speaks TLS there (for LDAP, ldaps:// on 636)"
            )
        }
        (Err(error), false) => println!("{address} is not trusted yet: {error}"),
        (Ok(()), _) => println!("{address} is trusted already"),
    }
    for (n, der) in retrieved.chain.iter().enumerate() {
        match CertificateSummary::of(der) {
            Ok(summary) => print_certificate(n, &summary),
            Err(why) => println!("certificate {n}: {why}"),
        }
    }
    retrieved.signer().cloned().context("the port presented no certificate")
}

/// Asks on the terminal whether to trust the top certificate.
fn confirmed(signer: &rustls::pki_types::CertificateDer<'_>) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        print!("Nothing was added: run again with --yes to trust the top certificate. ");
        return Ok(false);
    }
    let subject = CertificateSummary::of(signer).map(|s| s.subject).unwrap_or_default();
    print!("Trust the top certificate ({subject}) as a signer? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn print_certificate(n: usize, certificate: &CertificateSummary) {
    let now = chrono::Utc::now();
    let warning = if certificate.expired(now) {
        "  EXPIRED"
    } else if certificate.expires_soon(now) {
        "  EXPIRES WITHIN 30 DAYS"
    } else {
        ""
    };
    println!("certificate {n}:");
    println!("  subject      {}", certificate.subject);
    if !certificate.names.is_empty() {
        println!("  names        {}", certificate.names.join(", "));
    }
    println!("  issuer       {}", certificate.issuer);
    println!("  SHA-256      {}", certificate.sha256);
    println!(
        "  valid        {} to {}{warning}",
        certificate.not_before.format("%F"),
        certificate.not_after.format("%F")
    );
}
