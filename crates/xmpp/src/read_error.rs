//! The stream error that answers a failed read (RFC 6120 §4.9.3): a
//! stanza over the size or nesting limit, restricted XML (a DTD, an entity
//! reference), an element that is no stanza, XML that is not
//! well-formed, silence.

use std::io;

use tokio_xmpp::minidom::rxml;
use tokio_xmpp::parsers::stream_error::{DefinedCondition, StreamError};
use xso::error::FromEventsError;

use crate::budget::is_over_limit;

/// The stream error to send for `error`, none when the connection itself
/// failed (nothing can be told then).
pub(crate) fn stream_error_of(error: &io::Error) -> Option<StreamError> {
    let condition = if is_over_limit(error) {
        // §4.9.3.12: "e.g., a stanza exceeds a configured size limit"
        // (or nests too deeply).
        DefinedCondition::PolicyViolation
    } else if is_restricted_xml(error) {
        DefinedCondition::RestrictedXml
    } else if is_no_stanza(error) {
        DefinedCondition::UnsupportedStanzaType
    } else {
        match error.kind() {
            io::ErrorKind::InvalidData => DefinedCondition::NotWellFormed,
            io::ErrorKind::TimedOut => DefinedCondition::ConnectionTimeout,
            _ => return None,
        }
    };
    Some(StreamError::new(condition, "en", error.to_string()))
}

/// XML that XMPP forbids (RFC 6120 §11.1): a comment, a processing
/// instruction, an entity reference, a DTD. rxml refuses all of them
/// before expanding anything, so an XML bomb costs nothing.
fn is_restricted_xml(error: &io::Error) -> bool {
    let Some(xml) = error.get_ref().and_then(|inner| inner.downcast_ref::<rxml::Error>()) else {
        return false;
    };
    match xml {
        rxml::Error::RestrictedXml(_) | rxml::Error::UndeclaredEntity => true,
        // `<!` opening neither a comment nor CDATA is a declaration
        // (DOCTYPE, ENTITY): a DTD. rxml has no variant of its own for it.
        rxml::Error::InvalidSyntax(what) => what.contains("comment section start"),
        _ => false,
    }
}

/// A top-level element the stream knows no type for (`<nonsense/>`):
/// xso fails to match it before reading its content.
fn is_no_stanza(error: &io::Error) -> bool {
    let inner = error.get_ref().and_then(|inner| inner.downcast_ref::<FromEventsError>());
    matches!(inner, Some(FromEventsError::Mismatch { .. }))
}
