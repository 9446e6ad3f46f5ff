//! The headless Pidgin client (`vp-purpleclient`, spec `vp-protocol.md` §12.4): a small C
//! program in the manner of libpurple's `nullclient.c` that runs Pidgin's own Sametime plugin
//! (`prpl-meanwhile` from Debian's libpurple) without a UI, so that VP tests see what Pidgin
//! users see: its sign-on, its connection errors, its buddy list, its conversations.
//!
//! The C source lives in `crates/testkit/purpleclient/vp-purpleclient.c` and is compiled by the
//! tests themselves (gcc, `pkg-config --cflags --libs purple glib-2.0`), at most once per test
//! process, into `<target dir>/purpleclient/`. The binary's name carries a hash of the source,
//! so an unchanged source is not compiled again by the next process and an edited one is.

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::scripted::{Harness, Scripted};

/// The harness: its source, embedded so that the compiled binary always matches this crate,
/// its libraries, and what a missing package looks like to a developer (the fix, not just
/// the symptom).
const HARNESS: Harness = Harness {
    name: "vp-purpleclient",
    source: include_str!("../purpleclient/vp-purpleclient.c"),
    pkg_config: &["purple", "glib-2.0"],
    cache: "purpleclient",
    packages_hint: "the headless Pidgin client needs Debian's packages \
     libpurple-dev libglib2.0-dev pkg-config gcc (apt-get install them, as scripts/test does; \
     libpurple0 brings the prpl-meanwhile plugin)",
    debug_hint: "PURPLECLIENT_DEBUG=1 logs libpurple",
    expect_timeout: Duration::from_secs(20),
};

/// A running `vp-purpleclient`: Pidgin's Sametime plugin signed in to a VP server with its own
/// fresh profile directory; commands go to its stdin, events come back one line each.
///
/// Commands ([`Scripted::send`]): `im USER TEXT` (a new or existing IM conversation, then
/// `purple_conv_im_send`), `add NAME` (a buddy in group "Buddies", NAME may contain spaces: the
/// plugin resolves and watches it), `search_add N` (presses "Add" on row N, from 0, of the
/// search results last shown, as when a name resolves to someone else's id; the add-buddy
/// dialog that opens is confirmed at once), `can_send_file USER` (whether Pidgin would offer
/// "Send File" for the buddy USER: the plugin's `can_receive_file`), `send_file USER PATH`
/// (Pidgin's "Send File" with PATH chosen), `accept_files DIR` (offered files are saved in DIR
/// from then on, as the autoaccept plugin does; until then they are declined), `away TEXT`, `dnd TEXT`, `available` (saved
/// statuses), `chat TOPIC` (creates a conference), `invite USER [TEXT]` and `say TEXT` (in the
/// chat last joined), `quit` (disconnects and exits).
///
/// After a connection error the client does what Pidgin's UI does (`gtkconn.c`): a transient
/// error (`purple_connection_error_is_fatal` false: network and encryption errors) reconnects
/// after a delay, 1 s doubling up to 8 s (Pidgin: 8–60 s doubling up to 600 s); a fatal one
/// disables the account, so it does not connect again.
///
/// Events ([`Scripted::expect`]), control characters in texts escaped as `\n`, `\r`, `\t`,
/// `\xNN`, displayed texts with their markup stripped, flags as `PurpleMessageFlags` names
/// joined by `|` (`SEND`, `RECV`, `SYSTEM`, `ERROR`, …) or `0`:
///
/// | event | when |
/// | --- | --- |
/// | `SIGNED_ON`, `SIGNED_OFF` | the account's connection is up, or gone |
/// | `CONNECTION_ERROR <n> <text>` | libpurple's `connection-error`: the `PurpleConnectionError` number (0 network error, 2 authentication failed, 6 name in use, …) and the sentence Pidgin shows |
/// | `RECONNECT_IN <seconds>`, then `RECONNECTING` | after a transient error: the delay, and its end |
/// | `ACCOUNT_DISABLED` | after a fatal error: no reconnect |
/// | `BUDDY_STATUS <name> <status id> <message>` | a buddy's status changed (ids of the plugin: `active`, `away`, `dnd`, `offline`) |
/// | `BUDDY_SIGNED_ON <name> <status id> <message>`, `BUDDY_SIGNED_OFF <name>` | a buddy came online (libpurple reports no status change for it: the status it came with is here) or went offline |
/// | `IM <who> <text>` | a received IM as Pidgin displays it |
/// | `IM_LINE <who> <flags> <text>` | any other line of an IM conversation: the own sent lines (`SEND`), errors, system lines |
/// | `CHAT_INVITED <inviter> <chat> <text>` | an invitation, which the client accepts at once |
/// | `CHAT_JOINED <chat> <title>`, `CHAT_BUDDY_JOINED <name>`, `CHAT_BUDDY_LEFT <name>` | conferences |
/// | `CHAT_LINE <who> <flags> <text>` | a displayed chat line (a `SEND` line of one's own proves the server's echo) |
/// | `BUDDY_REMOVED <name>` | a buddy left the buddy list (the plugin removes one it could not resolve to exactly the name typed) |
/// | `SEARCH_RESULTS <text>`, then `SEARCH_ROW <n> <column> \| <column>…` per row | search results Pidgin would show (the plugin's "Select User": user name \| Sametime id) |
/// | `ADD_BUDDY_REQUEST <name> <alias>` | the plugin opened Pidgin's add-buddy dialog (confirmed at once) |
/// | `NOTIFY <ERROR\|WARNING\|INFO> <title> \| <primary> \| <secondary>` | a message box Pidgin would pop up |
/// | `CAN_SEND_FILE <name> <0/1>` | the answer to `can_send_file` |
/// | `FILE_OFFERED <who> <name> <size>` | a file offered to this client (then saved or declined) |
/// | `FILE_SENT <who> <name>`, `FILE_RECEIVED <who> <local path>`, `FILE_CANCELLED <who> <name>` | a transfer completed, or ended before |
/// | `ERROR <text>` | a command the harness could not carry out (usage, no chat, not connected) |
///
/// `PURPLECLIENT_DEBUG=1` in the test's environment sends libpurple's debug log to stderr; the
/// last of those lines are in every panic message of this type.
///
/// Dropping it kills the process and removes its profile directory.
#[derive(Debug)]
pub struct PurpleClient {
    /// The running client.
    process: Scripted,
    /// libpurple's profile directory, fresh for every client.
    _profile: tempfile::TempDir,
}

