//! File transfer on the VP door (spec §6.6). Sametime relays file
//! transfer channels between two clients; Simul ends them at the server,
//! as it ends IM channels, so that a file is the community's: kept once,
//! in the conversation's history, and handed to the recipient on
//! whatever door they use.
//!
//! - The client sends: the door checks the offer, accepts the channel as
//!   the receiver, writes each chunk into a [`FileUpload`] and
//!   acknowledges it (RECEIVED); once the announced size arrived the file
//!   is sent to the recipient ([`Service::send_file`]) and the last chunk
//!   acknowledged, after which the client closes the channel as a
//!   sender does. Anything else ends the channel and keeps nothing.
//! - The client receives: a 1:1 message that carries a file opens a
//!   channel to the client from the sender; once accepted, the file is
//!   read from the store chunk by chunk, each after the acknowledgement
//!   of the one before (as Pidgin sends), and the channel closed after
//!   the last acknowledgement (reason 0).

use std::collections::HashMap;
use std::sync::Arc;

use simul_core::{Attachment, SessionId, UserId};
use simul_service::{FileTarget, FileUpload, Service, ServiceError};
use simul_vp::message::{ChannelAccept, ChannelCreate, ChannelDestroy, ChannelSend};
use simul_vp::services::file_transfer::{CHUNK, FtMessage, Offer, send_type};
use simul_vp::{Block as _, ErrorCode, IdBlock, Message, services};
use tokio::io::AsyncReadExt as _;

use crate::im::login_info;

/// Transfers a connection may have open each way at once: a person sends
/// a few files at a time; more are refused (sent) or left to the text
/// line with the link (received).
const MAX_TRANSFERS: usize = 8;

/// The smallest chunk that is not counted as a command (see
/// [`FileTransfers::is_transfer_step`]): Pidgin sends 8192 bytes.
const MIN_FREE_CHUNK: u64 = 1024;

/// A file the client is sending.
struct Incoming {
    upload: FileUpload,
    name: String,
    /// The size announced in the CREATE.
    size: u64,
    /// Bytes written so far.
    received: u64,
}

/// A file the door is sending to the client.
struct Outgoing {
    file: Arc<Attachment>,
    /// Open once the client accepted.
    reader: Option<tokio::fs::File>,
    /// Bytes not sent yet.
    remaining: u64,
    /// A chunk was sent and not acknowledged yet: the client acknowledges
    /// each chunk once (as libmeanwhile does), and the next goes then.
    awaiting: bool,
}

/// File transfers of one connection.
#[derive(Default)]
pub(crate) struct FileTransfers {
    /// By the channel the client opened.
    incoming: HashMap<u32, Incoming>,
    /// By the channel the door opened.
    outgoing: HashMap<u32, Outgoing>,
}

impl FileTransfers {
    /// Whether `channel` is one of this connection's transfers.
    pub(crate) fn is_channel(&self, channel: u32) -> bool {
        self.incoming.contains_key(&channel) || self.outgoing.contains_key(&channel)
    }

    /// Whether `message` is a step of an open transfer: a chunk of a file
    /// the client sends (of at least [`MIN_FREE_CHUNK`] bytes, or its
    /// last), or the acknowledgement of a chunk the door sent. A transfer
    /// takes thousands of these, each bounded by the size the offer
    /// announced (and the offer counts as a message), so they are not
    /// counted against the connection's command limit: a 25 MB file would
    /// be cut off as a flood otherwise.
    pub(crate) fn is_transfer_step(&self, message: &Message) -> bool {
        let Message::ChannelSend(send) = message else { return false };
        if let Some(incoming) = self.incoming.get(&send.channel) {
            let len = send.data.len() as u64;
            let last = incoming.received.saturating_add(len) == incoming.size;
            return send.send_type == send_type::TRANSFER && (len >= MIN_FREE_CHUNK || last);
        }
        self.outgoing
            .get(&send.channel)
            .is_some_and(|outgoing| send.send_type == send_type::RECEIVED && outgoing.awaiting)
    }

