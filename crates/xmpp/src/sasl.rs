//! SASL: PLAIN (RFC 4616), the one mechanism that works for every realm
//! (the password goes to the directory, LDAP binds need it in clear over
//! TLS, or is an LTPA token), and the server side of SCRAM (RFC 5802,
//! 7677) for realms that keep SCRAM credentials, with channel binding
//! (the -PLUS mechanisms, `tls-exporter` of RFC 9266). Public for the
//! fuzz target.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_core::{OsRng, RngCore as _};
use simul_service::ScramCredentials;
use subtle::ConstantTimeEq as _;
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

/// The channel binding type of keying material exported from the TLS 1.3
/// connection (RFC 9266).
pub const TLS_EXPORTER: &str = "tls-exporter";
/// The channel binding type of the hash of the server's certificate (RFC
/// 5929), for TLS 1.2 as well.
pub const TLS_SERVER_END_POINT: &str = "tls-server-end-point";

/// The TLS channel a SCRAM exchange runs over, as far as binding to it
/// goes (RFC 5802 §6).
#[derive(Debug, Clone, Copy)]
pub struct Channel<'a> {
    /// The client chose a -PLUS mechanism.
    pub plus: bool,
    /// The `tls-exporter` binding data of the connection, when the
    /// server can compute it.
    pub exporter: Option<&'a [u8]>,
    /// The `tls-server-end-point` binding data, when the server knows it.
    /// With either, the server offers the -PLUS mechanisms.
    pub end_point: Option<&'a [u8]>,
}

impl<'a> Channel<'a> {
    /// Whether the server can bind to this channel (and so offers -PLUS).
    pub fn offered(&self) -> bool {
        self.exporter.is_some() || self.end_point.is_some()
    }

    /// The binding data of type `name`, if offered.
    fn data_of(&self, name: &str) -> Option<&'a [u8]> {
        match name {
            TLS_EXPORTER => self.exporter,
            TLS_SERVER_END_POINT => self.end_point,
            _ => None,
        }
    }
}

/// The first message of a SCRAM exchange (RFC 5802 §7), as far as the
/// server needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramStart {
    /// The user name, unescaped (`=2C` is `,`, `=3D` is `=`).
    pub name: String,
    /// What the client's `c=` must hold: the GS2 header and the binding
    /// data, if it bound to the channel.
    channel_input: Vec<u8>,
    client_first_bare: String,
    client_nonce: String,
}

/// Reads a client's first SCRAM message over `channel`:
/// `n,,n=user,r=nonce` (no binding), `y,,…` (the client could bind but
/// thinks the server cannot: refused where the server offers -PLUS, for
/// then someone removed them from the features on the way, RFC 5802 §6),
/// or `p=TYPE,,…` with a -PLUS mechanism and a type offered. Every refusal about
/// binding is `not-authorized`, like a wrong password.
pub fn scram_first(data: &[u8], channel: Channel<'_>) -> Result<ScramStart, DefinedCondition> {
    let text = std::str::from_utf8(data).map_err(|_| DefinedCondition::MalformedRequest)?;
    let mut parts = text.splitn(3, ',');
    let (Some(flag), Some(authzid), Some(bare)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(DefinedCondition::MalformedRequest);
    };
    let wanted = flag.strip_prefix("p=");
    let binding = match (flag, channel.plus, wanted.and_then(|name| channel.data_of(name))) {
        (_, true, Some(data)) => data,
        ("n", false, _) => &[][..],
        ("y", false, _) if !channel.offered() => &[][..],
        // A downgrade, a -PLUS mechanism without binding, binding without
        // -PLUS, or a type not offered.
        ("y", ..) | (_, true, _) => return Err(DefinedCondition::NotAuthorized),
        _ if wanted.is_some() => return Err(DefinedCondition::NotAuthorized),
        _ => return Err(DefinedCondition::MalformedRequest),
    };
    let mut attributes = bare.split(',');
    let (Some(user), Some(nonce)) = (attributes.next(), attributes.next()) else {
        return Err(DefinedCondition::MalformedRequest);
    };
    let (Some(user), Some(nonce)) = (user.strip_prefix("n="), nonce.strip_prefix("r=")) else {
        return Err(DefinedCondition::MalformedRequest);
    };
    let name = unescape_name(user).ok_or(DefinedCondition::MalformedRequest)?;
    if name.is_empty() || nonce.is_empty() || nonce.contains(',') {
        return Err(DefinedCondition::MalformedRequest);
    }
    match authzid.strip_prefix("a=").map(unescape_name) {
        None if authzid.is_empty() => {}
        Some(Some(authzid)) if authzid.split('@').next() == Some(name.as_str()) => {}
        _ => return Err(DefinedCondition::InvalidAuthzid),
    }
    let mut channel_input = format!("{flag},{authzid},").into_bytes();
    channel_input.extend_from_slice(binding);
    Ok(ScramStart {
        name,
        channel_input,
        client_first_bare: bare.to_owned(),
        client_nonce: nonce.to_owned(),
    })
}

