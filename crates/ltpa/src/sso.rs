//! Single sign-on settings, as on WebSphere's "Single sign-on (SSO)" page
//! and Domino's Web SSO configuration document, and the cookies they imply.
//!
//! Semantics follow the WebSphere documentation: the cookie `Domain` is the
//! first configured domain the request host belongs to (none matching: a
//! host-only cookie), `Secure` follows "Requires SSL", and with
//! "Interoperability mode" a version-1 `LtpaToken` is sent next to
//! `LtpaToken2`. Cookies are session cookies unless persistent cookies are
//! asked for, as in WebSphere and Domino.

use serde::{Deserialize, Serialize};

use crate::keys::LtpaKeys;
use crate::token::TokenFormat;
use crate::userdata::{AccessId, UserData};
use crate::{ltpa1, ltpa2};

/// The special domain entry meaning "the domain of the request's host".
pub const USE_DOMAIN_FROM_URL: &str = "UseDomainFromURL";

/// SSO settings shared by every server in one DNS domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SsoSettings {
    /// Whether SSO cookies are issued and accepted.
    pub enabled: bool,
    /// DNS domains for the cookie, each with its leading dot (`.example.com`),
    /// or [`USE_DOMAIN_FROM_URL`]. Empty: host-only cookies.
    pub domains: Vec<String>,
    /// Issue and accept SSO cookies only over HTTPS, marked `Secure`.
    pub requires_ssl: bool,
    /// Also issue, and accept, a version-1 `LtpaToken`.
    pub interoperability_mode: bool,
    /// Name of the version-1 (and Domino) cookie.
    pub ltpa1_cookie_name: String,
    /// Name of the LtpaToken2 cookie.
    pub ltpa2_cookie_name: String,
    /// Token lifetime in minutes (WebSphere default 120; keep equal to
    /// Domino's Web SSO "Expiration").
    pub expiration_minutes: u32,
    /// Mark cookies `HttpOnly`. Sametime and Connections guides turn this
    /// off for their browser code; Simul's own client does not need it off.
    pub http_only: bool,
    /// `SameSite` attribute of the cookies.
    pub same_site: SameSite,
    /// Send `Max-Age` (cookies survive a browser restart) instead of
    /// session cookies.
    pub persistent_cookies: bool,
    /// Accept Domino-format `LtpaToken` cookies (needs the Domino secret).
    pub accept_domino_tokens: bool,
    /// Realms whose tokens are accepted beside the deployment's own, as
    /// WebSphere's "Trusted authentication realms - inbound": for another
    /// registry of the SSO domain whose users may come in as they are.
    pub trusted_realms: Vec<String>,
}

impl Default for SsoSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            domains: Vec::new(),
            requires_ssl: false,
            interoperability_mode: false,
            ltpa1_cookie_name: "LtpaToken".into(),
            ltpa2_cookie_name: "LtpaToken2".into(),
            expiration_minutes: 120,
            http_only: true,
            same_site: SameSite::Lax,
            persistent_cookies: false,
            accept_domino_tokens: false,
            trusted_realms: Vec::new(),
        }
    }
}

/// The cookie `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SameSite {
    /// Sent only with same-site requests.
    Strict,
    /// Also sent on top-level navigation from other sites.
    Lax,
    /// Always sent (requires `Secure` in browsers).
    None,
}

/// The request a cookie decision is made for.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Host name the client used (without port).
    pub host: &'a str,
    /// Whether the request came over HTTPS.
    pub https: bool,
}

/// A `Set-Cookie` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    /// Cookie name.
    pub name: String,
    /// Cookie value (the token, or empty when clearing).
    pub value: String,
    /// `Domain` attribute, if any.
    pub domain: Option<String>,
    /// `Secure` attribute.
    pub secure: bool,
    /// `HttpOnly` attribute.
    pub http_only: bool,
    /// `SameSite` attribute.
    pub same_site: SameSite,
    /// `Max-Age` in seconds, if any (0 clears the cookie).
    pub max_age: Option<i64>,
}

