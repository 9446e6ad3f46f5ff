//! Users as JIDs: user `alice` of the community is `alice@DOMAIN`. User
//! ids a JID's local part cannot hold as they are (a space, `@`, `/`...)
//! are escaped as XEP-0106 says, which clients show unescaped. Public for
//! the fuzz target.

use tokio_xmpp::jid::{BareJid, Jid};

/// The characters XEP-0106 escapes, and their escapes.
const ESCAPED: [(char, &str); 10] = [
    ('\\', "\\5c"),
    (' ', "\\20"),
    ('"', "\\22"),
    ('&', "\\26"),
    ('\'', "\\27"),
    ('/', "\\2f"),
    (':', "\\3a"),
    ('<', "\\3c"),
    ('>', "\\3e"),
    ('@', "\\40"),
];

/// The bare JID of `user` in `domain`; none for an id no JID can hold
/// (too long, or characters stringprep forbids).
pub fn jid_of(user: &str, domain: &str) -> Option<BareJid> {
    let mut local = String::with_capacity(user.len());
    for c in user.chars() {
        match ESCAPED.iter().find(|(escaped, _)| *escaped == c) {
            Some((_, escape)) => local.push_str(escape),
            None => local.push(c),
        }
    }
    BareJid::new(&format!("{local}@{domain}")).ok()
}

/// The user a JID of `domain` names, unescaped but case-folded as every
/// JID is (the directory then finds its own spelling); none for another
/// domain or a JID without a local part (the server itself).
pub fn user_of(jid: &Jid, domain: &str) -> Option<String> {
    if !jid.domain().as_str().eq_ignore_ascii_case(domain) {
        return None;
    }
    let local = jid.node()?.as_str();
    let mut user = String::with_capacity(local.len());
    let mut rest = local;
    while let Some(at) = rest.find('\\') {
        user.push_str(&rest[..at]);
        rest = &rest[at..];
        match ESCAPED.iter().find(|(_, escape)| rest.starts_with(escape)) {
            Some((c, escape)) => {
                user.push(*c);
                rest = &rest[escape.len()..];
            }
            None => {
                user.push('\\');
                rest = &rest[1..];
            }
        }
    }
    user.push_str(rest);
    Some(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_with_characters_a_jid_cannot_hold_are_escaped_and_come_back() {
        for id in ["alice", "o'brien", "cn=Ann Lee/o=Acme", "ann@example.com", "back\\slash"] {
            let jid = jid_of(id, "example.com").unwrap();
            assert_eq!(jid.domain().as_str(), "example.com");
            assert!(!jid.node().unwrap().as_str().contains(['@', '/', ' ']), "{jid}");
            // A local part is case-folded (nodeprep); the directory finds
            // its own spelling of the name (`Service::recipient`).
            let back = user_of(&Jid::from(jid), "example.com").unwrap();
            assert_eq!(back, id.to_lowercase());
        }
    }

    #[test]
    fn another_domain_or_the_server_names_no_user() {
        let other = Jid::new("alice@elsewhere.org").unwrap();
        assert_eq!(user_of(&other, "example.com"), None);
        assert_eq!(user_of(&Jid::new("example.com").unwrap(), "example.com"), None);
        let resource = Jid::new("alice@EXAMPLE.com/phone").unwrap();
        assert_eq!(user_of(&resource, "example.com").as_deref(), Some("alice"));
    }
}
