//! The Sametime buddy-list text (spec §6.3, meanwhile `st_list.c`), the
//! value clients keep under storage key 0 as a `str` inside the opaque:
//!
//! ```text
//! Version=3.1.3
//! G Buddies2 Buddies O
//! U bob1:: Bob,
//! ```
//!
//! `G <name><type> <alias> <O|C>` opens a group (type `2` normal, `3`
//! dynamic); `U <id><type>:: <name>,<alias>` is a user of the latest
//! group (type `1` normal, `2` external), the name running to the last
//! comma. Spaces inside fields are written as `;`. Lines end with CRLF;
//! readers also take LF or CR alone, and skip leading white space and
//! empty lines.
//!
//! The protocol does not need the list (watching comes through awareness
//! adds); the server parses it to offer the contact list to other front
//! doors, and writes lists back in exactly this format. [`BuddyList::parse`]
//! refuses the first bad line; [`BuddyList::parse_lenient`] skips bad
//! lines as meanwhile does and reports them.

use std::fmt::Write as _;

use thiserror::Error;

use crate::encoding::{DecodeError, EncodeError, Reader, Writer};

/// The version written when a list has none (what Pidgin writes).
pub const DEFAULT_VERSION: [u32; 3] = [3, 1, 3];

/// A buddy list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuddyList {
    /// `Version=major.minor.micro`.
    pub version: [u32; 3],
    /// Groups in order.
    pub groups: Vec<Group>,
}

impl Default for BuddyList {
    fn default() -> Self {
        Self { version: DEFAULT_VERSION, groups: Vec::new() }
    }
}

/// A group of a [`BuddyList`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's name (non-empty).
    pub name: String,
    /// Its kind.
    pub kind: GroupKind,
    /// Its display name; an empty alias is written as the name.
    pub alias: String,
    /// Shown open (`O`) or collapsed (`C`).
    pub open: bool,
    /// Its users in order.
    pub users: Vec<Buddy>,
}

/// The type character of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// `2`: a normal group.
    Normal,
    /// `3`: a dynamic (server-side, NAB) group; awareness watches it as a
    /// group id (§6.1).
    Dynamic,
    /// Another character (`9` is seen for "unknown").
    Other(char),
}

/// A user of a [`Group`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buddy {
    /// The user id (non-empty).
    pub id: String,
    /// Its kind.
    pub kind: UserKind,
    /// The user's name (may be empty).
    pub name: String,
    /// The alias the list's owner gave (may be empty).
    pub alias: String,
}

/// The type character of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKind {
    /// `1`: a user of this community.
    Normal,
    /// `2`: an external user (another community, `@E ` ids).
    External,
    /// Another character.
    Other(char),
}

impl GroupKind {
    fn from_char(c: char) -> Self {
        match c {
            '2' => Self::Normal,
            '3' => Self::Dynamic,
            other => Self::Other(other),
        }
    }

    fn to_char(self) -> char {
        match self {
            Self::Normal => '2',
            Self::Dynamic => '3',
            Self::Other(c) => c,
        }
    }
}

impl UserKind {
    fn from_char(c: char) -> Self {
        match c {
            '1' => Self::Normal,
            '2' => Self::External,
            other => Self::Other(other),
        }
    }

    fn to_char(self) -> char {
        match self {
            Self::Normal => '1',
            Self::External => '2',
            Self::Other(c) => c,
        }
    }
}

