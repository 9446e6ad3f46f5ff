//! What the browser sent: a bare token, a `Cookie` header or a HAR file,
//! and, when no LTPA cookie came with it, what usually keeps one away.

use std::path::PathBuf;

use ltpa::SsoSettings;

use super::{Findings, INDENT, split_port};

/// What the browser sent, and where.
pub struct Sent {
    /// The cookies of the request examined, by name (a bare token has none).
    pub cookies: Vec<(String, String)>,
    /// Where the browser sent them.
    pub url: Option<String>,
    /// The LTPA cookies the other application's answers set (HAR only).
    pub set: Vec<SetCookie>,
    /// Where the cookies came from.
    pub source: Source,
    /// Every cookie name the browser sent (names only: values are secrets).
    pub names: Vec<String>,
}

/// Where the cookies came from, for the messages.
#[derive(PartialEq, Eq)]
pub enum Source {
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
pub struct SetCookie {
    /// The cookie's name.
    pub name: String,
    /// Its `Domain`; `None`: host-only (the host of `set_by`).
    pub domain: Option<String>,
    /// Its `Path`.
    pub path: Option<String>,
    /// Whether it is `Secure`.
    pub secure: bool,
    /// The address whose answer set it.
    pub set_by: Option<String>,
}

impl SetCookie {
    /// Whether both are the same cookie, wherever they were set.
    pub fn same_cookie(&self, other: &Self) -> bool {
        (&self.name, &self.domain, &self.path, self.secure)
            == (&other.name, &other.domain, &other.path, other.secure)
    }
}

impl Sent {
    /// Nothing sent: only an address to examine.
    pub fn nothing() -> Self {
        Self {
            cookies: Vec::new(),
            url: None,
            set: Vec::new(),
            source: Source::Nothing,
            names: vec![],
        }
    }

    /// A bare token (the format tells LtpaToken2 from LtpaToken).
    pub fn token(token: String) -> Self {
        Self { cookies: vec![(String::new(), token)], source: Source::Token, ..Self::nothing() }
    }

    /// A `Cookie` header as the browser sent it.
    pub fn header(header: &str) -> Self {
        let cookies = cookie_pairs(header.trim_start_matches("Cookie:"));
        let names = cookies.iter().map(|(name, _)| name.clone()).collect();
        Self { cookies, names, source: Source::Header, ..Self::nothing() }
    }

    /// Text pasted into the console: a `Cookie` header when it holds a
    /// `name=value` pair (a token's Base64 has `=` only as padding at its
    /// end), else a bare token.
    pub fn pasted(text: &str) -> Self {
        let text = text.trim();
        let header = text
            .trim_start_matches("Cookie:")
            .split_once('=')
            .is_some_and(|(_, value)| !value.trim_start_matches('=').is_empty());
        if header { Self::header(text) } else { Self::token(text.to_owned()) }
    }

    /// Whether an LTPA cookie (or a bare token) is among the cookies.
    pub fn carries_ltpa(&self, sso: &SsoSettings) -> bool {
        self.cookies.iter().any(|(name, _)| name.is_empty() || is_ltpa(sso, name))
    }
}

/// Whether `name` is one of Simul's LTPA cookie names or looks like one.
pub fn is_ltpa(sso: &SsoSettings, name: &str) -> bool {
    name == sso.ltpa2_cookie_name
        || name == sso.ltpa1_cookie_name
        || name.to_ascii_lowercase().starts_with("ltpatoken")
}

/// The most common SSO failure: the browser sent no LTPA cookie at all.
/// Says which cookies did arrive (names only) and what usually keeps the
/// LTPA cookie away.
pub fn no_ltpa_cookie(findings: &mut Findings, sso: &SsoSettings, sent: &Sent) {
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
pub fn examine_set_cookies(
    findings: &mut Findings,
    set: &[SetCookie],
    simul_host: &str,
    url: Option<&str>,
) {
    if !set.is_empty() {
        findings.heading("The LTPA cookies the application set:");
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
    split_port(authority, 0).0
}

/// `name=value` pairs of a `Cookie` header.
pub fn cookie_pairs(header: &str) -> Vec<(String, String)> {
    header
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().trim_matches('"').to_owned()))
        .collect()
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
    fn pasted_text_is_a_header_or_a_token() {
        let header = Sent::pasted("Cookie: JSESSIONID=a; LtpaToken2=b+c/d==");
        assert_eq!(header.names, ["JSESSIONID", "LtpaToken2"]);
        let token = Sent::pasted(" T3p+aGVsbG8/d29ybGQ= ");
        assert_eq!(token.cookies, [(String::new(), "T3p+aGVsbG8/d29ybGQ=".to_owned())]);
    }

    #[test]
    fn hosts_come_out_of_addresses() {
        assert_eq!(host_of("https://Portal.example.com:10041/wps"), "Portal.example.com");
        assert_eq!(host_of("http://[::1]:8080/"), "::1");
    }
}
