//! A bound XMPP session: stanzas from the client become service calls,
//! the session's community events become stanzas (RFC 6121 presence and
//! 1:1 messages, the roster, XEP-0085 chat states, XEP-0199 pings,
//! XEP-0030 discovery, XEP-0198 stream management in `sm`).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use simul_core::{CoreError, Event, SessionId, UserId};
use simul_service::{CommandAdmission, CommandLimit, FileTarget, Service, ServiceError};
use tokio::sync::watch;
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::{BareJid, FullJid, Jid};
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::carbons::{Enable, Sent};
use tokio_xmpp::parsers::chatstates::ChatState;
use tokio_xmpp::parsers::disco::{
    DiscoInfoQuery, DiscoInfoResult, DiscoItemsQuery, DiscoItemsResult, Identity, Item as DiscoItem,
};
use tokio_xmpp::parsers::forwarding::Forwarded;
use tokio_xmpp::parsers::http_upload::SlotRequest;
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::message::{Message, MessageType};
use tokio_xmpp::parsers::ns;
use tokio_xmpp::parsers::ping::Ping;
use tokio_xmpp::parsers::presence::{Presence, Type as PresenceType};
use tokio_xmpp::parsers::roster::{Roster, Subscription};
use tokio_xmpp::parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};
use tokio_xmpp::parsers::stream_error::{self, StreamError};
use tokio_xmpp::xmlstream::{
    FallibleStreamElement, ReadError, StreamElementError, XmppStreamElement,
};
use xso::AsXml;

mod admin;
mod announcement;
mod archive;
mod changes;
mod direct_invite;
mod files;
mod link;
mod markers;
mod rooms;
mod roster_push;
mod sm;

use link::Link;

use crate::Door;
use crate::budget::Spent;
use crate::elements::Read;
use crate::gather::MAX_GATHERED;
use crate::jid::user_of;
use crate::negotiation::{Bound, policy_violation};
use crate::presence::{is_broadcast, stanza_of, status_of};
use crate::roster::{remove_contact, roster_of, set_contact};

/// RFC 3921's session establishment, which old clients still ask for
/// (RFC 6121 leaves it out; answering it costs nothing).
const SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";

/// The features of a user's account, announced on their bare JID
/// (XEP-0030): clients look there for the archive.
const ACCOUNT_FEATURES: [&str; 4] = [ns::DISCO_INFO, ns::MAM, ns::SID, "urn:xmpp:fulltext:0"];

/// The features this server announces (XEP-0030; its capabilities hash,
/// XEP-0115, is computed from them in `crate::caps`).
pub(crate) const FEATURES: [&str; 11] = [
    ns::DISCO_INFO,
    ns::DISCO_ITEMS,
    ns::PING,
    ns::CHATSTATES,
    ns::ROSTER,
    ns::CARBONS,
    ns::CAPS,
    crate::vcard::NS,
    crate::vcard::NS4,
    direct_invite::NS,
    admin::NS,
];

/// Most events delivered in one turn of the session loop (and so in one
/// flush): enough to gather a burst's presences into a few TLS records,
/// few enough that the client's stanzas and acknowledgements wait for no
/// more than that.
const EVENTS_AT_ONCE: usize = 64;

/// Why a session ends: a stream error to send first, nothing, or a
/// broken connection (which a resumable session outlives).
enum End {
    Tell(StreamError),
    Quietly,
    Lost,
}

impl From<std::io::Error> for End {
    fn from(error: std::io::Error) -> Self {
        tracing::debug!(%error, "XMPP: cannot send");
        End::Lost
    }
}

/// One bound session.
struct Session<'a> {
    service: &'a Arc<Service>,
    door: &'a Door,
    /// None while a resumable session waits for its client (XEP-0198).
    link: Option<Box<Link>>,
    spent: Spent,
    user: UserId,
    jid: FullJid,
    session: SessionId,
    /// The session's community events.
    events: simul_service::Events,
    /// Turns true when the server stops.
    stopped: watch::Receiver<bool>,
    /// Sent its initial presence: it gets presences from then on
    /// (RFC 6121 §4.2).
    available: bool,
    /// Asked for copies of the messages the user sends from their other
    /// sessions, on any door (XEP-0280).
    carbons: bool,
    /// The rooms (n-way chats) the client is in.
    rooms: crate::muc::Rooms,
    /// Stanzas a second, as for every door's sessions.
    commands: CommandLimit,
    /// XEP-0198: counts, unacknowledged stanzas, resumption.
    sm: sm::StreamManagement,
    /// Where the client connects from (the limits of password changes).
    peer: SocketAddr,
    /// Asked for the roster: it gets roster pushes from then on (each
    /// change says which contacts changed; no copy of the list is kept).
    roster_shown: bool,
    /// The ids the client gave its latest messages (for corrections,
    /// reactions and read receipts that name them).
    sent_ids: changes::SentIds,
}

