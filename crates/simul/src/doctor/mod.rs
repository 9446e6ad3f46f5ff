//! `simul sso doctor`: why single sign-on between Simul and another
//! application works or fails, in plain words, from what a browser sent
//! (a token, a `Cookie` header or a HAR file) and the other application's
//! address.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;
use ltpa::token::{human_duration, rfc3339};
use ltpa::{Invalid, TokenFormat, Verifier, VerifyOptions};
use serde_json::Value;

use crate::Outcome;
use crate::data::DataArgs;

mod tls;

/// Clock difference tolerated between servers, as token checks allow.
const CLOCK_SKEW_MS: i64 = 60_000;

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
    /// examined, and its URL is the application's unless `--url` is given.
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

/// Findings, printed as they are made, and the verdict.
#[derive(Default)]
struct Findings {
    problems: usize,
}

impl Findings {
    fn ok(&mut self, what: &str) {
        println!("  ok       {what}");
    }

    fn problem(&mut self, what: &str, fix: &str) {
        self.problems += 1;
        println!("  PROBLEM  {what}\n           fix: {fix}");
    }

    fn note(&mut self, what: &str) {
        println!("           {what}");
    }
}

/// What the browser sent: cookies by name, and where it sent them.
struct Sent {
    cookies: Vec<(String, String)>,
    url: Option<String>,
    /// The `Secure` flags the other application set, by cookie name (HAR).
    secure: Vec<(String, bool)>,
}

impl DoctorArgs {
    /// Runs the diagnosis; `Outcome::Invalid` when a problem was found.
    pub fn run(self) -> anyhow::Result<Outcome> {
        let config = self.deployment.config()?;
        let keys = self.deployment.data_dir()?.read_ltpa_keys()?;
        let realm = config.token_realm().unwrap_or_else(|| keys.realm.clone());
        let sent = self.sent()?;
        let url = self.url.clone().or(sent.url.clone());
        let sso = &config.sso;
        let options = VerifyOptions::now().trusting(sso.accepted_realms(&realm));
        println!(
            "Simul's LTPA keys: shared key {}, public key {}; trusted realms {}",
            keys.keys.shared_key_fingerprint(),
            keys.keys.public_key_fingerprint(),
            options.trusted_realms.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>().join(", ")
        );
        let mut findings = Findings::default();
        if sent.cookies.is_empty() && self.token.is_none() && url.is_none() {
            bail!("nothing to examine: give a TOKEN, --cookie-header, --har FILE or --url URL");
        }
        let verifier = Verifier::new().with_keys(keys.keys.clone());
        for (name, value) in &sent.cookies {
            examine_cookie(&mut findings, sso, &verifier, &options, &realm, name, value);
        }
        for (name, secure) in &sent.secure {
            let plain = url.as_deref().is_some_and(|u| u.starts_with("http://"));
            if *secure && plain {
                findings.problem(
                    &format!("the cookie {name} is Secure but the application is on http://"),
                    "browsers send Secure cookies over https only: use https:// addresses everywhere",
                );
            }
        }
        if let Some(url) = &url {
            self.examine_url(&mut findings, &config, url)?;
        }
        if findings.problems == 0 {
            println!("No problem found: single sign-on should work.");
            Ok(Outcome::Success)
        } else {
            println!("{} problem(s) found.", findings.problems);
            Ok(Outcome::Invalid)
        }
    }

