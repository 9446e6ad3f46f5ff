//! The live community that every front door shares (web, and next the
//! Sametime VP and XMPP doors): [`Service`], with one function for each
//! thing a door does (sign in by password or token, open a session, set
//! a status, watch, send an IM, keep a contact list, run an n-way chat)
//! and the events of each session. Inside: the hub (the core `Community`
//! behind its lock, with an outlet to each live session of any door), the
//! LTPA keys in use, the limits every door shares, the revoked tokens,
//! and the store and directory. Front doors translate their protocol
//! into calls of this crate and its events back into their protocol; they
//! never reach into each other, the hub or the store.

mod account;
mod admin;
mod admission;
mod announcements;
pub mod certificates;
mod changes;
mod client_sign_in;
mod conversations;
mod directory_test;
mod error;
mod file_links;
mod files;
mod flood;
mod gate;
mod hub;
mod key_admin;
pub mod key_files;
mod keyring;
mod limits;
mod messages;
mod nway;
mod policies;
mod rates;
mod reserved_files;
mod revocation;
mod scram_sign_in;
mod search;
mod service;
mod sessions;
mod sign_in;
pub mod sso_doctor;
mod when;

pub use account::Readiness;
pub use admin::{
    Actor, Administration, KEYS_SHARED_ACTIONS, MAX_AUDIT_ENTRIES, audit_csv,
    record as record_audit,
};
pub use admission::{Admission, admission};
pub use announcements::{Announcement, Audience, MAX_ANNOUNCEMENT_CHARS, RECENT_ANNOUNCEMENTS};
pub use changes::REACTIONS;
pub use client_sign_in::{ClientRefusal, looks_like_token};
pub use conversations::{ConversationSummary, LastMessage, MAX_CONVERSATIONS};
pub use directory_test::{Check, DirectoryTest};
pub use error::ServiceError;
pub use file_links::{FILES_PATH, FileUrls, UPLOADS_PATH};
pub use files::{DEFAULT_MAX_FILE_BYTES, FileAllowance, FileTarget, FileUpload, SentFile};
use flood::MessageLimits;
pub use flood::{CommandAdmission, CommandLimit, FloodLimits};
pub use gate::{ConnectionGate, ConnectionTicket};
use hub::Hub;
pub use hub::SessionOrigin;
pub use keyring::{KeySets, Keyring};
pub use limits::{DEFAULT_INVALID_TOKENS_PER_MINUTE, SIGN_UPS_PER_MINUTE};
use limits::{FailureLimit, LoginLimits, network_of};
pub use messages::{MAX_CONTACTS, MAX_GROUPS, SentIm};
use policies::PolicyCache;
pub use policies::{Policies, PolicyBook};
use rates::Rates;
pub use rates::{RATE_WINDOW_SECONDS, Throughput};
pub use reserved_files::{Reservation, ReservedUpload};
use revocation::Revocations;
pub use revocation::TokenStamp;
pub use scram_sign_in::ScramSignIn;
pub use search::{MAX_SEARCH_CHARS, MAX_SEARCH_RESULTS, MAX_SEARCH_WORDS, SearchHit, SearchPage};
pub use service::Service;
pub use sessions::Events;
pub use sign_in::{Accepted, LoginRefused, TokenRefused, audit_refused_login};
pub use simul_core::Limits as CommunityLimits;
pub use simul_core::policy;
pub use simul_directory::Person;
pub use simul_directory::scram::{ScramCredentials, ScramHash};
pub use simul_store::{AuditEntry, AuditFilter};
pub use simul_store::{
    ContactGroup, ContactList, HistoryPage, Page, PageStart, StoredChatMessage, StoredIm,
};
pub use when::{parse_duration_ms, parse_since};

use std::time::Duration;

/// A request refused because its sender went over a limit: what to tell
/// them, and when they may try again. Each front door says it its own
/// way (HTTP 429 with `Retry-After`, a protocol's error code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TooMany {
    /// A sentence for the user, with the wait in it.
    pub message: String,
    /// Whole seconds to wait, at least one.
    pub retry_after_seconds: u64,
}

impl TooMany {
    /// The refusal for a `wait`, its sentence made from the seconds.
    pub fn new(message: impl FnOnce(u64) -> String, wait: Duration) -> Self {
        let seconds = wait.as_secs().max(1);
        Self { message: message(seconds), retry_after_seconds: seconds }
    }
}
