//! `[directory.ldap]`: an LDAP repository as WebSphere's "Federated
//! repositories" pages describe one (seed 001), with presets for the
//! directory products Sametime sites run.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The LDAP repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LdapSettings {
    /// Repository identifier (WebSphere's, e.g. `LDAP1`): names this
    /// repository in logs, metrics and errors.
    pub repository_id: String,
    /// Directory type; it sets the defaults of the filters and attributes.
    pub preset: Preset,
    /// `ldap://HOST:PORT` or `ldaps://HOST:PORT`, the primary first; the
    /// others are failovers tried in order when it does not answer. After
    /// a failover the server that answered is asked first, until the next
    /// refresh goes back to the primary.
    pub hosts: Vec<String>,
    /// Upgrade `ldap://` connections with StartTLS (ldaps:// needs none).
    pub starttls: bool,
    /// PEM file of the certificates that may sign the servers' TLS
    /// certificates, trusted instead of the system's trust store (the
    /// "signer certificates" WebSphere retrieves from the port).
    pub ca_file: Option<PathBuf>,
    /// The data directory's trust store (`trust/*.pem`, what `simul trust
    /// add` and the console's Certificates page keep): signers trusted in
    /// addition to `ca_file` or the system's, read again when it changes.
    /// Set by the server, not the configuration.
    #[serde(skip)]
    pub trust_dir: Option<PathBuf>,
    /// The DN Simul binds as to look people up; none: anonymous.
    pub bind_dn: Option<String>,
    /// File holding the bind password (one line). The variable
    /// `SIMUL_DIRECTORY__LDAP__BIND_PASSWORD` may give it instead.
    pub bind_password_file: Option<PathBuf>,
    /// The bind password itself; prefer `bind_password_file`. Never logged.
    pub bind_password: Option<BindPassword>,
    /// One or more base entries under which people and groups are found.
    pub base_dn: BaseDns,
    /// Attributes a login name is matched against, in order: the first
    /// that matches exactly one person wins. Default: the preset's.
    pub login_attributes: Vec<String>,
    /// LDAP filter of the entries that are people. Default: the preset's.
    pub user_filter: Option<String>,
    /// LDAP filter of the entries that are groups. Default: the preset's.
    pub group_filter: Option<String>,
    /// Attributes of a group that name its members (DNs).
    pub group_member_attributes: Vec<String>,
    /// LDAP filter of the people who may not log in (locked or disabled
    /// accounts). Default: the preset's; `""` for none.
    pub disabled_filter: Option<String>,
    /// Which attributes fill the business card.
    pub card: CardAttributes,
    /// Minutes between reloads of the name cache (Sametime polls every 60).
    /// `SIGHUP` reloads it at once.
    pub refresh_minutes: u64,
    /// A refresh that would remove more than this share of the cached
    /// people (a wrong filter, an ACL change, an emptied base) is refused
    /// and the cache kept; a restart loads whatever the directory has.
    pub max_removed_percent: u8,
    /// Seconds a connection attempt or operation may take.
    pub timeout_seconds: u64,
    /// Entries per page of a paged search (RFC 2696).
    pub page_size: u32,
    /// While LDAP does not answer, accept the SSO tokens of people in the
    /// name cache (which may come from before a restart). `false` answers
    /// them 503 until LDAP is back, so that nobody it would now refuse
    /// gets in; password logins wait for LDAP either way.
    pub accept_tokens_while_down: bool,
}

impl Default for LdapSettings {
    fn default() -> Self {
        Self {
            repository_id: "LDAP1".into(),
            preset: Preset::default(),
            hosts: Vec::new(),
            starttls: false,
            ca_file: None,
            trust_dir: None,
            bind_dn: None,
            bind_password_file: None,
            bind_password: None,
            base_dn: BaseDns::default(),
            login_attributes: Vec::new(),
            user_filter: None,
            group_filter: None,
            group_member_attributes: Vec::new(),
            disabled_filter: None,
            card: CardAttributes::default(),
            refresh_minutes: 60,
            max_removed_percent: 50,
            timeout_seconds: 10,
            page_size: 500,
            accept_tokens_while_down: true,
        }
    }
}

/// A password that prints and serializes as `<redacted>`, so that neither
/// a `Debug` of the configuration nor `simul config check` shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct BindPassword(pub String);

impl Serialize for BindPassword {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("<redacted>")
    }
}

impl std::fmt::Debug for BindPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// One base DN or several (`base_dn = "dc=example,dc=com"` or a list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BaseDns {
    /// One base entry.
    One(String),
    /// Several base entries, searched in order.
    Many(Vec<String>),
}

