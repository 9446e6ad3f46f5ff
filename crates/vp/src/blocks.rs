//! The compound blocks of spec §2.2 (houri draft §8.2): login info, user
//! items, privacy lists, user status, id blocks, awareness snapshots and
//! cipher items.
//!
//! Text fields follow one rule: identities (ids, communities, login and
//! server ids) must be UTF-8 and a block with a bad one is refused;
//! display names and descriptions are free text and have invalid bytes
//! replaced (see [`Reader::text`]). A `str` of length 0 is "absent" on
//! the wire and is the empty `String` here: libmeanwhile treats the two
//! alike (trap 9.3).

use crate::encoding::{Block, DecodeError, Reader, Writer};

/// One logged-in client ("8.2.1 Login Info block").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoginInfo {
    /// Identifies this one login: unique, at least 5 bytes (RC2/40 channel
    /// keys are its first 5 bytes, §5.6), the same wherever it appears.
    pub login_id: String,
    /// Client type (§3.3), e.g. 0x1700 for Meanwhile.
    pub login_type: u16,
    /// Canonical user id (§7).
    pub user_id: String,
    /// Display name.
    pub user_name: String,
    /// Community; empty for local users (trap 9.4).
    pub community: String,
    /// The optional tail (`full = 1`).
    pub details: Option<LoginDetails>,
}

/// The fields of a [`LoginInfo`] present only when its `full` flag is set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoginDetails {
    /// Free-form description.
    pub desc: String,
    /// IPv4 address of the login, 0 if unknown.
    pub ip_addr: u32,
    /// Id of the server holding the login.
    pub server_id: String,
}

impl Block for LoginInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let login_id = r.string("login_id")?;
        let login_type = r.u16("login_type")?;
        let user_id = r.string("user_id")?;
        let user_name = r.text("user_name")?;
        let community = r.string("community")?;
        let details = if r.bool("login full")? {
            Some(LoginDetails {
                desc: r.text("login desc")?,
                ip_addr: r.u32("ip_addr")?,
                server_id: r.string("server_id")?,
            })
        } else {
            None
        };
        Ok(Self { login_id, login_type, user_id, user_name, community, details })
    }

    fn write(&self, w: &mut Writer) {
        w.str("login_id", &self.login_id)
            .u16(self.login_type)
            .str("user_id", &self.user_id)
            .str("user_name", &self.user_name)
            .str("community", &self.community)
            .bool(self.details.is_some());
        if let Some(details) = &self.details {
            w.str("login desc", &details.desc)
                .u32(details.ip_addr)
                .str("server_id", &details.server_id);
        }
    }
}

/// A user in a privacy list: `bool full, str id, str community, [str name]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserItem {
    /// User id.
    pub id: String,
    /// Community (empty for local users).
    pub community: String,
    /// Display name, present when the `full` flag is set.
    pub name: Option<String>,
}

impl Block for UserItem {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let full = r.bool("user full")?;
        let id = r.string("user id")?;
        let community = r.string("user community")?;
        let name = if full { Some(r.text("user name")?) } else { None };
        Ok(Self { id, community, name })
    }

    fn write(&self, w: &mut Writer) {
        w.bool(self.name.is_some()).str("user id", &self.id).str("user community", &self.community);
        if let Some(name) = &self.name {
            w.str("user name", name);
        }
    }
}

/// A privacy list (§4.11): `bool deny, u32 count, UserItem × count`.
///
/// `deny = true`: the listed users are blocked (empty = allow everyone).
/// `deny = false`: only the listed users are allowed (empty = allow
/// nobody). libmeanwhile reverses the order; treat the list as a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyInfo {
    /// Whether the list blocks (true) or allows (false) its users.
    pub deny: bool,
    /// The listed users.
    pub users: Vec<UserItem>,
}

impl PrivacyInfo {
    /// "Allow everyone": `deny = true` with nobody listed, what the server
    /// sends when the user stored no list (§4.7).
    pub fn allow_all() -> Self {
        Self { deny: true, users: Vec::new() }
    }
}

impl Default for PrivacyInfo {
    fn default() -> Self {
        Self::allow_all()
    }
}

/// Smallest UserItem: flag and two empty strings.
const MIN_USER_ITEM: usize = 5;

