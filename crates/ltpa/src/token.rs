//! What every token format shares: the verified identity, the reasons a
//! token is refused, verification options, and the ordered checks that
//! `verify` stops at and `inspect` reports in full.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::userdata::AccessId;

/// The three token formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenFormat {
    /// `LtpaToken2`: WebSphere 7+, Liberty, Domino with imported keys.
    Ltpa2,
    /// `LtpaToken` in WebSphere's version-1 format (interoperability mode).
    Ltpa1,
    /// `LtpaToken` in Domino's own format (Domino Web SSO secret).
    Domino,
}

impl TokenFormat {
    /// The name used on the command line and in JSON (`ltpa2`, `ltpa1`, `domino`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ltpa2 => "ltpa2",
            Self::Ltpa1 => "ltpa1",
            Self::Domino => "domino",
        }
    }
}

impl fmt::Display for TokenFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a valid token names, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The format the token was in.
    pub format: TokenFormat,
    /// The user's unique id (LDAP DN, Notes canonical name, login name).
    pub user: String,
    /// The registry realm (WebSphere formats only).
    pub realm: Option<String>,
    /// The full access id (WebSphere formats only).
    pub access_id: Option<AccessId>,
    /// Expiry, milliseconds since the Unix epoch.
    pub expires_ms: i64,
    /// Creation time, milliseconds since the Unix epoch (Domino only).
    pub created_ms: Option<i64>,
    /// Attributes other than the user and the expiry (WebSphere formats).
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// Why a token is refused. `reason()` gives the stable machine name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Not a token of the expected shape (bad Base64, wrong length, fields missing).
    Malformed(String),
    /// It does not decrypt with the keys given: made with other keys, or damaged.
    WrongKey(String),
    /// It decrypts, but the signature or digest does not match the content.
    BadSignature(String),
    /// It expired.
    Expired {
        /// When it expired (ms since epoch).
        expires_ms: i64,
        /// How long before the evaluation moment it expired (ms).
        by_ms: i64,
    },
    /// Its creation time is in the future, beyond the allowed clock skew.
    NotYetValid {
        /// When it becomes valid (ms since epoch).
        created_ms: i64,
        /// How far in the future that is (ms).
        in_ms: i64,
    },
    /// It names a realm that is not trusted.
    WrongRealm {
        /// The realm in the token.
        realm: String,
        /// The realms that are trusted.
        trusted: Vec<String>,
    },
}

impl Invalid {
    /// Stable name: `malformed`, `wrong_key`, `bad_signature`, `expired`,
    /// `not_yet_valid` or `wrong_realm`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::WrongKey(_) => "wrong_key",
            Self::BadSignature(_) => "bad_signature",
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::WrongRealm { .. } => "wrong_realm",
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(detail) | Self::WrongKey(detail) | Self::BadSignature(detail) => {
                f.write_str(detail)
            }
            Self::Expired { expires_ms, by_ms } => {
                write!(f, "expired {} ago, at {}", human_duration(*by_ms), rfc3339(*expires_ms))
            }
            Self::NotYetValid { created_ms, in_ms } => write!(
                f,
                "created {} in the future, at {}; check the clocks of the servers",
                human_duration(*in_ms),
                rfc3339(*created_ms)
            ),
            Self::WrongRealm { realm, trusted } => write!(
                f,
                "realm {realm:?} is not trusted (trusted: {}); make the realm names match, or \
                 trust this realm (Simul: sso.trusted_realms; the command line: --realm)",
                trusted.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

impl std::error::Error for Invalid {}

/// How to verify: at which moment, with which tolerances and realms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The moment of evaluation, ms since the Unix epoch.
    pub now_ms: i64,
    /// Tolerated clock difference between servers, in ms.
    pub clock_skew_ms: i64,
    /// Realms accepted in WebSphere tokens; empty accepts any realm.
    pub trusted_realms: Vec<String>,
    /// Largest accepted difference between the `expire` attribute and the
    /// expiry field of an LtpaToken2 (Liberty's `expirationDifferenceAllowed`,
    /// 3 s); `None` does not compare them.
    pub expiration_difference_ms: Option<i64>,
}

/// Default tolerated clock skew: one minute.
pub const DEFAULT_CLOCK_SKEW_MS: i64 = 60_000;
/// Liberty's default `expirationDifferenceAllowed`.
pub const DEFAULT_EXPIRATION_DIFFERENCE_MS: i64 = 3_000;

impl VerifyOptions {
    /// Options evaluating at `now_ms` with the defaults: one minute of
    /// clock skew, any realm, Liberty's 3 s expiry agreement.
    pub fn at(now_ms: i64) -> Self {
        Self {
            now_ms,
            clock_skew_ms: DEFAULT_CLOCK_SKEW_MS,
            trusted_realms: Vec::new(),
            expiration_difference_ms: Some(DEFAULT_EXPIRATION_DIFFERENCE_MS),
        }
    }

    /// Options evaluating at the current time.
    pub fn now() -> Self {
        Self::at(Utc::now().timestamp_millis())
    }

