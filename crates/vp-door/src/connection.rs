//! One client connection: handshake, login, then the logged-in loop
//! (spec §4.1: AwaitHandshake → AwaitLogin → LoggedIn → Closing).

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt as _};
use rand_core::{OsRng, RngCore as _};
use simul_core::{Event, Presence, SessionId, Status, UserId};
use simul_service::{CommandAdmission, CommandLimit, Events, Service};
use simul_vp::frame::Keepalive;
use simul_vp::message::HandshakeAck;
use simul_vp::message::{Announce, ChannelAccept, ChannelDestroy, LoginAck};
use simul_vp::services;
use simul_vp::services::im::ImMessage;
use simul_vp::{
    ErrorCode, FrameCodec, FrameError, LoginInfo, LoginKeys, LoginOptions, Message, decrypt_login,
};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_util::codec::Framed;

use crate::awareness::Awareness;
use crate::conference::Conferences;
use crate::directory;
use crate::files::FileTransfers;
use crate::im::Im;
use crate::sign_in::{SignedIn, sign_in};
use crate::{LOGIN_TIMEOUT, LoginCipher, Settings};

/// The connection's frames, and how long a write may wait for the client
/// to take it.
struct Frames {
    framed: Framed<TcpStream, FrameCodec>,
    stall_limit: Duration,
    /// A write waited longer: the client stopped reading, or its host is
    /// gone. Nothing more is written; the connection is reset.
    stalled: bool,
}

/// The server-side services this door runs: a client that lost one of
/// their channels asks again (SENSE_SERVICE), and only these are echoed
/// (spec §4.9). IM is the clients' own, relayed through the community.
const SERVED: [u32; 3] =
    [services::AWARENESS.service, services::STORAGE.service, services::RESOLVE.service];

/// Conversations (IM and conference channels) a connection may hold
/// open at once. A person has a few dozen; a client past this is refused
/// more, so no client grows the server's memory without bound.
const MAX_CONVERSATIONS: usize = 256;

/// The read buffer's first capacity: client messages are small.
const READ_BUFFER: usize = 1024;

/// Why a connection ends: a code to send on channel 0 first, or nothing
/// (the client left, or its socket failed).
enum End {
    Tell(ErrorCode),
    Quietly,
}

/// Runs one connection to its end.
pub(crate) async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    service: Arc<Service>,
    settings: Settings,
    stopped: watch::Receiver<bool>,
) {
    // Small buffers: an idle connection keeps both for its whole life, and
    // tokio-util's default of 8 KiB each was most of what an idle VP
    // session cost (simul-bench sessions --door vp: 16.6 KiB a session).
    // A larger frame still arrives whole (the codec reserves its length
    // when it reads the prefix), and the write buffer grows to the
    // largest message sent.
    let mut framed = Framed::with_capacity(stream, FrameCodec::new(), READ_BUFFER);
    *framed.write_buffer_mut() = Default::default();
    let mut frames = Frames { framed, stall_limit: settings.stall_limit(), stalled: false };
    let cipher = settings.login_cipher;
    // Boxed, as are the handling of messages and events below: inline,
    // their futures (the password check, the service calls) would make
    // every idle connection's task as large as the largest of them.
    let logging_in = Box::pin(log_in(&mut frames, peer, &service, cipher));
    let signed_in = tokio::time::timeout(LOGIN_TIMEOUT, logging_in).await;
    let signed_in = match signed_in {
        Ok(Ok(signed_in)) => signed_in,
        Ok(Err(end)) => return finish(&mut frames, end).await,
        Err(_) => return finish(&mut frames, End::Tell(ErrorCode::ConnectionTimed)).await,
    };
    let user = UserId::new(&signed_in.user);
    let (session, events) = match service.open_session(&user, false) {
        Ok(opened) => opened,
        // Over the sessions a user may hold (web tabs, devices, this
        // client): MULTI_SERVER_LOGIN, which Pidgin shows as "name in use"
        // and, being fatal, does not reconnect (spec §4.12). Simul never
        // displaces a session for a newer one, so this is the closest code:
        // USER_RESTRICTED would read as a problem with the account, and a
        // transient code would make Pidgin retry against the same limit.
        Err(error) => {
            tracing::info!(%user, %error, "VP: session refused");
            return finish(&mut frames, End::Tell(ErrorCode::MultiServerLogin)).await;
        }
    };
    service.describe_session(session, "vp", peer.ip());
    let end = match acknowledge(&mut frames, &signed_in, peer).await {
        Ok(()) => {
            let door = (&*service, &settings);
            logged_in(&mut frames, door, &user, session, events, stopped).await
        }
        Err(end) => end,
    };
    service.close_session(session, settings.grace);
    finish(&mut frames, end).await;
}