/// What woke a session: the one thing its loop waits on at a time.
#[expect(
    clippy::large_enum_variant,
    reason = "returned by `wait` and consumed at once by `woken`: never kept in a session"
)]
enum Wake {
    /// What the client sent next (nothing: it is gone).
    Read(Option<Read>),
    /// Stream management's timers, or a connection that resumes it.
    Due(sm::Due),
    /// A community event (none: the community ended the session).
    Event(Option<Arc<Event>>),
    /// The server is stopping.
    Stopping,
}

/// What a session does once woken (`Session::woken`).
type Handler<'a> = Pin<Box<dyn Future<Output = Result<(), End>> + Send + 'a>>;

/// Runs a bound session to its end.
pub(crate) async fn run(
    bound: Box<Bound>,
    peer: SocketAddr,
    service: Arc<Service>,
    door: Arc<Door>,
    stopped: watch::Receiver<bool>,
) {
    let mut this = match Session::open(*bound, peer, &service, &door, stopped) {
        Ok(this) => this,
        Err(mut refused) => {
            // Closed by a task of its own: awaited here, this rare path
            // would keep `open`'s whole result (a `Session`) in every
            // session's state. Not for ever either, for a client that
            // reads nothing.
            let limit = door.keepalive.saturating_mul(2);
            tokio::spawn(async move { tokio::time::timeout(limit, refused.shutdown()).await });
            return;
        }
    };
    // An idle session holds its `Session` and what `wait` polls, for
    // hours: what it does once woken is another state of this loop (its
    // handlers boxed), and the wait returns what woke it rather than
    // keeping it across the handler (as `select!`'s output was, 400 B).
    let end = loop {
        let wake = this.wait().await;
        let result = match this.woken(wake).await {
            // What the handler wrote goes now, in as few records as it fits.
            Ok(()) => this.flush().await,
            Err(end) => Err(end),
        };
        if let Err(end) = result {
            // A resumable session outlives its connection.
            match this.keep_for_resumption(end) {
                Ok(()) => continue,
                Err(end) => break end,
            }
        }
    };
    service.close_session(this.session, door.grace);
    if let End::Tell(error) = end {
        let _ = this.write(&error).await;
    }
    this.hang_up().await;
}

/// A write to `user`'s client, within two keepalives: a client that takes
/// nothing for that long (it stopped reading, or its host vanished) is
/// gone rather than waited on for ever.
async fn in_time(
    door: &Door,
    user: &UserId,
    write: impl Future<Output = std::io::Result<()>>,
) -> Result<(), End> {
    let limit = door.keepalive.saturating_mul(2);
    match tokio::time::timeout(limit, write).await {
        Ok(written) => Ok(written?),
        Err(_) => {
            tracing::info!(%user, ?limit, "XMPP: the client took nothing; ending it");
            Err(End::Lost)
        }
    }
}

/// The next element from the client; nothing while there is no client.
async fn read(link: &mut Option<Box<Link>>) -> Option<Read> {
    match link {
        Some(link) => link.next().await,
        None => std::future::pending().await,
    }
}

impl<'a> Session<'a> {
    /// The community session of a bound stream; a refusal is written to
    /// the client, whose link comes back to be closed.
    fn open(
        bound: Bound,
        peer: SocketAddr,
        service: &'a Arc<Service>,
        door: &'a Door,
        stopped: watch::Receiver<bool>,
    ) -> Result<Self, Box<Link>> {
        let Bound { stream, spent, ticket, user, jid } = bound;
        let mut link = Link::new(stream, ticket, door.keepalive);
        let user = UserId::new(&user);
        let (session, events) = match service.open_session(&user, false) {
            Ok(opened) => opened,
            Err(error) => {
                tracing::info!(%user, %error, "XMPP: session refused");
                let condition = stream_error::DefinedCondition::Conflict;
                // Unwritten, the connection just closes.
                let _ = link.write(&StreamError::new(condition, "en", error.to_string()));
                return Err(link);
            }
        };
        service.describe_session(session, "xmpp", peer.ip());
        tracing::info!(%user, client = %peer.ip(), resource = %jid.resource(), "XMPP login");
        Ok(Session {
            service,
            door,
            link: Some(link),
            spent,
            user,
            jid,
            session,
            events,
            stopped,
            available: false,
            carbons: false,
            rooms: crate::muc::Rooms::default(),
            commands: CommandLimit::new(service.flood()),
            sm: sm::StreamManagement::default(),
            peer,
            roster_shown: false,
            sent_ids: changes::SentIds::default(),
        })
    }

