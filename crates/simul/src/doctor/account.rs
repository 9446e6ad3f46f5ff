//! Whether the user a valid token names may come in: the configured
//! directory is asked, and the server's own decision
//! ([`simul_service::admission`]) applied, so that the doctor says what the
//! server would answer.

use simul_service::Admission;

use super::Findings;
use crate::config::{Config, DirectoryKind};
use crate::data::DataDir;
use crate::directory::Directory;

/// Asks the configured directory about each user (ids as tokens carry them).
pub(super) fn examine(
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
        println!("The directory ({what}):");
        for user in users {
            match simul_service::admission(realm.as_ref(), user).await {
                Ok(admission) => explain(findings, config, &what, user, &admission),
                Err(error) => findings.problem(
                    &format!("cannot ask {what} about {user:?}: {error}"),
                    "`simul directory test --config FILE` explains what is wrong with the \
                     directory",
                ),
            }
        }
        Ok(())
    })
}

/// The server's decision on `user`, in words, with the fix.
fn explain(
    findings: &mut Findings,
    config: &Config,
    what: &str,
    user: &str,
    admission: &Admission,
) {
    let ldap = config.directory.kind == DirectoryKind::Ldap;
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
