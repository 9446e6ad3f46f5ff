//! Sametime VP sessions on the VP door (`simul serve --vp`), made of the
//! protocol layer `simul_vp`: connect (from one of several loopback source
//! addresses), handshake, login by password or LTPA token, watch users on
//! an awareness channel, and 1:1 messages on IM channels (spec §4, §5,
//! §6.1, §6.4).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context as _, bail};
use futures_util::{SinkExt, StreamExt as _};
use simul_vp::crypto::DhKeyPair;
use simul_vp::login::compose_rc2_128;
use simul_vp::message::{
    ChannelAccept, ChannelCreate, ChannelDestroy, ChannelSend, Handshake, Login,
};
use simul_vp::services::awareness::{ClientMessage, ServerMessage};
use simul_vp::services::im::{AcceptInfo, CreateInfo, ImMessage, client_type};
use simul_vp::{AwareIdBlock, Block as _, FrameCodec, IdBlock, Message, UserStatus, Writer};
use simul_vp::{ErrorCode, services};
use tokio::net::{TcpSocket, TcpStream};
use tokio_util::codec::Framed;

/// Longest wait for the connection, the handshake and the login.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Client type of the handshake and login: libmeanwhile's (Pidgin's).
const LOGIN_TYPE: u16 = 0x1700;

