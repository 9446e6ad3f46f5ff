//! `simul sso doctor`: why single sign-on between Simul and another
//! application works or fails, in plain words, from what a browser sent
//! (a token, a `Cookie` header or a HAR file) and the other application's
//! address.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
use ltpa::{Verifier, VerifyOptions};

use simul_service::key_files::StoredKeys;
use simul_service::sso_doctor::{
    self, DirectoryCheck, Findings, Sent, Source, TokenCheck, split_port,
};

use crate::Outcome;
use crate::config::{Config, DirectoryKind};
use crate::data::{DataArgs, DataDir};
use crate::directory::Directory;

mod har;
mod tls;

/// Arguments of `simul sso doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// An LtpaToken2 or LtpaToken value, as the browser holds it (`-`:
    /// standard input).
    #[arg(conflicts_with_all = ["cookie_header", "har"])]
    token: Option<String>,
    /// A whole `Cookie` header as the browser sent it (`JSESSIONID=..;
    /// LtpaToken2=..`).
    #[arg(long, value_name = "HEADER", conflicts_with = "har")]
    cookie_header: Option<String>,
    /// A HAR file saved from the browser's developer tools (Network ▸
    /// Save all as HAR): the first request carrying an LTPA cookie is
    /// examined, and its URL is the application's unless `--url` is given;
    /// when none carries one, that is the finding.
    #[arg(long, value_name = "FILE")]
    har: Option<PathBuf>,
    /// The address of the other application (or Simul's, as users reach
    /// it): cookie domain, Secure flag and, for https, its certificate.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Write the certificate chain of an https `--url` to FILE (PEM), to
    /// add its signer to a trust store.
    #[arg(long, value_name = "FILE", requires = "url")]
    save_chain: Option<PathBuf>,
    #[command(flatten)]
    deployment: DataArgs,
}

impl DoctorArgs {
    /// Runs the diagnosis; `Outcome::Invalid` when a problem was found.
    /// It only reads: without a deployment here it creates none, and says so.
    pub fn run(self) -> anyhow::Result<Outcome> {
        let mut findings = Findings::default();
        let verdict = self.examine(&mut findings);
        print(&mut findings);
        if verdict? {
            println!("No problem found: single sign-on should work.");
            Ok(Outcome::Success)
        } else {
            println!("{} problem(s) found.", findings.problems());
            Ok(Outcome::Invalid)
        }
    }

    /// Everything the doctor finds; whether no problem was found.
    fn examine(&self, findings: &mut Findings) -> anyhow::Result<bool> {
        let config = self.deployment.config()?;
        let data = self.deployment.existing_data_dir()?;
        let sso = &config.sso;
        let sent = self.sent(sso)?;
        let url = self.url.clone().or(sent.url.clone());
        if sent.source == Source::Nothing && url.is_none() {
            bail!("nothing to examine: give a TOKEN, --cookie-header, --har FILE or --url URL");
        }
        let check = self.token_check(findings, &config, data.as_ref())?;
        let users = sso_doctor::examine_sent(findings, &check, &sent);
        if !users.is_empty() {
            examine_users(findings, &config, data.as_ref(), &users)?;
        }
        sso_doctor::examine_set_cookies(findings, &sent.set, &config.server.domain, url.as_deref());
        if let Some(url) = &url {
            self.examine_url(findings, &config, url)?;
        }
        Ok(findings.problems() == 0)
    }