    /// The same options, trusting only `realms`.
    pub fn trusting(mut self, realms: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.trusted_realms = realms.into_iter().map(Into::into).collect();
        self
    }

    pub(crate) fn check_expiry(&self, expires_ms: i64) -> Result<(), Invalid> {
        let late = self.now_ms.saturating_sub(expires_ms);
        if late > self.clock_skew_ms {
            return Err(Invalid::Expired { expires_ms, by_ms: late });
        }
        Ok(())
    }

    pub(crate) fn check_created(&self, created_ms: i64) -> Result<(), Invalid> {
        let early = created_ms.saturating_sub(self.now_ms);
        if early > self.clock_skew_ms {
            return Err(Invalid::NotYetValid { created_ms, in_ms: early });
        }
        Ok(())
    }

    pub(crate) fn check_realm(&self, realm: &str) -> Result<(), Invalid> {
        if self.trusted_realms.is_empty() || self.trusted_realms.iter().any(|r| r == realm) {
            return Ok(());
        }
        Err(Invalid::WrongRealm { realm: realm.to_owned(), trusted: self.trusted_realms.clone() })
    }
}

/// One named check of a token and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked (`signature`, `expiry`, `realm`, ...).
    pub name: &'static str,
    /// `Ok` or why it failed.
    pub outcome: Result<(), Invalid>,
}

/// Runs checks in order, recording each; in verification mode it reports
/// the first failure so the caller stops there.
pub(crate) struct CheckRunner {
    checks: Vec<Check>,
    stop_at_failure: bool,
}

impl CheckRunner {
    /// A runner that stops at the first failure (`verify`) or runs all (`inspect`).
    pub(crate) fn new(stop_at_failure: bool) -> Self {
        Self { checks: Vec::new(), stop_at_failure }
    }

    /// Records a check; `true` when the caller should stop.
    pub(crate) fn run(&mut self, name: &'static str, outcome: Result<(), Invalid>) -> bool {
        let failed = outcome.is_err();
        self.checks.push(Check { name, outcome });
        self.stop_at_failure && failed
    }

    /// The checks recorded so far.
    pub(crate) fn into_checks(self) -> Vec<Check> {
        self.checks
    }
}

/// Everything found in a token, for display: its fields and every check,
/// failed or not. Produced by the `inspect` functions, which only stop
/// early when the token cannot be opened at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The format.
    pub format: TokenFormat,
    /// The fields, in token order, as name and printable value.
    pub fields: Vec<(String, String)>,
    /// The checks in the order `verify` applies them.
    pub checks: Vec<Check>,
    /// The identity, if the token names one (even when a check failed).
    pub identity: Option<Identity>,
}

impl Inspection {
    /// The identity if every check passed, else the first failure: exactly
    /// what `verify` returns.
    pub fn into_result(self) -> Result<Identity, Invalid> {
        if let Some(failed) = self.checks.into_iter().find_map(|c| c.outcome.err()) {
            return Err(failed);
        }
        self.identity.ok_or_else(|| Invalid::Malformed("the token names no user".into()))
    }
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC (`2023-10-07T17:09:41Z`).
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// A duration in milliseconds in words: `3 days 2 h`, `5 min 3 s`, `250 ms`.
pub fn human_duration(ms: i64) -> String {
    let ms = ms.unsigned_abs();
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let units = [(86_400, "day"), (3600, "h"), (60, "min"), (1, "s")];
    let mut rest = ms / 1000;
    let mut parts = Vec::new();
    for (size, name) in units {
        let count = rest / size;
        rest %= size;
        if count > 0 {
            let plural = if name == "day" && count > 1 { "s" } else { "" };
            parts.push(format!("{count} {name}{plural}"));
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(250), "250 ms");
        assert_eq!(human_duration(61_000), "1 min 1 s");
        assert_eq!(human_duration(3 * 86_400_000 + 7_200_000 + 5_000), "3 days 2 h");
        assert_eq!(human_duration(86_400_000), "1 day");
    }

    #[test]
    fn skew_is_tolerated_on_both_sides() {
        let options = VerifyOptions::at(1_000_000);
        assert!(options.check_expiry(1_000_000 - 60_000).is_ok());
        assert_eq!(
            options.check_expiry(1_000_000 - 60_001),
            Err(Invalid::Expired { expires_ms: 940_000 - 1, by_ms: 60_001 })
        );
        assert!(options.check_created(1_060_000).is_ok());
        assert!(matches!(
            options.check_created(1_060_001),
            Err(Invalid::NotYetValid { in_ms: 60_001, .. })
        ));
    }

    #[test]
    fn realms_are_checked_only_when_configured() {
        assert!(VerifyOptions::at(0).check_realm("any").is_ok());
        let options = VerifyOptions::at(0).trusting(["a", "b"]);
        assert!(options.check_realm("b").is_ok());
        let err = options.check_realm("c").unwrap_err();
        assert_eq!(err.reason(), "wrong_realm");
        assert!(err.to_string().contains("\"c\" is not trusted"));
    }

    #[test]
    fn rfc3339_is_utc_with_z() {
        assert_eq!(rfc3339(1_696_698_581_000), "2023-10-07T17:09:41Z");
    }
}
