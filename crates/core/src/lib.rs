//! The Simul community: presence, sessions, watch lists, instant messages
//! and n-way chats, in terms no protocol shapes.
//!
//! Front doors (web, Sametime VP, XMPP) translate their wire formats into
//! calls on [`Community`] and render the [`Event`]s it returns. Durable
//! state (contact lists, history) lives behind the store's traits; this
//! crate keeps only what is live.

mod community;
mod event;
mod ids;
pub mod policy;
mod status;

pub use community::{ChatSummary, Community, CoreError, Limits, MAX_TEXT_CHARS, checked_text};
pub use event::{Attachment, Delivery, Event, MessageChange, Place};
pub use ids::{ChatId, Conversation, MessageId, SessionId, UserId};
pub use status::{MAX_MESSAGE_CHARS, Presence, Status, UnknownStatus};
