//! SASL PLAIN (RFC 4616), the one mechanism that works for every realm:
//! the password goes to the directory (LDAP binds need it in clear, over
//! TLS) or is an LTPA token. Public for the fuzz target.

use tokio_xmpp::parsers::sasl::DefinedCondition;

/// The name and password of a PLAIN message: `[authzid] NUL authcid NUL
/// passwd`, UTF-8. An authorisation identity other than the user is
/// refused (nobody acts for someone else here); an empty name or
/// password is `not-authorized` like a wrong one.
pub fn plain(data: &[u8]) -> Result<(String, String), DefinedCondition> {
    let text = std::str::from_utf8(data).map_err(|_| DefinedCondition::MalformedRequest)?;
    let mut parts = text.split('\0');
    let (Some(authzid), Some(name), Some(secret), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(DefinedCondition::MalformedRequest);
    };
    if name.is_empty() || secret.is_empty() {
        return Err(DefinedCondition::NotAuthorized);
    }
    let own = authzid.is_empty() || authzid.split('@').next() == Some(name);
    if !own {
        return Err(DefinedCondition::InvalidAuthzid);
    }
    Ok((name.to_owned(), secret.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_passwords_and_malformed_messages() {
        let ok = |data: &[u8]| plain(data).map_err(|e| format!("{e:?}"));
        assert_eq!(ok(b"\0alice\0secret"), Ok(("alice".into(), "secret".into())));
        assert_eq!(ok(b"alice@example.com\0alice\0se\xc3\xa7ret").unwrap().1, "seçret");
        assert!(ok(b"bob\0alice\0secret").unwrap_err().contains("InvalidAuthzid"));
        for malformed in [&b"alice\0secret"[..], b"\0a\0b\0c", b"\0alice\0\xff"] {
            assert!(ok(malformed).unwrap_err().contains("MalformedRequest"), "{malformed:?}");
        }
        assert!(ok(b"\0alice\0").unwrap_err().contains("NotAuthorized"));
    }
}
