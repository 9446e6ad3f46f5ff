//! One token, as the server would take it: the cookie it came in, its
//! format, Simul's keys, the time and the realm.

use ltpa::token::{human_duration, rfc3339};
use ltpa::{Identity, Inspection, Invalid, SsoSettings, TokenFormat, Verifier, VerifyOptions};

use super::{CLOCK_SKEW_MS, Findings, sent};

/// What the server checks a token with.
pub struct TokenCheck<'a> {
    /// The SSO settings: the cookie names read, interoperability mode.
    pub sso: &'a SsoSettings,
    /// Simul's keys, or why there are none here.
    pub verifier: Result<Verifier, String>,
    /// The moment and the trusted realms (Simul's own first).
    pub options: VerifyOptions,
}

impl TokenCheck<'_> {
    /// Examines one cookie (`name` empty: a bare token), printing what it
    /// finds; the identity when the server would accept the token.
    pub fn examine(&self, findings: &mut Findings, name: &str, value: &str) -> Option<Identity> {
        let label =
            if name.is_empty() { "the token".to_owned() } else { format!("the cookie {name}") };
        if !name.is_empty() && !self.reads(name) {
            if sent::is_ltpa(self.sso, name) {
                self.renamed(findings, &label);
            }
            return None;
        }
        findings.heading(&format!("{}:", capitalized(&label)));
        let verifier = match &self.verifier {
            Ok(verifier) => verifier,
            Err(why) => {
                findings.problem(
                    &format!("{label} cannot be checked here: {why}"),
                    "run the doctor where Simul runs, with its --data DIR or --config FILE",
                );
                return None;
            }
        };
        // Any format: the cookie's name is checked against what the value is.
        let inspection = match verifier.inspect(value, None, &self.options) {
            Ok(inspection) => inspection,
            Err(invalid) => {
                self.unopened(findings, &label, name, &invalid);
                return None;
            }
        };
        let cookie = self.cookie_for(inspection.format);
        if !name.is_empty() && name != cookie {
            self.wrong_name(findings, &label, name, inspection.format);
            return None;
        }
        findings.ok(&format!("format {} (opened with Simul's keys)", inspection.format.as_str()));
        let read = self.format_is_read(findings, &label, inspection.format);
        self.check_times(findings, &label, &inspection);
        let failure = inspection.checks.iter().find_map(|check| check.outcome.clone().err());
        match failure {
            None if read => {
                findings.ok(&format!("{label} is valid here: signature, time and realm check"));
                inspection.identity
            }
            None => None,
            Some(invalid) => {
                explain(findings, &label, &invalid, &self.options.trusted_realms);
                None
            }
        }
    }

    /// Whether Simul reads tokens from a cookie of this name.
    fn reads(&self, name: &str) -> bool {
        name == self.sso.ltpa2_cookie_name || name == self.sso.ltpa1_cookie_name
    }

    /// The cookie Simul reads a format from.
    fn cookie_for(&self, format: TokenFormat) -> &str {
        match format {
            TokenFormat::Ltpa2 => &self.sso.ltpa2_cookie_name,
            TokenFormat::Ltpa1 | TokenFormat::Domino => &self.sso.ltpa1_cookie_name,
        }
    }

    /// An LTPA-looking cookie of a name Simul does not read.
    fn renamed(&self, findings: &mut Findings, label: &str) {
        findings.problem(
            &format!(
                "{label} looks like an LTPA token, but Simul reads the cookies {:?} and {:?}",
                self.sso.ltpa2_cookie_name, self.sso.ltpa1_cookie_name
            ),
            "make sso.ltpa2_cookie_name (or ltpa1_cookie_name) the other server's cookie name, or \
             give the cookie its usual name there (WebSphere: custom property \
             com.ibm.websphere.security.customSSOCookieName; Liberty: <webAppSecurity \
             ssoCookieName>)",
        );
    }

    /// A token of one format in the cookie of the other: the value is
    /// right, the name is not, and the server looks for it under the
    /// other name.
    fn wrong_name(&self, findings: &mut Findings, label: &str, name: &str, format: TokenFormat) {
        let expected = self.cookie_for(format);
        let (kind, simul_key, websphere) = match format {
            TokenFormat::Ltpa2 => (
                "an LtpaToken2 token",
                "sso.ltpa2_cookie_name",
                "com.ibm.websphere.security.customSSOCookieName (the LtpaToken2 cookie's name)",
            ),
            TokenFormat::Ltpa1 | TokenFormat::Domino => (
                "a version-1 LtpaToken token",
                "sso.ltpa1_cookie_name",
                "com.ibm.websphere.security.customLTPACookieName (the version-1 cookie's name; \
                 WebSphere sends that cookie only with \"Interoperability mode\" on the Single \
                 sign-on page)",
            ),
        };
        findings.problem(
            &format!(
                "{label} holds {kind}: the other server sends it under the name {name}, and Simul \
                 looks for {kind} in the cookie {expected:?} (the value is right, the cookie name \
                 is wrong)"
            ),
            &format!(
                "give the cookie the same name on both sides: in Simul {simul_key} (now \
                 {expected:?}; ltpa1_cookie_name and ltpa2_cookie_name must differ); in WebSphere \
                 the custom property {websphere} under Global security ▸ Custom properties; in \
                 Liberty <webAppSecurity ssoCookieName=\"...\"> (Liberty sends LtpaToken2 only)"
            ),
        );
    }

    /// A token that opens with neither format and Simul's keys.
    fn unopened(&self, findings: &mut Findings, label: &str, name: &str, invalid: &Invalid) {
        explain(findings, label, invalid, &self.options.trusted_realms);
        if name == self.sso.ltpa1_cookie_name {
            findings.note(
                "a Domino server with its own Web SSO secret makes LtpaToken cookies of its own \
                 format, which Simul does not read: import the WebSphere LTPA keys into Domino's \
                 Web SSO configuration instead (Keys ▸ Import WebSphere LTPA Keys)",
            );
        }
    }

    /// A version-1 token is read only in interoperability mode; `false`
    /// (and a problem) when the server would ignore it.
    fn format_is_read(&self, findings: &mut Findings, label: &str, format: TokenFormat) -> bool {
        if format == TokenFormat::Ltpa2 || self.sso.interoperability_mode {
            return true;
        }
        findings.problem(
            &format!("{label} is a version-1 LtpaToken, which Simul does not read now"),
            "make the other server issue LtpaToken2 (WebSphere: LTPA, not interoperability only; \
             Domino: Web SSO \"Token format\" LtpaToken2), or set sso.interoperability_mode = \
             true to read version-1 tokens too",
        );
        false
    }

    /// Who the token names, and whether its expiry betrays a clock ahead.
    fn check_times(&self, findings: &mut Findings, label: &str, inspection: &Inspection) {
        let Some(identity) = &inspection.identity else { return };
        findings.note(&format!(
            "user {:?} in realm {:?}, expires {}",
            identity.user,
            identity.realm.as_deref().unwrap_or("(none)"),
            rfc3339(identity.expires_ms)
        ));
        // LtpaToken2 carries no creation time: an expiry further away than
        // a whole lifetime is the sign of a clock ahead (or a longer lifetime).
        let now_ms = self.options.now_ms;
        let ahead = identity.expires_ms - now_ms - self.sso.lifetime_ms();
        if ahead > CLOCK_SKEW_MS {
            findings.problem(
                &format!(
                    "{label} expires in {}, later than any token Simul makes \
                     (sso.expiration_minutes = {}): the issuing server's clock is about {} ahead, \
                     or its token lifetime is longer",
                    human_duration(identity.expires_ms - now_ms),
                    self.sso.expiration_minutes,
                    human_duration(ahead)
                ),
                "set both clocks by NTP, and keep the token lifetime equal on all servers",
            );
        }
    }
}

