//! What the browser sent: a bare token, a `Cookie` header or a HAR file,
//! and, when no LTPA cookie came with it, what usually keeps one away.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use ltpa::SsoSettings;
use serde_json::Value;

use super::{Findings, INDENT};

/// What the browser sent, and where.
pub(super) struct Sent {
    /// The cookies of the request examined, by name (a bare token has none).
    pub(super) cookies: Vec<(String, String)>,
    /// Where the browser sent them.
    pub(super) url: Option<String>,
    /// The LTPA cookies the other application's answers set (HAR only).
    pub(super) set: Vec<SetCookie>,
    /// Where the cookies came from.
    pub(super) source: Source,
    /// Every cookie name the browser sent (names only: values are secrets).
    pub(super) names: Vec<String>,
}

/// Where the cookies came from, for the messages.
#[derive(PartialEq, Eq)]
pub(super) enum Source {
    /// Nothing: only `--url` was given.
    Nothing,
    /// A bare token.
    Token,
    /// `--cookie-header`.
    Header,
    /// `--har FILE`.
    Har(PathBuf),
}

/// An LTPA cookie an answer of the other application set (from a HAR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SetCookie {
    pub(super) name: String,
    /// Its `Domain`; `None`: host-only (the host of `set_by`).
    pub(super) domain: Option<String>,
    pub(super) path: Option<String>,
    pub(super) secure: bool,
    /// The address whose answer set it.
    pub(super) set_by: Option<String>,
}

impl SetCookie {
    /// Whether both are the same cookie, wherever they were set.
    fn same_cookie(&self, other: &Self) -> bool {
        (&self.name, &self.domain, &self.path, self.secure)
            == (&other.name, &other.domain, &other.path, other.secure)
    }
}

impl Sent {
    /// Nothing sent: only an address to examine.
    pub(super) fn nothing() -> Self {
        Self {
            cookies: Vec::new(),
            url: None,
            set: Vec::new(),
            source: Source::Nothing,
            names: vec![],
        }
    }

    /// A bare token (the format tells LtpaToken2 from LtpaToken).
    pub(super) fn token(token: String) -> Self {
        Self { cookies: vec![(String::new(), token)], source: Source::Token, ..Self::nothing() }
    }

    /// A `Cookie` header as the browser sent it.
    pub(super) fn header(header: &str) -> Self {
        let cookies = cookie_pairs(header.trim_start_matches("Cookie:"));
        let names = cookies.iter().map(|(name, _)| name.clone()).collect();
        Self { cookies, names, source: Source::Header, ..Self::nothing() }
    }

    /// Whether an LTPA cookie (or a bare token) is among the cookies.
    pub(super) fn carries_ltpa(&self, sso: &SsoSettings) -> bool {
        self.cookies.iter().any(|(name, _)| name.is_empty() || is_ltpa(sso, name))
    }
}

/// Whether `name` is one of Simul's LTPA cookie names or looks like one.
pub(super) fn is_ltpa(sso: &SsoSettings, name: &str) -> bool {
    name == sso.ltpa2_cookie_name
        || name == sso.ltpa1_cookie_name
        || name.to_ascii_lowercase().starts_with("ltpatoken")
}