/// What is wrong with a list.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BuddyListError {
    /// A line that cannot be read.
    #[error("buddy list line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A value the format cannot carry.
    #[error("buddy list {field} {value:?} cannot be written: {reason}")]
    Unwritable {
        /// Which field.
        field: &'static str,
        /// Its value.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// The storage value is not a `str`.
    #[error("buddy list storage value: {0}")]
    Storage(#[from] DecodeError),
    /// The text does not fit a `str`.
    #[error("buddy list storage value: {0}")]
    TooLong(#[from] EncodeError),
}

fn line_error(line: usize, reason: &'static str) -> BuddyListError {
    BuddyListError::Line { line, reason }
}

/// `;` is how the format writes a space.
fn unescape(field: &str) -> String {
    field.replace(';', " ")
}

fn parse_version(rest: &str, line: usize) -> Result<[u32; 3], BuddyListError> {
    let bad = || line_error(line, "version is not Version=major.minor.micro");
    let mut parts = rest.trim_end().split('.');
    let mut version = [0; 3];
    for part in &mut version {
        *part = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    }
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(version)
}

fn parse_group(rest: &str, line: usize) -> Result<Group, BuddyListError> {
    let fields: Vec<&str> = rest.split(' ').filter(|f| !f.is_empty()).collect();
    let [name_kind, alias, state] = fields[..] else {
        return Err(line_error(line, "group line needs <name><type> <alias> <O|C>"));
    };
    let open = match state {
        "O" => true,
        "C" => false,
        _ => return Err(line_error(line, "group state is neither O nor C")),
    };
    let (name, kind) = split_kind(name_kind).ok_or(line_error(line, "group name is empty"))?;
    Ok(Group {
        name: unescape(name),
        kind: GroupKind::from_char(kind),
        alias: unescape(alias),
        open,
        users: Vec::new(),
    })
}

fn parse_user(rest: &str, line: usize) -> Result<Buddy, BuddyListError> {
    let (id_kind, names) =
        rest.split_once("::").ok_or(line_error(line, "user line has no \"::\""))?;
    let (id, kind) = split_kind(id_kind.trim_end()).ok_or(line_error(line, "user id is empty"))?;
    let names = names.strip_prefix(' ').unwrap_or(names).trim_end();
    let (name, alias) = names.rsplit_once(',').unwrap_or((names, ""));
    Ok(Buddy {
        id: unescape(id),
        kind: UserKind::from_char(kind),
        name: unescape(name),
        alias: unescape(alias),
    })
}

/// Splits `<text><type char>`; `None` when the text would be empty.
fn split_kind(field: &str) -> Option<(&str, char)> {
    let kind = field.chars().next_back()?;
    let text = &field[..field.len() - kind.len_utf8()];
    (!text.is_empty()).then_some((text, kind))
}

impl BuddyList {
    /// Reads a list; the first bad line is an error.
    pub fn parse(text: &str) -> Result<Self, BuddyListError> {
        let (list, mut errors) = Self::read(text, true);
        match errors.drain(..).next() {
            Some(error) => Err(error),
            None => Ok(list),
        }
    }

    /// Reads a list, skipping bad lines (as meanwhile does) and reporting
    /// each with its error.
    pub fn parse_lenient(text: &str) -> (Self, Vec<BuddyListError>) {
        Self::read(text, false)
    }

    fn read(text: &str, stop_at_error: bool) -> (Self, Vec<BuddyListError>) {
        let mut list = Self::default();
        let mut errors = Vec::new();
        // The user lines after a bad group line have no group to go to.
        let mut in_group = false;
        let pieces =
            text.split('\n').enumerate().flat_map(|(i, l)| l.split('\r').map(move |p| (i + 1, p)));
        for (line, piece) in pieces {
            let piece = piece.trim_start();
            let result = match piece.split_at_checked(2) {
                _ if piece.is_empty() => continue,
                _ if piece.starts_with("Version=") => {
                    parse_version(&piece["Version=".len()..], line).map(|v| list.version = v)
                }
                Some(("G ", rest)) => match parse_group(rest, line) {
                    Ok(group) => {
                        list.groups.push(group);
                        in_group = true;
                        Ok(())
                    }
                    Err(error) => {
                        in_group = false;
                        Err(error)
                    }
                },
                Some(("U ", rest)) => match (in_group, list.groups.last_mut()) {
                    (true, Some(group)) => {
                        parse_user(rest, line).map(|user| group.users.push(user))
                    }
                    _ => Err(line_error(line, "user line outside any group")),
                },
                _ => Err(line_error(line, "unknown line (not Version=, G or U)")),
            };
            if let Err(error) = result {
                errors.push(error);
                if stop_at_error {
                    break;
                }
            }
        }
        (list, errors)
    }

    /// Writes the list with CRLF line ends, as Pidgin does.
    pub fn to_text(&self) -> Result<String, BuddyListError> {
        let [major, minor, micro] = self.version;
        let mut out = format!("Version={major}.{minor}.{micro}\r\n");
        for group in &self.groups {
            let name = escape("group name", &group.name, false)?;
            check_kind("group type", group.kind.to_char())?;
            let alias = if group.alias.is_empty() {
                name.clone()
            } else {
                escape("group alias", &group.alias, false)?
            };
            let state = if group.open { 'O' } else { 'C' };
            // Writing to a String cannot fail.
            let _ = write!(out, "G {name}{} {alias} {state}\r\n", group.kind.to_char());
            for user in &group.users {
                let id = escape("user id", &user.id, false)?;
                if id.contains("::") || id.ends_with(':') {
                    return Err(unwritable("user id", &user.id, "contains \"::\""));
                }
                check_kind("user type", user.kind.to_char())?;
                let name = escape("user name", &user.name, true)?;
                let alias = escape("user alias", &user.alias, true)?;
                if alias.contains(',') {
                    return Err(unwritable("user alias", &user.alias, "contains a comma"));
                }
                let _ = write!(out, "U {id}{}:: {name},{alias}\r\n", user.kind.to_char());
            }
        }
        Ok(out)
    }

    /// Reads the list from a storage value (a `str` inside the opaque).
    pub fn from_storage_value(value: &[u8]) -> Result<Self, BuddyListError> {
        Self::parse(&Reader::new(value).text("buddy list")?)
    }

    /// The list as a storage value.
    pub fn to_storage_value(&self) -> Result<Vec<u8>, BuddyListError> {
        let mut w = Writer::new();
        w.str("buddy list", &self.to_text()?);
        Ok(w.finish()?)
    }
}

fn unwritable(field: &'static str, value: &str, reason: &'static str) -> BuddyListError {
    BuddyListError::Unwritable { field, value: value.to_owned(), reason }
}

/// The field with spaces as `;`, refusing what the format cannot carry.
fn escape(field: &'static str, value: &str, may_be_empty: bool) -> Result<String, BuddyListError> {
    if value.is_empty() && !may_be_empty {
        return Err(unwritable(field, value, "is empty"));
    }
    if value.contains(';') {
        return Err(unwritable(field, value, "contains ';', which reads back as a space"));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(unwritable(field, value, "contains a line break or control character"));
    }
    // Other white space would be taken as a separator or trimmed.
    if value.chars().any(|c| c.is_whitespace() && c != ' ') {
        return Err(unwritable(field, value, "contains white space other than spaces"));
    }
    Ok(value.replace(' ', ";"))
}

fn check_kind(field: &'static str, kind: char) -> Result<(), BuddyListError> {
    if kind.is_whitespace() || kind.is_control() || matches!(kind, ';' | ':') {
        return Err(unwritable(field, &kind.to_string(), "is not a type character"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIDGIN: &str =
        "Version=3.1.3\r\nG Buddies2 Buddies O\r\nU bob1:: Bob,\r\nU carol1:: Carol,\r\n";

    #[test]
    fn reads_and_writes_pidgins_list() {
        let list = BuddyList::parse(PIDGIN).unwrap();
        assert_eq!(list.version, [3, 1, 3]);
        assert_eq!(list.groups.len(), 1);
        let group = &list.groups[0];
        assert_eq!(
            (group.name.as_str(), group.kind, group.alias.as_str()),
            ("Buddies", GroupKind::Normal, "Buddies")
        );
        assert!(group.open);
        let names: Vec<_> = group
            .users
            .iter()
            .map(|u| (u.id.as_str(), u.name.as_str(), u.alias.as_str()))
            .collect();
        assert_eq!(names, [("bob", "Bob", ""), ("carol", "Carol", "")]);
        assert_eq!(list.to_text().unwrap(), PIDGIN);
    }

    #[test]
    fn storage_value_is_a_str() {
        let value = BuddyList::parse(PIDGIN).unwrap().to_storage_value().unwrap();
        assert_eq!(&value[..2], [0x00, 0x47], "71 bytes, as in spec §6.3");
        assert_eq!(&value[2..], PIDGIN.as_bytes());
        assert_eq!(
            BuddyList::from_storage_value(&value).unwrap(),
            BuddyList::parse(PIDGIN).unwrap()
        );
    }

    #[test]
    fn spaces_commas_and_line_ends() {
        let text = "  Version=3.1.3\nG Work;Mates3 Work;Mates C\rU Smith,;Bob/Acme2:: Bob, Smith,Bobby;S\n\n";
        let list = BuddyList::parse(text).unwrap();
        let group = &list.groups[0];
        assert_eq!(
            (group.name.as_str(), group.kind, group.open),
            ("Work Mates", GroupKind::Dynamic, false)
        );
        let user = &group.users[0];
        assert_eq!(user.id, "Smith, Bob/Acme");
        assert_eq!(user.kind, UserKind::External);
        assert_eq!((user.name.as_str(), user.alias.as_str()), ("Bob, Smith", "Bobby S"));
        assert_eq!(BuddyList::parse(&list.to_text().unwrap()).unwrap(), list);
    }

    #[test]
    fn lenient_parse_skips_bad_lines() {
        let text =
            "Version=3.1.3\r\nU early1:: E,\r\nG Friends2 Friends O\r\nX junk\r\nU ann1:: Ann,\r\n";
        assert_eq!(
            BuddyList::parse(text),
            Err(BuddyListError::Line { line: 2, reason: "user line outside any group" })
        );
        let (list, errors) = BuddyList::parse_lenient(text);
        assert_eq!(errors.len(), 2);
        assert_eq!(list.groups[0].users[0].id, "ann");
    }

    #[test]
    fn writer_refuses_what_cannot_be_read_back() {
        let list = |id: &str, alias: &str| BuddyList {
            version: DEFAULT_VERSION,
            groups: vec![Group {
                name: "G".into(),
                kind: GroupKind::Normal,
                alias: String::new(),
                open: true,
                users: vec![Buddy {
                    id: id.into(),
                    kind: UserKind::Normal,
                    name: String::new(),
                    alias: alias.into(),
                }],
            }],
        };
        assert!(list("bob", "").to_text().is_ok());
        for (id, alias) in [
            ("", ""),
            ("a;b", ""),
            ("a\r\nG x", ""),
            ("a::b", ""),
            ("bob", "x,y"),
            ("bob", "tab\there"),
        ] {
            assert!(
                matches!(list(id, alias).to_text(), Err(BuddyListError::Unwritable { .. })),
                "{id:?} {alias:?}"
            );
        }
    }
}
