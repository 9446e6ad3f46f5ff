//! The analysis of `simul sso doctor`, which the console's token tester
//! runs too: why single sign-on between Simul and another application
//! works or fails, in plain words, from what a browser sent (a token or a
//! `Cookie` header; the command also reads HAR files and examines the
//! other application's address). Findings are collected, not printed:
//! the command prints them, the console lists them.

mod account;
mod sent;
mod token;

use std::fmt;

use ltpa::{SsoSettings, Verifier, VerifyOptions};

pub use account::{DirectoryCheck, examine as examine_users};
pub use sent::{
    Sent, SetCookie, Source, cookie_pairs, examine_set_cookies, is_ltpa, no_ltpa_cookie,
};
pub use token::{TokenCheck, quoted};

use crate::Service;

/// Clock difference tolerated between servers, as token checks allow.
const CLOCK_SKEW_MS: i64 = 60_000;

/// Continues a finding on the next line, under its text.
pub const INDENT: &str = "\n           ";

/// One line (or block) of the doctor's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// What is examined next (`The cookie LtpaToken2:`).
    Heading(String),
    /// A check that passed.
    Ok(String),
    /// What is wrong, and the fix.
    Problem {
        /// What is wrong.
        what: String,
        /// How to fix it (lines joined by [`INDENT`]).
        fix: String,
    },
    /// A fact under the finding before.
    Note(String),
}

impl fmt::Display for Finding {
    /// The line as `simul sso doctor` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Heading(text) => write!(f, "{text}"),
            Self::Ok(what) => write!(f, "  ok       {what}"),
            Self::Problem { what, fix } => write!(f, "  PROBLEM  {what}\n           fix: {fix}"),
            Self::Note(what) => write!(f, "           {what}"),
        }
    }
}

/// The findings so far, in order, and how many are problems.
#[derive(Debug, Default)]
pub struct Findings {
    lines: Vec<Finding>,
    problems: usize,
}

impl Findings {
    /// Notes a check that passed.
    pub fn ok(&mut self, what: &str) {
        self.lines.push(Finding::Ok(what.to_owned()));
    }

    /// Notes a problem and its fix.
    pub fn problem(&mut self, what: &str, fix: &str) {
        self.problems += 1;
        self.lines.push(Finding::Problem { what: what.to_owned(), fix: fix.to_owned() });
    }

    /// Notes a fact under the finding before.
    pub fn note(&mut self, what: &str) {
        self.lines.push(Finding::Note(what.to_owned()));
    }

    /// Says what is examined next.
    pub fn heading(&mut self, text: &str) {
        self.lines.push(Finding::Heading(text.to_owned()));
    }

    /// How many problems were found.
    pub fn problems(&self) -> usize {
        self.problems
    }

    /// The findings not taken yet, in order (the count of problems stays).
    pub fn take(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.lines)
    }
}

/// Examines what the browser sent: whether an LTPA cookie came at all,
/// and each cookie as the server would take it. The users the server
/// would accept tokens of, for [`examine_users`].
pub fn examine_sent(findings: &mut Findings, check: &TokenCheck<'_>, sent: &Sent) -> Vec<String> {
    if sent.source != Source::Nothing && !sent.carries_ltpa(check.sso) {
        no_ltpa_cookie(findings, check.sso, sent);
    }
    let mut users: Vec<String> = Vec::new();
    for (name, value) in &sent.cookies {
        if let Some(identity) = check.examine(findings, name, value)
            && !users.contains(&identity.user)
        {
            users.push(identity.user);
        }
    }
    users
}

/// `host[:port]` or `[v6]:port` split, with `default` for no port.
pub fn split_port(authority: &str, default: u16) -> (String, u16) {
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

impl Service {
    /// The doctor's analysis of `pasted` (a token or a `Cookie` header)
    /// with this server's keys, trusted realms and directory, as `simul
    /// sso doctor` makes it; `sso` are the server's SSO settings and
    /// `directory` names its directory in the findings.
    pub async fn sso_doctor(
        &self,
        sso: &SsoSettings,
        pasted: &str,
        directory: &str,
        ldap: bool,
    ) -> Findings {
        let keys = self.keys().current();
        let options = VerifyOptions::now().trusting(self.accepted_realms().to_vec());
        let check = TokenCheck { sso, verifier: Ok::<Verifier, _>(keys.verifier.clone()), options };
        let mut findings = Findings::default();
        let users = examine_sent(&mut findings, &check, &Sent::pasted(pasted));
        if !users.is_empty() {
            let realm = self.realm().clone();
            let directory = DirectoryCheck { realm: realm.as_ref(), what: directory, ldap };
            examine_users(&mut findings, &directory, &users).await;
        }
        findings
    }
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
}
