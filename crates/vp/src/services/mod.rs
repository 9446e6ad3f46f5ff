//! The services that run over channels (spec §6): their ids, and the
//! payloads of their CHANNEL_SEND messages and CREATE/ACCEPT `addtl`.
//!
//! Each service module has a `ClientMessage` enum (C→S) and a
//! `ServerMessage` enum (S→C) where the directions differ, with
//! `decode(send_type, data)` and `encode() -> (send_type, data)`; the
//! pair goes into [`ChannelSend::new`](crate::message::ChannelSend::new).

pub mod awareness;
pub mod conference;
pub mod file_transfer;
pub mod im;
pub mod resolve;
pub mod storage;

use crate::encoding::DecodeError;

/// A service as a CHANNEL_CREATE names it: service id, protocol type and
/// protocol version (§6.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceId {
    /// Service id.
    pub service: u32,
    /// Protocol type.
    pub proto_type: u32,
    /// Protocol version.
    pub proto_ver: u32,
}

/// Awareness (presence), server-terminated (§6.1).
pub const AWARENESS: ServiceId =
    ServiceId { service: 0x0000_0011, proto_type: 0x0000_0011, proto_ver: 0x0003_0005 };
/// Resolve (name lookup), server-terminated (§6.2).
pub const RESOLVE: ServiceId =
    ServiceId { service: 0x0000_0015, proto_type: 0x0000_0015, proto_ver: 0 };
/// Storage (per-user data), server-terminated (§6.3).
pub const STORAGE: ServiceId =
    ServiceId { service: 0x0000_0018, proto_type: 0x0000_0025, proto_ver: 0x0000_0001 };
/// Directory (address books), server-terminated; not used by Pidgin (§6.8).
pub const DIRECTORY: ServiceId =
    ServiceId { service: 0x0000_001a, proto_type: 0x0000_001c, proto_ver: 0x0000_0005 };
/// File transfer, relayed between clients (§6.6).
pub const FILE_TRANSFER: ServiceId =
    ServiceId { service: 0x0000_0038, proto_type: 0, proto_ver: 1 };
/// Instant messages, relayed between clients (§6.4). Receivers check all
/// three values exactly (trap 9.21).
pub const IM: ServiceId =
    ServiceId { service: 0x0000_1000, proto_type: 0x0000_1000, proto_ver: 0x0000_0003 };
/// Conference (n-way chat), server-terminated (§6.5).
pub const CONFERENCE: ServiceId =
    ServiceId { service: 0x8000_0010, proto_type: 0x0000_0010, proto_ver: 0x0000_0002 };
/// Place, server-terminated; layouts unknown, refuse it (§6.7).
pub const PLACE: ServiceId = ServiceId { service: 0x8000_0022, proto_type: 0, proto_ver: 5 };

/// Every service of §6.0.
pub const ALL: [ServiceId; 8] =
    [AWARENESS, RESOLVE, STORAGE, DIRECTORY, FILE_TRANSFER, IM, CONFERENCE, PLACE];

impl ServiceId {
    /// The known service with this service id.
    pub fn from_service(service: u32) -> Option<Self> {
        ALL.into_iter().find(|s| s.service == service)
    }

    /// Whether the channel is relayed between two clients (IM, file
    /// transfer) rather than terminated by the server (§5.5).
    pub fn is_relayed(&self) -> bool {
        *self == IM || *self == FILE_TRANSFER
    }
}

/// The error for a send type a service does not define.
pub(crate) fn unknown_send_type(send_type: u16) -> DecodeError {
    DecodeError::BadValue { field: "send type", value: u32::from(send_type) }
}
