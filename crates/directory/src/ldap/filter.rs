//! LDAP search filters built from configured parts and user input. Every
//! value from outside (a login name, a search term, a DN) is escaped
//! (RFC 4515), so `*`, `(` or `)` in it match themselves and cannot widen
//! or rewrite the filter.

use ldap3::ldap_escape;

/// `(attribute=value)`, the value escaped.
pub(crate) fn equals(attribute: &str, value: &str) -> String {
    format!("({attribute}={})", ldap_escape(value))
}

/// `(&f1 f2 ...)`.
pub(crate) fn all<I: IntoIterator<Item = S>, S: AsRef<str>>(filters: I) -> String {
    combine('&', filters)
}

/// `(|f1 f2 ...)`.
pub(crate) fn any<I: IntoIterator<Item = S>, S: AsRef<str>>(filters: I) -> String {
    combine('|', filters)
}

fn combine<I: IntoIterator<Item = S>, S: AsRef<str>>(operator: char, filters: I) -> String {
    let mut combined = format!("({operator}");
    for filter in filters {
        combined.push_str(filter.as_ref());
    }
    combined.push(')');
    combined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_change_the_filter() {
        assert_eq!(equals("uid", "*"), "(uid=\\2a)");
        assert_eq!(equals("uid", "alice)(uid=*"), "(uid=alice\\29\\28uid=\\2a)");
        assert_eq!(equals("cn", "a\\b\0"), "(cn=a\\5cb\\00)");
        assert_eq!(
            all(["(objectClass=person)".to_owned(), equals("mail", "x*")]),
            "(&(objectClass=person)(mail=x\\2a))"
        );
        assert_eq!(any(["(a=1)", "(b=2)"]), "(|(a=1)(b=2))");
    }
}
