//! Policies as Sametime has them: what a user may do (n-way chats, files,
//! contacts, history...), decided here for every front door.
//!
//! Two policies always exist: [`DEFAULT`] for everyone in the directory
//! whom no other policy is assigned to, and [`ANONYMOUS`] for people
//! outside it (strangers a valid SSO token lets in, where the embedded
//! realm accepts them). Custom policies are assigned to users or groups
//! with a weight: of those assigned to a user and to their groups, the
//! heaviest wins. A custom policy sets only the settings it names; the
//! others come from `default`. Both built-in policies start with every
//! setting at what the server allowed before policies existed.
//!
//! [`resolve`] finds a user's [`Effective`] settings, and
//! [`Effective::check`] is the one decision on an [`Action`]: its
//! [`PolicyRefusal`] names the policy and the setting, for each door to
//! tell its client in the client's own terms.

use std::collections::BTreeMap;
use std::fmt;

/// The policy of everyone in the directory without another one.
pub const DEFAULT: &str = "default";
/// The policy of people outside the directory.
pub const ANONYMOUS: &str = "anonymous";
/// The longest policy name.
pub const MAX_NAME_CHARS: usize = 64;

/// One setting of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Setting {
    /// Instant messages and n-way invitations to people outside the
    /// directory (strangers admitted by SSO tokens).
    ExternalChat,
    /// The most contacts a contact list holds.
    MaxContacts,
    /// Starting n-way chats and inviting people into them.
    NwayChat,
    /// How many days back the history shows.
    HistoryDays,
    /// Sending files.
    FileTransfer,
    /// The largest file sent, in MB.
    MaxFileMb,
    /// Starting meetings (stored and shown; enforced once Simul has them).
    Meetings,
    /// Creating persistent rooms (stored and shown; enforced once Simul
    /// has them).
    RoomsCreate,
}

impl Setting {
    /// Every setting, in the order they are shown.
    pub const ALL: [Self; 8] = [
        Self::ExternalChat,
        Self::MaxContacts,
        Self::NwayChat,
        Self::HistoryDays,
        Self::FileTransfer,
        Self::MaxFileMb,
        Self::Meetings,
        Self::RoomsCreate,
    ];

    /// Its key, as commands, the store and the console spell it.
    pub fn key(self) -> &'static str {
        match self {
            Self::ExternalChat => "external_chat",
            Self::MaxContacts => "max_contacts",
            Self::NwayChat => "nway_chat",
            Self::HistoryDays => "history_days",
            Self::FileTransfer => "file_transfer",
            Self::MaxFileMb => "max_file_mb",
            Self::Meetings => "meetings",
            Self::RoomsCreate => "rooms_create",
        }
    }

    /// The setting of `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|setting| setting.key() == key)
    }

    /// What it does, in a sentence for `simul policy show` and the console.
    pub fn describe(self) -> &'static str {
        match self {
            Self::ExternalChat => {
                "may send messages and invitations to people outside the directory"
            }
            Self::MaxContacts => "the most contacts a contact list holds",
            Self::NwayChat => "may start n-way chats and invite people into them",
            Self::HistoryDays => "how many days back the history shows",
            Self::FileTransfer => "may send files",
            Self::MaxFileMb => "the largest file sent, in MB (at most files.max_mb)",
            Self::Meetings => "may start meetings (enforced once Simul has meetings)",
            Self::RoomsCreate => "may create persistent rooms (enforced once Simul has rooms)",
        }
    }

    /// Whether its value is yes or no (else a [`Limit`]).
    fn is_switch(self) -> bool {
        !matches!(self, Self::MaxContacts | Self::HistoryDays | Self::MaxFileMb)
    }

    /// What it is where no policy says otherwise: what the server allowed
    /// before policies existed.
    fn initial(self) -> Value {
        if self.is_switch() { Value::Switch(true) } else { Value::Limit(Limit::Unlimited) }
    }

    /// The value `text` spells for this setting.
    pub fn parse(self, text: &str) -> Result<Value, PolicyInputError> {
        let text = text.trim();
        let value = if self.is_switch() {
            match text.to_ascii_lowercase().as_str() {
                "yes" | "true" | "on" => Some(Value::Switch(true)),
                "no" | "false" | "off" => Some(Value::Switch(false)),
                _ => None,
            }
        } else if text.eq_ignore_ascii_case("unlimited") {
            Some(Value::Limit(Limit::Unlimited))
        } else {
            text.parse().ok().map(|n| Value::Limit(Limit::At(n)))
        };
        value.ok_or_else(|| {
            let takes = if self.is_switch() {
                "yes or no"
            } else {
                "a whole number (0 or more) or `unlimited`"
            };
            PolicyInputError(format!(
                "`{}={text}`: {} takes {takes}, for example {}",
                self.key(),
                self.key(),
                self.example()
            ))
        })
    }

    fn example(self) -> String {
        let value = match self {
            Self::MaxContacts => "200",
            Self::HistoryDays => "30",
            Self::MaxFileMb => "10",
            _ => "no",
        };
        format!("{}={value}", self.key())
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A numeric setting's bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// No bound of the policy's (the server's own limits still hold).
    Unlimited,
    /// At most this many.
    At(u32),
}

/// A setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Allowed or not.
    Switch(bool),
    /// A bound.
    Limit(Limit),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Switch(true) => f.write_str("yes"),
            Self::Switch(false) => f.write_str("no"),
            Self::Limit(Limit::Unlimited) => f.write_str("unlimited"),
            Self::Limit(Limit::At(n)) => write!(f, "{n}"),
        }
    }
}