/// HANDSHAKE, HANDSHAKE_ACK, LOGIN: who signed in, or how to end. Before
/// the login, anything but these (or a frame that is no message) ends the
/// connection (spec §1.2, §4.1).
async fn log_in(
    frames: &mut Frames,
    peer: SocketAddr,
    service: &Service,
    cipher: LoginCipher,
) -> Result<SignedIn, End> {
    let Some(Message::Handshake(_)) = next(frames).await? else {
        return Err(End::Tell(ErrorCode::RequestInvalid));
    };
    let client_addr = match peer.ip() {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(_) => 0,
    };
    // Without a key in the ACK, libmeanwhile logs in with RC2/40 (§4.3).
    let (keys, ack) = match cipher {
        LoginCipher::Rc2_128 => {
            let keys = LoginKeys::generate();
            let ack = keys.handshake_ack(client_addr);
            (Some(keys), ack)
        }
        LoginCipher::Rc2_40 => (None, HandshakeAck::without_key(client_addr)),
    };
    send(frames, &Message::HandshakeAck(ack)).await?;
    let Some(Message::Login(login)) = next(frames).await? else {
        return Err(End::Tell(ErrorCode::RequestInvalid));
    };
    tracing::debug!(auth_type = login.auth_type, client = %peer.ip(), "VP: LOGIN");
    // Unknown user, wrong password, bad padding, bad magic, bad token,
    // unsupported auth type: one answer (spec §4.8).
    let credential = decrypt_login(&login, keys.as_ref(), LoginOptions::default())
        .map_err(|_| End::Tell(ErrorCode::IncorrectLogin))?;
    sign_in(service, &login.name, &credential, peer.ip()).await.map_err(End::Tell)
}

/// LOGIN_ACK: the client's own login info (spec §4.7).
async fn acknowledge(
    frames: &mut Frames,
    signed_in: &SignedIn,
    peer: SocketAddr,
) -> Result<(), End> {
    let info = LoginInfo {
        login_id: login_id(),
        login_type: 0,
        user_id: signed_in.user.clone(),
        user_name: signed_in.display_name.clone(),
        // Empty for users of this community (spec trap 9.4).
        community: String::new(),
        details: None,
    };
    tracing::info!(user = %signed_in.user, client = %peer.ip(), "VP login");
    send(frames, &Message::LoginAck(LoginAck::new(info))).await
}

/// A logged-in connection: its user, session and services.
struct LoggedIn<'a> {
    service: &'a Service,
    user: UserId,
    session: SessionId,
    awareness: Awareness,
    im: Im,
    conferences: Conferences,
    files: FileTransfers,
    /// Where files are served (the text line of a file sent here).
    files_link: &'a str,
    /// The client's storage and resolve channels, once accepted.
    storage: Option<u32>,
    resolve: Option<u32>,
    /// IM partners, watched by the session whether or not the client
    /// watches them, so that a conversation ends when its partner leaves.
    partners: HashSet<UserId>,
}

/// The logged-in loop: client messages and the session's events.
async fn logged_in(
    frames: &mut Frames,
    (service, settings): (&Service, &Settings),
    user: &UserId,
    session: SessionId,
    mut events: Events,
    mut stopped: watch::Receiver<bool>,
) -> End {
    let mut this = LoggedIn {
        service,
        user: user.clone(),
        session,
        awareness: Awareness::default(),
        im: Im::default(),
        conferences: Conferences::default(),
        files: FileTransfers::default(),
        files_link: &settings.files_link,
        storage: None,
        resolve: None,
        partners: HashSet::new(),
    };
    // What a person's client sends goes through; a script's flood gets
    // its commands dropped, and a session that keeps on is cut off.
    let mut commands = CommandLimit::new(service.flood());
    // The door's keepalive bytes (spec §1.3): libmeanwhile skips them, and
    // a peer that stopped acknowledging data fails the connection (the
    // socket's TCP_USER_TIMEOUT, `serve`).
    let keepalive = settings.keepalive.max(Duration::from_millis(100));
    let start = tokio::time::Instant::now() + keepalive;
    let mut keepalives = tokio::time::interval_at(start, keepalive);
    keepalives.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let result = tokio::select! {
            received = next(frames) => match received {
                Err(end) => Err(end),
                // A file's chunks and acknowledgements: see `is_transfer_step`.
                Ok(Some(message)) if this.files.is_transfer_step(&message) => {
                    Box::pin(this.handle(frames, message)).await
                }
                Ok(received) => match (received, commands.admit()) {
                    // A frame that is no message, once logged in: dropped
                    // (spec §1.2), and counted as a command.
                    (None, CommandAdmission::Allowed | CommandAdmission::Refused) => Ok(()),
                    (Some(message), CommandAdmission::Allowed) => {
                        Box::pin(this.handle(frames, message)).await
                    }
                    (Some(_), CommandAdmission::Refused) => Ok(()),
                    (_, CommandAdmission::CutOff) => {
                        tracing::info!(user = %this.user, "VP: cut off for flooding");
                        Err(End::Tell(ErrorCode::UserRestricted))
                    }
                },
            },
            _ = keepalives.tick() => send_keepalive(frames).await,
            event = events.recv() => match event {
                Some(event) => Box::pin(this.deliver(frames, &event)).await,
                // The community closed this session (the user was
                // disabled, or the connection could not keep up).
                None => Err(End::Tell(ErrorCode::UserRestricted)),
            },
            () = crate::until_stopped(&mut stopped) => Err(End::Tell(ErrorCode::ConnectionClosed)),
        };
        if let Err(end) = result {
            return end;
        }
    }
}