impl ScramStart {
    /// The server's first message for `credentials`, with a fresh nonce.
    pub fn server_first(&self, credentials: &ScramCredentials) -> String {
        let mut random = [0; 18];
        OsRng.fill_bytes(&mut random);
        format!(
            "r={}{},s={},i={}",
            self.client_nonce,
            STANDARD.encode(random),
            STANDARD.encode(&credentials.salt),
            credentials.iterations
        )
    }

    /// Checks the client's final message against `credentials`: the
    /// server's final message (its signature) if the client proved it
    /// holds the password.
    pub fn verify(
        &self,
        server_first: &str,
        credentials: &ScramCredentials,
        client_final: &[u8],
    ) -> Result<String, DefinedCondition> {
        let text =
            std::str::from_utf8(client_final).map_err(|_| DefinedCondition::MalformedRequest)?;
        let (without_proof, proof) =
            text.rsplit_once(",p=").ok_or(DefinedCondition::MalformedRequest)?;
        let mut attributes = without_proof.split(',');
        let (Some(binding), Some(nonce)) = (attributes.next(), attributes.next()) else {
            return Err(DefinedCondition::MalformedRequest);
        };
        let server_nonce = server_first.split(',').next().unwrap_or_default();
        let expected_binding = format!("c={}", STANDARD.encode(&self.channel_input));
        let bound = bool::from(binding.as_bytes().ct_eq(expected_binding.as_bytes()));
        if !bound || nonce != server_nonce {
            return Err(DefinedCondition::NotAuthorized);
        }
        let proof = STANDARD.decode(proof).map_err(|_| DefinedCondition::MalformedRequest)?;
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let hash = credentials.hash;
        let signature = hash.hmac(&credentials.stored_key, auth_message.as_bytes());
        if proof.len() != signature.len() {
            return Err(DefinedCondition::NotAuthorized);
        }
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
        let proved = hash.digest(&client_key).ct_eq(&credentials.stored_key);
        if !bool::from(proved) {
            return Err(DefinedCondition::NotAuthorized);
        }
        let server_signature = hash.hmac(&credentials.server_key, auth_message.as_bytes());
        Ok(format!("v={}", STANDARD.encode(server_signature)))
    }
}

