//! Stream resumption (XEP-0198 §5), the door's side: the registry of
//! sessions a new connection may take over, and what a connection that
//! asks for one (`<resume/>` instead of binding) does. The session's
//! side is `session::sm`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use rand_core::{OsRng, RngCore as _};
use simul_service::ConnectionTicket;
use tokio::sync::mpsc;
use tokio_xmpp::parsers::sm::{Failed, StreamId};
use tokio_xmpp::parsers::stanza_error::DefinedCondition;

use crate::budget::Spent;
use crate::negotiation::Stream;

/// Random bytes of a resumption id: 128 bits, so that guessing one is
/// hopeless even for a signed-in user who tries for years.
const ID_BYTES: usize = 16;

/// A new connection, negotiated up to `<resume/>`, handed to the session
/// it resumes.
pub(crate) struct Takeover {
    /// The new connection's stream, its stanza budget and its place at
    /// the connection gate (they go together: the place is the socket's).
    pub(crate) stream: Box<Stream>,
    pub(crate) spent: Spent,
    pub(crate) ticket: ConnectionTicket,
    /// How many of the session's stanzas the client had handled.
    pub(crate) handled: u32,
}

/// A resumable session, as the registry knows it.
struct Entry {
    /// Whose session it is: only they may take it over.
    user: String,
    takeovers: mpsc::Sender<Box<Takeover>>,
}

/// The door's resumable sessions, by resumption id. A session is in it
/// from `<enabled resume='true'/>` until it ends, attached or not: a
/// client may resume before the server has noticed that its old
/// connection is dead.
#[derive(Default)]
pub(crate) struct Registry {
    sessions: Mutex<HashMap<String, Entry>>,
}

impl Registry {
    /// Registers a session of `user`: its new, random id, and where the
    /// connections that resume it arrive. The session leaves the registry
    /// when the [`Registration`] is dropped.
    pub(crate) fn register(
        self: &Arc<Self>,
        user: &str,
    ) -> (Registration, mpsc::Receiver<Box<Takeover>>) {
        let mut bytes = [0; ID_BYTES];
        OsRng.fill_bytes(&mut bytes);
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        // One at a time: while a takeover waits for the session, another
        // is refused (`<failed/>`); never a queue of connections.
        let (sender, receiver) = mpsc::channel(1);
        let entry = Entry { user: user.to_owned(), takeovers: sender };
        self.lock().insert(id.clone(), entry);
        (Registration { registry: self.clone(), id: StreamId(id) }, receiver)
    }

    /// Where the session `id` of `user` takes a new connection; none
    /// when there is no such id, or it is someone else's. The id is only
    /// ever a key of this map, made from 128 random bits: the lookup
    /// hashes it with the map's own random key before comparing, so
    /// how long it takes says nothing about how close a guess came.
    fn claim(&self, user: &str, id: &str) -> Option<mpsc::Sender<Box<Takeover>>> {
        let sessions = self.lock();
        let entry = sessions.get(id)?;
        (entry.user == user).then(|| entry.takeovers.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A session's place in the [`Registry`], given back when dropped.
pub(crate) struct Registration {
    registry: Arc<Registry>,
    id: StreamId,
}

impl Registration {
    /// The resumption id the client was given.
    pub(crate) fn id(&self) -> &StreamId {
        &self.id
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id.0);
    }
}

/// Hands `takeover` to the session `id` of `user`. What comes back when
/// there is none (unknown, expired, someone else's, or busy with another
/// takeover): the connection, to answer [`not_found`] on and bind
/// instead. (A session that ends just after taking it drops it: the
/// client sees its connection close, reconnects, and gets `<failed/>`.)
pub(crate) fn resume(
    registry: &Registry,
    user: &str,
    id: &StreamId,
    takeover: Box<Takeover>,
) -> Result<(), Box<Takeover>> {
    match registry.claim(user, &id.0) {
        Some(session) => session.try_send(takeover).map_err(|refused| match refused {
            mpsc::error::TrySendError::Full(takeover)
            | mpsc::error::TrySendError::Closed(takeover) => takeover,
        }),
        None => Err(takeover),
    }
}

/// The one answer to every resumption that cannot be: the same for an id
/// that never was, one that expired and someone else's, so that it tells
/// nothing about other users' sessions.
pub(crate) fn not_found() -> Failed {
    Failed { h: None, error: Some(DefinedCondition::ItemNotFound) }
}
