//! The scripted XMPP client (`xmppclient/xmpp-client.py`): slixmpp, Debian's
//! `python3-slixmpp`, a real XMPP client library, driven by commands on stdin and reporting
//! one event a line on stdout. It runs under Debian's `/usr/bin/python3`, where the package
//! installs slixmpp (a `python3` earlier on the PATH may not have it).
//!
//! Commands ([`Scripted::send`]): `presence [SHOW|-] [STATUS…]`, `message JID TEXT`,
//! `chatstate JID composing|paused|active`, `roster`, `roster_set JID NAME|- GROUP,GROUP`,
//! `roster_remove JID`, `subscribe JID`, `ping`, `disco`, `vcard [JID]`, `vcard4 [pep] [JID]`
//! (XEP-0292, asked for directly or as the PEP node), `carbons` (enable
//! XEP-0280), `join ROOM NICK`, `groupchat ROOM TEXT`, `invite ROOM JID`, `leave ROOM NICK`
//! (XEP-0045), `raw XML`, `quit`; with stream management ([`XmppClient::start_resumable`]):
//! `drop` (the connection is cut: no `</stream>`, no TLS close), `resume_as ID [HANDLED]` (the
//! next `reconnect` resumes the session of that id instead of the client's own, having handled
//! that many of its stanzas), `reconnect`, `sm_handled` (how many stanzas the client handled).
//!
//! Events ([`Scripted::expect`]):
//!
//! | event | when |
//! | --- | --- |
//! | `SESSION_START <full jid>` | signed in and bound |
//! | `AUTH <mechanism>` | SASL succeeded (the server's SCRAM signature checked by slixmpp) |
//! | `FAILED_AUTH` | SASL refused the credentials (slixmpp then tries its next mechanism) |
//! | `STREAM_ERROR <condition> <text>`, `DISCONNECTED <why>` | the stream ended |
//! | `PRESENCE <bare jid> type=available\|unavailable\|subscribed… show=<show> status=<text>` | a presence |
//! | `MESSAGE <bare jid> <body>`, `CHATSTATE <bare jid> <state>`, `MESSAGE_ERROR <bare jid> <condition>` | messages |
//! | `HEADLINE <from jid> subject=<subject> body=<body>` | a headline message (an announcement) |
//! | `ROSTER <jid> name=<> groups=<a,b> subscription=<>` … `ROSTER_END` | the answer to `roster` |
//! | `ROSTER_PUSH <jid> name=<> groups=<> subscription=<>`, `ROSTER_SET <jid>`, `ROSTER_REMOVED <jid>` | roster changes |
//! | `PONG ok`, `DISCO identities=<category/type,…> features=<…>` | answers |
//! | `VCARD <jid> FN=<> TITLE=<> EMAIL/USERID=<> TEL/NUMBER=<> ADR/LOCALITY=<>` | a vCard (fields it has) |
//! | `VCARD4 <jid> fn/text=<> title/text=<> email/text=<> tel/text=<> adr/locality=<>` | a vCard 4 (fields it has) |
//! | `INVITED <room> from=<bare jid> reason=<>`, `OCCUPANT <room> <nick> type=available\|unavailable jid=<real bare jid> codes=<110,…>`, `SUBJECT <room> <subject>`, `LEFT <room> <nick>`, `GROUPCHAT <room> <nick> <body>[ (delayed)]` | multi-user chat |
//! | `CARBONS_ON`, `CARBON_SENT <to bare jid> <body>` | carbons enabled; a copy of a message the user sent elsewhere |
//! | `SM_ENABLED <id> resume=true\|false max=<seconds>`, `RESUMED`, `SM_FAILED <condition…>`, `SM_HANDLED <count>` | stream management (XEP-0198): enabled, a session resumed, a resumption refused |
//! | `IQ_ERROR <command> <condition>`, `IQ_TIMEOUT <command>`, `ERROR <text>` | failures |

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::process::Command;
use std::time::Duration;

use crate::scripted::{Harness, Scripted};

const HARNESS: Harness = Harness {
    name: "xmpp-client",
    source: include_str!("../xmppclient/xmpp-client.py"),
    pkg_config: &[],
    cache: "xmppclient",
    packages_hint: "the scripted XMPP client needs Debian's python3-slixmpp (apt-get install \
     it, as scripts/test does)",
    debug_hint: "slixmpp logs to stderr",
    expect_timeout: Duration::from_secs(10),
};

/// How the client starts TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmppTransport {
    /// STARTTLS on the plain port (5222).
    StartTls,
    /// TLS from the first byte (XEP-0368, port 5223).
    DirectTls,
}

/// A running slixmpp client: see the module documentation for its commands and events.
pub struct XmppClient(Scripted);

impl XmppClient {
    /// Starts a client signing in to `server` as `jid` with `password` (the self-signed
    /// certificate of a test deployment is accepted). Wait for `SESSION_START` (or
    /// `FAILED_AUTH`) with [`Scripted::expect`].
    ///
    /// # Panics
    ///
    /// If `/usr/bin/python3` cannot be run (install Debian's python3-slixmpp, as scripts/test
    /// does).
    pub fn start(
        server: SocketAddr,
        jid: &str,
        password: &str,
        transport: XmppTransport,
    ) -> XmppClient {
        Self::launch(server, jid, password, transport, false)
    }

    /// Starts a client as [`XmppClient::start`] does, with stream management and resumption
    /// (slixmpp's XEP-0198 plugin): it reports `SM_ENABLED` after `SESSION_START`, and takes
    /// `drop`, `resume_as` and `reconnect`.
    ///
    /// # Panics
    ///
    /// As [`XmppClient::start`].
    pub fn start_resumable(
        server: SocketAddr,
        jid: &str,
        password: &str,
        transport: XmppTransport,
    ) -> XmppClient {
        Self::launch(server, jid, password, transport, true)
    }

    fn launch(
        server: SocketAddr,
        jid: &str,
        password: &str,
        transport: XmppTransport,
        resumable: bool,
    ) -> XmppClient {
        let mode = match transport {
            XmppTransport::StartTls => "starttls",
            XmppTransport::DirectTls => "direct",
        };
        let mut command = Command::new("/usr/bin/python3");
        command.arg("-u").arg("-c").arg(HARNESS.source);
        if resumable {
            command.arg("--sm");
        }
        command.arg(jid).arg(password);
        command.arg(server.ip().to_string()).arg(server.port().to_string()).arg(mode);
        // Without slixmpp the first expect fails with Python's ModuleNotFoundError in the
        // stderr it reports.
        XmppClient(Scripted::spawn(&HARNESS, command))
    }
}

impl Deref for XmppClient {
    type Target = Scripted;

    fn deref(&self) -> &Scripted {
        &self.0
    }
}

impl DerefMut for XmppClient {
    fn deref_mut(&mut self) -> &mut Scripted {
        &mut self.0
    }
}