impl Default for BaseDns {
    fn default() -> Self {
        Self::Many(Vec::new())
    }
}

impl BaseDns {
    /// The base entries, in order.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Self::One(base) => vec![base.clone()],
            Self::Many(bases) => bases.clone(),
        }
    }
}

/// Attribute names of the business-card fields; empty ones use the
/// preset's (an attribute named `-` leaves the field empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CardAttributes {
    /// Name shown to others.
    pub display_name: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// E-mail address.
    pub mail: Option<String>,
    /// Telephone number.
    pub phone: Option<String>,
    /// Office or city.
    pub location: Option<String>,
    /// URL of a photo.
    pub photo_url: Option<String>,
}

/// Directory products, as WebSphere's "Directory type" list names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// OpenLDAP (and other servers with the standard inetOrgPerson schema).
    #[default]
    Openldap,
    /// Microsoft Active Directory.
    ActiveDirectory,
    /// IBM/HCL Domino LDAP.
    Domino,
    /// IBM Tivoli / Security Directory Server.
    Tivoli,
}

/// What a preset fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresetDefaults {
    /// Login attributes, in order.
    pub login_attributes: &'static [&'static str],
    /// Filter of people.
    pub user_filter: &'static str,
    /// Filter of groups.
    pub group_filter: &'static str,
    /// Member attributes of groups.
    pub group_member_attributes: &'static [&'static str],
    /// Filter of disabled people ("" for none).
    pub disabled_filter: &'static str,
    /// Card attributes: display name, title, mail, phone, location, photo URL.
    pub card: [&'static str; 6],
}

impl Preset {
    /// The name configuration files use (`preset = "active_directory"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Openldap => "openldap",
            Self::ActiveDirectory => "active_directory",
            Self::Domino => "domino",
            Self::Tivoli => "tivoli",
        }
    }

    /// The defaults of this directory type.
    pub fn defaults(self) -> PresetDefaults {
        const INET_ORG_PERSON_CARD: [&str; 6] =
            ["cn", "title", "mail", "telephoneNumber", "l", "labeledURI"];
        match self {
            Self::Openldap => PresetDefaults {
                login_attributes: &["uid", "mail"],
                user_filter: "(objectClass=inetOrgPerson)",
                group_filter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
                group_member_attributes: &["member", "uniqueMember"],
                // The ppolicy overlay's lock; harmless where it is not loaded.
                disabled_filter: "(pwdAccountLockedTime=*)",
                card: INET_ORG_PERSON_CARD,
            },
            Self::ActiveDirectory => PresetDefaults {
                login_attributes: &["sAMAccountName", "userPrincipalName", "mail"],
                user_filter: "(&(objectCategory=person)(objectClass=user))",
                group_filter: "(objectClass=group)",
                group_member_attributes: &["member"],
                // userAccountControl bit 2 (ACCOUNTDISABLE), by the bitwise-AND rule.
                disabled_filter: "(userAccountControl:1.2.840.113556.1.4.803:=2)",
                card: [
                    "displayName",
                    "title",
                    "mail",
                    "telephoneNumber",
                    "physicalDeliveryOfficeName",
                    "wWWHomePage",
                ],
            },
            Self::Domino => PresetDefaults {
                login_attributes: &["uid", "mail", "cn"],
                user_filter: "(objectClass=dominoPerson)",
                group_filter: "(objectClass=dominoGroup)",
                group_member_attributes: &["member"],
                disabled_filter: "",
                card: ["cn", "title", "mail", "telephoneNumber", "l", "-"],
            },
            Self::Tivoli => PresetDefaults {
                login_attributes: &["uid", "mail"],
                user_filter: "(objectClass=inetOrgPerson)",
                group_filter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
                group_member_attributes: &["member", "uniqueMember"],
                disabled_filter: "(ibm-pwdAccountLocked=TRUE)",
                card: INET_ORG_PERSON_CARD,
            },
        }
    }
}