/// The most common SSO failure: the browser sent no LTPA cookie at all.
/// Says which cookies did arrive (names only) and what usually keeps the
/// LTPA cookie away.
pub(super) fn no_ltpa_cookie(findings: &mut Findings, sso: &SsoSettings, sent: &Sent) {
    let arrived = if sent.names.is_empty() {
        "no cookie at all".to_owned()
    } else {
        format!("only {}", sent.names.join(", "))
    };
    let wanted = format!("{} or {}", sso.ltpa2_cookie_name, sso.ltpa1_cookie_name);
    let what = match &sent.source {
        Source::Har(file) => {
            format!("no request in {} carries an {wanted} cookie ({arrived})", file.display())
        }
        _ => format!("no LTPA cookie arrived: the Cookie header has {arrived}, and no {wanted}"),
    };
    let domains = if sso.domains.is_empty() {
        "not set: host-only cookies".to_owned()
    } else {
        format!("{:?}", sso.domains)
    };
    let causes = [
        "sign in to the other application first, in the same browser; what usually keeps the \
         cookie away then:"
            .to_owned(),
        format!(
            "- its domain does not cover this host: the server that sets it must use the DNS \
             domain both share (WebSphere: Single sign-on ▸ Domain name; Liberty: \
             <webAppSecurity ssoDomainNames>; Domino: Web SSO ▸ DNS domain), as Simul's \
             sso.domains ({domains}); a host-only cookie never reaches another host"
        ),
        "- its Path is not /: the browser sends it only under that path".to_owned(),
        "- it is Secure and the page is http://: browsers send Secure cookies over https only; \
         use https:// addresses"
            .to_owned(),
        format!(
            "- the other server names it differently: if one of the names above is its token, set \
             sso.ltpa2_cookie_name (or sso.ltpa1_cookie_name) to that name, or give it back the \
             name {wanted} there (WebSphere: custom property \
             com.ibm.websphere.security.customSSOCookieName; Liberty: <webAppSecurity \
             ssoCookieName>)"
        ),
    ];
    findings.problem(&what, &causes.join(INDENT));
}

/// Whether the LTPA cookies the other application set can reach Simul:
/// their domain, path and Secure flag.
pub(super) fn examine_set_cookies(
    findings: &mut Findings,
    set: &[SetCookie],
    simul_host: &str,
    url: Option<&str>,
) {
    if !set.is_empty() {
        println!("The LTPA cookies the application set:");
    }
    let plain = url.is_some_and(|u| u.starts_with("http://"));
    for cookie in set {
        let name = &cookie.name;
        if cookie.secure && plain {
            findings.problem(
                &format!("the cookie {name} is Secure but the application is on http://"),
                "browsers send Secure cookies over https only: use https:// addresses everywhere",
            );
        }
        let setter = cookie.set_by.as_deref().map(host_of).unwrap_or_default();
        let domain = cookie.domain.clone().unwrap_or_else(|| setter.clone());
        if !domain.is_empty() && !covers(&domain, simul_host) {
            let scope = match &cookie.domain {
                Some(domain) => format!("for the domain {domain}"),
                None => format!("host-only, for {setter}"),
            };
            findings.problem(
                &format!(
                    "the cookie {name} that {setter} sets is {scope}: the browser does not send \
                     it to Simul's server.domain {simul_host:?}"
                ),
                "set the other server's SSO domain to the DNS domain both share (WebSphere: \
                 Single sign-on ▸ Domain name; Liberty: <webAppSecurity ssoDomainNames>; Domino: \
                 Web SSO ▸ DNS domain), the same as Simul's sso.domains",
            );
        }
        if let Some(path) = cookie.path.as_deref().filter(|p| !p.is_empty() && *p != "/") {
            findings.problem(
                &format!(
                    "the cookie {name} has Path={path}: the browser sends it only to addresses \
                     under {path}, not to Simul"
                ),
                "LTPA cookies need Path=/ (WebSphere and Liberty set it so): look for a proxy \
                 or application that rewrites the cookie's path",
            );
        }
    }
}

/// Whether a cookie for `domain` (leading dot or not) reaches `host`.
fn covers(domain: &str, host: &str) -> bool {
    let domain = domain.trim_start_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == domain || host.ends_with(&format!(".{domain}"))
}

/// The host of an `http(s)://` address, without port.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    super::split_port(authority, 0).0
}

/// `name=value` pairs of a `Cookie` header.
pub(super) fn cookie_pairs(header: &str) -> Vec<(String, String)> {
    header
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().trim_matches('"').to_owned()))
        .collect()
}