impl std::fmt::Display for SetCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}; Path=/", self.name, self.value)?;
        if let Some(domain) = &self.domain {
            write!(f, "; Domain={domain}")?;
        }
        if let Some(max_age) = self.max_age {
            write!(f, "; Max-Age={max_age}")?;
        }
        if self.secure {
            f.write_str("; Secure")?;
        }
        if self.http_only {
            f.write_str("; HttpOnly")?;
        }
        let same_site = match self.same_site {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        };
        write!(f, "; SameSite={same_site}")
    }
}

/// A token found in a request's cookies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedToken {
    /// The cookie it came in.
    pub cookie: String,
    /// The token text.
    pub value: String,
    /// The formats it may be in (version 1 and Domino share a cookie name).
    pub formats: Vec<TokenFormat>,
}

/// A setting that cannot work, with the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct SettingError {
    /// The setting.
    pub setting: &'static str,
    /// What is wrong and how to fix it.
    pub problem: String,
}

impl SsoSettings {
    /// Splits a domain list as typed on the WebSphere page or the Domino
    /// document: entries separated by `;`, `,`, `|` or spaces.
    pub fn parse_domains(text: &str) -> Vec<String> {
        text.split([';', ',', '|', ' '])
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Checks the settings; the error names the setting and the fix.
    pub fn validate(&self) -> Result<(), SettingError> {
        for (setting, name) in [
            ("ltpa1_cookie_name", &self.ltpa1_cookie_name),
            ("ltpa2_cookie_name", &self.ltpa2_cookie_name),
        ] {
            let bad = name.is_empty()
                || name.starts_with('$')
                || name
                    .chars()
                    .any(|c| !c.is_ascii_graphic() || "_,;=\"\\()<>@:/[]?{}".contains(c));
            if bad {
                return Err(SettingError {
                    setting,
                    problem: format!(
                        "{name:?} is not a usable cookie name (no leading '$', no underscore, comma, \
                         semicolon, '=' or white space; Domino applies the same rule)"
                    ),
                });
            }
        }
        if self.ltpa1_cookie_name == self.ltpa2_cookie_name {
            return Err(SettingError {
                setting: "ltpa2_cookie_name",
                problem: "must differ from ltpa1_cookie_name".into(),
            });
        }
        for domain in &self.domains {
            if domain.eq_ignore_ascii_case(USE_DOMAIN_FROM_URL) {
                continue;
            }
            let bare = domain.trim_start_matches('.');
            if !bare.contains('.') || domain.contains('_') || bare.is_empty() {
                return Err(SettingError {
                    setting: "domains",
                    problem: format!(
                        "{domain:?} is not a DNS domain: use the part after the host name, with a \
                         leading dot and at least one more dot (e.g. \".example.com\"), no underscores"
                    ),
                });
            }
        }
        for realm in &self.trusted_realms {
            if realm.trim().is_empty() || realm.contains('/') {
                return Err(SettingError {
                    setting: "trusted_realms",
                    problem: format!(
                        "{realm:?} is not a realm name: write it as tokens carry it (e.g. \
                         \"defaultWIMFileBasedRealm\" or \"ldap.example.com:389\"), without '/'"
                    ),
                });
            }
        }
        if self.expiration_minutes == 0 {
            return Err(SettingError {
                setting: "expiration_minutes",
                problem: "must be at least 1 (WebSphere's default is 120)".into(),
            });
        }
        if self.same_site == SameSite::None && !self.requires_ssl {
            return Err(SettingError {
                setting: "same_site",
                problem: "\"none\" needs requires_ssl = true: browsers drop SameSite=None cookies without Secure".into(),
            });
        }
        Ok(())
    }

    /// Every problem of the settings for a server users reach as `host`
    /// (the console shows them beside the fields): [`validate`](Self::validate)'s,
    /// a domain written without its leading dot, and domains none of which
    /// covers `host` (the browser would not send the cookies to it).
    pub fn review(&self, host: &str) -> Vec<SettingError> {
        let mut problems: Vec<SettingError> = self.validate().err().into_iter().collect();
        let named: Vec<&String> = self
            .domains
            .iter()
            .filter(|domain| !domain.eq_ignore_ascii_case(USE_DOMAIN_FROM_URL))
            .collect();
        for domain in &named {
            if !domain.starts_with('.') {
                problems.push(SettingError {
                    setting: "domains",
                    problem: format!(
                        "{domain:?} has no leading dot: write \".{domain}\", as on WebSphere's \
                         Single sign-on page and in Domino's Web SSO document"
                    ),
                });
            }
        }
        if !named.is_empty() && !host.is_empty() && self.cookie_domain(host).is_none() {
            problems.push(SettingError {
                setting: "domains",
                problem: format!(
                    "none of {named:?} covers this server's host {host:?} (server.domain): \
                     browsers would not send the SSO cookies to it; add the DNS domain it is in"
                ),
            });
        }
        problems
    }

    /// The realms whose tokens are accepted: `own` (the realm the
    /// deployment's users carry), then [`trusted_realms`](Self::trusted_realms).
    pub fn accepted_realms(&self, own: &str) -> Vec<String> {
        let mut realms = vec![own.to_owned()];
        realms.extend(self.trusted_realms.iter().filter(|r| *r != own).cloned());
        realms
    }

    /// Token lifetime in milliseconds.
    pub fn lifetime_ms(&self) -> i64 {
        i64::from(self.expiration_minutes) * 60_000
    }

    /// The token formats issued at login: LtpaToken2, plus the version-1
    /// LtpaToken in interoperability mode.
    pub fn issued_formats(&self) -> Vec<TokenFormat> {
        let mut formats = vec![TokenFormat::Ltpa2];
        if self.interoperability_mode {
            formats.push(TokenFormat::Ltpa1);
        }
        formats
    }

    /// Whether SSO cookies apply to this request at all.
    pub fn applies_to(&self, request: Request<'_>) -> bool {
        self.enabled && (request.https || !self.requires_ssl)
    }

    /// The cookie `Domain` for a request host: the first configured domain
    /// the host is in, or `None` for a host-only cookie.
    pub fn cookie_domain(&self, host: &str) -> Option<String> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.domains.iter().find_map(|domain| {
            if domain.eq_ignore_ascii_case(USE_DOMAIN_FROM_URL) {
                let (_, parent) = host.split_once('.')?;
                return parent.contains('.').then(|| format!(".{parent}"));
            }
            let bare = domain.trim_start_matches('.').to_ascii_lowercase();
            let inside = host == bare || host.ends_with(&format!(".{bare}"));
            inside.then(|| format!(".{bare}"))
        })
    }