/// The settings with every default filled in and checked: what the realm
/// runs on.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Repository identifier.
    pub repository_id: String,
    /// Server URLs, primary first.
    pub hosts: Vec<String>,
    /// StartTLS on ldap:// URLs.
    pub starttls: bool,
    /// Extra trusted signers (PEM).
    pub ca_file: Option<PathBuf>,
    /// The trust store's directory of added signers.
    pub trust_dir: Option<PathBuf>,
    /// Service bind DN and password; `None`: anonymous.
    pub bind: Option<(String, BindPassword)>,
    /// Base entries.
    pub bases: Vec<String>,
    /// Login attributes, in order.
    pub login_attributes: Vec<String>,
    /// Filter of people.
    pub user_filter: String,
    /// Filter of groups.
    pub group_filter: String,
    /// Member attributes of groups.
    pub group_member_attributes: Vec<String>,
    /// Filter of disabled people, if any.
    pub disabled_filter: Option<String>,
    /// Card attributes (`None`: that field stays empty).
    pub card: ResolvedCard,
    /// Name-cache refresh interval.
    pub refresh: Duration,
    /// Largest share (percent) of the cached people a refresh may remove.
    pub max_removed_percent: u8,
    /// Connection and operation timeout.
    pub timeout: Duration,
    /// Paged-search page size.
    pub page_size: i32,
    /// Whether cached people's tokens are accepted while LDAP is down.
    pub accept_tokens_while_down: bool,
}

impl Resolved {
    /// The realm WebSphere gives a stand-alone LDAP registry: the
    /// primary's `host:port` (used when `directory.realm` is not set).
    pub fn default_realm(&self) -> String {
        let primary = self.hosts.first().map(String::as_str).unwrap_or_default();
        let (rest, port) = match primary.strip_prefix("ldaps://") {
            Some(rest) => (rest, 636),
            None => (primary.strip_prefix("ldap://").unwrap_or(primary), 389),
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let has_port = authority.rsplit_once(':').is_some_and(|(host, p)| {
            !host.ends_with(':') && p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty()
        });
        if has_port { authority.to_owned() } else { format!("{authority}:{port}") }
    }
}

/// Card attribute names after defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCard {
    /// Display name (always set: `cn` at worst).
    pub display_name: String,
    /// Job title.
    pub title: Option<String>,
    /// E-mail.
    pub mail: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Photo URL.
    pub photo_url: Option<String>,
}

impl ResolvedCard {
    /// Every attribute a card needs, for search requests.
    pub fn attributes(&self) -> impl Iterator<Item = &str> {
        [&self.title, &self.mail, &self.phone, &self.location, &self.photo_url]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain(std::iter::once(self.display_name.as_str()))
    }
}

/// Why the settings cannot work; each names the key and the fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("directory.ldap.{key}: {problem}")]
pub struct SettingsError {
    /// The key at fault.
    pub key: &'static str,
    /// What is wrong and what to do.
    pub problem: String,
}

fn problem(key: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError { key, problem: problem.into() }
}

impl LdapSettings {
    /// The same settings with the preset's filters and attributes written
    /// in wherever none is given: what the realm runs on, and what `simul
    /// config check` prints, so that every filter shows in full.
    pub fn with_preset_defaults(&self) -> LdapSettings {
        let defaults = self.preset.defaults();
        let owned = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
        let mut filled = self.clone();
        if filled.login_attributes.is_empty() {
            filled.login_attributes = owned(defaults.login_attributes);
        }
        if filled.group_member_attributes.is_empty() {
            filled.group_member_attributes = owned(defaults.group_member_attributes);
        }
        filled.user_filter.get_or_insert_with(|| defaults.user_filter.to_owned());
        filled.group_filter.get_or_insert_with(|| defaults.group_filter.to_owned());
        filled.disabled_filter.get_or_insert_with(|| defaults.disabled_filter.to_owned());
        filled.card = self.card.with_defaults(defaults.card);
        filled
    }

    /// Fills in the preset's defaults, reads the bind password file and
    /// checks everything that can be checked without a server.
    pub fn resolve(&self) -> Result<Resolved, SettingsError> {
        let filled = self.with_preset_defaults();
        if self.hosts.is_empty() {
            return Err(problem(
                "hosts",
                "no LDAP server given: set hosts = [\"ldap://HOST:389\"] (failovers after it)",
            ));
        }
        for host in &self.hosts {
            check_url(host)?;
        }
        let bases = self.base_dn.to_vec();
        if bases.is_empty() || bases.iter().any(|b| b.trim().is_empty()) {
            return Err(problem(
                "base_dn",
                "no base entry given: set base_dn = \"dc=example,dc=com\" (or a list of them)",
            ));
        }
        let bind = match &self.bind_dn {
            None => None,
            Some(dn) => Some((dn.clone(), self.bind_password()?)),
        };
        let filter = |key, given: &Option<String>| -> Result<String, SettingsError> {
            let filter = given.clone().unwrap_or_default();
            check_filter(key, &filter)?;
            Ok(filter)
        };
        let disabled_filter = match filled.disabled_filter.as_deref() {
            None | Some("") => None,
            Some(_) => Some(filter("disabled_filter", &filled.disabled_filter)?),
        };
        if !(1..=10_000).contains(&self.page_size) {
            return Err(problem("page_size", "use 1 to 10000 (default 500)"));
        }
        if self.max_removed_percent > 100 {
            return Err(problem("max_removed_percent", "use 0 to 100 (default 50; 100: no limit)"));
        }
        if self.refresh_minutes == 0 {
            return Err(problem("refresh_minutes", "use at least 1 (default 60)"));
        }
        if !(1..=300).contains(&self.timeout_seconds) {
            return Err(problem("timeout_seconds", "use 1 to 300 (default 10)"));
        }
        Ok(Resolved {
            repository_id: self.repository_id.clone(),
            hosts: self.hosts.clone(),
            starttls: self.starttls,
            ca_file: self.ca_file.clone(),
            trust_dir: self.trust_dir.clone(),
            bind,
            bases,
            user_filter: filter("user_filter", &filled.user_filter)?,
            group_filter: filter("group_filter", &filled.group_filter)?,
            login_attributes: filled.login_attributes,
            group_member_attributes: filled.group_member_attributes,
            disabled_filter,
            card: filled.card.resolve(),
            refresh: Duration::from_secs(self.refresh_minutes * 60),
            max_removed_percent: self.max_removed_percent,
            timeout: Duration::from_secs(self.timeout_seconds),
            page_size: self.page_size as i32,
            accept_tokens_while_down: self.accept_tokens_while_down,
        })
    }

