//! CHANNEL_CREATE, CHANNEL_ACCEPT, CHANNEL_SEND and CHANNEL_DESTROY, with
//! their encryption blocks (spec §5.2–§5.4, §5.6).

use crate::blocks::{EncryptItem, IdBlock, LoginInfo, MIN_ENCRYPT_ITEM};
use crate::encoding::{Block, DecodeError, Reader, Writer};
use crate::reason::ErrorCode;

/// Encryption policies / modes (`enum mwEncryptPolicy`, §5.6).
pub mod encrypt_mode {
    /// No encryption.
    pub const NONE: u16 = 0x0000;
    /// Any cipher will do.
    pub const WHATEVER: u16 = 0x0001;
    /// Everything encrypted.
    pub const ALL: u16 = 0x0002;
    /// RC2/40 chosen.
    pub const RC2_40: u16 = 0x1000;
    /// RC2/128 chosen.
    pub const RC2_128: u16 = 0x2000;
}

/// meanwhile writes `u32 0, u32 0, u16 7` after every CREATE and ACCEPT;
/// the server writes the same and ignores it on input (§5.2, trap 9.6).
fn write_trailer(w: &mut Writer) {
    w.u32(0).u32(0).u16(0x0007);
}

/// An encryption offer in a CREATE (§5.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncryptOffer {
    /// Policy ([`encrypt_mode`]).
    pub mode: u16,
    /// The ciphers offered, if any.
    pub ciphers: Option<CipherOffer>,
}

/// The ciphers of an [`EncryptOffer`]: `u32 count, EncryptItem × count,
/// u16 extra, bool flag` inside an opaque.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CipherOffer {
    /// Offered ciphers.
    pub items: Vec<EncryptItem>,
    /// Pidgin sends 1; meaning unknown.
    pub extra: u16,
    /// Pidgin sends 0; meaning unknown.
    pub flag: bool,
}

impl EncryptOffer {
    /// "No encryption": mode 0 and an empty opaque (never the mode alone,
    /// trap 9.19).
    pub fn none() -> Self {
        Self::default()
    }
}

impl Block for EncryptOffer {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mode = r.u16("encrypt mode")?;
        // libmeanwhile's writer omits the opaque when it offers nothing, and
        // its reader then takes the first trailer u32 (0) as the length; a
        // message cut right after the mode is read the same way.
        if r.remaining() < 4 {
            return Ok(Self { mode, ciphers: None });
        }
        let mut inner = r.nested("encrypt offer")?;
        // libmeanwhile parses the contents only from 7 bytes on (count, extra, flag).
        if inner.remaining() < 7 {
            return Ok(Self { mode, ciphers: None });
        }
        let count = inner.count("offered ciphers", MIN_ENCRYPT_ITEM)?;
        let items = (0..count).map(|_| EncryptItem::read(&mut inner)).collect::<Result<_, _>>()?;
        let extra = inner.u16("encrypt offer extra")?;
        let flag = inner.bool("encrypt offer flag")?;
        Ok(Self { mode, ciphers: Some(CipherOffer { items, extra, flag }) })
    }

    fn write(&self, w: &mut Writer) {
        w.u16(self.mode);
        match &self.ciphers {
            Some(offer) => {
                w.nested("encrypt offer", |w| {
                    w.count("offered ciphers", offer.items.len());
                    for item in &offer.items {
                        item.write(w);
                    }
                    w.u16(offer.extra).bool(offer.flag);
                });
            }
            None => {
                w.u32(0);
            }
        }
    }
}

/// The encryption choice in an ACCEPT (§5.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncryptAccept {
    /// Mode ([`encrypt_mode`]); 0 means no encryption.
    pub mode: u16,
    /// The chosen cipher, if any: it must be one the CREATE offered (trap 9.20).
    pub chosen: Option<ChosenCipher>,
}

