//! Whether the user a valid token names may come in: the configured
//! directory is asked, and the server's own decision
//! ([`crate::admission`]) applied, so that the doctor says what the
//! server would answer.

use simul_directory::Realm;

use super::Findings;
use crate::Admission;

/// The directory a token's user is looked up in.
pub struct DirectoryCheck<'a> {
    /// The realm the server would ask.
    pub realm: &'a dyn Realm,
    /// It, in words (`the LDAP directory LDAP1 (ldap://...)`).
    pub what: &'a str,
    /// Whether it is LDAP (the fixes differ).
    pub ldap: bool,
}

/// Asks the directory about each user (ids as tokens carry them), and
/// says what the server would answer.
pub async fn examine(findings: &mut Findings, directory: &DirectoryCheck<'_>, users: &[String]) {
    let what = directory.what;
    findings.heading(&format!("The directory ({what}):"));
    for user in users {
        match crate::admission(directory.realm, user).await {
            Ok(admission) => explain(findings, directory.ldap, what, user, &admission),
            Err(error) => findings.problem(
                &format!("cannot ask {what} about {user:?}: {error}"),
                "`simul directory test --config FILE` explains what is wrong with the \
                 directory",
            ),
        }
    }
}

/// The server's decision on `user`, in words, with the fix.
fn explain(findings: &mut Findings, ldap: bool, what: &str, user: &str, admission: &Admission) {
    match admission {
        Admission::Known(person) if person.must_change_password => findings.problem(
            &format!(
                "{user:?} must replace a one-time password first: until then the server answers \
                 403 to everything but /api/v1/me, the password change and logout"
            ),
            &format!(
                "log in to Simul once with that password and choose a new one, or set one with \
                 `simul user passwd {user}`"
            ),
        ),
        Admission::Known(_) => {
            findings.ok(&format!("{user:?} is in {what} and enabled: the server lets them in"))
        }
        Admission::Stranger => findings.ok(&format!(
            "{user:?} is not in {what}, and directory.accept_unknown_sso_users = true lets them in"
        )),
        Admission::Unknown if ldap => findings.problem(
            &format!(
                "{user:?} is not in {what} (no entry of that DN under directory.ldap.base_dn that \
                 matches user_filter): the server refuses the token (403)"
            ),
            &format!(
                "both servers must use the same directory, and the token's user must be a DN \
                 under base_dn: `simul directory test --config FILE --user '{user}'` shows what \
                 Simul finds"
            ),
        ),
        Admission::Unknown => findings.problem(
            &format!("{user:?} is not in {what}: the server refuses the token (403)"),
            &format!(
                "add them (`simul user add {user}`), or let in the users of the SSO domain's other \
                 applications with directory.accept_unknown_sso_users = true"
            ),
        ),
        Admission::Disabled(_) if ldap => findings.problem(
            &format!(
                "{user:?} is disabled in {what} (directory.ldap.disabled_filter matches the \
                 entry): the server refuses the token (403)"
            ),
            "enable the account in the directory, or correct directory.ldap.disabled_filter",
        ),
        Admission::Disabled(_) => findings.problem(
            &format!("{user:?} is disabled in {what}: the server refuses the token (403)"),
            &format!("`simul user enable {user}`"),
        ),
        Admission::DirectoryDown => findings.problem(
            &format!("{what} does not answer, and the server refuses tokens until it does (503)"),
            "`simul directory test --config FILE` explains what is wrong; \
             directory.ldap.accept_tokens_while_down = true lets known people in meanwhile",
        ),
    }
}
