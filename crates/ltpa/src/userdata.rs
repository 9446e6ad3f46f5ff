//! The user data inside WebSphere tokens: `key:value|value$key:value...`,
//! and the access id in its `u` attribute.
//!
//! Grammar and escaping follow Open Liberty's `LTPATokenizer` and the
//! DataPower-derived code in Eclipse Amlen (`ltpautils.c`):
//! attributes are joined with `$`, a key is separated from its values by
//! `:`, several values by `|`, and keys are written in sorted order. The
//! writer escapes `%`, `$` and `:` with a backslash, as WebSphere does
//! (so LDAP escapes such as `cn=Doe\, John` pass through untouched), `|`
//! inside values of attributes other than `u`, and a backslash only where
//! it would otherwise be read as an escape. The reader is a left-to-right
//! scanner: `\` followed by one of `% $ : | \` yields that character, any
//! other backslash is kept.

use std::collections::BTreeMap;

/// Attribute carrying the access id (`user:REALM/UNIQUE_ID`).
pub const USER_ATTRIBUTE: &str = "u";
/// Attribute carrying the expiry in milliseconds since the Unix epoch.
pub const EXPIRE_ATTRIBUTE: &str = "expire";

const ESCAPABLE: [char; 5] = ['%', '$', ':', '|', '\\'];

/// The attributes of a token, sorted by key as WebSphere writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserData {
    attributes: BTreeMap<String, Vec<String>>,
}

/// Why user data could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("user data: {0}")]
pub struct UserDataError(String);

impl UserData {
    /// User data naming one user: the `u` attribute for `access_id`.
    pub fn for_user(access_id: &AccessId) -> Self {
        let mut data = Self::default();
        data.set(USER_ATTRIBUTE, vec![access_id.to_string()]);
        data
    }

    /// Parses the text of a token's user-data field.
    pub fn parse(text: &str) -> Result<Self, UserDataError> {
        let mut data = Self::default();
        for attribute in split_unescaped(text, '$') {
            if attribute.is_empty() {
                continue;
            }
            let key_len = raw_key_len(attribute);
            if key_len == attribute.len() {
                return Err(UserDataError(format!(
                    "attribute {:?} has no ':' separator",
                    unescape(attribute)
                )));
            }
            let key = unescape(&attribute[..key_len]);
            let rest = &attribute[key_len + 1..];
            if key.is_empty() {
                return Err(UserDataError("an attribute has an empty name".into()));
            }
            let values: Vec<String> = if key == USER_ATTRIBUTE {
                vec![unescape(rest)]
            } else {
                split_unescaped(rest, '|').map(unescape).collect()
            };
            let values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
            if key == USER_ATTRIBUTE
                && !values.is_empty()
                && data.attributes.contains_key(USER_ATTRIBUTE)
            {
                // WebSphere's UserData refuses a second user; so does Simul.
                return Err(UserDataError("more than one user attribute 'u'".into()));
            }
            if !values.is_empty() {
                data.attributes.entry(key).or_default().extend(values);
            }
        }
        Ok(data)
    }

    /// The attributes in WebSphere's canonical text form.
    pub fn to_wire(&self) -> String {
        let mut out = String::new();
        for (key, values) in &self.attributes {
            if !out.is_empty() {
                out.push('$');
            }
            escape_into(&mut out, key, true);
            out.push(':');
            for (index, value) in values.iter().enumerate() {
                if index > 0 {
                    out.push('|');
                }
                escape_into(&mut out, value, key != USER_ATTRIBUTE);
            }
        }
        out
    }