/// The cipher of an [`EncryptAccept`]: `EncryptItem, u16 extra, bool flag`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChosenCipher {
    /// The chosen cipher with the acceptor's info (its DH key for RC2/128).
    pub item: EncryptItem,
    /// Meaning unknown; clients send 1.
    pub extra: u16,
    /// Meaning unknown; clients send 0.
    pub flag: bool,
}

impl EncryptAccept {
    /// "No encryption": mode 0 and an empty opaque (trap 9.19).
    pub fn none() -> Self {
        Self::default()
    }
}

impl Block for EncryptAccept {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mode = r.u16("encrypt mode")?;
        if r.remaining() < 4 {
            return Ok(Self { mode, chosen: None });
        }
        let mut inner = r.nested("encrypt accept")?;
        // As libmeanwhile: an item from 6 bytes on, extra and flag from 9.
        let len = inner.remaining();
        if len < MIN_ENCRYPT_ITEM {
            return Ok(Self { mode, chosen: None });
        }
        let item = EncryptItem::read(&mut inner)?;
        let (extra, flag) = if len >= 9 {
            (inner.u16("encrypt accept extra")?, inner.bool("encrypt accept flag")?)
        } else {
            (0, false)
        };
        Ok(Self { mode, chosen: Some(ChosenCipher { item, extra, flag }) })
    }

    fn write(&self, w: &mut Writer) {
        w.u16(self.mode);
        match &self.chosen {
            Some(chosen) => {
                w.nested("encrypt accept", |w| {
                    chosen.item.write(w);
                    w.u16(chosen.extra).bool(chosen.flag);
                });
            }
            None => {
                w.u32(0);
            }
        }
    }
}

/// CHANNEL_CREATE (§5.2), sent on channel 0 with the new id in the body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelCreate {
    /// The new channel's id: counting up from 1 for clients, high bit set
    /// for channels the server opens (trap 9.16).
    pub channel: u32,
    /// The user the channel is for (IM, file transfer); empty for services.
    pub target: IdBlock,
    /// Service id (§6.0).
    pub service: u32,
    /// Protocol type (§6.0).
    pub proto_type: u32,
    /// Protocol version (§6.0).
    pub proto_ver: u32,
    /// Options; 0.
    pub options: u32,
    /// Service-specific creation data (§6).
    pub addtl: Vec<u8>,
    /// The creator, which the server must fill in when forwarding (trap 9.17).
    pub creator: Option<LoginInfo>,
    /// The encryption offer.
    pub encrypt: EncryptOffer,
}

impl Block for ChannelCreate {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32("create reserved")?;
        let channel = r.u32("create channel id")?;
        let target = IdBlock::read(r)?;
        let service = r.u32("create service")?;
        let proto_type = r.u32("create proto_type")?;
        let proto_ver = r.u32("create proto_ver")?;
        let options = r.u32("create options")?;
        let addtl = r.opaque("create addtl")?.to_vec();
        let creator = if r.bool("creator_flag")? { Some(LoginInfo::read(r)?) } else { None };
        let encrypt = EncryptOffer::read(r)?;
        Ok(Self {
            channel,
            target,
            service,
            proto_type,
            proto_ver,
            options,
            addtl,
            creator,
            encrypt,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.u32(0).u32(self.channel);
        self.target.write(w);
        w.u32(self.service)
            .u32(self.proto_type)
            .u32(self.proto_ver)
            .u32(self.options)
            .opaque("create addtl", &self.addtl)
            .bool(self.creator.is_some());
        if let Some(creator) = &self.creator {
            creator.write(w);
        }
        self.encrypt.write(w);
        write_trailer(w);
    }
}

/// CHANNEL_ACCEPT (§5.3), sent on the channel it accepts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelAccept {
    /// The accepted channel (header channel).
    pub channel: u32,
    /// Echo of the CREATE.
    pub service: u32,
    /// Echo of the CREATE.
    pub proto_type: u32,
    /// Echo of the CREATE.
    pub proto_ver: u32,
    /// Service-specific data (§6); empty for server services.
    pub addtl: Vec<u8>,
    /// The acceptor, which the server must fill in when forwarding (trap 9.17).
    pub acceptor: Option<LoginInfo>,
    /// The encryption choice.
    pub encrypt: EncryptAccept,
}

