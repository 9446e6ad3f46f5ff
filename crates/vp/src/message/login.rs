//! HANDSHAKE, HANDSHAKE_ACK, LOGIN, LOGIN_ACK and LOGIN_REDIRECT (spec
//! §4.2–§4.7, §4.13).

use std::fmt;

use zeroize::Zeroizing;

use crate::blocks::{LoginInfo, PrivacyInfo, UserStatus};
use crate::encoding::{Block, DecodeError, Reader, Writer};

/// Protocol major version clients and server send.
pub const VERSION_MAJOR: u16 = 0x001e;
/// Protocol minor version libmeanwhile sends and the server answers with.
pub const VERSION_MINOR: u16 = 0x001d;
/// A minor version at or below which HANDSHAKE_ACK carries no key, so the
/// client logs in with RC2/40 (§4.3).
pub const VERSION_MINOR_WITHOUT_KEY: u16 = 0x0018;

/// C→S HANDSHAKE (§4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Major version (0x1e).
    pub major: u16,
    /// Minor version (0x1d; Pidgin's fake-id option sends 0x196f).
    pub minor: u16,
    /// The header's channel again (0).
    pub channel: u32,
    /// 0.
    pub srvrcalc_addr: u32,
    /// Client type (§3.3).
    pub login_type: u16,
    /// The client's own IPv4 address, or 0.
    pub loclcalc_addr: u32,
    /// Fields present from version 0x1e.0x1d on.
    pub extra: Option<HandshakeExtra>,
}

/// The fields of a [`Handshake`] sent only when major ≥ 0x1e and minor ≥ 0x1d.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeExtra {
    /// libmeanwhile sends 0x0100; meaning unknown.
    pub unknown_a: u16,
    /// libmeanwhile sends 0; meaning unknown.
    pub unknown_b: u32,
    /// The client's host name, or empty.
    pub local_host: String,
}

impl Block for Handshake {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let major = r.u16("handshake major")?;
        let minor = r.u16("handshake minor")?;
        let channel = r.u32("handshake channel")?;
        let srvrcalc_addr = r.u32("srvrcalc_addr")?;
        let login_type = r.u16("handshake login_type")?;
        let loclcalc_addr = r.u32("loclcalc_addr")?;
        let extra = if major >= 0x1e && minor >= 0x1d && !r.is_empty() {
            Some(HandshakeExtra {
                unknown_a: r.u16("handshake unknown_a")?,
                unknown_b: r.u32("handshake unknown_b")?,
                local_host: r.text("local_host")?,
            })
        } else {
            None
        };
        Ok(Self { major, minor, channel, srvrcalc_addr, login_type, loclcalc_addr, extra })
    }

    fn write(&self, w: &mut Writer) {
        w.u16(self.major)
            .u16(self.minor)
            .u32(self.channel)
            .u32(self.srvrcalc_addr)
            .u16(self.login_type)
            .u32(self.loclcalc_addr);
        if let Some(extra) = &self.extra {
            w.u16(extra.unknown_a).u32(extra.unknown_b).str("local_host", &extra.local_host);
        }
    }
}

/// S→C HANDSHAKE_ACK (§4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeAck {
    /// Major version.
    pub major: u16,
    /// Minor version; the key is read by clients only above 0x18.
    pub minor: u16,
    /// The client's IPv4 address as the server sees it (0 for IPv6).
    pub srvrcalc_addr: u32,
    /// Magic and DH key, present for versions above 0x1e.0x18.
    pub key: Option<AckKey>,
}

/// The login key of a [`HandshakeAck`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckKey {
    /// Random per connection; the client puts it first in its RC2/128
    /// plaintext.
    pub magic: u32,
    /// The server's DH public key, exactly 64 bytes (trap 9.9).
    pub dh_public: Vec<u8>,
}

impl HandshakeAck {
    /// An ACK offering RC2/128: version 0x1e.0x1d with magic and key.
    pub fn with_key(srvrcalc_addr: u32, magic: u32, dh_public: [u8; 64]) -> Self {
        Self {
            major: VERSION_MAJOR,
            minor: VERSION_MINOR,
            srvrcalc_addr,
            key: Some(AckKey { magic, dh_public: dh_public.to_vec() }),
        }
    }