    /// Waits for what comes first.
    async fn wait(&mut self) -> Wake {
        tokio::select! {
            item = read(&mut self.link) => Wake::Read(item),
            due = self.sm.next() => Wake::Due(due),
            event = self.events.recv() => Wake::Event(event),
            () = crate::until_stopped(&mut self.stopped) => Wake::Stopping,
        }
    }

    /// What `wake` asks the session to do.
    ///
    /// Boxed: inline, each handler's future (stanza handling down to the
    /// store) would be part of the session's, and an idle session would
    /// hold the largest of them, and `wake` itself (400 B), for its whole
    /// life. Measured (release): `received` 6.4 KiB, `deliver` 1 KiB.
    /// Boxing costs one allocation per turn of the loop, next to the
    /// turn's XML and TLS record: a trade for that much per idle session.
    fn woken(&mut self, wake: Wake) -> Handler<'_> {
        match wake {
            Wake::Read(item) => Box::pin(self.received(item)),
            Wake::Due(due) => Box::pin(self.stream_management_due(due)),
            Wake::Event(Some(event)) => Box::pin(async move { self.deliver_ready(&event).await }),
            Wake::Event(None) => Box::pin(std::future::ready(Err(End::Tell(policy_violation(
                "the community ended this session",
            ))))),
            Wake::Stopping => {
                let condition = stream_error::DefinedCondition::SystemShutdown;
                let error = StreamError::new(condition, "en", "the server is stopping");
                Box::pin(std::future::ready(Err(End::Tell(error))))
            }
        }
    }

    /// Sends one stanza (kept until the client acknowledges it, with
    /// stream management).
    async fn send<T: AsXml + Clone + Into<Stanza>>(&mut self, stanza: &T) -> Result<(), End> {
        self.sm.sending(stanza)?;
        match self.write(stanza).await {
            Ok(()) => self.sent_one().await,
            // A resumable session sends it again on the next connection.
            Err(end) => self.keep_for_resumption(end),
        }
    }

    /// Writes one element to the client, if there is one: into the
    /// transport's buffer, from where the session loop's next flush sends
    /// it with whatever else is written by then (`crate::gather`); more
    /// than a TLS record's worth goes on at once.
    async fn write<T: AsXml>(&mut self, element: &T) -> Result<(), End> {
        let Some(link) = &mut self.link else { return Ok(()) };
        let waiting = link.write(element)?;
        if waiting >= MAX_GATHERED { self.flush().await } else { Ok(()) }
    }

    /// Sends what was written to the client.
    async fn flush(&mut self) -> Result<(), End> {
        let Some(link) = &mut self.link else { return Ok(()) };
        in_time(self.door, &self.user, link.flush()).await
    }

    /// Closes the connection, if any; not for ever either, for a client
    /// that reads nothing.
    async fn hang_up(&mut self) {
        if let Some(mut link) = self.link.take() {
            let limit = self.door.keepalive.saturating_mul(2);
            let _ = tokio::time::timeout(limit, link.shutdown()).await;
        }
    }

    /// What the client sent next.
    async fn received(&mut self, item: Option<Read>) -> Result<(), End> {
        self.spent.reset();
        match item {
            None | Some(Err(ReadError::StreamFooterReceived)) => Err(End::Quietly),
            // Silence: ask the client for a sign of life (XEP-0199).
            Some(Err(ReadError::SoftTimeout)) => {
                let ping = Iq::from_get("keepalive", Ping).with_to(self.jid.clone().into());
                self.send(&ping).await
            }
            Some(Err(ReadError::HardError(error))) => {
                tracing::info!(user = %self.user, %error, "XMPP: connection ended");
                let Some(error) = crate::read_error::stream_error_of(&error) else {
                    // Gone without a word (or silent, when the session
                    // can wait for the client to come back).
                    return Err(End::Lost);
                };
                let timed_out =
                    error.condition == stream_error::DefinedCondition::ConnectionTimeout;
                if timed_out && self.sm.resumable() {
                    return Err(End::Lost);
                }
                Err(End::Tell(error))
            }
            Some(Err(ReadError::ParseError(error))) => {
                let text = format!("not a stanza this server takes: {error}");
                let condition = stream_error::DefinedCondition::UnsupportedStanzaType;
                Err(End::Tell(StreamError::new(condition, "en", text)))
            }
            Some(Ok(FallibleStreamElement::Err(error))) => {
                self.sm.received_stanza();
                self.malformed(error).await
            }
            Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::SM(nonza)))) => {
                self.stream_management(nonza).await
            }
            Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(stanza)))) => {
                self.sm.received_stanza();
                match (self.commands.admit(), stanza) {
                    (CommandAdmission::Allowed, Stanza::Iq(iq)) => self.iq(iq).await,
                    (CommandAdmission::Allowed, Stanza::Message(message)) => {
                        self.message(message).await
                    }
                    (CommandAdmission::Allowed, Stanza::Presence(presence)) => {
                        self.presence(presence).await
                    }
                    (CommandAdmission::Refused, stanza) => self.refuse(stanza).await,
                    (CommandAdmission::CutOff, _) => {
                        tracing::info!(user = %self.user, "XMPP: cut off for flooding");
                        Err(End::Tell(policy_violation("too many stanzas")))
                    }
                }
            }
            // SASL, STARTTLS and the rest after negotiation.
            Some(Ok(FallibleStreamElement::Ok(_))) => {
                Err(End::Tell(policy_violation("negotiation is over")))
            }
        }
    }

    /// A stanza over the session's rate (the same commands a second as a
    /// web or Sametime session): a request or message comes back as
    /// `resource-constraint` (its sender waits for an answer or should
    /// know it was not sent); a presence is dropped.
    async fn refuse(&mut self, stanza: Stanza) -> Result<(), End> {
        let text = "too many stanzas: slow down";
        match stanza {
            Stanza::Iq(Iq::Get { id, .. } | Iq::Set { id, .. }) => {
                let error =
                    stanza_error(ErrorType::Wait, DefinedCondition::ResourceConstraint, text);
                self.send(&Iq::from_error(id, error)).await
            }
            Stanza::Message(message) => {
                self.bounce(&message, DefinedCondition::ResourceConstraint, text).await
            }
            _ => Ok(()),
        }
    }

    /// A stanza that did not parse: an iq gets `bad-request` (its sender
    /// waits for an answer); others are dropped.
    async fn malformed(&mut self, error: StreamElementError) -> Result<(), End> {
        tracing::debug!(user = %self.user, %error, "XMPP: malformed stanza");
        let StreamElementError::InvalidStanza { name, header, .. } = error else {
            return Err(End::Tell(policy_violation("a malformed element")));
        };
        let is_request = matches!(header.type_.as_deref(), Some("get" | "set"));
        if name.to_string() != "iq" || !is_request {
            return Ok(());
        }
        let id = header.id.unwrap_or_default();
        let error = stanza_error(ErrorType::Modify, DefinedCondition::BadRequest, "malformed");
        self.send(&Iq::from_error(id, error)).await
    }

    /// An iq: the server answers it (roster, ping, discovery, the old
    /// session establishment); requests it does not know get
    /// `service-unavailable`.
    async fn iq(&mut self, iq: Iq) -> Result<(), End> {
        let (id, to, payload, is_set) = match iq {
            Iq::Get { id, to, payload, .. } => (id, to, payload, false),
            Iq::Set { id, to, payload, .. } => (id, to, payload, true),
            // Answers to our pings, and the rest: nothing to do.
            _ => return Ok(()),
        };
        // The answer comes from whom the request went to (clients check).
        let answer = self.answer(&id, to.as_ref(), payload, is_set).await?;
        let answer = match to {
            Some(to) => answer.with_from(to),
            None => answer,
        };
        self.send(&answer).await
    }

    /// The answer to a request `id` to `to` (none: the user's account).
    async fn answer(
        &mut self,
        id: &str,
        to: Option<&Jid>,
        payload: Element,
        is_set: bool,
    ) -> Result<Iq, End> {
        if let Some(render) = crate::vcard::request(&payload) {
            return Ok(if is_set {
                let text = "the directory keeps people's details";
                Iq::from_error(
                    id,
                    stanza_error(ErrorType::Cancel, DefinedCondition::NotAllowed, text),
                )
            } else {
                self.vcard(id, to, render).await
            });
        }
        if payload.is("query", ns::MAM) {
            return self.archive(id, to, payload, is_set).await;
        }
        if crate::register::is_request(&payload) {
            let (user, client) = (self.user.as_str(), self.peer.ip());
            let registration = self.door.registration;
            let answer = crate::register::after_sign_in(
                self.service,
                registration,
                user,
                client,
                id,
                payload,
                is_set,
            );
            return Ok(answer.await);
        }
        if let Ok(request) = SlotRequest::try_from(payload.clone())
            && !is_set
            && to.is_some_and(|to| files::is_upload_service(to, &self.door.domain))
        {
            return Ok(self.slot(id, &request).await);
        }
        if is_set && payload.is("command", admin::NS) {
            return Ok(self.command(id, &payload).await);
        }
        if is_set && payload.ns() == ns::CARBONS {
            // <enable/> or <disable/>.
            self.carbons = Enable::try_from(payload).is_ok();
            return Ok(Iq::empty_result(self.jid.clone().into(), id));
        }
        let answer = if payload.is("query", ns::ROSTER) {
            if is_set { self.roster_set(id, payload).await? } else { self.roster_get(id).await }
        } else if payload.is("ping", ns::PING) || payload.is("session", SESSION) {
            Iq::empty_result(self.jid.clone().into(), id)
        } else if !is_set && let Ok(query) = DiscoInfoQuery::try_from(payload.clone()) {
            self.disco_info(id, to, query.node)
        } else if !is_set && let Ok(query) = DiscoItemsQuery::try_from(payload) {
            if query.node.as_deref() == Some(admin::NS) {
                Iq::from_result(id, Some(self.command_list().await))
            } else {
                Iq::from_result(id, Some(self.disco_items(to)))
            }
        } else {
            let error = stanza_error(ErrorType::Cancel, DefinedCondition::ServiceUnavailable, "");
            Iq::from_error(id, error)
        };
        Ok(answer)
    }

    /// Whether `jid` is this user's own account (their bare JID).
    fn is_own_account(&self, jid: &Jid) -> bool {
        self.door.jid(&self.user).is_some_and(|own| jid.to_bare() == own)
    }

    /// What `to` is (XEP-0030): this server (under its capabilities
    /// node too, XEP-0115 §6.2), its MUC service, or a room.
    fn disco_info(&self, id: &str, to: Option<&Jid>, node: Option<String>) -> Iq {
        let domain = &self.door.domain;
        let muc = to.filter(|to| crate::muc::is_muc(to, domain));
        let uploads = to.is_some_and(|to| files::is_upload_service(to, domain));
        let info = match (muc, node) {
            (None, None) if uploads && self.uploads_offered() => self.upload_info(),
            (Some(to), None) => {
                let name = match self.rooms.chat(to, domain) {
                    Some(chat) => self.topic_of(chat),
                    None => "Group chats".to_owned(),
                };
                DiscoInfoResult {
                    node: None,
                    identities: vec![Identity::new("conference", "text", "en", name)],
                    features: crate::muc::FEATURES.iter().map(|f| (*f).to_owned()).collect(),
                    extensions: Vec::new(),
                }
            }
            (None, None) if to.is_some_and(|to| self.is_own_account(to)) => DiscoInfoResult {
                node: None,
                identities: vec![Identity {
                    category: "account".into(),
                    type_: "registered".into(),
                    lang: None,
                    name: None,
                }],
                features: ACCOUNT_FEATURES.iter().map(|f| (*f).to_owned()).collect(),
                extensions: Vec::new(),
            },
            (_, None) => crate::caps::server_info(None),
            (None, Some(node)) if node == crate::caps::caps_node() => {
                crate::caps::server_info(Some(node))
            }
            (_, Some(_)) => {
                let error = stanza_error(ErrorType::Cancel, DefinedCondition::ItemNotFound, "");
                return Iq::from_error(id, error);
            }
        };
        Iq::from_result(id, Some(info))
    }

    /// What `to` holds (XEP-0030): the server, its MUC service and its
    /// upload service.
    fn disco_items(&self, to: Option<&Jid>) -> DiscoItemsResult {
        let domain = &self.door.domain;
        let server = to.is_none_or(|to| to.node().is_none() && to.domain().as_str() == domain);
        let muc = (crate::muc::service_of(domain), "Group chats");
        let uploads = (files::upload_service(domain), "File uploads");
        let offered = [Some(muc), self.uploads_offered().then_some(uploads)];
        let items = offered
            .into_iter()
            .flatten()
            .filter(|_| server)
            .filter_map(|(jid, name)| {
                Some(DiscoItem { jid: Jid::new(&jid).ok()?, node: None, name: Some(name.into()) })
            })
            .collect();
        DiscoItemsResult { node: None, items, rsm: None }
    }

    /// The vCard of the user `to` names, else the user's own.
    async fn vcard(&self, id: &str, to: Option<&Jid>, render: crate::vcard::Render) -> Iq {
        let whom = match to.and_then(|to| user_of(to, &self.door.domain)) {
            Some(name) => name,
            None => self.user.to_string(),
        };
        match self.service.person(&whom).await {
            Ok(Some(person)) if !person.disabled => Iq::Result {
                from: None,
                to: None,
                id: id.to_owned(),
                payload: Some(render(&person)),
            },
            Ok(_) => Iq::from_error(
                id,
                stanza_error(ErrorType::Cancel, DefinedCondition::ItemNotFound, ""),
            ),
            Err(error) => server_trouble(id, &error),
        }
    }

    /// The roster (RFC 6121 §2.2).
    async fn roster_get(&mut self, id: &str) -> Iq {
        match self.service.contact_list(self.user.as_str()).await {
            Ok(list) => {
                let roster = roster_of(&list, &self.door.domain);
                self.roster_shown = true;
                Iq::from_result(id, Some(roster))
            }
            Err(error) => server_trouble(id, &error),
        }
    }

    /// A roster change (RFC 6121 §2.3, §2.5): one item added, updated or
    /// removed; the service tells every session, and every interested
    /// resource gets the push (see `roster_push`).
    async fn roster_set(&mut self, id: &str, payload: Element) -> Result<Iq, End> {
        let bad = |text| {
            Iq::from_error(id, stanza_error(ErrorType::Modify, DefinedCondition::BadRequest, text))
        };
        let Ok(roster) = Roster::try_from(payload) else { return Ok(bad("not a roster")) };
        let [item] = &roster.items[..] else { return Ok(bad("a roster set has one item")) };
        let Some(name) = user_of(&Jid::from(item.jid.clone()), &self.door.domain) else {
            let text = "only people of this community can be contacts";
            return Ok(Iq::from_error(
                id,
                stanza_error(ErrorType::Cancel, DefinedCondition::ItemNotFound, text),
            ));
        };
        let contact = match self.service.recipient(&name).await {
            Ok(contact) => contact,
            Err(error) => return Ok(server_trouble(id, &error)),
        };
        let mut list = match self.service.contact_list(self.user.as_str()).await {
            Ok(list) => list,
            Err(error) => return Ok(server_trouble(id, &error)),
        };
        if item.subscription == Subscription::Remove {
            remove_contact(&mut list, contact.as_str());
        } else {
            set_contact(&mut list, contact.as_str(), item.name.as_deref(), &item.groups);
        }
        if let Err(error) = self.service.set_contact_list(self.user.as_str(), list).await {
            return Ok(server_trouble(id, &error));
        }
        Ok(Iq::empty_result(self.jid.clone().into(), id))
    }

    /// A message: a 1:1 chat message to a community user, or a chat state.
    async fn message(&mut self, message: Message) -> Result<(), End> {
        if message.to.as_ref().is_some_and(|to| crate::muc::is_muc(to, &self.door.domain)) {
            return self.room_message(message).await;
        }
        if let Some(room) = direct_invite::invited_to(&message) {
            return self.direct_invite(&message, room).await;
        }
        if !matches!(message.type_, MessageType::Chat | MessageType::Normal) {
            return Ok(());
        }
        let Some(to) = message.to.clone() else { return Ok(()) };
        let Some(name) = user_of(&to, &self.door.domain) else {
            return self
                .bounce(&message, DefinedCondition::ItemNotFound, "no such user here")
                .await;
        };
        // A correction or retraction has a body too (a fallback).
        if self.change(&message, None).await? {
            return Ok(());
        }
        if let Some((_, body)) = message.get_best_body(vec![]) {
            if let Some(sent) = self.send_uploaded(body, FileTarget::Im(name.clone())).await {
                return self.sent_or_bounced(&message, sent.map(|_| ())).await;
            }
            let sent =
                self.service.send_im(&self.user, Some(self.session), &name, body.clone()).await;
            if let (Ok(sent), Some(client)) = (&sent, &message.id) {
                self.sent_ids.remember(client, sent.id, changes::To::Person(sent.to.clone()));
            }
            return self.sent_or_bounced(&message, sent.map(|_| ())).await;
        }
        if self.displayed(&name, &message).await {
            return Ok(());
        }
        let typing = message.payloads.iter().find_map(|p| ChatState::try_from(p.clone()).ok());
        let Some(state) = typing else { return Ok(()) };
        if let Ok(partner) = self.service.recipient(&name).await {
            self.service.typing(self.session, &partner, state == ChatState::Composing).ok();
        }
        Ok(())
    }

    /// Nothing if a 1:1 message was sent; else the message back to its
    /// sender as the error that says why.
    async fn sent_or_bounced(
        &mut self,
        message: &Message,
        sent: Result<(), ServiceError>,
    ) -> Result<(), End> {
        match sent {
            Ok(()) => Ok(()),
            Err(ServiceError::NoSuchUser(_)) => {
                self.bounce(message, DefinedCondition::ItemNotFound, "no such user here").await
            }
            Err(ServiceError::TooMany(too_many)) => {
                let text = too_many.to_string();
                self.bounce(message, DefinedCondition::ResourceConstraint, &text).await
            }
            Err(error @ (ServiceError::Invalid(_) | ServiceError::TooLarge(_))) => {
                let text = error.to_string();
                self.bounce(message, DefinedCondition::NotAcceptable, &text).await
            }
            Err(ServiceError::Policy(refusal)) => {
                self.bounce(message, DefinedCondition::PolicyViolation, &refusal.message).await
            }
            Err(error) => {
                tracing::warn!(%error, "XMPP: message not sent");
                self.bounce(message, DefinedCondition::InternalServerError, "try again").await
            }
        }
    }

    /// Sends `message` back to its sender as an error (RFC 6120 §8.3).
    async fn bounce(
        &mut self,
        message: &Message,
        condition: DefinedCondition,
        text: &str,
    ) -> Result<(), End> {
        let mut error = Message::error(Some(self.jid.clone().into()));
        error.from = message.to.clone();
        error.id = message.id.clone();
        // RFC 6120 §8.3.3.18: a constraint is worth retrying later.
        let type_ = match condition {
            DefinedCondition::ResourceConstraint => ErrorType::Wait,
            _ => ErrorType::Cancel,
        };
        error.payloads.push(stanza_error(type_, condition, text).into());
        self.send(&error).await
    }

    /// A presence: the client's own status (broadcast), a subscription
    /// request (approved at once: inside the community everyone sees
    /// everyone), or a probe.
    async fn presence(&mut self, presence: Presence) -> Result<(), End> {
        if presence.to.as_ref().is_some_and(|to| crate::muc::is_muc(to, &self.door.domain)) {
            return self.room_presence(presence).await;
        }
        if is_broadcast(&presence) {
            self.service.set_status(&self.user, &status_of(&presence));
            if !self.available {
                self.available = true;
                // What came while the user was away (RFC 6121 §8.5.2.1.1:
                // at the initial presence).
                let missed = self.service.missed_messages(self.session).await;
                for event in missed.unwrap_or_default() {
                    self.deliver(&event).await?;
                }
                // The contacts' presences come as one snapshot event.
                if let Ok(list) = self.service.contact_list(self.user.as_str()).await {
                    let contacts: Vec<UserId> =
                        list.contacts().into_iter().map(UserId::new).collect();
                    self.service.watch(self.session, &contacts).ok();
                }
            }
            return Ok(());
        }
        let Some(to) = presence.to.clone() else { return Ok(()) };
        let Some(name) = user_of(&to, &self.door.domain) else { return Ok(()) };
        let Ok(contact) = self.service.recipient(&name).await else { return Ok(()) };
        let Some(from) = self.door.jid(&contact) else { return Ok(()) };
        match presence.type_ {
            PresenceType::Subscribe => {
                let approved = Presence::subscribed().with_from(from.clone());
                self.send(&approved).await?;
                self.send_presence_of(&contact, from).await
            }
            PresenceType::Probe => self.send_presence_of(&contact, from).await,
            _ => Ok(()),
        }
    }

    /// A copy of a message the user sent to `to` from another session
    /// (XEP-0280 `sent`).
    async fn carbon(
        &mut self,
        to: &UserId,
        text: &str,
        file: Option<&simul_core::Attachment>,
    ) -> Result<(), End> {
        let (Some(recipient), Some(own)) = (self.door.jid(to), self.door.jid(&self.user)) else {
            return Ok(());
        };
        let sent =
            Message::chat(Some(recipient.into())).with_body(Default::default(), text.to_owned());
        let mut sent = self.with_file(sent, file);
        sent.from = Some(own.clone().into());
        let forwarded = Forwarded { delay: None, message: sent };
        let mut carbon =
            Message::chat(Some(self.jid.clone().into())).with_payload(Sent { forwarded });
        carbon.from = Some(own.into());
        self.send(&carbon).await
    }

    /// The current presence of `user`, if online.
    async fn send_presence_of(&mut self, user: &UserId, from: BareJid) -> Result<(), End> {
        let presence = self.service.presences(std::slice::from_ref(user)).remove(0);
        if presence.status == simul_core::Status::Offline {
            return Ok(());
        }
        self.send(&stanza_of(from, &presence)).await
    }

    /// `first`, then the events already waiting behind it, up to
    /// [`EVENTS_AT_ONCE`]: their stanzas are written together and leave
    /// at the loop's next flush, in as few TLS records and writes as
    /// they fit, where one at a time each took its own. Those still
    /// waiting after the bound wait for the next turn of the loop, so a
    /// busy queue does not starve the client's own stanzas.
    async fn deliver_ready(&mut self, first: &Event) -> Result<(), End> {
        self.deliver(first).await?;
        for _ in 1..EVENTS_AT_ONCE {
            let Ok(event) = self.events.try_recv() else { break };
            self.deliver(&event).await?;
        }
        Ok(())
    }

    /// One event of the session, as stanzas.
    async fn deliver(&mut self, event: &Event) -> Result<(), End> {
        match event {
            Event::Presences { presences } if self.available => {
                for (user, presence) in presences {
                    if presence.status == simul_core::Status::Offline {
                        continue;
                    }
                    if let Some(from) = self.door.jid(user) {
                        self.send(&stanza_of(from, presence)).await?;
                    }
                }
                Ok(())
            }
            Event::Status { user, presence } if self.available => {
                let Some(from) = self.door.jid(user) else { return Ok(()) };
                self.send(&stanza_of(from, presence)).await
            }
            // The user's own message from another session: a carbon.
            Event::Im { from, to, text, file, .. } if *from == self.user && self.carbons => {
                self.carbon(to, text, file.as_deref()).await
            }
            Event::Im { from, to, text, at, id, missed, file }
                if *to == self.user && *from != self.user =>
            {
                let (Some(sender), Some(own)) = (self.door.jid(from), self.door.jid(to)) else {
                    return Ok(());
                };
                let mut message = Message::chat(Some(self.jid.clone().into()))
                    .with_body(Default::default(), text.clone())
                    .with_payload(ChatState::Active);
                message.from = Some(sender.into());
                if *missed {
                    // XEP-0203: kept while the user was offline.
                    let domain = Jid::new(&self.door.domain).ok();
                    if let Some(domain) = domain {
                        message = message.with_payload(crate::archive::delay(domain, *at));
                    }
                }
                let message = crate::archive::with_archive_id(message, id.get(), own);
                let message = markers::markable(message, *id);
                let message = self.with_file(message, file.as_deref());
                self.send(&message).await
            }
            Event::Typing { from, to, typing } if *to == self.user => {
                let Some(sender) = self.door.jid(from) else { return Ok(()) };
                let state = if *typing { ChatState::Composing } else { ChatState::Paused };
                let mut message = Message::chat(Some(self.jid.clone().into())).with_payload(state);
                message.from = Some(sender.into());
                self.send(&message).await
            }
            Event::NwayInvite { chat, from, topic } if *from != self.user => {
                self.nway_invited(*chat, from, topic).await
            }
            Event::NwayMessage { chat, from, text, id, file, .. } => {
                self.nway_message(*chat, from, text, *id, file.as_deref()).await
            }
            Event::NwayMembers { chat, members } => self.nway_members(*chat, members).await,
            Event::ContactsChanged { added, changed, removed } => {
                self.contacts_changed(added, changed, removed).await
            }
            Event::MessageChanged { place, id, by, change } => {
                self.message_changed(place, *id, by, change).await
            }
            Event::Seen { by, up_to } => self.seen(by, *up_to).await,
            Event::Announcement { from, text, .. } => self.announcement(from, text).await,
            // A disabled or removed account ends the session at once, as
            // on every door.
            Event::TokensRevoked => {
                if self.service.still_admitted(self.user.as_str()).await {
                    Ok(())
                } else {
                    Err(End::Tell(policy_violation("this account is disabled")))
                }
            }
            // Status of someone not watched, and the like.
            _ => Ok(()),
        }
    }
}