/// A refusal in plain words, with what to do.
fn explain(findings: &mut Findings, label: &str, invalid: &Invalid, trusted: &[String]) {
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
        Invalid::WrongRealm { realm: theirs, .. } => wrong_realm(label, theirs, trusted),
    };
    findings.problem(&what, &fix);
}

/// A token of a realm Simul does not trust: one registry and one realm
/// name for all servers, or trust the other realm.
fn wrong_realm(label: &str, theirs: &str, trusted: &[String]) -> (String, String) {
    let realm = trusted.first().map_or("", String::as_str);
    let what = match trusted {
        [_] => format!("{label} names the realm {theirs:?}, and Simul's is {realm:?}"),
        _ => format!(
            "{label} names the realm {theirs:?}, and Simul's is {realm:?} (also trusted: {})",
            quoted(&trusted[1..])
        ),
    };
    let fix = format!(
        "all servers need one user registry and one realm name: set directory.realm = \
         {theirs:?} if that registry is Simul's (the federated repository's realm name, or the \
         LDAP host:port), or rename the other server's realm to {realm:?}; or, if that realm's \
         users are to come in as they are, trust it: sso.trusted_realms = [{theirs:?}]"
    );
    (what, fix)
}

/// Realm names, quoted and separated by commas.
pub fn quoted(realms: &[String]) -> String {
    realms.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>().join(", ")
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}