/// Input a policy command or form cannot take; the sentence names the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyInputError(pub String);

/// The settings `KEY=VALUE` texts name, every one checked before any is
/// used (so bad input changes nothing).
pub fn parse_settings<S: AsRef<str>>(
    pairs: &[S],
) -> Result<BTreeMap<Setting, Value>, PolicyInputError> {
    let keys = || Setting::ALL.map(Setting::key).join(", ");
    if pairs.is_empty() {
        return Err(PolicyInputError(format!(
            "name at least one setting as KEY=VALUE, for example nway_chat=no; the keys are {}",
            keys()
        )));
    }
    let mut settings = BTreeMap::new();
    for pair in pairs {
        let pair = pair.as_ref();
        let Some((key, value)) = pair.split_once('=') else {
            return Err(PolicyInputError(format!(
                "`{pair}`: write KEY=VALUE, for example nway_chat=no"
            )));
        };
        let key = key.trim();
        let setting = Setting::from_key(key).ok_or_else(|| {
            PolicyInputError(format!("`{pair}`: no setting `{key}`; the keys are {}", keys()))
        })?;
        settings.insert(setting, setting.parse(value)?);
    }
    Ok(settings)
}

/// Checks a custom policy's name: letters, digits, `.`, `_` and `-`.
pub fn check_name(name: &str) -> Result<(), PolicyInputError> {
    let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || !name.chars().all(fine) {
        return Err(PolicyInputError(format!(
            "`{name}` is no policy name: use 1 to {MAX_NAME_CHARS} letters, digits, `.`, `_` or `-`"
        )));
    }
    Ok(())
}

/// A policy: its name and the settings it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Its name.
    pub name: String,
    /// What it sets (a custom policy may leave settings to `default`).
    pub settings: BTreeMap<Setting, Value>,
}

/// Whom a custom policy is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Assignee {
    /// A user, by the directory's id.
    User(String),
    /// A directory group, by its DN (any case).
    Group(String),
}

impl fmt::Display for Assignee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user {id}"),
            Self::Group(dn) => write!(f, "group {dn}"),
        }
    }
}

/// A custom policy assigned to someone, with its weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The policy's name.
    pub policy: String,
    /// To whom.
    pub to: Assignee,
    /// The heaviest of a user's assignments wins.
    pub weight: u32,
}

/// Whose policy is looked for.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// Someone outside the directory.
    Anonymous,
    /// A directory user and the groups (DNs) they belong to.
    Member {
        /// Their id.
        user: &'a str,
        /// Their groups.
        groups: &'a [String],
    },
}

/// A user's settings, each with the policy it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    /// The policy that applies (the heaviest assigned, or a built-in one).
    pub policy: String,
    values: BTreeMap<Setting, (Value, String)>,
}

/// What a user asks to do, for [`Effective::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Start an n-way chat or invite people into one.
    NwayChat,
    /// Send a message or invitation to someone outside the directory.
    ExternalChat,
    /// Keep a contact list of this many contacts (more than before).
    KeepContacts(usize),
    /// Send a file of this many bytes (`None`: not known yet).
    SendFile(Option<u64>),
}

/// Why a policy refuses an action: the policy, the setting, and a
/// sentence for the user that names both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PolicyRefusal {
    /// The policy that refuses.
    pub policy: String,
    /// The setting that refuses.
    pub setting: Setting,
    /// What to tell the user.
    pub message: String,
}

