//! In-band registration (XEP-0077), when `[xmpp] registration` is on:
//! before signing in, a client may make an account of the embedded realm
//! (a login name and a password, under the realm's rules and the
//! service's sign-up limit); signed in, it may change its password,
//! proving it knows the current one (the data form of XEP-0077 §3.3), as
//! on every door. `<remove/>` is refused: accounts are the
//! administrators' to remove (`simul user`), who keep their history and
//! contact lists consistent for everyone; a client cannot undo an account
//! others may still list. Off, every request gets `service-unavailable`.

use std::net::IpAddr;

use simul_directory::DirectoryError;
use simul_service::{Service, ServiceError};
use simul_store::StoreError;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::data_forms::{DataForm, DataFormType, Field, FieldType};
use tokio_xmpp::parsers::ibr::{FormQuery, LegacyQuery};
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::ns;
use tokio_xmpp::parsers::stanza_error::{DefinedCondition, ErrorType};

use crate::session::stanza_error;

/// The form type of a password change (XEP-0077 §3.3).
const CHANGE_PASSWORD: &str = "jabber:iq:register:changepassword";

/// Whether `payload` is a registration request.
pub(crate) fn is_request(payload: &Element) -> bool {
    payload.is("query", ns::REGISTER)
}

/// The answer to a request before signing in: the fields to fill
/// (`get`), or a new account (`set` with a name and a password).
pub(crate) async fn before_sign_in(
    service: &Service,
    enabled: bool,
    client: IpAddr,
    id: &str,
    payload: Element,
    is_set: bool,
) -> Iq {
    if !enabled {
        return refusal(id, ErrorType::Cancel, DefinedCondition::ServiceUnavailable, "");
    }
    if !is_set {
        let fields = LegacyQuery {
            instructions: Some("Choose a login name and a password.".to_owned()),
            username: Some(String::new()),
            password: Some(String::new()),
            ..LegacyQuery::default()
        };
        return Iq::from_result(id, Some(fields));
    }
    let Some((name, password)) = name_and_password(&payload) else {
        return removal_or_bad_request(id, &payload, "send a username and a password");
    };
    match service.sign_up(&name, &password, client).await {
        Ok(_) => done(id),
        Err(error) => refused(id, &error),
    }
}

/// The answer to a request of the signed-in `user`: that they are
/// registered (`get`), or a password change (`set`).
pub(crate) async fn after_sign_in(
    service: &Service,
    enabled: bool,
    user: &str,
    client: IpAddr,
    id: &str,
    payload: Element,
    is_set: bool,
) -> Iq {
    if !enabled {
        return refusal(id, ErrorType::Cancel, DefinedCondition::ServiceUnavailable, "");
    }
    if !is_set {
        let registered = LegacyQuery {
            registered: true,
            username: Some(user.to_owned()),
            ..LegacyQuery::default()
        };
        return Iq::from_result(id, Some(registered));
    }
    let Some((current, new)) = password_change(&payload) else {
        if name_and_password(&payload).is_some() {
            return the_form_to_fill(id, user);
        }
        return removal_or_bad_request(id, &payload, "fill in the password change form");
    };
    match service.change_password(user, &current, &new, client).await {
        Ok(()) => done(id),
        Err(error) => refused(id, &error),
    }
}

/// The name and password of a plain registration query.
fn name_and_password(payload: &Element) -> Option<(String, String)> {
    let query = LegacyQuery::try_from(payload.clone()).ok()?;
    Some((query.username.filter(|n| !n.is_empty())?, query.password.filter(|p| !p.is_empty())?))
}

/// The current and the new password of a submitted change form.
fn password_change(payload: &Element) -> Option<(String, String)> {
    let form = FormQuery::try_from(payload.clone()).ok()?.form;
    if form.type_ != DataFormType::Submit || form.form_type() != Some(CHANGE_PASSWORD) {
        return None;
    }
    let value = |var: &str| {
        let field = form.fields.iter().find(|field| field.var.as_deref() == Some(var))?;
        field.values.first().filter(|value| !value.is_empty()).cloned()
    };
    Some((value("old_password")?, value("password")?))
}

/// A plain password change: `not-authorized`, with the form that asks
/// for the current password too (XEP-0077 §3.3, example 21).
fn the_form_to_fill(id: &str, user: &str) -> Iq {
    let fields = vec![
        Field::text_single("username", user),
        Field::new("old_password", FieldType::TextPrivate),
        Field::new("password", FieldType::TextPrivate),
    ];
    let form = DataForm::new(DataFormType::Form, CHANGE_PASSWORD, fields);
    let query =
        FormQuery { instructions: Some("Give your current password too.".to_owned()), form };
    let text = "a password change needs the current password";
    let mut answer = refusal(id, ErrorType::Modify, DefinedCondition::NotAuthorized, text);
    if let Iq::Error { payload, .. } = &mut answer {
        *payload = Some(query.into());
    }
    answer
}

/// `<remove/>` (refused, see the module's documentation), or a request
/// that is neither it nor what was expected.
fn removal_or_bad_request(id: &str, payload: &Element, text: &str) -> Iq {
    if payload.get_child("remove", ns::REGISTER).is_some() {
        let text = "accounts are removed by the administrators";
        return refusal(id, ErrorType::Cancel, DefinedCondition::NotAllowed, text);
    }
    refusal(id, ErrorType::Modify, DefinedCondition::BadRequest, text)
}

/// Why the service refused a sign-up or a password change, as XEP-0077
/// answers it.
fn refused(id: &str, error: &ServiceError) -> Iq {
    let (type_, condition) = match error {
        ServiceError::Store(StoreError::UserExists(_))
        | ServiceError::Directory(DirectoryError::Store(StoreError::UserExists(_))) => {
            (ErrorType::Cancel, DefinedCondition::Conflict)
        }
        ServiceError::Directory(
            DirectoryError::InvalidName(_)
            | DirectoryError::WeakPassword
            | DirectoryError::SamePassword,
        ) => (ErrorType::Modify, DefinedCondition::NotAcceptable),
        ServiceError::Directory(DirectoryError::WrongPassword) => {
            (ErrorType::Auth, DefinedCondition::NotAuthorized)
        }
        ServiceError::Directory(DirectoryError::Unsupported(_)) => {
            (ErrorType::Cancel, DefinedCondition::NotAllowed)
        }
        ServiceError::TooMany(_) => (ErrorType::Wait, DefinedCondition::ResourceConstraint),
        _ => {
            tracing::warn!(%error, "XMPP: registration failed");
            return refusal(
                id,
                ErrorType::Wait,
                DefinedCondition::InternalServerError,
                "try later",
            );
        }
    };
    refusal(id, type_, condition, &error.to_string())
}

fn refusal(id: &str, type_: ErrorType, condition: DefinedCondition, text: &str) -> Iq {
    Iq::from_error(id, stanza_error(type_, condition, text))
}

/// The empty result of a request carried out.
fn done(id: &str) -> Iq {
    Iq::Result { from: None, to: None, id: id.to_owned(), payload: None }
}