impl LoggedIn<'_> {
    /// One client message.
    async fn handle(&mut self, frames: &mut Frames, message: Message) -> Result<(), End> {
        match message {
            Message::SetUserStatus(status) => {
                let presence = Presence::from_sametime(status.status, &status.desc);
                self.service.set_status(&self.user, &presence);
                Ok(())
            }
            Message::ChannelCreate(create) if create.service == services::AWARENESS.service => {
                let accept = self.awareness.accept(&create);
                send(frames, &accept).await
            }
            Message::ChannelCreate(create)
                if [services::STORAGE.service, services::RESOLVE.service]
                    .contains(&create.service) =>
            {
                if create.service == services::STORAGE.service {
                    self.storage = Some(create.channel);
                } else {
                    self.resolve = Some(create.channel);
                }
                send(frames, &Message::ChannelAccept(ChannelAccept::for_service(&create))).await
            }
            Message::ChannelCreate(create)
                if [services::CONFERENCE.service, services::IM.service]
                    .contains(&create.service)
                    && self.im.open() + self.conferences.open() >= MAX_CONVERSATIONS =>
            {
                tracing::info!(user = %self.user, "VP: conversation refused, too many open");
                let refusal = ChannelDestroy::new(create.channel, ErrorCode::Starving);
                send(frames, &Message::ChannelDestroy(refusal)).await
            }
            Message::ChannelCreate(create) if create.service == services::CONFERENCE.service => {
                for message in self.conferences.create(self.service, &self.user, &create).await {
                    send(frames, &message).await?;
                }
                Ok(())
            }
            Message::ChannelCreate(create) if create.service == services::IM.service => {
                let answer = self.im.create(self.service, &create).await;
                if let Some(partner) = self.im.partner(create.channel).cloned() {
                    self.watch_partner(partner);
                }
                send(frames, &answer).await
            }
            Message::ChannelCreate(create) if create.service == services::FILE_TRANSFER.service => {
                let answer = self.files.offered(self.service, &self.user, &create).await;
                send(frames, &answer).await
            }
            // A service not built yet: refused without an echo, so the
            // client does not loop create → destroy → sense (spec §4.9).
            Message::ChannelCreate(create) => {
                let refusal = ChannelDestroy::new(create.channel, ErrorCode::ServiceNoSupport);
                send(frames, &Message::ChannelDestroy(refusal)).await
            }
            Message::ChannelSend(channel_send)
                if self.awareness.is_channel(channel_send.channel) =>
            {
                let partners = &self.partners;
                let keep = |user: &UserId| partners.contains(user);
                let answer =
                    self.awareness.receive(self.service, self.session, &channel_send, keep);
                for message in answer {
                    send(frames, &message).await?;
                }
                Ok(())
            }
            Message::ChannelSend(channel_send) if self.storage == Some(channel_send.channel) => {
                match directory::storage(self.service, &self.user, &channel_send).await {
                    Some(reply) => send(frames, &reply).await,
                    None => Ok(()),
                }
            }
            Message::ChannelSend(channel_send) if self.resolve == Some(channel_send.channel) => {
                match directory::resolve(self.service, &channel_send).await {
                    Some(reply) => send(frames, &reply).await,
                    None => Ok(()),
                }
            }
            Message::ChannelSend(channel_send)
                if self.conferences.is_channel(channel_send.channel) =>
            {
                let reply = self.conferences.receive(self.service, &self.user, &channel_send);
                match reply.await {
                    Some(reply) => send(frames, &reply).await,
                    None => Ok(()),
                }
            }
            Message::ChannelSend(channel_send) if self.im.is_channel(channel_send.channel) => {
                let answer = self.im.receive(self.service, &self.user, self.session, &channel_send);
                match answer.await {
                    Some(answer) => send(frames, &answer).await,
                    None => Ok(()),
                }
            }
            Message::ChannelSend(channel_send) if self.files.is_channel(channel_send.channel) => {
                let from = (&self.user, self.session);
                let answer = self.files.receive(self.service, from, self.files_link, &channel_send);
                for message in answer.await {
                    send(frames, &message).await?;
                }
                Ok(())
            }
            Message::ChannelAccept(accept) if self.files.is_channel(accept.channel) => {
                for message in self.files.accepted(self.service, &self.user, accept.channel).await {
                    send(frames, &message).await?;
                }
                Ok(())
            }
            Message::ChannelAccept(accept) if self.im.is_channel(accept.channel) => {
                for message in self.im.accepted(accept.channel) {
                    send(frames, &message).await?;
                }
                Ok(())
            }
            Message::SenseService { service } if SERVED.contains(&service) => {
                send(frames, &Message::SenseService { service }).await
            }
            Message::ChannelDestroy(destroy) if destroy.channel == 0 => Err(End::Quietly),
            Message::ChannelDestroy(destroy) => {
                self.im.destroyed(destroy.channel);
                self.files.destroyed(destroy.channel);
                self.conferences.destroyed(self.service, &self.user, destroy.channel).await;
                Ok(())
            }
            Message::Handshake(_) | Message::Login(_) | Message::LoginContinue => {
                Err(End::Tell(ErrorCode::RequestInvalid))
            }
            // Privacy lists, other channels and the rest: not kept yet.
            _ => Ok(()),
        }
    }

    /// Watches an IM partner for the connection's own sake (once): their
    /// going offline ends the conversation (see `Im::partner_left`).
    fn watch_partner(&mut self, partner: UserId) {
        if self.partners.contains(&partner) {
            return;
        }
        if let Err(error) = self.service.watch(self.session, std::slice::from_ref(&partner)) {
            tracing::debug!(%error, "VP: IM partner not watched");
            return;
        }
        self.partners.insert(partner);
    }

    /// One event of the session, as the client's services show it.
    async fn deliver(&mut self, frames: &mut Frames, event: &Event) -> Result<(), End> {
        let message = match event {
            Event::Presences { presences } => {
                for message in self.awareness.snapshot(self.service, presences).await {
                    send(frames, &message).await?;
                }
                None
            }
            Event::Status { user, presence } => {
                // The conversation ends before the buddy list shows the
                // partner offline.
                if presence.status == Status::Offline
                    && let Some(destroy) = self.im.partner_left(user)
                {
                    send(frames, &destroy).await?;
                }
                for message in self.awareness.update(self.service, user, presence).await {
                    send(frames, &message).await?;
                }
                None
            }
            // A message or typing for this user from anyone else, on any
            // door (their own messages from other sessions have no place
            // in a VP client).
            // A file comes as its text line (with the link, as history
            // keeps it) and as a transfer the client may accept.
            Event::Im { from, to, text, file, .. } if *to == self.user && *from != self.user => {
                self.watch_partner(from.clone());
                let text = ImMessage::Text(text.clone());
                if let Some(message) = self.im.deliver(self.service, &self.user, from, text).await {
                    send(frames, &message).await?;
                }
                if let Some(file) = file {
                    let channel = self.im.server_channel();
                    let offer = self.files.offer(self.service, &self.user, from, file, channel);
                    for message in offer.await {
                        send(frames, &message).await?;
                    }
                }
                None
            }
            Event::Typing { from, to, typing } if *to == self.user => {
                let typing = ImMessage::typing(*typing);
                self.im.deliver(self.service, &self.user, from, typing).await
            }
            Event::NwayInvite { chat, from, topic } => {
                self.conferences.invited(self.service, &self.user, *chat, from, topic).await
            }
            Event::NwayMessage { chat, from, text, .. } => {
                self.conferences.message(*chat, from, text)
            }
            Event::NwayMembers { chat, members } => {
                for message in self.conferences.members(self.service, *chat, members).await {
                    send(frames, &message).await?;
                }
                None
            }
            // Sametime's announcement, from the administrator who sent it
            // (Pidgin and Sametime Connect show it with their name).
            Event::Announcement { from, text, .. } => {
                let sender = crate::im::login_info(self.service, &UserId::new(from)).await;
                Some(Message::Announce(Announce {
                    sender: Some(sender),
                    unknown: 0,
                    may_reply: false,
                    text: text.clone(),
                    recipients: Vec::new(),
                }))
            }
            // A Sametime client reads its buddy list from the storage
            // service when it logs in and keeps it from then on.
            Event::ContactsChanged { .. } => None,
            // A disabled or removed account (`simul user disable`, LDAP)
            // ends the session at once, as it ends the web's.
            Event::TokensRevoked => {
                if self.service.still_admitted(self.user.as_str()).await {
                    None
                } else {
                    return Err(End::Tell(ErrorCode::UserRestricted));
                }
            }
            // Status of someone not watched, the user's own messages
            // from other sessions: nothing to show here.
            _ => None,
        };
        match message {
            Some(message) => send(frames, &message).await,
            None => Ok(()),
        }
    }
}

