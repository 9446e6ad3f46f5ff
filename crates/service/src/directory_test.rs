//! What `simul directory test` checks of an LDAP repository, and the
//! console's "Test connection" shows: each server, a load of everyone,
//! and optionally one person (card, groups, password) and one group. The
//! command prints the [`Check`]s, the page lists them; neither checks
//! anything itself.

use std::time::{Duration, Instant};

use simul_directory::{LdapRealm, Person, Realm as _};

/// How many members of a group are listed.
const MEMBERS_SHOWN: usize = 10;

/// One check and its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `server`, `load`, `user`, `groups`, `login`, `group`.
    pub name: &'static str,
    /// How long it took when it passed; `None` when it failed.
    pub took: Option<Duration>,
    /// What was found, or what is wrong.
    pub what: String,
    /// Lines under it: the person's card, their groups, a group's members.
    pub details: Vec<String>,
}

impl Check {
    fn pass(name: &'static str, what: String, started: Instant) -> Self {
        Self { name, took: Some(started.elapsed()), what, details: Vec::new() }
    }

    fn fail(name: &'static str, what: String) -> Self {
        Self { name, took: None, what, details: Vec::new() }
    }

    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.took.is_some()
    }
}

/// What to check beyond the servers and the load.
#[derive(Debug, Default, Clone, Copy)]
pub struct DirectoryTest<'a> {
    /// A login name, mail or DN to look up.
    pub user: Option<&'a str>,
    /// That person's password, to try a bind as them.
    pub password: Option<&'a str>,
    /// A group DN whose members to list.
    pub group: Option<&'a str>,
}

impl DirectoryTest<'_> {
    /// Runs the checks on `ldap` (a realm of its own, not the server's:
    /// the load must not change what the server has cached); `realm_name`
    /// is the realm the deployment's tokens carry.
    pub async fn run(&self, ldap: &LdapRealm, realm_name: &str) -> Vec<Check> {
        let mut checks = Vec::new();
        for (url, reached) in ldap.probe_hosts().await {
            checks.push(match reached {
                Ok(took) => Check {
                    name: "server",
                    took: Some(took),
                    what: format!("{url} answers"),
                    details: Vec::new(),
                },
                Err(reason) => Check::fail("server", format!("{url}: {reason}")),
            });
        }
        checks.push(load(ldap).await);
        if let Some(name) = self.user {
            check_user(ldap, name, self.password, realm_name, &mut checks).await;
        }
        if let Some(group) = self.group {
            checks.push(check_group(ldap, group).await);
        }
        checks
    }
}

async fn load(ldap: &LdapRealm) -> Check {
    let settings = ldap.settings();
    let started = Instant::now();
    match ldap.refresh().await {
        Ok(changes) => {
            let bound = match &settings.bind {
                Some((dn, _)) => format!("bound as {dn}"),
                None => "anonymous".to_owned(),
            };
            let through = ldap.health().server().unwrap_or_default();
            let what = format!(
                "{} people under {} ({bound}, through {through})",
                changes.people,
                settings.bases.join(" and ")
            );
            Check::pass("load", what, started)
        }
        Err(error) => Check::fail("load", error.to_string()),
    }
}

async fn check_group(ldap: &LdapRealm, group: &str) -> Check {
    let started = Instant::now();
    match ldap.members_of(group).await {
        Ok(members) if members.is_empty() => Check::fail(
            "group",
            format!(
                "{group} has no members, or is not a group by directory.ldap.group_filter \
                 (members from {})",
                ldap.settings().group_member_attributes.join(", ")
            ),
        ),
        Ok(members) => {
            let mut check =
                Check::pass("group", format!("{group}: {} members", members.len()), started);
            check.details = members.iter().take(MEMBERS_SHOWN).cloned().collect();
            if members.len() > MEMBERS_SHOWN {
                check.details.push(format!("and {} more", members.len() - MEMBERS_SHOWN));
            }
            check
        }
        Err(error) => Check::fail("group", error.to_string()),
    }
}

async fn check_user(
    ldap: &LdapRealm,
    name: &str,
    password: Option<&str>,
    realm_name: &str,
    checks: &mut Vec<Check>,
) {
    let started = Instant::now();
    let person = match ldap.find(name).await {
        Ok(Some(person)) => person,
        Ok(None) => {
            let attributes = ldap.settings().login_attributes.join(", ");
            checks.push(Check::fail(
                "user",
                format!(
                    "nobody is {name:?} by {attributes} (nor by DN) under the base entries: check \
                     directory.ldap.login_attributes, user_filter and base_dn"
                ),
            ));
            return;
        }
        Err(error) => return checks.push(Check::fail("user", error.to_string())),
    };
    let mut found = Check::pass("user", format!("{name} is {}", person.id), started);
    found.details = card(&person, realm_name);
    checks.push(found);
    let started = Instant::now();
    checks.push(match ldap.groups_of(&person.id).await {
        Ok(groups) => {
            let mut check =
                Check::pass("groups", format!("{} (nested included)", groups.len()), started);
            check.details = groups;
            check
        }
        Err(error) => Check::fail("groups", error.to_string()),
    });
    let Some(password) = password else { return };
    let started = Instant::now();
    checks.push(match ldap.authenticate(name, password).await {
        Ok(Some(_)) => {
            Check::pass("login", "the password is right (bind as the user)".into(), started)
        }
        Ok(None) if person.disabled => {
            Check::fail("login", "refused: the account is disabled".into())
        }
        Ok(None) => {
            Check::fail("login", "refused: wrong password (the server rejected the bind)".into())
        }
        Err(error) => Check::fail("login", error.to_string()),
    });
}

/// The person's card as the server will show it, and the user their
/// tokens carry.
fn card(person: &Person, realm_name: &str) -> Vec<String> {
    let access_id = ltpa::AccessId::user(realm_name, &person.id);
    let shown = |value: &str| if value.is_empty() { "-".to_owned() } else { value.to_owned() };
    [
        ("display name", shown(&person.display_name)),
        ("mail", shown(&person.mail)),
        ("title", shown(&person.title)),
        ("phone", shown(&person.phone)),
        ("location", shown(&person.location)),
        ("photo URL", shown(&person.photo_url)),
        ("disabled", if person.disabled { "yes".into() } else { "no".into() }),
        ("token user", access_id.to_string()),
    ]
    .into_iter()
    .map(|(label, value)| format!("{label:<13} {value}"))
    .collect()
}