    /// Creates the tokens for `user` and the cookies that carry them,
    /// expiring `expiration_minutes` after `now_ms`. Empty when SSO does not
    /// apply to the request.
    pub fn login_cookies(
        &self,
        keys: &LtpaKeys,
        user: &AccessId,
        now_ms: i64,
        request: Request<'_>,
    ) -> Vec<SetCookie> {
        if !self.applies_to(request) {
            return Vec::new();
        }
        let expires_ms = now_ms + self.lifetime_ms();
        let data = UserData::for_user(user);
        let max_age = self.persistent_cookies.then(|| self.lifetime_ms() / 1000);
        self.issued_formats()
            .into_iter()
            .map(|format| {
                let (name, value) = match format {
                    TokenFormat::Ltpa2 => {
                        (&self.ltpa2_cookie_name, ltpa2::create(keys, &data, expires_ms))
                    }
                    _ => (&self.ltpa1_cookie_name, ltpa1::create(keys, &data, expires_ms)),
                };
                self.cookie(name, value, max_age, request)
            })
            .collect()
    }

    /// Cookies that remove the SSO cookies from the browser (logout).
    pub fn logout_cookies(&self, request: Request<'_>) -> Vec<SetCookie> {
        [&self.ltpa2_cookie_name, &self.ltpa1_cookie_name]
            .into_iter()
            .map(|name| self.cookie(name, String::new(), Some(0), request))
            .collect()
    }