/// The next message; keepalive bytes are skipped by the codec. A frame
/// too short for its message's fields is `None`: the
/// caller decides (spec §1.2: before the login the connection ends, after
/// it the message is dropped).
async fn next(frames: &mut Frames) -> Result<Option<Message>, End> {
    match frames.framed.next().await {
        Some(Ok(frame)) => match Message::decode(&frame) {
            Ok(message) => Ok(Some(message)),
            Err(error) => {
                tracing::debug!(%error, "VP: malformed message");
                Ok(None)
            }
        },
        Some(Err(FrameError::TooLarge { .. })) => Err(End::Tell(ErrorCode::FatMessage)),
        // The kernel gave up on data the client's host never took
        // (TCP_USER_TIMEOUT, `serve`).
        Some(Err(FrameError::Io(error))) if error.kind() == std::io::ErrorKind::TimedOut => {
            frames.stalled = true;
            Err(End::Quietly)
        }
        Some(Err(_)) | None => Err(End::Quietly),
    }
}

async fn send(frames: &mut Frames, message: &Message) -> Result<(), End> {
    write(frames, |framed| framed.send(message)).await
}

/// One keepalive byte (spec §1.3).
async fn send_keepalive(frames: &mut Frames) -> Result<(), End> {
    write(frames, |framed| framed.send(Keepalive)).await
}

