//! A VP login, decided by the service: a password, or an LTPA token sent
//! as the token login type or pasted into the password field (spec §4.6:
//! stock clients can only send a password). Each refusal gets the code
//! Pidgin words as a sentence and does not retry in a loop (spec §4.12).

use std::net::IpAddr;

use ltpa::TokenFormat;
use simul_service::{LoginRefused, Service, TokenRefused};
use simul_vp::ErrorCode;
use simul_vp::login::Credential;

/// Who signed in: their id as the directory spells it, and their name.
pub(crate) struct SignedIn {
    pub(crate) user: String,
    pub(crate) display_name: String,
}

/// Signs in `name` with `credential` from `client`.
pub(crate) async fn sign_in(
    service: &Service,
    name: &str,
    credential: &Credential,
    client: IpAddr,
) -> Result<SignedIn, ErrorCode> {
    let user = match credential {
        Credential::Token(token) => by_token(service, token.as_str(), client).await?,
        Credential::Password(secret) => {
            let Some(password) = secret.as_str() else { return Err(ErrorCode::IncorrectLogin) };
            if looks_like_token(password) {
                by_token(service, Some(password), client).await?
            } else {
                match service.log_in(name, password, client).await {
                    Ok(person) => person.id,
                    Err(LoginRefused::BadCredentials) => return Err(ErrorCode::IncorrectLogin),
                    // No reconnect loop while the limit holds (spec §4.12).
                    Err(LoginRefused::TooMany(_)) => return Err(ErrorCode::UserRestricted),
                    Err(LoginRefused::Directory(_)) => return Err(ErrorCode::VerificationDown),
                }
            }
        }
    };
    let display_name = service.display_name(&user).await;
    Ok(SignedIn { user, display_name })
}

/// An LTPA token, as the service accepts it (any format it may be in).
async fn by_token(
    service: &Service,
    token: Option<&str>,
    client: IpAddr,
) -> Result<String, ErrorCode> {
    let Some(token) = token.map(str::trim).filter(|token| !token.is_empty()) else {
        return Err(ErrorCode::IncorrectLogin);
    };
    let formats = vec![TokenFormat::Ltpa2, TokenFormat::Ltpa1, TokenFormat::Domino];
    match service.accept_token(vec![(token.to_owned(), formats)], client).await {
        Ok(accepted) if accepted.must_change_password => Err(ErrorCode::UserRestricted),
        Ok(accepted) => Ok(accepted.user),
        // Not the token error codes: Pidgin takes those for network
        // errors and retries the dead token for ever (spec §4.6).
        Err(TokenRefused::NotSignedIn) => Err(ErrorCode::IncorrectLogin),
        Err(TokenRefused::TooMany(_) | TokenRefused::Disabled) => Err(ErrorCode::UserRestricted),
        Err(TokenRefused::Unknown) => Err(ErrorCode::UserUnregistered),
        Err(TokenRefused::DirectoryDown | TokenRefused::Directory(_)) => {
            Err(ErrorCode::VerificationDown)
        }
    }
}

/// Whether a password is an LTPA token pasted in its place: far longer
/// than passwords are, and Base64 only. A password that merely looks like
/// one is checked as a token, fails, and is refused like a wrong one.
fn looks_like_token(password: &str) -> bool {
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