    /// An ACK without key (version 0x1e.0x18): the client logs in with
    /// RC2/40, which carries its key in the clear.
    pub fn without_key(srvrcalc_addr: u32) -> Self {
        Self { major: VERSION_MAJOR, minor: VERSION_MINOR_WITHOUT_KEY, srvrcalc_addr, key: None }
    }
}

impl Block for HandshakeAck {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let major = r.u16("handshake ack major")?;
        let minor = r.u16("handshake ack minor")?;
        let srvrcalc_addr = r.u32("srvrcalc_addr")?;
        let key = if major >= 0x1e && minor > 0x18 && !r.is_empty() {
            Some(AckKey { magic: r.u32("magic")?, dh_public: r.opaque("dh_public_key")?.to_vec() })
        } else {
            None
        };
        Ok(Self { major, minor, srvrcalc_addr, key })
    }

    fn write(&self, w: &mut Writer) {
        w.u16(self.major).u16(self.minor).u32(self.srvrcalc_addr);
        if let Some(key) = &self.key {
            w.u32(key.magic).opaque("dh_public_key", &key.dh_public);
        }
    }
}

/// C→S LOGIN (§4.4). Note the order: auth data before auth type.
///
/// `auth_data` holds the encrypted (or, for auth types 0 and 1, clear)
/// credential: it is wiped on drop and left out of `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    /// Client type (§3.3).
    pub login_type: u16,
    /// What the user typed: short name, e-mail, full name.
    pub name: String,
    /// The credential, encoded per `auth_type` (§4.5, [`crate::login`]).
    pub auth_data: Zeroizing<Vec<u8>>,
    /// §4.5: 0 plain, 1 token, 2 RC2/40, 4 RC2/128.
    pub auth_type: u16,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("login_type", &self.login_type)
            .field("name", &self.name)
            .field("auth_data", &format_args!("<{} bytes>", self.auth_data.len()))
            .field("auth_type", &self.auth_type)
            .finish()
    }
}

impl Block for Login {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let login_type = r.u16("login login_type")?;
        let name = r.string("login name")?;
        let auth_data = Zeroizing::new(r.opaque("auth_data")?.to_vec());
        let auth_type = r.u16("auth_type")?;
        // meanwhile writes a u16 0 after this; its own reader ignores it,
        // and so does this one (present or not).
        Ok(Self { login_type, name, auth_data, auth_type })
    }

    fn write(&self, w: &mut Writer) {
        w.u16(self.login_type)
            .str("login name", &self.name)
            .opaque("auth_data", &self.auth_data)
            .u16(self.auth_type)
            .u16(0);
    }
}

/// S→C LOGIN_ACK (§4.7), from libmeanwhile's reader (it has no writer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAck {
    /// The login's own info; its `login_id` is the one in every later
    /// creator/acceptor block (trap 9.13).
    pub login: LoginInfo,
    /// Meaning unknown; 0.
    pub unknown: u16,
    /// The user's privacy list ([`PrivacyInfo::allow_all`] when none).
    pub privacy: PrivacyInfo,
    /// The user's status, normally [`UserStatus::active`].
    pub status: UserStatus,
}

impl LoginAck {
    /// The usual ACK: the login, allow everyone, available.
    pub fn new(login: LoginInfo) -> Self {
        Self { login, unknown: 0, privacy: PrivacyInfo::allow_all(), status: UserStatus::active() }
    }
}

impl Block for LoginAck {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            login: LoginInfo::read(r)?,
            unknown: r.u16("login ack unknown")?,
            privacy: PrivacyInfo::read(r)?,
            status: UserStatus::read(r)?,
        })
    }

    fn write(&self, w: &mut Writer) {
        self.login.write(w);
        w.u16(self.unknown);
        self.privacy.write(w);
        self.status.write(w);
    }
}

/// S→C LOGIN_REDIRECT (§4.13): log in at `host` instead.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoginRedirect {
    /// Host to connect to (same port).
    pub host: String,
    /// Id of that server.
    pub server_id: String,
}

impl Block for LoginRedirect {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { host: r.string("redirect host")?, server_id: r.string("redirect server_id")? })
    }

    fn write(&self, w: &mut Writer) {
        w.str("redirect host", &self.host).str("redirect server_id", &self.server_id);
    }
}