/// A SCRAM `saslname`: `=2C` and `=3D` for `,` and `=`; none for another
/// `=`.
fn unescape_name(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('=') {
        out.push_str(&rest[..at]);
        match rest.get(at..at + 3) {
            Some("=2C") => out.push(','),
            Some("=3D") => out.push('='),
            _ => return None,
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod scram_tests {
    use simul_service::ScramHash;

    use super::*;

    const NO_PLUS: Channel<'static> = Channel { plus: false, exporter: None, end_point: None };

    /// RFC 7677 §3: user "user", password "pencil", the RFC's nonces.
    #[test]
    fn the_rfc_7677_exchange_verifies_and_a_wrong_proof_does_not() {
        let start = scram_first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO", NO_PLUS).unwrap();
        assert_eq!(start.name, "user");
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let credentials =
            ScramCredentials::derive(ScramHash::Sha256, "pencil", &salt, 4096).unwrap();
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let client_final = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        let server_final = start.verify(server_first, &credentials, client_final.as_bytes());
        assert_eq!(server_final.unwrap(), "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
        let wrong = client_final.replace("p=dHzb", "p=eHzb");
        assert!(start.verify(server_first, &credentials, wrong.as_bytes()).is_err());
        let other_nonce = client_final.replace("$k0,", "$k1,");
        assert!(start.verify(server_first, &credentials, other_nonce.as_bytes()).is_err());
    }

    #[test]
    fn first_messages_are_read_strictly() {
        assert_eq!(scram_first(b"y,,n=a=2Cb,r=xyz", NO_PLUS).unwrap().name, "a,b");
        assert!(scram_first(b"n,a=alice,n=alice,r=x", NO_PLUS).is_ok());
        for bad in [
            &b"p=tls-unique,,n=a,r=x"[..],
            b"n,,n=a",
            b"n,,r=x,n=a",
            b"n,,n=a=2,r=x",
            b"n,a=bob,n=alice,r=x",
        ] {
            assert!(scram_first(bad, NO_PLUS).is_err(), "{bad:?}");
        }
    }

    /// The gs2 flag against the mechanism and what the server offers.
    #[test]
    fn channel_binding_flags_follow_rfc_5802_section_6() {
        let exporter = [7u8; 32];
        let offered = Channel { plus: false, exporter: Some(&exporter), end_point: None };
        let plus = Channel { plus: true, exporter: Some(&exporter), end_point: None };
        let condition = |data: &[u8], channel| {
            scram_first(data, channel).map(|_| ()).map_err(|e| format!("{e:?}"))
        };
        assert_eq!(condition(b"n,,n=a,r=x", offered), Ok(()));
        // `y` while -PLUS is offered: a downgrade.
        assert_eq!(condition(b"y,,n=a,r=x", offered), Err("NotAuthorized".into()));
        assert_eq!(condition(b"p=tls-exporter,,n=a,r=x", plus), Ok(()));
        let end_point = Channel { plus: true, exporter: None, end_point: Some(&exporter) };
        assert_eq!(condition(b"p=tls-server-end-point,,n=a,r=x", end_point), Ok(()));
        assert_eq!(condition(b"p=tls-exporter,,n=a,r=x", end_point), Err("NotAuthorized".into()));
        let no_plus = Channel { plus: false, ..end_point };
        assert_eq!(condition(b"y,,n=a,r=x", no_plus), Err("NotAuthorized".into()));
        // -PLUS without binding, binding without -PLUS, another type.
        for (data, channel) in [
            (&b"n,,n=a,r=x"[..], plus),
            (b"y,,n=a,r=x", plus),
            (b"p=tls-exporter,,n=a,r=x", offered),
            (b"p=tls-unique,,n=a,r=x", plus),
        ] {
            assert_eq!(condition(data, channel), Err("NotAuthorized".into()), "{data:?}");
        }
    }

    /// The client's `c=` must hold the GS2 header and this connection's
    /// binding data: a proof made for another channel does not verify.
    #[test]
    fn a_proof_bound_to_another_channel_is_refused() {
        let salt = b"salt";
        let credentials =
            ScramCredentials::derive(ScramHash::Sha256, "pencil", salt, 4096).unwrap();
        let ours = [1u8; 32];
        let theirs = [2u8; 32];
        let channel = Channel { plus: true, exporter: Some(&ours), end_point: None };
        let start = scram_first(b"p=tls-exporter,,n=user,r=abc", channel).unwrap();
        let server_first = start.server_first(&credentials);
        let nonce = server_first.split(',').next().unwrap();
        let final_for = |data: &[u8]| {
            let mut input = b"p=tls-exporter,,".to_vec();
            input.extend_from_slice(data);
            let without_proof = format!("c={},{nonce}", STANDARD.encode(input));
            let auth = format!("n=user,r=abc,{server_first},{without_proof}");
            let signature = ScramHash::Sha256.hmac(&credentials.stored_key, auth.as_bytes());
            let client_key = ScramHash::Sha256
                .hmac(&ScramHash::Sha256.salted_password(b"pencil", salt, 4096), b"Client Key");
            let proof: Vec<u8> = client_key.iter().zip(&signature).map(|(k, s)| k ^ s).collect();
            format!("{without_proof},p={}", STANDARD.encode(proof))
        };
        assert!(start.verify(&server_first, &credentials, final_for(&ours).as_bytes()).is_ok());
        let wrong = start.verify(&server_first, &credentials, final_for(&theirs).as_bytes());
        assert_eq!(format!("{wrong:?}"), "Err(NotAuthorized)");
    }
}