    /// The client offers a file to `create.target`: accepted (the door is
    /// the receiver) if the offer is well formed, within the size limit,
    /// for someone the directory knows and within the sender's message
    /// limits; refused with a DESTROY otherwise.
    pub(crate) async fn offered(
        &mut self,
        service: &Service,
        user: &UserId,
        create: &ChannelCreate,
    ) -> Message {
        let refuse = |code| Message::ChannelDestroy(ChannelDestroy::new(create.channel, code));
        let Ok(offer) = Offer::from_bytes(&create.addtl) else {
            return refuse(ErrorCode::BadData);
        };
        // A client's channels are its own ids, without the high bit of the
        // door's (spec §5.1): one of those, or one in use, is a client bug.
        if create.channel & 0x8000_0000 != 0 || self.is_channel(create.channel) {
            return refuse(ErrorCode::RequestInvalid);
        }
        if self.incoming.len() >= MAX_TRANSFERS {
            return refuse(ErrorCode::Starving);
        }
        let size = u64::from(offer.size);
        // Over the limit, or not allowed by the sender's policy: the
        // policy refusal the spec suggests (§6.6). An empty file is
        // refused too: the service keeps none.
        let allowed = match size {
            0 => Err(ServiceError::Invalid("the file is empty".into())),
            _ => service.check_file_size(user, size).await,
        };
        if let Err(error) = allowed {
            tracing::debug!(size, %error, "VP: file offer refused");
            return refuse(ErrorCode::NotAuthorized);
        }
        let target = FileTarget::Im(create.target.user.clone());
        let upload = match service.file_upload(user, target).await {
            Ok(upload) => upload,
            Err(ServiceError::NoSuchUser(_)) => return refuse(ErrorCode::ClientUserGone),
            Err(error) => {
                tracing::debug!(%error, "VP: file offer refused");
                return refuse(ErrorCode::NotAuthorized);
            }
        };
        let mut accept = ChannelAccept::for_service(create);
        // libmeanwhile takes the peer's identity from the acceptor.
        let partner = UserId::new(&create.target.user);
        accept.acceptor = Some(login_info(service, &partner).await);
        let incoming = Incoming { upload, name: offer.filename, size, received: 0 };
        self.incoming.insert(create.channel, incoming);
        Message::ChannelAccept(accept)
    }

    /// A message on a transfer channel: a chunk of a file the client
    /// sends, or the acknowledgement of one the door sends. A message that
    /// has no place (a chunk beyond the announced size, one on the door's
    /// own channel, an acknowledgement the door did not ask for, an
    /// encrypted payload the door cannot read) ends the transfer with
    /// ERR_REQUEST_INVALID, and nothing of it is kept.
    pub(crate) async fn receive(
        &mut self,
        service: &Service,
        (user, session): (&UserId, SessionId),
        link: &str,
        send: &ChannelSend,
    ) -> Vec<Message> {
        let channel = send.channel;
        let message = match send.encrypted {
            true => None,
            false => FtMessage::decode(send.send_type, &send.data).ok(),
        };
        let result = match message {
            Some(FtMessage::Transfer(chunk)) if self.incoming.contains_key(&channel) => {
                self.chunk(service, (user, session), link, channel, &chunk).await
            }
            // An acknowledgement of a chunk sent (one before the client
            // accepted, or a second one, is not).
            Some(FtMessage::Received)
                if self.outgoing.get(&channel).is_some_and(|outgoing| outgoing.awaiting) =>
            {
                return self.next_chunk(channel).await;
            }
            _ => Err(ErrorCode::RequestInvalid),
        };
        match result {
            Ok(message) => vec![message],
            Err(code) => vec![self.end(channel, code)],
        }
    }

    /// One chunk of a file the client sends: written and acknowledged;
    /// the last one sends the file first.
    async fn chunk(
        &mut self,
        service: &Service,
        (user, session): (&UserId, SessionId),
        link: &str,
        channel: u32,
        chunk: &[u8],
    ) -> Result<Message, ErrorCode> {
        let incoming = self.incoming.get_mut(&channel).ok_or(ErrorCode::RequestInvalid)?;
        let received = incoming.received.saturating_add(chunk.len() as u64);
        if received > incoming.size {
            tracing::debug!(size = incoming.size, received, "VP: more bytes than offered");
            return Err(ErrorCode::RequestInvalid);
        }
        if let Err(error) = incoming.upload.write(chunk).await {
            tracing::warn!(%error, "VP: a file could not be received");
            return Err(ErrorCode::Failure);
        }
        incoming.received = received;
        if received == incoming.size {
            let Incoming { upload, name, .. } =
                self.incoming.remove(&channel).ok_or(ErrorCode::RequestInvalid)?;
            // No media type travels with a Sametime file.
            let sent = service.send_file(user, Some(session), upload, (&name, ""), link).await;
            if let Err(error) = sent {
                tracing::debug!(%error, "VP: a received file was not sent");
                return Err(ErrorCode::Failure);
            }
        }
        Ok(Message::ChannelSend(ChannelSend::new(channel, FtMessage::Received.encode())))
    }