impl Block for PrivacyInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let deny = r.bool("privacy deny")?;
        let count = r.count("privacy users", MIN_USER_ITEM)?;
        let users = (0..count).map(|_| UserItem::read(r)).collect::<Result<_, _>>()?;
        Ok(Self { deny, users })
    }

    fn write(&self, w: &mut Writer) {
        w.bool(self.deny).count("privacy users", self.users.len());
        for user in &self.users {
            user.write(w);
        }
    }
}

/// A user's status (§4.10): `u16 status, u32 time, str desc`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserStatus {
    /// Status value, one of the constants below, maybe with [`Self::MOBILE`].
    pub status: u16,
    /// Idle-since time (libmeanwhile ignores it on receipt).
    pub time: u32,
    /// The status message.
    pub desc: String,
}

impl UserStatus {
    /// Available.
    pub const ACTIVE: u16 = 0x0020;
    /// Available and idle.
    pub const IDLE: u16 = 0x0040;
    /// Away.
    pub const AWAY: u16 = 0x0060;
    /// Busy: do not disturb.
    pub const BUSY: u16 = 0x0080;
    /// In a meeting (known from Wireshark only; Pidgin shows it as available).
    pub const MEETING: u16 = 0x0008;
    /// Offline (on the wire, offline is an awareness entry with `online = 0`).
    pub const OFFLINE: u16 = 0x0000;
    /// Flag combined with the above for mobile logins; strip it on input.
    pub const MOBILE: u16 = 0x0200;

    /// Available, no message: what a fresh login holds.
    pub fn active() -> Self {
        Self { status: Self::ACTIVE, time: 0, desc: String::new() }
    }

    /// The status without the mobile flag.
    pub fn base(&self) -> u16 {
        self.status & !Self::MOBILE
    }
}

impl Block for UserStatus {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            status: r.u16("status")?,
            time: r.u32("status time")?,
            desc: r.text("status desc")?,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.u16(self.status).u32(self.time).str("status desc", &self.desc);
    }
}

/// A user and community: `str user, str community`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct IdBlock {
    /// User id.
    pub user: String,
    /// Community (empty for local users).
    pub community: String,
}

impl IdBlock {
    /// A local user (empty community).
    pub fn user(user: impl Into<String>) -> Self {
        Self { user: user.into(), community: String::new() }
    }
}

impl Block for IdBlock {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { user: r.string("id user")?, community: r.string("id community")? })
    }

    fn write(&self, w: &mut Writer) {
        w.str("id user", &self.user).str("id community", &self.community);
    }
}

/// What awareness watches: `u16 type, str user, str community`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AwareIdBlock {
    /// [`Self::USER`], [`Self::GROUP`] or [`Self::SERVER`].
    pub kind: u16,
    /// User or group id.
    pub user: String,
    /// Community (empty for local users).
    pub community: String,
}

impl AwareIdBlock {
    /// A user.
    pub const USER: u16 = 0x0002;
    /// A server-side group.
    pub const GROUP: u16 = 0x0003;
    /// A server.
    pub const SERVER: u16 = 0x0008;

    /// A local user (empty community).
    pub fn user(user: impl Into<String>) -> Self {
        Self { kind: Self::USER, user: user.into(), community: String::new() }
    }
}

/// Smallest AwareIdBlock: type and two empty strings.
pub(crate) const MIN_AWARE_ID: usize = 6;

impl Block for AwareIdBlock {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            kind: r.u16("aware type")?,
            user: r.string("aware user")?,
            community: r.string("aware community")?,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.u16(self.kind).str("aware user", &self.user).str("aware community", &self.community);
    }
}

/// One presence entry (houri "8.4.2.4 Snapshot").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwareSnapshot {
    /// Exactly the id the client watches (§6.1), or libmeanwhile drops it.
    pub id: AwareIdBlock,
    /// The group this entry was reached through; empty normally.
    pub group: String,
    /// Present when the user is online.
    pub online: Option<OnlineInfo>,
}

/// The fields of an [`AwareSnapshot`] of an online user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OnlineInfo {
    /// The user id again.
    pub alt_id: String,
    /// Current status.
    pub status: UserStatus,
    /// Display name.
    pub name: String,
}

/// Smallest snapshot: block length, id, empty group, online flag.
pub(crate) const MIN_SNAPSHOT: usize = 4 + MIN_AWARE_ID + 2 + 1;