/// The first request of a HAR file that carries an LTPA cookie; when none
/// does, every cookie name that was sent and the first request's address.
pub(super) fn from_har(file: &Path, sso: &SsoSettings) -> anyhow::Result<Sent> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let har: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a HAR file (JSON)", file.display()))?;
    let Some(entries) = har["log"]["entries"].as_array() else {
        bail!(
            "{} has no log.entries: save it with DevTools ▸ Network ▸ Save all as HAR",
            file.display()
        );
    };
    let requests: Vec<Request> =
        entries.iter().map(|entry| request_cookies(&entry["request"])).collect();
    let mut sent = Sent {
        set: har_set_cookies(entries, sso),
        source: Source::Har(file.to_owned()),
        ..Sent::nothing()
    };
    match requests.iter().find(|(_, cookies)| cookies.iter().any(|(name, _)| is_ltpa(sso, name))) {
        Some((url, cookies)) => {
            sent.url = url.clone();
            sent.cookies = cookies.clone();
            sent.names = cookies.iter().map(|(name, _)| name.clone()).collect();
        }
        None => {
            sent.url = requests
                .iter()
                .find_map(|(url, _)| url.clone().filter(|url| url.starts_with("http")));
            for (name, _) in requests.iter().flat_map(|(_, cookies)| cookies) {
                if !sent.names.contains(name) {
                    sent.names.push(name.clone());
                }
            }
        }
    }
    Ok(sent)
}

/// A request of a HAR: its address, and its cookies by name.
type Request = (Option<String>, Vec<(String, String)>);

/// A HAR request's address and cookies (from `cookies`, else the header).
fn request_cookies(request: &Value) -> Request {
    let url = request["url"].as_str().map(str::to_owned);
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
        cookies = header.and_then(|h| h["value"].as_str()).map(cookie_pairs).unwrap_or_default();
    }
    (url, cookies)
}

/// The LTPA cookies the HAR's answers set (not those they clear), each once.
fn har_set_cookies(entries: &[Value], sso: &SsoSettings) -> Vec<SetCookie> {
    let mut set: Vec<SetCookie> = Vec::new();
    for entry in entries {
        let set_by = entry["request"]["url"].as_str().map(str::to_owned);
        for cookie in entry["response"]["cookies"].as_array().into_iter().flatten() {
            let Some(name) = cookie["name"].as_str().filter(|name| is_ltpa(sso, name)) else {
                continue;
            };
            if cookie["value"].as_str().is_some_and(str::is_empty) {
                continue;
            }
            let text =
                |key: &str| cookie[key].as_str().filter(|t| !t.is_empty()).map(str::to_owned);
            let found = SetCookie {
                name: name.to_owned(),
                domain: text("domain"),
                path: text("path"),
                secure: cookie["secure"].as_bool().unwrap_or(false),
                set_by: set_by.clone(),
            };
            // The same cookie set again (each page refreshes it) says nothing new.
            if !set.iter().any(|seen| seen.same_cookie(&found)) {
                set.push(found);
            }
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_headers_are_split() {
        let pairs = cookie_pairs(" JSESSIONID=abc; LtpaToken2=\"x=y\"; empty=");
        assert_eq!(pairs[1], ("LtpaToken2".into(), "x=y".into()));
        assert_eq!(pairs.len(), 3);
    }

    #[test]
    fn domains_cover_their_hosts_only() {
        assert!(covers(".renovations.com", "chat.renovations.com"));
        assert!(covers("renovations.com", "renovations.com"));
        assert!(!covers("connections.renovations.com", "chat.renovations.com"));
        assert!(!covers(".renovations.com", "notrenovations.com"));
    }

    #[test]
    fn hosts_come_out_of_addresses() {
        assert_eq!(host_of("https://Portal.example.com:10041/wps"), "Portal.example.com");
        assert_eq!(host_of("http://[::1]:8080/"), "::1");
    }
}