/// A stanza error; an empty `text` is left out.
pub(crate) fn stanza_error(
    type_: ErrorType,
    condition: DefinedCondition,
    text: &str,
) -> StanzaError {
    let mut error = StanzaError::new(type_, condition, "en", text);
    if text.is_empty() {
        error.texts.clear();
    }
    error
}

/// The answer to a request the service could not carry out.
fn server_trouble(id: &str, error: &ServiceError) -> Iq {
    let (type_, condition) = condition_of(error);
    Iq::from_error(id, stanza_error(type_, condition, &error.to_string()))
}

/// The stanza error of a request the service could not carry out.
fn condition_of(error: &ServiceError) -> (ErrorType, DefinedCondition) {
    match error {
        ServiceError::NoSuchUser(_) => (ErrorType::Cancel, DefinedCondition::ItemNotFound),
        ServiceError::Invalid(_) | ServiceError::Core(CoreError::EmptyText) => {
            (ErrorType::Modify, DefinedCondition::BadRequest)
        }
        ServiceError::TooLarge(_) | ServiceError::Core(CoreError::TextTooLong { .. }) => {
            (ErrorType::Cancel, DefinedCondition::NotAllowed)
        }
        ServiceError::NoSuchMessage => (ErrorType::Cancel, DefinedCondition::ItemNotFound),
        ServiceError::NotAuthor | ServiceError::OwnAdminRole => {
            (ErrorType::Auth, DefinedCondition::Forbidden)
        }
        ServiceError::TooMany(_) => (ErrorType::Wait, DefinedCondition::ResourceConstraint),
        // RFC 6120 §8.3.3.12; the text names the policy and its setting.
        ServiceError::Policy(_) => (ErrorType::Cancel, DefinedCondition::PolicyViolation),
        _ => (ErrorType::Wait, DefinedCondition::InternalServerError),
    }
}