/// How a session proves who it is.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// A password sent RC2/128-encrypted, as Pidgin sends it. An LTPA
    /// token pasted into the password field goes this way too.
    Password(&'a str),
    /// An LTPA token as auth type 1 (custom clients, spec §4.6): no
    /// Diffie-Hellman work on the client.
    Token(&'a str),
}

/// The loopback source address of connection number `index` out of
/// `sources` addresses (127.0.0.1, 127.0.0.2, …): one source address has
/// about 28,000 ephemeral ports towards one server port, so more
/// sessions than that need more source addresses.
pub fn source_address(index: usize, sources: u8) -> Ipv4Addr {
    let n = u8::try_from(index % usize::from(sources.max(1))).unwrap_or(0);
    Ipv4Addr::new(127, 0, 0, 1 + n)
}

/// One logged-in VP connection.
pub struct VpSession {
    frames: Framed<TcpStream, FrameCodec>,
    /// The id of the next channel this client opens (clients count up
    /// from 1; the server's have the high bit set, spec §5.1).
    next_channel: u32,
    /// IM channels by partner: opened here or accepted from the server.
    im_by_partner: HashMap<String, u32>,
    /// The partner of each IM channel.
    partner_by_im: HashMap<u32, String>,
}

/// What arrived on an IM channel.
#[derive(Debug)]
pub enum ImEvent {
    /// A text from `from`.
    Text {
        /// The partner's user id.
        from: String,
        /// The text.
        text: String,
    },
    /// The server ended an IM channel (the partner went offline, or a
    /// message was refused).
    Refused,
}

impl VpSession {
    /// Connects from `source` to the door at `server`, shakes hands and
    /// logs in as `name`; fails with the server's reason if refused.
    pub async fn log_in(
        server: SocketAddr,
        source: Ipv4Addr,
        name: &str,
        credential: Credential<'_>,
    ) -> anyhow::Result<Self> {
        tokio::time::timeout(
            CONNECT_TIMEOUT,
            Self::log_in_untimed(server, source, name, credential),
        )
        .await
        .context("VP login timed out")?
    }

    async fn log_in_untimed(
        server: SocketAddr,
        source: Ipv4Addr,
        name: &str,
        credential: Credential<'_>,
    ) -> anyhow::Result<Self> {
        let socket = TcpSocket::new_v4()?;
        socket.bind((source, 0).into()).with_context(|| format!("cannot bind {source}"))?;
        let stream = socket.connect(server).await.context("cannot connect to the VP door")?;
        stream.set_nodelay(true)?;
        let mut session = Self {
            frames: Framed::new(stream, FrameCodec::new()),
            next_channel: 1,
            im_by_partner: HashMap::new(),
            partner_by_im: HashMap::new(),
        };
        let handshake = Handshake {
            major: simul_vp::message::VERSION_MAJOR,
            minor: simul_vp::message::VERSION_MINOR,
            channel: 0,
            srvrcalc_addr: 0,
            login_type: LOGIN_TYPE,
            loclcalc_addr: 0,
            extra: None,
        };
        session.send(&Message::Handshake(handshake)).await?;
        let Message::HandshakeAck(ack) = session.next(CONNECT_TIMEOUT).await? else {
            bail!("no HANDSHAKE_ACK");
        };
        let (auth_data, auth_type) = match credential {
            Credential::Password(password) => {
                let key = ack.key.context("the door offers no RC2/128 key")?;
                let client = DhKeyPair::generate();
                let data =
                    compose_rc2_128(&client, &key.dh_public, key.magic, password.as_bytes())?;
                (data, 4)
            }
            Credential::Token(token) => {
                let mut data = Writer::new();
                data.str("token", token);
                (data.finish()?.into(), 1)
            }
        };
        let login = Login { login_type: LOGIN_TYPE, name: name.into(), auth_data, auth_type };
        session.send(&Message::Login(login)).await?;
        match session.next(CONNECT_TIMEOUT).await? {
            Message::LoginAck(_) => Ok(session),
            other => bail!("login of {name} not acknowledged: {other:?}"),
        }
    }

    /// Sends one message.
    pub async fn send(&mut self, message: &Message) -> anyhow::Result<()> {
        self.frames.send(message).await.context("cannot send to the VP door")
    }

    /// The next message within `within` (keepalives are skipped by the
    /// codec); the end of the connection (channel 0 destroyed) is an error.
    pub async fn next(&mut self, within: Duration) -> anyhow::Result<Message> {
        let frame = tokio::time::timeout(within, self.frames.next())
            .await
            .context("no VP message in time")?
            .context("the VP door closed the connection")??;
        match Message::decode(&frame)? {
            Message::ChannelDestroy(ChannelDestroy { channel: 0, reason, .. }) => {
                let known = ErrorCode::from_code(reason);
                bail!("the VP door ended the connection: {reason:#010x} {known:?}")
            }
            message => Ok(message),
        }
    }

    /// Logs out (channel 0 destroyed, reason 0) and closes the socket.
    pub async fn log_out(mut self) {
        let logout = ChannelDestroy { channel: 0, reason: 0, data: Vec::new() };
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            let _ = self.send(&Message::ChannelDestroy(logout)).await;
            let _ = SinkExt::<&Message>::close(&mut self.frames).await;
        })
        .await;
    }

    fn new_channel(&mut self) -> u32 {
        let channel = self.next_channel;
        self.next_channel += 1;
        channel
    }

    /// Opens a channel of `service` and waits for the server's ACCEPT.
    async fn open(&mut self, create: ChannelCreate, within: Duration) -> anyhow::Result<u32> {
        let channel = create.channel;
        self.send(&Message::ChannelCreate(create)).await?;
        loop {
            match self.next(within).await? {
                Message::ChannelAccept(accept) if accept.channel == channel => return Ok(channel),
                Message::ChannelDestroy(destroy) if destroy.channel == channel => {
                    bail!("channel refused: {:#010x}", destroy.reason)
                }
                // A conversation the server opens meanwhile is accepted;
                // no text is due before this channel is open.
                other => drop(self.handle_im(other).await?),
            }
        }
    }

    /// Watches `users` on a new awareness channel (spec §6.1); how many
    /// of them the snapshot shows online.
    pub async fn watch(&mut self, users: &[String], within: Duration) -> anyhow::Result<usize> {
        let aware = services::AWARENESS;
        let channel = self.new_channel();
        let create = ChannelCreate {
            channel,
            service: aware.service,
            proto_type: aware.proto_type,
            proto_ver: aware.proto_ver,
            ..ChannelCreate::default()
        };
        self.open(create, within).await?;
        let ids = users.iter().map(|user| AwareIdBlock::user(user.as_str())).collect();
        let add = ChannelSend::new(channel, ClientMessage::Add(ids).encode()?);
        self.send(&Message::ChannelSend(add)).await?;
        loop {
            if let Message::ChannelSend(reply) = self.next(within).await?
                && reply.channel == channel
                && let Ok(ServerMessage::Snapshot(entries)) =
                    ServerMessage::decode(reply.send_type, &reply.data)
            {
                return Ok(entries.iter().filter(|entry| entry.online.is_some()).count());
            }
        }
    }

    /// Sends `text` to `partner`, on the conversation's channel; opens
    /// one first (plain text, spec §6.4) if there is none yet.
    pub async fn send_im(&mut self, partner: &str, text: &str) -> anyhow::Result<()> {
        let channel = match self.im_by_partner.get(partner) {
            Some(&channel) => channel,
            None => {
                let im = services::IM;
                let create = ChannelCreate {
                    channel: self.new_channel(),
                    target: IdBlock { user: partner.to_owned(), community: String::new() },
                    service: im.service,
                    proto_type: im.proto_type,
                    proto_ver: im.proto_ver,
                    addtl: CreateInfo::new(client_type::PLAIN).to_bytes()?,
                    ..ChannelCreate::default()
                };
                let channel = self.open(create, CONNECT_TIMEOUT).await?;
                self.im_by_partner.insert(partner.to_owned(), channel);
                self.partner_by_im.insert(channel, partner.to_owned());
                channel
            }
        };
        let message = ImMessage::Text(text.to_owned()).encode()?;
        self.send(&Message::ChannelSend(ChannelSend::new(channel, message))).await
    }

    /// The next text or refusal on an IM channel within `within`;
    /// conversations the server opens are accepted on the way.
    pub async fn next_im(&mut self, within: Duration) -> anyhow::Result<ImEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = self.next(left).await?;
            if let Some(event) = self.handle_im(message).await? {
                return Ok(event);
            }
        }
    }

    /// An IM channel's message: a create is accepted as plain text, a
    /// text or a destroy is the event; anything else is no event.
    async fn handle_im(&mut self, message: Message) -> anyhow::Result<Option<ImEvent>> {
        match message {
            Message::ChannelCreate(create) if create.service == services::IM.service => {
                let partner =
                    create.creator.as_ref().map(|c| c.user_id.clone()).unwrap_or_default();
                let mut accept = ChannelAccept::for_service(&create);
                let info =
                    AcceptInfo { client_type: client_type::PLAIN, status: UserStatus::active() };
                accept.addtl = info.to_bytes()?;
                self.send(&Message::ChannelAccept(accept)).await?;
                self.im_by_partner.insert(partner.clone(), create.channel);
                self.partner_by_im.insert(create.channel, partner);
                Ok(None)
            }
            Message::ChannelSend(send) => {
                let Some(from) = self.partner_by_im.get(&send.channel) else { return Ok(None) };
                match ImMessage::decode(send.send_type, &send.data) {
                    Ok(ImMessage::Text(text)) => {
                        Ok(Some(ImEvent::Text { from: from.clone(), text }))
                    }
                    _ => Ok(None),
                }
            }
            Message::ChannelDestroy(destroy) => {
                let Some(partner) = self.partner_by_im.remove(&destroy.channel) else {
                    return Ok(None);
                };
                self.im_by_partner.remove(&partner);
                Ok(Some(ImEvent::Refused))
            }
            _ => Ok(None),
        }
    }
}