    fn bind_password(&self) -> Result<BindPassword, SettingsError> {
        match (&self.bind_password, &self.bind_password_file) {
            (Some(_), Some(_)) => Err(problem(
                "bind_password",
                "set bind_password_file or bind_password (SIMUL_DIRECTORY__LDAP__BIND_PASSWORD), not both",
            )),
            (Some(password), None) => Ok(password.clone()),
            (None, Some(file)) => {
                let text = std::fs::read_to_string(file).map_err(|error| {
                    problem(
                        "bind_password_file",
                        format!("cannot read {}: {error}", file.display()),
                    )
                })?;
                // Only the line ending goes: a password may begin or end in spaces.
                let password = text.strip_suffix('\n').unwrap_or(&text);
                let password = password.strip_suffix('\r').unwrap_or(password);
                if password.is_empty() {
                    return Err(problem(
                        "bind_password_file",
                        format!("{} is empty: write the bind DN's password in it", file.display()),
                    ));
                }
                Ok(BindPassword(password.to_owned()))
            }
            (None, None) => Err(problem(
                "bind_password_file",
                "bind_dn is set but no password: set bind_password_file (a file readable only by \
                 Simul) or SIMUL_DIRECTORY__LDAP__BIND_PASSWORD",
            )),
        }
    }
}

impl CardAttributes {
    /// The attribute names given, the preset's (`defaults`) where none is.
    fn with_defaults(&self, defaults: [&str; 6]) -> CardAttributes {
        let pick = |given: &Option<String>, default: &str| {
            let name = given.as_deref().filter(|n| !n.trim().is_empty()).unwrap_or(default);
            Some(name.trim().to_owned())
        };
        CardAttributes {
            display_name: pick(&self.display_name, defaults[0]),
            title: pick(&self.title, defaults[1]),
            mail: pick(&self.mail, defaults[2]),
            phone: pick(&self.phone, defaults[3]),
            location: pick(&self.location, defaults[4]),
            photo_url: pick(&self.photo_url, defaults[5]),
        }
    }

    /// Filled-in names as the card uses them: `-` leaves a field empty.
    fn resolve(&self) -> ResolvedCard {
        let pick = |given: &Option<String>| given.clone().filter(|name| name != "-");
        ResolvedCard {
            display_name: pick(&self.display_name).unwrap_or_else(|| "cn".into()),
            title: pick(&self.title),
            mail: pick(&self.mail),
            phone: pick(&self.phone),
            location: pick(&self.location),
            photo_url: pick(&self.photo_url),
        }
    }
}

fn check_url(url: &str) -> Result<(), SettingsError> {
    let rest = url.strip_prefix("ldap://").or_else(|| url.strip_prefix("ldaps://"));
    match rest {
        Some(rest) if !rest.trim_end_matches('/').is_empty() && !rest.contains(' ') => Ok(()),
        _ => Err(problem(
            "hosts",
            format!("{url:?} is not an LDAP URL: write ldap://HOST:389 or ldaps://HOST:636"),
        )),
    }
}

