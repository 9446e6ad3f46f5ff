//! Presence stanzas of the one status model (core's table: `<show/>` is
//! `away` for away and idle, `dnd` for do not disturb and in a meeting).

use simul_core::Status;
use tokio_xmpp::jid::BareJid;
use tokio_xmpp::parsers::presence::{Presence, Show, Type};

/// The presence stanza of a user from `from` showing `presence`.
pub(crate) fn stanza_of(from: BareJid, presence: &simul_core::Presence) -> Presence {
    if presence.status == Status::Offline {
        return Presence::unavailable().with_from(from);
    }
    let mut stanza = Presence::available().with_from(from);
    stanza.show = match presence.xmpp_show() {
        Some("away") => Some(Show::Away),
        Some("dnd") => Some(Show::Dnd),
        _ => None,
    };
    if !presence.message.is_empty() {
        stanza.set_status("", presence.message.as_str());
    }
    stanza
}

/// The status a client sets with an available presence stanza.
pub(crate) fn status_of(stanza: &Presence) -> simul_core::Presence {
    let show = stanza.show.as_ref().map(|show| match show {
        Show::Away => "away",
        Show::Xa => "xa",
        Show::Dnd => "dnd",
        Show::Chat => "chat",
    });
    let message = stanza.statuses.values().next().map_or("", String::as_str);
    simul_core::Presence::from_xmpp(show, message)
}

/// Whether a stanza is one a client's presence broadcast sends (RFC 6121
/// §4.2: no type, no addressee).
pub(crate) fn is_broadcast(stanza: &Presence) -> bool {
    stanza.type_ == Type::None && stanza.to.is_none()
}
