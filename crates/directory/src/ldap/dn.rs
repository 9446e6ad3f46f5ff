//! Distinguished names as keys. The same person's DN arrives spelt in
//! different ways (`CN=Alexander Novak, O=edcom` in a WebSphere token,
//! `cn=Alexander Novak,o=edcom` from the server), so the name cache keys
//! on a normal form: attribute types and values in lower case, no spaces
//! around separators, escapes written one way.

/// The normal form of a DN (RFC 4514 syntax), for comparison only; the
/// server's spelling stays the one shown and put in tokens.
///
/// Hex escapes of printable characters become the characters themselves
/// (`\2C` and `\,` are the same comma) and every special character is then
/// escaped with a backslash, so two spellings of one DN meet.
pub fn normalize(dn: &str) -> String {
    let mut normal = String::with_capacity(dn.len());
    let mut pending_space = false;
    let mut chars = trim_unescaped(dn).chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                flush_space(&mut normal, &mut pending_space);
                match chars.peek().copied() {
                    Some(h) if h.is_ascii_hexdigit() => {
                        // A run of hex escapes is UTF-8 (`\C3\A9` is é).
                        let mut bytes = vec![hex_pair(&mut chars)];
                        while chars.peek() == Some(&'\\') {
                            let mut ahead = chars.clone();
                            ahead.next();
                            if !ahead.peek().is_some_and(char::is_ascii_hexdigit) {
                                break;
                            }
                            chars.next();
                            bytes.push(hex_pair(&mut chars));
                        }
                        for c in String::from_utf8_lossy(&bytes).chars() {
                            push_value_char(&mut normal, c);
                        }
                    }
                    Some(other) => {
                        chars.next();
                        push_value_char(&mut normal, other);
                    }
                    None => push_value_char(&mut normal, '\\'),
                }
            }
            ',' | '+' | '=' | ';' => {
                pending_space = false;
                trim_trailing_spaces(&mut normal);
                normal.push(if c == ';' { ',' } else { c });
                while chars.peek() == Some(&' ') {
                    chars.next();
                }
            }
            ' ' => pending_space = true,
            other => {
                flush_space(&mut normal, &mut pending_space);
                normal.extend(other.to_lowercase());
            }
        }
    }
    normal
}

/// `dn` without white space at either end, except escaped white space.
fn trim_unescaped(dn: &str) -> &str {
    let dn = dn.trim_start();
    let mut end = dn.len();
    while let Some(last) = dn[..end].chars().next_back().filter(|c| c.is_whitespace()) {
        let before = &dn[..end - last.len_utf8()];
        let backslashes = before.chars().rev().take_while(|c| *c == '\\').count();
        if backslashes % 2 == 1 {
            break;
        }
        end = before.len();
    }
    &dn[..end]
}

/// Whether `dn` is `base` or an entry under it.
pub fn is_under(dn: &str, base: &str) -> bool {
    let (dn, base) = (normalize(dn), normalize(base));
    base.is_empty()
        || dn == base
        || dn.strip_suffix(&base).is_some_and(|head| head.ends_with(',') && !head.ends_with("\\,"))
}

/// Whether a login name is written as a DN (`uid=alice,dc=example`)
/// rather than a short name or a mail address.
pub fn looks_like_dn(name: &str) -> bool {
    let Some((attribute, _)) = name.split_once('=') else { return false };
    let attribute = attribute.trim();
    !attribute.is_empty()
        && attribute.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && attribute.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// One or two hex digits (the first is known to be one) as a byte.
fn hex_pair(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> u8 {
    let digit = |c: char| c.to_digit(16).unwrap_or(0) as u8;
    let high = chars.next().map_or(0, digit);
    match chars.peek().copied().filter(char::is_ascii_hexdigit) {
        Some(low) => {
            chars.next();
            high << 4 | digit(low)
        }
        None => high,
    }
}

fn flush_space(normal: &mut String, pending: &mut bool) {
    if std::mem::take(pending) && !normal.is_empty() {
        normal.push(' ');
    }
}

fn trim_trailing_spaces(normal: &mut String) {
    while normal.ends_with(' ') && !normal.ends_with("\\ ") {
        normal.pop();
    }
}

/// An escaped character, kept escaped where it would otherwise separate,
/// or be trimmed or collapsed as space, on a second reading.
fn push_value_char(normal: &mut String, c: char) {
    let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' | '#');
    if special || c.is_whitespace() || c.is_control() {
        normal.push('\\');
    }
    normal.extend(c.to_lowercase());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spellings_of_one_dn_meet() {
        let normal = "cn=alexander novak,o=edcom,c=de";
        for spelling in [
            "CN=Alexander Novak,O=edcom,C=DE",
            "cn=Alexander Novak, o=edcom, c=DE",
            " cn = Alexander Novak ; o=edcom;c=de ",
        ] {
            assert_eq!(normalize(spelling), normal, "{spelling}");
        }
    }

    #[test]
    fn escapes_are_written_one_way() {
        assert_eq!(normalize("cn=Smith\\, John,o=x"), normalize("cn=Smith\\2c John,o=x"));
        assert_eq!(normalize("cn=Smith\\, John,o=x"), "cn=smith\\, john,o=x");
        assert_ne!(normalize("cn=a\\,o=b"), normalize("cn=a,o=b"));
        assert_eq!(normalize("cn=Zo\\C3\\AB,o=x"), normalize("cn=Zoë,o=x"));
        // Found by fuzzing: an escaped vertical tab at the end was trimmed
        // on a second reading.
        let once = normalize(",n=Smith\\2\0\0o\\C4\\b");
        assert_eq!(normalize(&once), once);
    }

    #[test]
    fn entries_are_under_their_base() {
        assert!(is_under("uid=alice,ou=People,dc=example,dc=com", "dc=example, dc=com"));
        assert!(is_under("dc=example,dc=com", "DC=example,DC=com"));
        assert!(!is_under("uid=alice,dc=badexample,dc=com", "dc=example,dc=com"));
        assert!(!is_under("cn=x\\,dc=example,dc=com", "dc=example,dc=com"));
    }

    #[test]
    fn dns_are_told_from_login_names() {
        assert!(looks_like_dn("uid=alice,dc=example,dc=com"));
        assert!(looks_like_dn("CN=Alexander Novak,O=edcom"));
        for name in ["alice", "alice@example.com", "=x", "a b=c", "1=2"] {
            assert!(!looks_like_dn(name), "{name}");
        }
    }

    proptest! {
        #[test]
        fn normalizing_is_idempotent(dn in "\\PC{0,40}") {
            let once = normalize(&dn);
            prop_assert_eq!(normalize(&once), once.clone());
        }

        #[test]
        fn is_under_never_panics(dn in "\\PC{0,40}", base in "\\PC{0,20}") {
            let _ = is_under(&dn, &base);
        }
    }
}
