//! Status values shared by every front door, and how one user's sessions
//! combine into the presence others see.
//!
//! The values are the product contract's: `available`, `away`, `dnd`,
//! `in_meeting`, `offline`, plus an idle flag and a free-text message.
//! A user logged in several times shows the *most available* of their
//! sessions, as Sametime does. Availability follows the order of the
//! Sametime VP status codes, where a lower code is more available:
//!
//! | status | Sametime code | XMPP `<show/>` |
//! | --- | --- | --- |
//! | available | `0x0020` active | (none) |
//! | available, idle | `0x0040` idle | `away` |
//! | in_meeting | `0x005A` in a meeting | `dnd` |
//! | away | `0x0060` away | `away` |
//! | dnd | `0x0080` do not disturb | `dnd` |
//! | offline | (not online) | `unavailable` presence |
//!
//! From an XMPP client, `chat` is available and `xa` away.
//! From a Sametime client, `0x0008` (in a meeting, as Wireshark names it)
//! is taken as in_meeting too, the mobile flag `0x0200` is ignored, and an
//! unknown code is available (as Pidgin shows one).

use serde::{Deserialize, Serialize};

const SAMETIME_ACTIVE: u16 = 0x0020;
const SAMETIME_IDLE: u16 = 0x0040;
const SAMETIME_IN_MEETING: u16 = 0x005A;
/// What Wireshark calls "in a meeting"; read, never written.
const SAMETIME_IN_MEETING_WIRESHARK: u16 = 0x0008;
const SAMETIME_AWAY: u16 = 0x0060;
const SAMETIME_DND: u16 = 0x0080;
const SAMETIME_MOBILE: u16 = 0x0200;

/// What a user says about their availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Ready to chat.
    Available,
    /// Away from the keyboard.
    Away,
    /// Do not disturb.
    Dnd,
    /// In a meeting.
    InMeeting,
    /// Not logged in anywhere (never set by a client; what others see).
    Offline,
}

impl Status {
    /// The contract's name (`available`, `away`, `dnd`, `in_meeting`, `offline`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Away => "away",
            Self::Dnd => "dnd",
            Self::InMeeting => "in_meeting",
            Self::Offline => "offline",
        }
    }
}

impl std::str::FromStr for Status {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "available" => Ok(Self::Available),
            "away" => Ok(Self::Away),
            "dnd" => Ok(Self::Dnd),
            "in_meeting" => Ok(Self::InMeeting),
            "offline" => Ok(Self::Offline),
            _ => Err(UnknownStatus(text.to_owned())),
        }
    }
}

/// A status name that is not one of the contract's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}: use available, away, dnd, in_meeting or offline")]
pub struct UnknownStatus(pub String);

/// Longest status message kept, in characters (longer ones are cut).
pub const MAX_MESSAGE_CHARS: usize = 256;

/// The presence of one session, or of a user as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// The status.
    pub status: Status,
    /// Whether the user has been idle (no input) for a while.
    pub idle: bool,
    /// Free-text status message ("In Berlin until Friday").
    pub message: String,
}

impl Presence {
    /// A fresh session: available, not idle, no message.
    pub fn available() -> Self {
        Self::new(Status::Available, false, "")
    }

    /// What others see of a user with no session.
    pub fn offline() -> Self {
        Self::new(Status::Offline, false, "")
    }

    /// A presence; the message is trimmed and cut to [`MAX_MESSAGE_CHARS`].
    pub fn new(status: Status, idle: bool, message: &str) -> Self {
        Self {
            status,
            idle: idle && status != Status::Offline,
            message: message.trim().chars().take(MAX_MESSAGE_CHARS).collect(),
        }
    }

    /// The Sametime VP status code of this presence (the table above);
    /// offline has none on the wire (an awareness entry says `online = 0`)
    /// and is `0`.
    pub fn sametime_code(&self) -> u16 {
        match (self.status, self.idle) {
            (Status::Available, false) => SAMETIME_ACTIVE,
            (Status::Available, true) => SAMETIME_IDLE,
            (Status::InMeeting, _) => SAMETIME_IN_MEETING,
            (Status::Away, _) => SAMETIME_AWAY,
            (Status::Dnd, _) => SAMETIME_DND,
            (Status::Offline, _) => 0,
        }
    }

    /// The presence a Sametime client sets with `code` and `message`.
    pub fn from_sametime(code: u16, message: &str) -> Self {
        let (status, idle) = match code & !SAMETIME_MOBILE {
            SAMETIME_IDLE => (Status::Available, true),
            SAMETIME_IN_MEETING | SAMETIME_IN_MEETING_WIRESHARK => (Status::InMeeting, false),
            SAMETIME_AWAY => (Status::Away, false),
            SAMETIME_DND => (Status::Dnd, false),
            _ => (Status::Available, false),
        };
        Self::new(status, idle, message)
    }