impl ChannelAccept {
    /// The server's ACCEPT of a service channel: the CREATE's service and
    /// protocol echoed, no addtl, no acceptor, no encryption (§5.5).
    pub fn for_service(create: &ChannelCreate) -> Self {
        Self {
            channel: create.channel,
            service: create.service,
            proto_type: create.proto_type,
            proto_ver: create.proto_ver,
            ..Self::default()
        }
    }

    pub(crate) fn read_body(channel: u32, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let service = r.u32("accept service")?;
        let proto_type = r.u32("accept proto_type")?;
        let proto_ver = r.u32("accept proto_ver")?;
        let addtl = r.opaque("accept addtl")?.to_vec();
        let acceptor = if r.bool("acceptor_flag")? { Some(LoginInfo::read(r)?) } else { None };
        let encrypt = EncryptAccept::read(r)?;
        Ok(Self { channel, service, proto_type, proto_ver, addtl, acceptor, encrypt })
    }

    pub(crate) fn write_body(&self, w: &mut Writer) {
        w.u32(self.service)
            .u32(self.proto_type)
            .u32(self.proto_ver)
            .opaque("accept addtl", &self.addtl)
            .bool(self.acceptor.is_some());
        if let Some(acceptor) = &self.acceptor {
            acceptor.write(w);
        }
        self.encrypt.write(w);
        write_trailer(w);
    }
}

/// CHANNEL_SEND (§5.4): `u16 send_type, opaque data` on a channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelSend {
    /// The channel (header channel).
    pub channel: u32,
    /// Header option 0x4000: `data` is ciphertext; keep it when relaying.
    pub encrypted: bool,
    /// Per-service message type (§6).
    pub send_type: u16,
    /// Per-service payload.
    pub data: Vec<u8>,
}

impl ChannelSend {
    /// A plaintext send of a service payload, as the service modules'
    /// `encode` functions return it.
    pub fn new(channel: u32, (send_type, data): (u16, Vec<u8>)) -> Self {
        Self { channel, encrypted: false, send_type, data }
    }

    pub(crate) fn read_body(
        channel: u32,
        encrypted: bool,
        r: &mut Reader<'_>,
    ) -> Result<Self, DecodeError> {
        let send_type = r.u16("send type")?;
        let data = r.opaque("send data")?.to_vec();
        Ok(Self { channel, encrypted, send_type, data })
    }

    pub(crate) fn write_body(&self, w: &mut Writer) {
        w.u16(self.send_type).opaque("send data", &self.data);
    }
}

/// CHANNEL_DESTROY (§5.4): `u32 reason, opaque data`; on channel 0 it
/// ends the connection (§4.12).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelDestroy {
    /// The channel (header channel); 0 for the whole connection.
    pub channel: u32,
    /// 0 for a normal close, else an error code (§8, [`ErrorCode`]).
    pub reason: u32,
    /// Optional data (Pidgin sends text such as "Leaving").
    pub data: Vec<u8>,
}

impl ChannelDestroy {
    /// A destroy with a reason and no data.
    pub fn new(channel: u32, reason: ErrorCode) -> Self {
        Self { channel, reason: reason.code(), data: Vec::new() }
    }

    /// The reason, if it is a known code.
    pub fn known_reason(&self) -> Option<ErrorCode> {
        ErrorCode::from_code(self.reason)
    }

    pub(crate) fn read_body(channel: u32, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let reason = r.u32("destroy reason")?;
        // libmeanwhile always writes the opaque; accept its absence.
        let data = if r.is_empty() { Vec::new() } else { r.opaque("destroy data")?.to_vec() };
        Ok(Self { channel, reason, data })
    }

    pub(crate) fn write_body(&self, w: &mut Writer) {
        w.u32(self.reason).opaque("destroy data", &self.data);
    }
}