/// The settings that apply to `subject`, given every policy and
/// assignment: the heaviest policy assigned to the user or one of their
/// groups (on a tie: one assigned to the user, then the first name), over
/// `default`; for anonymous people, `anonymous`. Settings no stored
/// policy sets are what the server allowed before policies existed.
pub fn resolve(policies: &[Policy], assignments: &[Assignment], subject: Subject<'_>) -> Effective {
    let (user, groups) = match subject {
        Subject::Anonymous => return applying(policies, ANONYMOUS),
        Subject::Member { user, groups } => (user, groups),
    };
    let applies = |a: &&Assignment| match &a.to {
        Assignee::User(id) => id == user,
        Assignee::Group(dn) => groups.iter().any(|g| g.eq_ignore_ascii_case(dn)),
    };
    let heaviest = assignments.iter().filter(applies).max_by(|a, b| {
        let rank = |a: &Assignment| (a.weight, matches!(a.to, Assignee::User(_)));
        rank(a).cmp(&rank(b)).then_with(|| b.policy.cmp(&a.policy))
    });
    applying(policies, heaviest.map_or(DEFAULT, |a| a.policy.as_str()))
}

/// The settings policy `name` gives whoever it applies to: its own, the
/// rest `default`'s (`anonymous` stands alone), and what the server
/// allowed before policies existed where neither says.
pub fn applying(policies: &[Policy], name: &str) -> Effective {
    let named = |name: &str| policies.iter().find(|p| p.name == name);
    let mut effective = Effective {
        policy: DEFAULT.to_owned(),
        values: Setting::ALL.iter().map(|s| (*s, (s.initial(), DEFAULT.to_owned()))).collect(),
    };
    if name != ANONYMOUS {
        effective.overlay(DEFAULT, named(DEFAULT));
    }
    effective.overlay(name, named(name));
    effective
}

/// Whether `name` is one of the two policies that always exist.
pub fn is_builtin(name: &str) -> bool {
    name == DEFAULT || name == ANONYMOUS
}

impl Effective {
    /// Takes what `policy` sets; it applies from now on.
    fn overlay(&mut self, name: &str, policy: Option<&Policy>) {
        self.policy = name.to_owned();
        for (setting, value) in policy.map(|p| &p.settings).into_iter().flatten() {
            self.values.insert(*setting, (*value, name.to_owned()));
        }
    }

    /// A setting's value and the policy it comes from.
    pub fn get(&self, setting: Setting) -> (Value, &str) {
        let (value, from) = &self.values[&setting];
        (*value, from)
    }

    fn switch(&self, setting: Setting) -> bool {
        !matches!(self.get(setting).0, Value::Switch(false))
    }

    fn limit(&self, setting: Setting) -> Option<u32> {
        match self.get(setting).0 {
            Value::Limit(Limit::At(n)) => Some(n),
            _ => None,
        }
    }

    /// How many days back the history shows; `None`: all of it.
    pub fn history_days(&self) -> Option<u32> {
        self.limit(Setting::HistoryDays)
    }

    /// The largest file the policy lets through, in bytes; `None`: the
    /// server's limit.
    pub fn max_file_bytes(&self) -> Option<u64> {
        self.limit(Setting::MaxFileMb).map(|mb| u64::from(mb) * 1024 * 1024)
    }