    /// Simul's keys and trusted realms, said first; without a deployment
    /// here, what cannot be checked.
    fn token_check<'a>(
        &self,
        findings: &mut Findings,
        config: &'a Config,
        data: Option<&DataDir>,
    ) -> anyhow::Result<TokenCheck<'a>> {
        let keys = match data {
            None => Err(format!(
                "there is no deployment in {} (no such directory)",
                self.deployment.data_path()?.display()
            )),
            Some(data) => deployment_keys(data)?,
        };
        let mut options = VerifyOptions::now();
        let verifier = match keys {
            Ok(ring) => {
                options = options
                    .trusting(config.sso.accepted_realms(&ring.token_realm(config.token_realm())));
                keys_heading(findings, &ring, &options.trusted_realms);
                // As the server verifies: the current set first, then the
                // previous ones still in their validity.
                let current = Verifier::new().with_keys(ring.current.keys.clone());
                Ok(ring.previous_keys().into_iter().fold(current, Verifier::with_keys))
            }
            Err(why) => {
                findings.heading(&format!(
                    "Simul's LTPA keys: none, {why}; tokens cannot be checked here"
                ));
                Err(why)
            }
        };
        Ok(TokenCheck { sso: &config.sso, verifier, options })
    }

    /// What the browser sent, from the argument given (if any).
    fn sent(&self, sso: &ltpa::SsoSettings) -> anyhow::Result<Sent> {
        if let Some(token) = &self.token {
            let token = if token == "-" {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text).context("cannot read the token")?;
                text.trim().to_owned()
            } else {
                token.trim().to_owned()
            };
            return Ok(Sent::token(token));
        }
        if let Some(header) = &self.cookie_header {
            return Ok(Sent::header(header));
        }
        match &self.har {
            Some(file) => har::from_har(file, sso),
            None => Ok(Sent::nothing()),
        }
    }

    /// The other application's address: the SSO domain it shares with
    /// Simul, plain http, and an https certificate.
    fn examine_url(
        &self,
        findings: &mut Findings,
        config: &Config,
        url: &str,
    ) -> anyhow::Result<()> {
        let Some((scheme, rest)) =
            url.split_once("://").filter(|(s, _)| matches!(*s, "http" | "https"))
        else {
            bail!("--url {url:?} is not an http:// or https:// address");
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (host, port) = split_port(authority, if scheme == "https" { 443 } else { 80 });
        findings.heading(&format!("The application at {scheme}://{authority}:"));
        let sso = &config.sso;
        let ours = sso.cookie_domain(&config.server.domain);
        match (sso.cookie_domain(&host), &ours) {
            (Some(theirs), Some(ours)) if theirs == *ours => findings.ok(&format!(
                "{host} and Simul's {} are both in the SSO domain {theirs}: the browser sends \
                 the cookie to both",
                config.server.domain
            )),
            (Some(theirs), _) => findings.problem(
                &format!(
                    "{host} is in the SSO domain {theirs}, but Simul's server.domain {:?} is not",
                    config.server.domain
                ),
                "set server.domain to Simul's host name in that domain (users must reach Simul \
                 under it)",
            ),
            (None, _) => findings.problem(
                &format!(
                    "{host} is not in any of sso.domains {:?}: Simul's cookies are not sent to it, \
                     nor its cookies to Simul",
                    sso.domains
                ),
                "set sso.domains to the DNS domain both share, with its leading dot (\".example.com\"), \
                 the same as the other server's SSO domain",
            ),
        }
        if sso.requires_ssl && scheme == "http" {
            findings.problem(
                "sso.requires_ssl is on, so Simul's cookies are Secure, and this address is http://",
                "use https:// for the application, or turn sso.requires_ssl off on every server",
            );
        }
        if scheme == "https" {
            tls::examine(findings, &host, port, self.save_chain.as_deref());
        }
        Ok(())
    }
}

/// The deployment's LTPA key sets, or why it has none.
fn deployment_keys(data: &DataDir) -> anyhow::Result<Result<StoredKeys, String>> {
    if !data.keys().current_path().exists() {
        return Ok(Err(format!(
            "{} has none yet (`simul serve` makes them, `simul ltpa import` brings the other \
             servers')",
            data.root().display()
        )));
    }
    data.keys().read(chrono::Utc::now()).map(Ok)
}

/// The fingerprints of the key sets tokens are checked with (never the
/// keys), and the realms trusted.
fn keys_heading(findings: &mut Findings, ring: &StoredKeys, realms: &[String]) {
    let keys = &ring.current.keys;
    findings.heading(&format!(
        "Simul's LTPA keys: shared key {}, public key {}; trusted realms {}",
        keys.shared_key_fingerprint(),
        keys.public_key_fingerprint(),
        sso_doctor::quoted(realms)
    ));
    for set in &ring.previous {
        findings.heading(&format!(
            "  and the previous keys: shared key {}, accepted until {}",
            set.file.keys.shared_key_fingerprint(),
            set.not_use_after.to_rfc3339()
        ));
    }
    for note in &ring.notes {
        findings.heading(&format!("  warning: {note}"));
    }
}

/// Prints the findings not printed yet.
fn print(findings: &mut Findings) {
    for finding in findings.take() {
        println!("{finding}");
    }
}

/// Asks the configured directory about each user (ids as tokens carry
/// them), as the server would.
fn examine_users(
    findings: &mut Findings,
    config: &Config,
    data: Option<&DataDir>,
    users: &[String],
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let Some((realm, what)) = Directory::for_checks(config, data).await? else {
            findings.note(&format!(
                "the embedded realm has no database here yet, so whether {} may come in is not \
                 checked",
                users.join(", ")
            ));
            return Ok(());
        };
        let ldap = config.directory.kind == DirectoryKind::Ldap;
        let directory = DirectoryCheck { realm: realm.as_ref(), what: &what, ldap };
        sso_doctor::examine_users(findings, &directory, users).await;
        Ok(())
    })
}