    /// The values of one attribute.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.attributes.get(key).map(Vec::as_slice)
    }

    /// Sets an attribute; empty values are dropped (as WebSphere does), and
    /// an attribute left without values is removed. The user attribute `u`
    /// takes one value: set it with [`UserData::for_user`].
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        let values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            self.attributes.remove(key);
        } else {
            self.attributes.insert(key.to_owned(), values);
        }
    }

    /// Removes an attribute.
    pub fn remove(&mut self, key: &str) {
        self.attributes.remove(key);
    }

    /// All attributes, sorted by key.
    pub fn attributes(&self) -> &BTreeMap<String, Vec<String>> {
        &self.attributes
    }

    /// The access id from the `u` attribute.
    pub fn access_id(&self) -> Result<AccessId, UserDataError> {
        match self.get(USER_ATTRIBUTE) {
            None => Err(UserDataError("no user attribute 'u'".into())),
            Some([one]) => AccessId::parse(one),
            Some(_) => Err(UserDataError("more than one user attribute 'u'".into())),
        }
    }

    /// The `expire` attribute in milliseconds, if present.
    pub fn expire_ms(&self) -> Result<Option<i64>, UserDataError> {
        match self.get(EXPIRE_ATTRIBUTE) {
            None => Ok(None),
            Some([one]) => one
                .parse()
                .map(Some)
                .map_err(|_| UserDataError(format!("expire attribute {one:?} is not a number"))),
            Some(_) => Err(UserDataError("more than one expire attribute".into())),
        }
    }
}

/// Length in bytes of the raw key of an attribute (up to the first
/// unescaped `:`), or the attribute's length when there is none.
fn raw_key_len(attribute: &str) -> usize {
    split_unescaped(attribute, ':').next().map_or(0, str::len)
}

/// Splits at every occurrence of `separator` not preceded by an escaping
/// backslash, scanning left to right so `\\` is one escaped backslash.
fn split_unescaped(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices();
    while let Some((index, c)) = chars.next() {
        if c == '\\' {
            if let Some((_, next)) = chars.clone().next()
                && ESCAPABLE.contains(&next)
            {
                chars.next();
            }
        } else if c == separator {
            pieces.push(&text[start..index]);
            start = index + c.len_utf8();
        }
    }
    pieces.push(&text[start..]);
    pieces.into_iter()
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&next) if c == '\\' && ESCAPABLE.contains(&next) => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