    /// The one decision: whether the user may do `action`, or which
    /// policy and setting refuse it and why.
    pub fn check(&self, action: Action) -> Result<(), PolicyRefusal> {
        let (setting, refused) = match action {
            Action::NwayChat => (Setting::NwayChat, !self.switch(Setting::NwayChat)),
            Action::ExternalChat => (Setting::ExternalChat, !self.switch(Setting::ExternalChat)),
            Action::KeepContacts(count) => (
                Setting::MaxContacts,
                self.limit(Setting::MaxContacts).is_some_and(|max| count > max as usize),
            ),
            Action::SendFile(_) if !self.switch(Setting::FileTransfer) => {
                (Setting::FileTransfer, true)
            }
            Action::SendFile(bytes) => (
                Setting::MaxFileMb,
                bytes.zip(self.max_file_bytes()).is_some_and(|(bytes, max)| bytes > max),
            ),
        };
        if !refused {
            return Ok(());
        }
        let policy = self.get(setting).1.to_owned();
        let what = match setting {
            Setting::ExternalChat => {
                "does not allow messages to people outside the directory".to_owned()
            }
            Setting::NwayChat => "does not allow n-way chats".to_owned(),
            Setting::FileTransfer => "does not allow sending files".to_owned(),
            Setting::MaxContacts => {
                format!("allows at most {} contacts", self.get(setting).0)
            }
            Setting::MaxFileMb => format!("allows files of at most {} MB", self.get(setting).0),
            Setting::HistoryDays | Setting::Meetings | Setting::RoomsCreate => {
                unreachable!("no action is checked against {setting}")
            }
        };
        Err(PolicyRefusal {
            message: format!("the policy `{policy}` {what} ({setting})"),
            policy,
            setting,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str, pairs: &[&str]) -> Policy {
        Policy { name: name.into(), settings: parse_settings(pairs).unwrap() }
    }

    fn assign(policy: &str, to: Assignee, weight: u32) -> Assignment {
        Assignment { policy: policy.into(), to, weight }
    }

    #[test]
    fn the_heaviest_assigned_policy_wins_over_default() {
        let policies = [
            policy(DEFAULT, &["nway_chat=no", "max_contacts=50"]),
            policy("staff", &["nway_chat=yes"]),
            policy("interns", &["file_transfer=no"]),
        ];
        let groups = ["cn=Staff,o=Acme".to_owned()];
        let assignments = [
            assign("staff", Assignee::Group("CN=staff,O=acme".into()), 10),
            assign("interns", Assignee::User("bob".into()), 5),
        ];
        let alice =
            resolve(&policies, &assignments, Subject::Member { user: "alice", groups: &groups });
        assert_eq!(alice.policy, "staff");
        assert_eq!(alice.check(Action::NwayChat), Ok(()));
        let refusal = alice.check(Action::KeepContacts(51)).unwrap_err();
        assert_eq!(refusal.policy, DEFAULT, "staff leaves max_contacts to default");
        assert_eq!(
            refusal.message,
            "the policy `default` allows at most 50 contacts (max_contacts)"
        );
        let bob =
            resolve(&policies, &assignments, Subject::Member { user: "bob", groups: &groups });
        assert_eq!(bob.policy, "staff", "weight 10 beats weight 5");
        let carol =
            resolve(&policies, &assignments, Subject::Member { user: "carol", groups: &[] });
        let refusal = carol.check(Action::NwayChat).unwrap_err();
        assert_eq!(refusal.message, "the policy `default` does not allow n-way chats (nway_chat)");
    }

    #[test]
    fn a_tie_goes_to_the_users_own_assignment_and_anonymous_people_get_anonymous() {
        let policies = [
            policy("a", &["nway_chat=no"]),
            policy("b", &["nway_chat=yes"]),
            policy(ANONYMOUS, &["file_transfer=no"]),
        ];
        let groups = ["cn=g".to_owned()];
        let assignments = [
            assign("b", Assignee::Group("cn=g".into()), 3),
            assign("a", Assignee::User("u".into()), 3),
        ];
        let user = resolve(&policies, &assignments, Subject::Member { user: "u", groups: &groups });
        assert_eq!(user.policy, "a");
        let stranger = resolve(&policies, &assignments, Subject::Anonymous);
        let refusal = stranger.check(Action::SendFile(Some(1))).unwrap_err();
        assert_eq!((refusal.policy.as_str(), refusal.setting), (ANONYMOUS, Setting::FileTransfer));
    }

    #[test]
    fn file_sizes_are_checked_against_max_file_mb() {
        let policies = [policy(DEFAULT, &["max_file_mb=1"])];
        let user = resolve(&policies, &[], Subject::Member { user: "u", groups: &[] });
        assert_eq!(user.check(Action::SendFile(Some(1024 * 1024))), Ok(()));
        assert_eq!(user.check(Action::SendFile(None)), Ok(()));
        let refusal = user.check(Action::SendFile(Some(1024 * 1024 + 1))).unwrap_err();
        assert_eq!(refusal.setting, Setting::MaxFileMb);
        assert_eq!(user.max_file_bytes(), Some(1024 * 1024));
    }

    #[test]
    fn bad_input_names_the_fix() {
        let error = |pairs: &[&str]| parse_settings(pairs).unwrap_err().0;
        assert!(error(&["nway_chat"]).contains("write KEY=VALUE"), "{}", error(&["nway_chat"]));
        assert!(error(&["nway=no"]).contains("the keys are external_chat, max_contacts"));
        assert!(error(&["nway_chat=maybe"]).contains("nway_chat takes yes or no"));
        assert!(error(&["max_contacts=-1"]).contains("`unlimited`, for example max_contacts=200"));
        assert!(error(&[]).contains("at least one setting"));
        assert!(check_name("team a").is_err());
        assert!(check_name("team-a").is_ok());
        let parsed = parse_settings(&["history_days=unlimited", "meetings=off"]).unwrap();
        assert_eq!(parsed[&Setting::HistoryDays], Value::Limit(Limit::Unlimited));
        assert_eq!(parsed[&Setting::Meetings].to_string(), "no");
    }
}