    fn cookie(
        &self,
        name: &str,
        value: String,
        max_age: Option<i64>,
        request: Request<'_>,
    ) -> SetCookie {
        SetCookie {
            name: name.to_owned(),
            value,
            domain: self.cookie_domain(request.host),
            // Over HTTPS always: a cookie set there must never travel in clear.
            secure: request.https || self.requires_ssl || self.same_site == SameSite::None,
            http_only: self.http_only,
            same_site: self.same_site,
            max_age,
        }
    }

    /// The SSO tokens in a `Cookie` header, best first: LtpaToken2, then
    /// `LtpaToken` when interoperability mode (version 1) or Domino tokens
    /// are accepted. Empty when SSO does not apply to the request.
    pub fn presented_tokens(
        &self,
        cookie_header: &str,
        request: Request<'_>,
    ) -> Vec<PresentedToken> {
        if !self.applies_to(request) {
            return Vec::new();
        }
        let pairs: Vec<(&str, &str)> = cookie_header
            .split(';')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (name.trim(), value.trim()))
            .filter(|(_, value)| !value.is_empty())
            .collect();
        let mut v1_formats = Vec::new();
        if self.interoperability_mode {
            v1_formats.push(TokenFormat::Ltpa1);
        }
        if self.accept_domino_tokens {
            v1_formats.push(TokenFormat::Domino);
        }
        let mut found = Vec::new();
        for (cookie, formats) in [
            (&self.ltpa2_cookie_name, vec![TokenFormat::Ltpa2]),
            (&self.ltpa1_cookie_name, v1_formats),
        ] {
            if formats.is_empty() {
                continue;
            }
            for (_, value) in pairs.iter().filter(|(name, _)| name == cookie) {
                found.push(PresentedToken {
                    cookie: cookie.clone(),
                    value: value.trim_matches('"').to_owned(),
                    formats: formats.clone(),
                });
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(host: &str) -> Request<'_> {
        Request { host, https: true }
    }

    #[test]
    fn domains_parse_and_match_like_websphere() {
        let settings = SsoSettings {
            domains: SsoSettings::parse_domains(".edcom.local;.timetoact.de | .b.example.com"),
            ..SsoSettings::default()
        };
        assert_eq!(settings.domains, [".edcom.local", ".timetoact.de", ".b.example.com"]);
        assert_eq!(settings.cookie_domain("st.TIMETOACT.de"), Some(".timetoact.de".into()));
        assert_eq!(settings.cookie_domain("timetoact.de"), Some(".timetoact.de".into()));
        assert_eq!(settings.cookie_domain("nottimetoact.de"), None);
        assert_eq!(settings.cookie_domain("localhost"), None);
        let from_url =
            SsoSettings { domains: vec!["usedomainfromurl".into()], ..SsoSettings::default() };
        assert_eq!(from_url.cookie_domain("chat.acme.com"), Some(".acme.com".into()));
        assert_eq!(from_url.cookie_domain("acme.com"), None);
    }

    #[test]
    fn validation_names_the_setting() {
        assert!(SsoSettings::default().validate().is_ok());
        let bad = |settings: SsoSettings| settings.validate().unwrap_err().setting;
        let d = SsoSettings::default;
        assert_eq!(bad(SsoSettings { domains: vec!["localhost".into()], ..d() }), "domains");
        assert_eq!(bad(SsoSettings { domains: vec![".my_corp.com".into()], ..d() }), "domains");
        assert_eq!(
            bad(SsoSettings { ltpa2_cookie_name: "Ltpa_Token2".into(), ..d() }),
            "ltpa2_cookie_name"
        );
        assert_eq!(
            bad(SsoSettings { ltpa1_cookie_name: "$Ltpa".into(), ..d() }),
            "ltpa1_cookie_name"
        );
        assert_eq!(bad(SsoSettings { expiration_minutes: 0, ..d() }), "expiration_minutes");
        assert_eq!(bad(SsoSettings { same_site: SameSite::None, ..d() }), "same_site");
        assert_eq!(
            bad(SsoSettings { trusted_realms: vec!["a/b".into()], ..d() }),
            "trusted_realms"
        );
        assert_eq!(bad(SsoSettings { trusted_realms: vec![" ".into()], ..d() }), "trusted_realms");
    }

    #[test]
    fn review_finds_a_missing_dot_and_a_domain_beside_the_host() {
        let settings = |domains: &[&str]| SsoSettings {
            domains: domains.iter().map(|d| (*d).to_owned()).collect(),
            ..SsoSettings::default()
        };
        assert!(settings(&[".example.com"]).review("chat.example.com").is_empty());
        assert!(settings(&[]).review("chat.example.com").is_empty());
        let dotless = settings(&["example.com"]).review("chat.example.com");
        assert_eq!(dotless.len(), 1);
        assert!(dotless[0].problem.contains("leading dot"), "{}", dotless[0].problem);
        let elsewhere = settings(&[".other.org"]).review("chat.example.com");
        assert_eq!(elsewhere.len(), 1);
        assert!(elsewhere[0].problem.contains("covers"), "{}", elsewhere[0].problem);
        let ok_too = settings(&[".other.org", ".example.com"]).review("chat.example.com");
        assert!(ok_too.is_empty());
    }

    #[test]
    fn the_own_realm_comes_first_then_the_trusted_ones() {
        let settings =
            SsoSettings { trusted_realms: vec!["b".into(), "a".into()], ..SsoSettings::default() };
        assert_eq!(settings.accepted_realms("a"), ["a", "b"]);
        assert_eq!(SsoSettings::default().accepted_realms("a"), ["a"]);
    }

    #[test]
    fn set_cookie_text_has_every_attribute() {
        let cookie = SetCookie {
            name: "LtpaToken2".into(),
            value: "abc=".into(),
            domain: Some(".acme.com".into()),
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            max_age: Some(7200),
        };
        assert_eq!(
            cookie.to_string(),
            "LtpaToken2=abc=; Path=/; Domain=.acme.com; Max-Age=7200; Secure; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn presented_tokens_prefer_ltpa2_and_need_interop_for_ltpa() {
        let header = "JSESSIONID=x; LtpaToken=v1; LtpaToken2=\"v2\"";
        let settings = SsoSettings::default();
        let found = settings.presented_tokens(header, request("a.acme.com"));
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].cookie.as_str(), found[0].value.as_str()), ("LtpaToken2", "v2"));
        let interop = SsoSettings {
            interoperability_mode: true,
            accept_domino_tokens: true,
            ..SsoSettings::default()
        };
        let found = interop.presented_tokens("LtpaToken=v1", request("a.acme.com"));
        assert_eq!(found[0].formats, [TokenFormat::Ltpa1, TokenFormat::Domino]);
    }

    #[test]
    fn cookies_set_over_https_are_secure_by_default() {
        let settings = SsoSettings::default();
        let plain = Request { host: "a.acme.com", https: false };
        assert!(settings.logout_cookies(request("a.acme.com")).iter().all(|c| c.secure));
        assert!(settings.logout_cookies(plain).iter().all(|c| !c.secure));
    }

    #[test]
    fn requires_ssl_ignores_plain_http() {
        let settings = SsoSettings { requires_ssl: true, ..SsoSettings::default() };
        let plain = Request { host: "a.acme.com", https: false };
        assert!(settings.presented_tokens("LtpaToken2=v2", plain).is_empty());
        assert!(
            settings.logout_cookies(request("a")).iter().all(|c| c.secure && c.max_age == Some(0))
        );
    }
}