/// The filter must parse (RFC 4515); the server checks the attributes,
/// and `simul directory test` shows its answer.
fn check_filter(key: &'static str, filter: &str) -> Result<(), SettingsError> {
    let parenthesised = filter.starts_with('(') && filter.ends_with(')');
    ldap3::parse_filter(filter).ok().filter(|_| parenthesised).map(drop).ok_or_else(|| {
        problem(
            key,
            format!(
                "{filter:?} is not an LDAP filter: write it in parentheses, e.g. (objectClass=person)"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> LdapSettings {
        LdapSettings {
            hosts: vec!["ldap://ldap.example.com:389".into()],
            base_dn: BaseDns::One("dc=example,dc=com".into()),
            ..LdapSettings::default()
        }
    }

    #[test]
    fn presets_fill_in_what_is_not_given() {
        let openldap = minimal().resolve().unwrap();
        assert_eq!(openldap.login_attributes, ["uid", "mail"]);
        assert_eq!(openldap.card.display_name, "cn");
        let ad = LdapSettings { preset: Preset::ActiveDirectory, ..minimal() }.resolve().unwrap();
        assert_eq!(ad.login_attributes[0], "sAMAccountName");
        assert_eq!(ad.card.display_name, "displayName");
        assert!(ad.disabled_filter.unwrap().contains("1.2.840.113556.1.4.803"));
        let domino = LdapSettings { preset: Preset::Domino, ..minimal() }.resolve().unwrap();
        assert_eq!(domino.disabled_filter, None);
        assert_eq!(domino.card.photo_url, None);
    }

    #[test]
    fn given_values_win_over_the_preset() {
        let settings = LdapSettings {
            login_attributes: vec!["mail".into()],
            disabled_filter: Some(String::new()),
            card: CardAttributes { title: Some("-".into()), ..CardAttributes::default() },
            ..minimal()
        };
        let resolved = settings.resolve().unwrap();
        assert_eq!(resolved.login_attributes, ["mail"]);
        assert_eq!(resolved.disabled_filter, None);
        assert_eq!(resolved.card.title, None);
    }

    #[test]
    fn mistakes_name_the_key_and_the_fix() {
        let no_hosts = LdapSettings { hosts: vec![], ..minimal() }.resolve().unwrap_err();
        assert_eq!(no_hosts.key, "hosts");
        let bad_url = LdapSettings { hosts: vec!["ldap.example.com".into()], ..minimal() };
        assert!(bad_url.resolve().unwrap_err().problem.contains("ldap://HOST:389"));
        let no_base =
            LdapSettings { base_dn: BaseDns::default(), ..minimal() }.resolve().unwrap_err();
        assert_eq!(no_base.key, "base_dn");
        let no_password = LdapSettings { bind_dn: Some("cn=root".into()), ..minimal() };
        assert_eq!(no_password.resolve().unwrap_err().key, "bind_password_file");
        let filter = LdapSettings { user_filter: Some("objectClass=person".into()), ..minimal() };
        assert_eq!(filter.resolve().unwrap_err().key, "user_filter");
        let unbalanced = LdapSettings { user_filter: Some("(&(a=b)".into()), ..minimal() };
        assert_eq!(unbalanced.resolve().unwrap_err().key, "user_filter");
    }

    #[test]
    fn the_bind_password_file_loses_only_its_line_ending() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bind.pw");
        std::fs::write(&file, " s&cret \n").unwrap();
        let settings = LdapSettings {
            bind_dn: Some("cn=root".into()),
            bind_password_file: Some(file),
            ..minimal()
        };
        let (dn, password) = settings.resolve().unwrap().bind.unwrap();
        assert_eq!((dn.as_str(), password.0.as_str()), ("cn=root", " s&cret "));
        assert_eq!(format!("{password:?}"), "<redacted>");
    }

    #[test]
    fn the_default_realm_is_the_primary_host_and_port() {
        let realm = |host: &str| {
            LdapSettings { hosts: vec![host.into()], ..minimal() }
                .resolve()
                .unwrap()
                .default_realm()
        };
        assert_eq!(realm("ldap://ids.renovations.com:389"), "ids.renovations.com:389");
        assert_eq!(realm("ldap://ids.renovations.com"), "ids.renovations.com:389");
        assert_eq!(realm("ldaps://ids.renovations.com/"), "ids.renovations.com:636");
        assert_eq!(realm("ldap://[::1]:1389"), "[::1]:1389");
    }

    #[test]
    fn base_dn_is_one_or_many() {
        let one: LdapSettings = toml::from_str("base_dn = \"o=edcom\"").unwrap();
        assert_eq!(one.base_dn.to_vec(), ["o=edcom"]);
        let many: LdapSettings = toml::from_str("base_dn = [\"o=edcom\", \"o=tta\"]").unwrap();
        assert_eq!(many.base_dn.to_vec(), ["o=edcom", "o=tta"]);
    }
}