fn escape_into(out: &mut String, text: &str, escape_bar: bool) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let needs_escape = match c {
            '%' | '$' | ':' => true,
            '|' => escape_bar,
            // A backslash is literal unless the reader would take it for an
            // escape: before an escapable character or at the value's end.
            '\\' => chars.peek().is_none_or(|next| ESCAPABLE.contains(next)),
            _ => false,
        };
        if needs_escape {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A WebSphere access id, `user:REALM/UNIQUE_ID` (Open Liberty
/// `AccessIdUtil`): the entity type, the registry realm and the user's
/// unique id in that registry (an LDAP DN, a Notes name, a login name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessId {
    /// Entity type, `user` for people.
    pub kind: String,
    /// Registry realm, such as `defaultWIMFileBasedRealm` or `ldap.example.com:389`.
    pub realm: String,
    /// Unique id within the realm (may contain `/`).
    pub unique_id: String,
}

impl AccessId {
    /// The access id of a user.
    pub fn user(realm: &str, unique_id: &str) -> Self {
        Self { kind: "user".into(), realm: realm.into(), unique_id: unique_id.into() }
    }

    /// Parses `type:realm/uniqueId`. The realm ends at the first `/`, except
    /// that a URL realm (`scheme://host`) keeps its `//`.
    pub fn parse(text: &str) -> Result<Self, UserDataError> {
        let invalid =
            || UserDataError(format!("access id {text:?} is not of the form user:REALM/UNIQUE_ID"));
        let (kind, rest) = text.split_once(':').ok_or_else(invalid)?;
        let realm_start = url_scheme_len(rest).map_or(0, |len| len + 3);
        let slash = rest[realm_start..].find('/').ok_or_else(invalid)? + realm_start;
        let (realm, unique_id) = (&rest[..slash], &rest[slash + 1..]);
        if kind.is_empty() || realm.is_empty() || unique_id.is_empty() {
            return Err(invalid());
        }
        Ok(Self { kind: kind.into(), realm: realm.into(), unique_id: unique_id.into() })
    }
}

/// Length of a leading URL scheme followed by `://` (`https://...`).
fn url_scheme_len(text: &str) -> Option<usize> {
    let scheme = &text[..text.find("://")?];
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
    valid.then_some(scheme.len())
}

impl std::fmt::Display for AccessId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}/{}", self.kind, self.realm, self.unique_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websphere_minimal_token_round_trips() {
        let wire = r"expire:1696698581000$u:user\:9.3.179.80\:5389/uid=u0000000,ou=users,ou=PERF,dc=ism.ibm,dc=com";
        let data = UserData::parse(wire).unwrap();
        let id = data.access_id().unwrap();
        assert_eq!(id.realm, "9.3.179.80:5389");
        assert_eq!(id.unique_id, "uid=u0000000,ou=users,ou=PERF,dc=ism.ibm,dc=com");
        assert_eq!(data.expire_ms().unwrap(), Some(1_696_698_581_000));
        assert_eq!(data.to_wire(), wire);
    }

    #[test]
    fn propagated_attributes_are_kept_in_order() {
        let wire = r"expire:1$host:ic.example.com$java.naming.provider.url:corbaloc\:iiop\:host\:9811/WsnAdminNameService$port:8881$process.serverName:socialCell01\:IC5Node01\:InfraCluster_server1$security.authMechOID:oid\:1.3.18.0.2.30.2$type:SOAP$u:user\:defaultWIMFileBasedRealm/uid=jdoe,o=acme";
        let data = UserData::parse(wire).unwrap();
        assert_eq!(data.get("port").unwrap(), ["8881"]);
        assert_eq!(
            data.get("java.naming.provider.url").unwrap(),
            ["corbaloc:iiop:host:9811/WsnAdminNameService"]
        );
        assert_eq!(data.to_wire(), wire);
    }

    #[test]
    fn ldap_escapes_pass_through_and_specials_escape() {
        let id = AccessId::user("ldap.acme.com:389", r"cn=Doe\, John$x%y|z\,o=acme");
        let mut data = UserData::for_user(&id);
        data.set("groups", vec!["a|b".into(), "c".into()]);
        let wire = data.to_wire();
        assert_eq!(wire, r"groups:a\|b|c$u:user\:ldap.acme.com\:389/cn=Doe\, John\$x\%y|z\,o=acme");
        let back = UserData::parse(&wire).unwrap();
        assert_eq!(back, data);
        assert_eq!(back.access_id().unwrap(), id);
    }

    #[test]
    fn backslashes_that_look_like_escapes_round_trip() {
        for value in [r"a\", r"a\$b", r"a\\", r"\:", "plain"] {
            let mut data = UserData::default();
            data.set("k", vec![value.into()]);
            data.set("z", vec!["after".into()]);
            assert_eq!(UserData::parse(&data.to_wire()).unwrap(), data, "{value}");
        }
    }

    #[test]
    fn access_ids_with_notes_names_and_url_realms() {
        let id = AccessId::parse("user:o=Acme/CN=John Doe/O=Acme").unwrap();
        assert_eq!((id.realm.as_str(), id.unique_id.as_str()), ("o=Acme", "CN=John Doe/O=Acme"));
        let id = AccessId::parse("user:https://idp.example.com/jdoe").unwrap();
        assert_eq!((id.realm.as_str(), id.unique_id.as_str()), ("https://idp.example.com", "jdoe"));
        for bad in ["", "user", "user:realm", "user:/id", ":realm/id", "user:realm/"] {
            assert!(AccessId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn malformed_user_data_is_reported() {
        assert!(UserData::parse("novalue").is_err());
        assert!(UserData::parse(":empty-key").is_err());
        assert!(UserData::parse("u:a$u:b").is_err(), "two users (found by fuzzing)");
        assert!(UserData::parse("expire:soon").unwrap().expire_ms().is_err());
    }
}