impl Block for AwareSnapshot {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let start = r.position();
        let block_len = r.u32("snapshot block_len")?;
        let id = AwareIdBlock::read(r)?;
        let group = r.string("snapshot group")?;
        let online = if r.bool("snapshot online")? {
            Some(OnlineInfo {
                alt_id: r.string("snapshot alt_id")?,
                status: UserStatus::read(r)?,
                name: r.text("snapshot name")?,
            })
        } else {
            None
        };
        // The spec's writers put the entry's own length here. A longer
        // value means fields this reader does not know: skip them, within
        // the input (libmeanwhile reads it as an offset and only ever
        // skips forward too).
        let end = start.saturating_add(usize::try_from(block_len).unwrap_or(usize::MAX));
        if end > r.position() {
            let skip = (end - r.position()).min(r.remaining());
            r.skip(skip, "snapshot trailing fields")?;
        }
        Ok(Self { id, group, online })
    }

    fn write(&self, w: &mut Writer) {
        // block_len is the entry's length including its own four bytes: never
        // more than the entry's end offset, so libmeanwhile never skips (§2.2).
        let start = w.len();
        w.u32(0);
        self.id.write(w);
        w.str("snapshot group", &self.group).bool(self.online.is_some());
        if let Some(online) = &self.online {
            w.str("snapshot alt_id", &online.alt_id);
            online.status.write(w);
            w.str("snapshot name", &online.name);
        }
        let len = w.len() - start;
        // An entry is at most three u16-length strings, two u16 strings more
        // and a few integers: always far below u32::MAX.
        w.patch_u32(start, u32::try_from(len).unwrap_or(u32::MAX));
    }
}

/// A cipher in an encryption offer or choice: `u16 cipher, opaque info`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncryptItem {
    /// [`Self::RC2_40`] or [`Self::RC2_128`].
    pub cipher: u16,
    /// Empty for RC2/40; the offering client's 64-byte DH public key for RC2/128.
    pub info: Vec<u8>,
}

impl EncryptItem {
    /// RC2 with a 5-byte key from the login ids (§5.6).
    pub const RC2_40: u16 = 0x0000;
    /// RC2 with a 16-byte key from a Diffie-Hellman exchange (§5.6).
    pub const RC2_128: u16 = 0x0001;
}

/// Smallest EncryptItem: cipher id and an empty opaque.
pub(crate) const MIN_ENCRYPT_ITEM: usize = 6;

impl Block for EncryptItem {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { cipher: r.u16("cipher id")?, info: r.opaque("cipher info")?.to_vec() })
    }

    fn write(&self, w: &mut Writer) {
        w.u16(self.cipher).opaque("cipher info", &self.info);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hex;

    #[test]
    fn login_info_layout() {
        let info = LoginInfo {
            login_id: "L00000001".into(),
            login_type: 0x1700,
            user_id: "alice".into(),
            user_name: "Alice".into(),
            community: String::new(),
            details: Some(LoginDetails {
                desc: "desc".into(),
                ip_addr: 0x7f00_0001,
                server_id: "proto-server".into(),
            }),
        };
        let bytes = hex(
            "00094c303030303030303117000005616c6963650005416c6963650000010004646573637f000001000c70726f746f2d736572766572",
        );
        assert_eq!(info.to_bytes().unwrap(), bytes);
        assert_eq!(LoginInfo::from_bytes(&bytes).unwrap(), info);
    }

    #[test]
    fn offline_snapshot_layout() {
        let snapshot =
            AwareSnapshot { id: AwareIdBlock::user("bob"), group: String::new(), online: None };
        let bytes = hex("000000100002000362 6f620000000000");
        assert_eq!(snapshot.to_bytes().unwrap(), bytes);
        assert_eq!(AwareSnapshot::from_bytes(&bytes).unwrap(), snapshot);
    }

    #[test]
    fn snapshot_skips_unknown_trailing_fields_within_block_len() {
        // block_len 18 announces two bytes this reader does not know.
        let bytes = hex("000000120002000362 6f620000000000 abcd ef");
        let mut r = Reader::new(&bytes);
        let snapshot = AwareSnapshot::read(&mut r).unwrap();
        assert_eq!(snapshot.id.user, "bob");
        assert_eq!(r.rest(), [0xef]);
    }

    #[test]
    fn privacy_default_allows_everyone() {
        assert_eq!(PrivacyInfo::default().to_bytes().unwrap(), hex("01 00000000"));
    }
}