    /// The client acknowledged a chunk the door sent: the next one, or
    /// the close after the last.
    async fn next_chunk(&mut self, channel: u32) -> Vec<Message> {
        let Some(outgoing) = self.outgoing.get_mut(&channel) else { return Vec::new() };
        outgoing.awaiting = false;
        if outgoing.remaining == 0 {
            self.outgoing.remove(&channel);
            return vec![Message::ChannelDestroy(ChannelDestroy::new(channel, ErrorCode::Success))];
        }
        let Some(reader) = outgoing.reader.as_mut() else {
            return vec![self.end(channel, ErrorCode::RequestInvalid)];
        };
        let len = usize::try_from(outgoing.remaining).unwrap_or(CHUNK).min(CHUNK);
        let mut chunk = vec![0; len];
        if let Err(error) = reader.read_exact(&mut chunk).await {
            tracing::warn!(%error, file = %outgoing.file.id, "VP: a file could not be read");
            return vec![self.end(channel, ErrorCode::Failure)];
        }
        outgoing.remaining -= len as u64;
        outgoing.awaiting = true;
        let send = ChannelSend::new(channel, FtMessage::Transfer(chunk).encode());
        vec![Message::ChannelSend(send)]
    }

    /// A file for the client (a 1:1 message of `from` carried it): a
    /// channel the door opens on `channel`, from `from`, naming the file
    /// and its size. With as many transfers open as a connection may
    /// have, an offer the client left unanswered is withdrawn for it; with
    /// none such, or a file over the protocol's 4 GiB, nothing is offered:
    /// the message's text line with the link is there either way.
    pub(crate) async fn offer(
        &mut self,
        service: &Service,
        user: &UserId,
        from: &UserId,
        file: &Arc<Attachment>,
        channel: u32,
    ) -> Vec<Message> {
        let Ok(size) = u32::try_from(file.size) else { return Vec::new() };
        let mut messages = Vec::new();
        if self.outgoing.len() >= MAX_TRANSFERS {
            // The oldest: the door's channel ids count up.
            let unanswered = self.outgoing.iter().filter(|(_, o)| o.reader.is_none());
            let Some(old) = unanswered.map(|(channel, _)| *channel).min() else {
                return Vec::new();
            };
            messages.push(self.end(old, ErrorCode::Success));
        }
        let offer = Offer { filename: file.name.clone(), message: String::new(), size };
        let Ok(addtl) = offer.to_bytes() else { return messages };
        let create = ChannelCreate {
            channel,
            target: IdBlock { user: user.to_string(), community: String::new() },
            service: services::FILE_TRANSFER.service,
            proto_type: services::FILE_TRANSFER.proto_type,
            proto_ver: services::FILE_TRANSFER.proto_ver,
            addtl,
            // libmeanwhile takes the sender's identity from the creator.
            creator: Some(login_info(service, from).await),
            ..ChannelCreate::default()
        };
        let outgoing =
            Outgoing { file: file.clone(), reader: None, remaining: file.size, awaiting: false };
        self.outgoing.insert(channel, outgoing);
        messages.push(Message::ChannelCreate(create));
        messages
    }

    /// The client accepted a file the door offered: the file is opened
    /// (if the user may still read it: the same check as a download) and
    /// its first chunk sent.
    pub(crate) async fn accepted(
        &mut self,
        service: &Service,
        user: &UserId,
        channel: u32,
    ) -> Vec<Message> {
        let Some(outgoing) = self.outgoing.get_mut(&channel) else { return Vec::new() };
        if outgoing.reader.is_some() {
            return vec![self.end(channel, ErrorCode::RequestInvalid)];
        }
        let opened = match service.file(user, &outgoing.file.id).await {
            Ok(Some((_, path))) => tokio::fs::File::open(path).await.ok(),
            Ok(None) | Err(_) => None,
        };
        let Some(reader) = opened else {
            return vec![self.end(channel, ErrorCode::Failure)];
        };
        outgoing.reader = Some(reader);
        self.next_chunk(channel).await
    }

    /// The client ended a transfer channel (declined, cancelled, or
    /// closed after the last acknowledgement): what it held goes, and a
    /// file not received whole is not kept.
    pub(crate) fn destroyed(&mut self, channel: u32) {
        self.incoming.remove(&channel);
        self.outgoing.remove(&channel);
    }

    /// Ends a transfer on the door's side with `code`.
    fn end(&mut self, channel: u32, code: ErrorCode) -> Message {
        self.destroyed(channel);
        Message::ChannelDestroy(ChannelDestroy::new(channel, code))
    }
}