    /// The XMPP `<show/>` of this presence (the table above): none for
    /// available (and offline, which is an `unavailable` presence).
    pub fn xmpp_show(&self) -> Option<&'static str> {
        match (self.status, self.idle) {
            (Status::Available, false) | (Status::Offline, _) => None,
            (Status::Available, true) | (Status::Away, _) => Some("away"),
            (Status::InMeeting, _) | (Status::Dnd, _) => Some("dnd"),
        }
    }

    /// The presence an XMPP client sets with `show` (`chat`, `away`, `xa`,
    /// `dnd` or none) and `message`: `chat` is available and `xa`
    /// (extended away) away; `dnd` stays do not disturb.
    pub fn from_xmpp(show: Option<&str>, message: &str) -> Self {
        let status = match show {
            Some("away" | "xa") => Status::Away,
            Some("dnd") => Status::Dnd,
            _ => Status::Available,
        };
        Self::new(status, false, message)
    }

    /// Availability rank, higher is more available (Sametime code order).
    fn rank(&self) -> u8 {
        match (self.status, self.idle) {
            (Status::Available, false) => 5,
            (Status::Available, true) => 4,
            (Status::InMeeting, _) => 3,
            (Status::Away, _) => 2,
            (Status::Dnd, _) => 1,
            (Status::Offline, _) => 0,
        }
    }

    /// The presence others see of a user with these sessions: the most
    /// available one (the first of equals), or offline when there are none.
    pub fn most_available<'a>(sessions: impl IntoIterator<Item = &'a Presence>) -> Presence {
        sessions
            .into_iter()
            .fold(None::<&Presence>, |best, p| match best {
                Some(b) if b.rank() >= p.rank() => Some(b),
                _ => Some(p),
            })
            .cloned()
            .unwrap_or_else(Presence::offline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_available_session_wins() {
        let away = Presence::new(Status::Away, false, "lunch");
        let dnd = Presence::new(Status::Dnd, false, "focus");
        let idle = Presence::new(Status::Available, true, "");
        let meeting = Presence::new(Status::InMeeting, false, "standup");
        assert_eq!(Presence::most_available([&dnd, &away]), away);
        assert_eq!(Presence::most_available([&away, &idle, &meeting]), idle);
        assert_eq!(Presence::most_available([&dnd, &meeting]), meeting);
        assert_eq!(Presence::most_available([]), Presence::offline());
    }

    #[test]
    fn names_round_trip_and_unknown_is_explained() {
        for status in
            [Status::Available, Status::Away, Status::Dnd, Status::InMeeting, Status::Offline]
        {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        let err = "busy".parse::<Status>().unwrap_err();
        assert!(err.to_string().contains("use available, away"));
    }

    #[test]
    fn xmpp_shows_map_both_ways_where_xmpp_has_the_status() {
        for (status, idle, show) in [
            (Status::Available, false, None),
            (Status::Available, true, Some("away")),
            (Status::InMeeting, false, Some("dnd")),
            (Status::Away, false, Some("away")),
            (Status::Dnd, false, Some("dnd")),
            (Status::Offline, false, None),
        ] {
            assert_eq!(Presence::new(status, idle, "").xmpp_show(), show, "{status:?}");
        }
        for (show, status) in [
            (None, Status::Available),
            (Some("chat"), Status::Available),
            (Some("away"), Status::Away),
            (Some("xa"), Status::Away),
            (Some("dnd"), Status::Dnd),
        ] {
            assert_eq!(Presence::from_xmpp(show, "note"), Presence::new(status, false, "note"));
        }
    }

    #[test]
    fn sametime_codes_map_both_ways() {
        for (status, idle, code) in [
            (Status::Available, false, 0x0020),
            (Status::Available, true, 0x0040),
            (Status::InMeeting, false, 0x005A),
            (Status::Away, false, 0x0060),
            (Status::Dnd, false, 0x0080),
        ] {
            let presence = Presence::new(status, idle, "note");
            assert_eq!(presence.sametime_code(), code);
            assert_eq!(Presence::from_sametime(code, "note"), presence);
        }
        assert_eq!(Presence::from_sametime(0x0260, "").status, Status::Away, "mobile flag");
        assert_eq!(Presence::from_sametime(0x0008, "").status, Status::InMeeting);
        assert_eq!(Presence::from_sametime(0x1234, "").status, Status::Available);
        assert_eq!(Presence::offline().sametime_code(), 0);
    }

    #[test]
    fn messages_are_trimmed_and_bounded() {
        let long = "x".repeat(1000);
        assert_eq!(Presence::new(Status::Away, false, &long).message.len(), MAX_MESSAGE_CHARS);
        assert_eq!(Presence::new(Status::Away, false, "  hi \n").message, "hi");
        assert!(!Presence::new(Status::Offline, true, "").idle);
    }
}
