//! The scripted libmeanwhile client (`vp-mwclient`, spec `vp-protocol.md` §12.3): a small C
//! program on Debian's libmeanwhile, the library inside Pidgin's Sametime plugin, so that VP
//! tests exercise the protocol code stock clients really run rather than our own reading of
//! the spec.
//!
//! The C source lives in `crates/testkit/mwclient/vp-mwclient.c` and is compiled by the tests
//! themselves (gcc, `pkg-config --cflags --libs meanwhile glib-2.0`), at most once per test
//! process, into `<target dir>/mwclient/`. The binary's name carries a hash of the source, so
//! an unchanged source is not compiled again by the next process and an edited one is.

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
    name: "vp-mwclient",
    source: include_str!("../mwclient/vp-mwclient.c"),
    pkg_config: &["meanwhile", "glib-2.0"],
    cache: "mwclient",
    packages_hint: "the scripted libmeanwhile client needs Debian's packages \
     libmeanwhile-dev libglib2.0-dev pkg-config gcc (apt-get install them, as scripts/test \
     does; never a self-built meanwhile: vp-protocol.md 12.1)",
    debug_hint: "MWCLIENT_DEBUG=1 logs libmeanwhile",
    expect_timeout: Duration::from_secs(10),
};

/// How a [`MwClient`] logs in, beyond user id and password.
#[derive(Debug, Clone)]
pub struct MwOptions {
    /// Log in with auth type 1 and this token (`str token` as auth data, spec §4.6 item 2):
    /// the client rewrites libmeanwhile's password LOGIN on its way out, since libmeanwhile
    /// 1.1.1 cannot send one itself.
    pub token: Option<String>,
    /// Register the RC2/40 and RC2/128 channel ciphers, as Pidgin does (encrypted IM);
    /// `false` gives plaintext IM. The login itself is encrypted either way.
    pub ciphers: bool,
    /// Accept every conference invitation at once instead of waiting for `chat_accept`.
    pub auto_accept: bool,
}

impl Default for MwOptions {
    /// Password login, ciphers registered (like Pidgin), invitations left to `chat_accept`.
    fn default() -> MwOptions {
        MwOptions { token: None, ciphers: true, auto_accept: false }
    }
}

/// A running `vp-mwclient` connected to a VP server: commands go to its stdin, events come
/// back one line each.
///
/// Commands ([`Scripted::send`]): `watch USER`, `unwatch USER`, `status 0xSTATUS TEXT`,
/// `im USER TEXT` (opens the conversation if needed and sends once it is open),
/// `chat_create TOPIC`, `chat_invite USER TEXT`, `chat_say TEXT`, `chat_typing 0|1`,
/// `chat_leave`, `chat_accept`, `save KEY TEXT`, `save_blist USER…` (a Sametime buddy list
/// with group "Buddies", saved as key 0), `load KEY`, `resolve NAME`, `file_send USER PATH
/// [CANCEL_AFTER]` (offers the file under its base name and sends it in 8192-byte chunks, each
/// after the acknowledgement of the one before, as Pidgin does; with CANCEL_AFTER it cancels
/// once that many bytes went), `file_accept PATH` (accepts the last file offered, writing it to
/// PATH), `file_decline` (declines it, 0x08000606 as Pidgin does), `keepalive`, `quit`.
/// Keys and statuses are decimal or `0x` hex. The chat commands act on the conference last
/// created or opened.
///
/// Events ([`Scripted::expect`]), codes in hex, control characters in texts escaped as `\n`,
/// `\r`, `\t`, `\xNN`:
///
/// | event | when |
/// | --- | --- |
/// | `LOGIN_SENT auth_type=0x0004` | the LOGIN went out: 0x0004 RC2/128, 0x0002 RC2/40 (the server's HANDSHAKE_ACK had no key), 0x0001 token |
/// | `LOGGED_IN user_id=… login_id=… community=… name=…` | the session is started |
/// | `STOPPED 0x80000211 <text>` | the session stopped (reason, `mwError` text); the process then exits, 0 for reason 0, else 1 |
/// | `DISCONNECTED [why]` | the connection failed or the server closed it (then `STOPPED 0x80000221 …` if a session was running) |
/// | `PRESENCE <user> online=<0/1> status=0x0060 msg=<text>` | an awareness snapshot of a watched user |
/// | `IM_OPENED <user>`, `IM_CLOSED <user> 0x…`, `IM <user> <text>`, `TYPING <user> <0/1>` | IM; also `IM_HTML`, `IM_SUBJECT`, `IM_MIME`, `IM_TIMESTAMP` for NotesBuddy parts |
/// | `CHAT_INVITED <name> from=<user> text=<…>`, `CHAT_OPENED <name> members=<u1,u2>`, `CHAT_JOINED <user>`, `CHAT_LEFT <user>`, `CHAT <user> <text>`, `CHAT_TYPING <user> <0/1>`, `CHAT_CLOSED 0x… <name>` | conferences |
/// | `STORED key=0x… result=0x…`, `LOADED key=0x… result=0x… value=<text>` | storage |
/// | `RESOLVED <query> id=<id> name=<name>`, `UNRESOLVED <query> code=0x…` | resolve |
/// | `ATTRIBUTE <user> key=0x6 value=<0/1>` | a watched user's file transfer attribute (watched, as Pidgin watches it) |
/// | `FILE_OFFERED <user> name=<name> size=<n>` | a file offered to this client |
/// | `FILE_OPENED <user>` | a transfer was accepted (either way) |
/// | `FILE_SENT <user> name=<name> size=<n>`, `FILE_RECEIVED <user> name=<name> size=<n> path=<path>` | a transfer ended whole, before its `FILE_CLOSED` |
/// | `FILE_CLOSED <user> 0x<code> remaining=<n>` | a transfer ended: code 0 done or cancelled, 0x08000606 declined, others refused |
/// | `ADMIN <text>`, `ANNOUNCE from=<user> may_reply=<0/1> text=<…>`, `REDIRECT <host>` | server messages |
/// | `ERROR <text>` | a command the harness could not carry out (usage, no chat, not connected) |
///
/// `MWCLIENT_DEBUG=1` in the test's environment makes the client log libmeanwhile's messages
/// to stderr; the last of those lines are in every panic message of this type.
///
/// Dropping it kills the process.
#[derive(Debug)]
pub struct MwClient {
    /// The running client.
    process: Scripted,
}

