//! A VP login, decided by the service: a password, or an LTPA token sent
//! as the token login type or pasted into the password field (spec §4.6:
//! stock clients can only send a password). Each refusal gets the code
//! Pidgin words as a sentence and does not retry in a loop (spec §4.12).

use std::net::IpAddr;

use simul_service::{ClientRefusal, Service};
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
    let signed_in = match credential {
        Credential::Token(token) => {
            let token = token.as_str().unwrap_or_default();
            service.client_token_log_in(token, client).await
        }
        Credential::Password(secret) => {
            let Some(password) = secret.as_str() else { return Err(ErrorCode::IncorrectLogin) };
            service.client_log_in(name, password, client).await
        }
    };
    let user = signed_in.map_err(code_of)?;
    let display_name = service.display_name(&user).await;
    Ok(SignedIn { user, display_name })
}

/// The code of a refusal. Never the token error codes: Pidgin takes
/// those for network errors and retries a dead token for ever (spec
/// §4.6); a rate limit gets no reconnect loop either (§4.12).
fn code_of(refusal: ClientRefusal) -> ErrorCode {
    match refusal {
        ClientRefusal::BadCredentials => ErrorCode::IncorrectLogin,
        ClientRefusal::Restricted => ErrorCode::UserRestricted,
        ClientRefusal::Unknown => ErrorCode::UserUnregistered,
        ClientRefusal::DirectoryDown => ErrorCode::VerificationDown,
    }
}