/// A write that the client must take within the stall limit: one that
/// stopped reading (or whose host is gone) holds no task, socket and
/// session for ever.
async fn write<'a, F>(
    frames: &'a mut Frames,
    write: impl FnOnce(&'a mut Framed<TcpStream, FrameCodec>) -> F,
) -> Result<(), End>
where
    F: std::future::Future<Output = Result<(), FrameError>>,
{
    let Frames { framed, stall_limit, stalled } = frames;
    if *stalled {
        return Err(End::Quietly);
    }
    match tokio::time::timeout(*stall_limit, write(framed)).await {
        Ok(Ok(())) => Ok(()),
        // The kernel gave up first (TCP_USER_TIMEOUT, set to the same limit).
        Ok(Err(FrameError::Io(error))) if error.kind() == std::io::ErrorKind::TimedOut => {
            *stalled = true;
            Err(End::Quietly)
        }
        Ok(Err(error)) => {
            tracing::debug!(%error, "VP: cannot send");
            Err(End::Quietly)
        }
        Err(_) => {
            *stalled = true;
            Err(End::Quietly)
        }
    }
}

/// Tells the client why it ends (CHANNEL_DESTROY on channel 0), if
/// there is something to tell, and closes.
async fn finish(frames: &mut Frames, end: End) {
    if let End::Tell(reason) = end {
        let _ = send(frames, &Message::ChannelDestroy(ChannelDestroy::new(0, reason))).await;
    }
    if !frames.stalled {
        let limit = frames.stall_limit;
        let closed = tokio::time::timeout(limit, SinkExt::<&Message>::close(&mut frames.framed));
        frames.stalled = closed.await.is_err();
    }
    if frames.stalled {
        let peer = frames.framed.get_ref().peer_addr().ok();
        tracing::info!(
            client = ?peer,
            "VP: the client took nothing for {:?}: connection reset",
            frames.stall_limit
        );
        // What it did not take is dropped at once: a reset, not a close
        // that would keep the unsent data in the kernel for minutes.
        let _ = socket2::SockRef::from(frames.framed.get_ref()).set_linger(Some(Duration::ZERO));
    }
}

/// A login id: unique per login and at least 5 bytes (spec §4.7; RC2/40
/// channel keys are its first 5 bytes).
fn login_id() -> String {
    format!("simul-{:016x}", OsRng.next_u64())
}