    fn sent(&self) -> anyhow::Result<Sent> {
        let mut sent = Sent { cookies: Vec::new(), url: None, secure: Vec::new() };
        if let Some(token) = &self.token {
            let token = if token == "-" {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text).context("cannot read the token")?;
                text.trim().to_owned()
            } else {
                token.trim().to_owned()
            };
            // A bare value: the format tells LtpaToken2 from LtpaToken.
            sent.cookies.push((String::new(), token));
        } else if let Some(header) = &self.cookie_header {
            sent.cookies = cookie_pairs(header.trim_start_matches("Cookie:"));
        } else if let Some(file) = &self.har {
            sent = from_har(file)?;
        }
        Ok(sent)
    }

    fn examine_url(
        &self,
        findings: &mut Findings,
        config: &crate::config::Config,
        url: &str,
    ) -> anyhow::Result<()> {
        let Some((scheme, rest)) =
            url.split_once("://").filter(|(s, _)| matches!(*s, "http" | "https"))
        else {
            bail!("--url {url:?} is not an http:// or https:// address");
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (host, port) = split_port(authority, if scheme == "https" { 443 } else { 80 });
        println!("The application at {scheme}://{authority}:");
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

fn examine_cookie(
    findings: &mut Findings,
    sso: &ltpa::SsoSettings,
    verifier: &Verifier,
    options: &VerifyOptions,
    realm: &str,
    name: &str,
    value: &str,
) {
    let label = if name.is_empty() { "the token".to_owned() } else { format!("the cookie {name}") };
    let expected_format = if name.is_empty() {
        None
    } else if name == sso.ltpa2_cookie_name {
        Some(TokenFormat::Ltpa2)
    } else if name == sso.ltpa1_cookie_name {
        if !sso.interoperability_mode && !sso.accept_domino_tokens {
            findings.problem(
                &format!("{label} is a version-1 or Domino token, which Simul does not read now"),
                "make the other server issue LtpaToken2 (WebSphere: LTPA, not interoperability \
                 only; Domino: Web SSO \"Token format\" LtpaToken2), or set \
                 sso.interoperability_mode = true (WebSphere v1) or sso.accept_domino_tokens = \
                 true (Domino)",
            );
            return;
        }
        None
    } else if name.to_ascii_lowercase().starts_with("ltpatoken") {
        findings.problem(
            &format!(
                "{label} looks like an LTPA token, but Simul reads the cookies {:?} and {:?}",
                sso.ltpa2_cookie_name, sso.ltpa1_cookie_name
            ),
            "make sso.ltpa2_cookie_name (or ltpa1_cookie_name) the other server's cookie name",
        );
        return;
    } else {
        return;
    };
    println!("{}:", capitalized(&label));
    let inspection = match verifier.inspect(value, expected_format, options) {
        Ok(inspection) => inspection,
        Err(invalid) => return explain(findings, &label, &invalid, realm),
    };
    findings.ok(&format!("format {} (opened with Simul's keys)", inspection.format.as_str()));
    if let Some(identity) = &inspection.identity {
        findings.note(&format!(
            "user {:?} in realm {:?}, expires {}",
            identity.user,
            identity.realm.as_deref().unwrap_or("(none)"),
            rfc3339(identity.expires_ms)
        ));
        // LtpaToken2 carries no creation time: an expiry further away than
        // a whole lifetime is the sign of a clock ahead (or a longer lifetime).
        let ahead = identity.expires_ms - options.now_ms - sso.lifetime_ms();
        if ahead > CLOCK_SKEW_MS {
            findings.problem(
                &format!(
                    "{label} expires in {}, later than any token Simul makes \
                     (sso.expiration_minutes = {}): the issuing server's clock is about {} ahead, \
                     or its token lifetime is longer",
                    human_duration(identity.expires_ms - options.now_ms),
                    sso.expiration_minutes,
                    human_duration(ahead)
                ),
                "set both clocks by NTP, and keep the token lifetime equal on all servers",
            );
        }
    }
    let failure = inspection.checks.iter().find_map(|check| check.outcome.clone().err());
    match failure {
        None => findings.ok(&format!("{label} is valid here: signature, time and realm check")),
        Some(invalid) => explain(findings, &label, &invalid, realm),
    }
}

/// A refusal in plain words, with what to do.
fn explain(findings: &mut Findings, label: &str, invalid: &Invalid, realm: &str) {
    let (what, fix) = match invalid {
        Invalid::Malformed(detail) => (
            format!("{label} is not an LTPA token ({detail})"),
            "copy the whole cookie value (DevTools ▸ Application ▸ Cookies); it is Base64"
                .to_owned(),
        ),
        Invalid::WrongKey(_) => (
            format!("{label} was made with other LTPA keys than Simul's"),
            "give both servers the same keys: export the issuing server's (WebSphere: Global \
             security ▸ LTPA ▸ Export keys) and `simul ltpa import FILE --password-file F`, or \
             `simul ltpa export` Simul's and import them there"
                .to_owned(),
        ),
        Invalid::BadSignature(_) => (
            format!("{label} opens with Simul's shared key but its signature does not match"),
            "the key file's private and public keys differ from the issuing server's: import the \
             whole key file again, not only the shared key"
                .to_owned(),
        ),
        Invalid::Expired { by_ms, .. } => (
            format!("{label} expired {} ago", human_duration(*by_ms)),
            "sign in again; keep the token lifetime equal on all servers (sso.expiration_minutes, \
             WebSphere's LTPA timeout, Domino's Web SSO Expiration)"
                .to_owned(),
        ),
        Invalid::NotYetValid { in_ms, .. } => (
            format!(
                "{label} was made {} in the future: this machine's clock is behind the issuing \
                 server's by about that much",
                human_duration(*in_ms)
            ),
            "set both clocks by NTP".to_owned(),
        ),
        Invalid::WrongRealm { realm: theirs, .. } => (
            format!("{label} names the realm {theirs:?}, and Simul's is {realm:?}"),
            format!(
                "all servers need one user registry and one realm name: set directory.realm = \
                 {theirs:?} if that registry is Simul's (the federated repository's realm name, \
                 or the LDAP host:port), or rename the other server's realm to {realm:?}; or, \
                 if that realm's users are to come in as they are, trust it: \
                 sso.trusted_realms = [{theirs:?}]"
            ),
        ),
    };
    findings.problem(&what, &fix);
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

fn cookie_pairs(header: &str) -> Vec<(String, String)> {
    header
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().trim_matches('"').to_owned()))
        .collect()
}

fn split_port(authority: &str, default: u16) -> (String, u16) {
    let (host, port) = match authority.strip_prefix('[').and_then(|r| r.split_once(']')) {
        // [IPv6]:port
        Some((host, rest)) => (host, rest.strip_prefix(':')),
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    (host.to_owned(), port.and_then(|p| p.parse().ok()).unwrap_or(default))
}

/// The first request of a HAR file that carries an LTPA cookie.
fn from_har(file: &std::path::Path) -> anyhow::Result<Sent> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let har: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a HAR file (JSON)", file.display()))?;
    let entries = har["log"]["entries"].as_array().with_context(|| {
        format!(
            "{} has no log.entries: save it with DevTools ▸ Network ▸ Save all as HAR",
            file.display()
        )
    })?;
    let is_ltpa = |name: &str| name.to_ascii_lowercase().starts_with("ltpatoken");
    for entry in entries {
        let request = &entry["request"];
        let mut cookies: Vec<(String, String)> = request["cookies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c["name"].as_str()?.to_owned(), c["value"].as_str()?.to_owned())))
            .collect();
        if cookies.is_empty() {
            let header = request["headers"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|h| h["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case("cookie")));
            cookies =
                header.and_then(|h| h["value"].as_str()).map(cookie_pairs).unwrap_or_default();
        }
        if cookies.iter().any(|(name, _)| is_ltpa(name)) {
            let secure = har_secure_flags(entries, &is_ltpa);
            let url = request["url"].as_str().map(str::to_owned);
            return Ok(Sent { cookies, url, secure });
        }
    }
    bail!(
        "no request in {} carries an LtpaToken or LtpaToken2 cookie: sign in to the other \
         application first, then record the HAR",
        file.display()
    )
}

/// The `Secure` flag of each LTPA cookie the HAR's answers set.
fn har_secure_flags(entries: &[Value], is_ltpa: &dyn Fn(&str) -> bool) -> Vec<(String, bool)> {
    entries
        .iter()
        .flat_map(|entry| entry["response"]["cookies"].as_array().into_iter().flatten())
        .filter_map(|cookie| {
            let name = cookie["name"].as_str()?;
            is_ltpa(name).then(|| (name.to_owned(), cookie["secure"].as_bool().unwrap_or(false)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_split_from_hosts() {
        assert_eq!(split_port("chat.example.com", 443), ("chat.example.com".into(), 443));
        assert_eq!(split_port("chat.example.com:8443", 443), ("chat.example.com".into(), 8443));
        assert_eq!(split_port("[::1]:8443", 443), ("::1".into(), 8443));
        assert_eq!(split_port("[::1]", 443), ("::1".into(), 443));
    }

    #[test]
    fn cookie_headers_are_split() {
        let pairs = cookie_pairs(" JSESSIONID=abc; LtpaToken2=\"x=y\"; empty=");
        assert_eq!(pairs[1], ("LtpaToken2".into(), "x=y".into()));
        assert_eq!(pairs.len(), 3);
    }
}