impl MwClient {
    /// Starts a client logging in to `server` as `user` with `password`, with the default
    /// [`MwOptions`]: ciphers registered, password login.
    ///
    /// # Panics
    ///
    /// If the client cannot be built (see [`MwClient::binary`]) or started.
    pub fn start(server: SocketAddr, user: &str, password: &str) -> MwClient {
        MwClient::start_with(server, user, password, &MwOptions::default())
    }

    /// Starts a client logging in to `server` as `user` with `password` and `options`. It
    /// connects and sends the HANDSHAKE at once; wait for `LOGGED_IN` (or `STOPPED`) with
    /// [`Scripted::expect`].
    ///
    /// # Panics
    ///
    /// If the client cannot be built (see [`MwClient::binary`]) or started.
    pub fn start_with(
        server: SocketAddr,
        user: &str,
        password: &str,
        options: &MwOptions,
    ) -> MwClient {
        let mut command = Command::new(MwClient::binary());
        command.arg(server.ip().to_string()).arg(server.port().to_string()).arg(user).arg(password);
        if let Some(token) = &options.token {
            command.arg("--token").arg(token);
        }
        if !options.ciphers {
            command.arg("--no-cipher");
        }
        if options.auto_accept {
            command.arg("--auto-accept");
        }
        MwClient { process: Scripted::spawn(&HARNESS, command) }
    }

    /// The compiled client, built on first use in this process (see the module
    /// documentation). Tests need not call it; [`MwClient::start`] does.
    ///
    /// # Panics
    ///
    /// If pkg-config, gcc, or libmeanwhile's or glib's headers are missing (the message names
    /// the Debian packages), or gcc fails (the message has its output).
    pub fn binary() -> &'static Path {
        static BINARY: OnceLock<PathBuf> = OnceLock::new();
        BINARY.get_or_init(|| HARNESS.build())
    }
}

/// The commands, events and waits of every scripted client ([`Scripted::send`],
/// [`Scripted::expect`], ...).
impl Deref for MwClient {
    type Target = Scripted;

    fn deref(&self) -> &Scripted {
        &self.process
    }
}

impl DerefMut for MwClient {
    fn deref_mut(&mut self) -> &mut Scripted {
        &mut self.process
    }
}
