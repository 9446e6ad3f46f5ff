//! Sign-in for clients that only know user names and passwords (Sametime
//! and XMPP clients): a password, or an LTPA token pasted in its place,
//! so that the users of an SSO portal can sign in with stock clients.
//! Each door words the refusals in its own protocol.

use std::net::IpAddr;

use ltpa::TokenFormat;

use crate::{LoginRefused, Service, TokenRefused};

/// Why a client's sign-in was refused, in the classes the clients' own
/// protocols can tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientRefusal {
    /// Unknown name, wrong password, or an invalid token: one answer, so
    /// that it does not tell which.
    #[error("wrong user name or password")]
    BadCredentials,
    /// Too many failures; a disabled account (known from a valid token);
    /// a one-time password to replace on the web first.
    #[error("this account may not sign in now")]
    Restricted,
    /// A valid token of someone the directory does not hold.
    #[error("this account is not in the directory")]
    Unknown,
    /// The directory could not be asked.
    #[error("the directory does not answer")]
    DirectoryDown,
}

impl Service {
    /// Signs in `name` with `secret` from `client`: an LTPA token when it
    /// [`looks_like_token`], else a password. The user's id.
    pub async fn client_log_in(
        &self,
        name: &str,
        secret: &str,
        client: IpAddr,
    ) -> Result<String, ClientRefusal> {
        if looks_like_token(secret) {
            return self.client_token_log_in(secret, client).await;
        }
        match self.log_in(name, secret, client).await {
            Ok(person) if person.must_change_password => Err(ClientRefusal::Restricted),
            Ok(person) => Ok(person.id),
            Err(LoginRefused::BadCredentials) => Err(ClientRefusal::BadCredentials),
            Err(LoginRefused::TooMany(_)) => Err(ClientRefusal::Restricted),
            Err(LoginRefused::Directory(_)) => Err(ClientRefusal::DirectoryDown),
        }
    }

    /// Signs in with an LTPA token of any format the service accepts. The
    /// user's id.
    pub async fn client_token_log_in(
        &self,
        token: &str,
        client: IpAddr,
    ) -> Result<String, ClientRefusal> {
        let token = token.trim();
        if token.is_empty() {
            return Err(ClientRefusal::BadCredentials);
        }
        let formats = vec![TokenFormat::Ltpa2, TokenFormat::Ltpa1, TokenFormat::Domino];
        match self.accept_token(vec![(token.to_owned(), formats)], client).await {
            Ok(accepted) if accepted.must_change_password => Err(ClientRefusal::Restricted),
            Ok(accepted) => Ok(accepted.user),
            Err(TokenRefused::NotSignedIn) => Err(ClientRefusal::BadCredentials),
            Err(TokenRefused::TooMany(_) | TokenRefused::Disabled) => {
                Err(ClientRefusal::Restricted)
            }
            Err(TokenRefused::Unknown) => Err(ClientRefusal::Unknown),
            Err(TokenRefused::DirectoryDown | TokenRefused::Directory(_)) => {
                Err(ClientRefusal::DirectoryDown)
            }
        }
    }
}

/// Whether a password is an LTPA token pasted in its place: far longer
/// than passwords are, and Base64 only. A password that merely looks like
/// one is checked as a token, fails, and is refused like a wrong one.
pub fn looks_like_token(password: &str) -> bool {
    password.len() >= 100
        && password.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

#[cfg(test)]
mod tests {
    use super::looks_like_token;

    #[test]
    fn only_long_base64_is_taken_for_a_token() {
        assert!(!looks_like_token("correct horse battery staple"));
        assert!(!looks_like_token(&"a".repeat(99)));
        assert!(looks_like_token(&"QmFzZTY0+/=".repeat(20)));
        assert!(!looks_like_token(&format!("{} x", "a".repeat(200))));
    }
}