impl PurpleClient {
    /// Starts Pidgin's plugin signing in to `server` as `user` with `password`, with a fresh
    /// profile (no buddies, default preferences) and the available status. Wait for
    /// `SIGNED_ON` (or `CONNECTION_ERROR`) with [`Scripted::expect`].
    ///
    /// # Panics
    ///
    /// If the client cannot be built (see [`PurpleClient::binary`]) or started.
    pub fn start(server: SocketAddr, user: &str, password: &str) -> PurpleClient {
        let profile = tempfile::Builder::new()
            .prefix("simul-purple-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a libpurple profile directory: {e}"));
        let mut command = Command::new(PurpleClient::binary());
        command
            .arg(server.ip().to_string())
            .arg(server.port().to_string())
            .arg(user)
            .arg(password)
            .arg(profile.path());
        PurpleClient { process: Scripted::spawn(&HARNESS, command), _profile: profile }
    }

    /// The compiled client, built on first use in this process (see the module
    /// documentation). Tests need not call it; [`PurpleClient::start`] does.
    ///
    /// # Panics
    ///
    /// If pkg-config, gcc, or libpurple's or glib's headers are missing (the message names
    /// the Debian packages), or gcc fails (the message has its output).
    pub fn binary() -> &'static Path {
        static BINARY: OnceLock<PathBuf> = OnceLock::new();
        BINARY.get_or_init(|| HARNESS.build())
    }
}

/// The commands, events and waits of every scripted client ([`Scripted::send`],
/// [`Scripted::expect`], ...).
impl Deref for PurpleClient {
    type Target = Scripted;

    fn deref(&self) -> &Scripted {
        &self.process
    }
}

impl DerefMut for PurpleClient {
    fn deref_mut(&mut self) -> &mut Scripted {
        &mut self.process
    }
}
