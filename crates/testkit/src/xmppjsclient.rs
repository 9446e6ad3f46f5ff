//! The scripted xmpp.js client (`xmppjsclient/xmppjs-client.mjs`): `@xmpp/client` from npm,
//! a second real XMPP client library next to slixmpp ([`crate::XmppClient`]), driven by
//! commands on stdin and reporting one event a line on stdout. It runs under Debian's node in
//! `e2e/`, whose `node_modules` (`npm ci --prefix e2e`, locked by `e2e/package-lock.json`)
//! hold the library. xmpp.js checks the server's certificate: the deployment's self-signed
//! one is given to node as `NODE_EXTRA_CA_CERTS` (xmpp.js passes no TLS options of its own).
//!
//! Commands ([`crate::Scripted::send`]): `presence [SHOW|-] [STATUS…]`, `message JID TEXT`,
//! `roster`, `join ROOM NICK`, `groupchat ROOM TEXT`, `leave ROOM NICK` (XEP-0045), `quit`.
//!
//! Events ([`crate::Scripted::expect`]):
//!
//! | event | when |
//! | --- | --- |
//! | `AUTH <mechanism>`, `FAILED_AUTH <mechanism> <condition>` | SASL (xmpp.js knows SCRAM-SHA-1 and PLAIN) |
//! | `SESSION_START <full jid>` | signed in and bound |
//! | `ERROR <condition>`, `OFFLINE` | the stream ended |
//! | `PRESENCE <bare jid> type=<available\|…> show=<> status=<>` | a presence |
//! | `MESSAGE <bare jid> <body>`, `MESSAGE_ERROR <bare jid> <condition>` | 1:1 messages |
//! | `ROSTER <jid> name=<> groups=<a,b> subscription=<>` … `ROSTER_END`, `ROSTER_PUSH <same>` | the roster |
//! | `INVITED <room> from=<>`, `OCCUPANT <room> <nick> type=<> jid=<> codes=<>`, `SUBJECT <room> <subject>`, `GROUPCHAT <room> <nick> <body>[ (delayed)]` | multi-user chat |
//! | `IQ_ERROR <command> <condition>` | a command failed |

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::XmppTransport;
use crate::scripted::{Harness, Scripted};

const HARNESS: Harness = Harness {
    name: "xmppjs-client",
    source: include_str!("../xmppjsclient/xmppjs-client.mjs"),
    pkg_config: &[],
    cache: "xmppjsclient",
    packages_hint: "the scripted xmpp.js client needs node and `npm ci --prefix e2e` (as \
     scripts/test does)",
    debug_hint: "xmpp.js reports errors as ERROR lines; node's own go to stderr",
    expect_timeout: Duration::from_secs(10),
};

/// How the client signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmppJsMechanism {
    /// The first mechanism the server offers that xmpp.js knows (its own choice).
    Preferred,
    /// SASL PLAIN, whatever else is offered (a password or an LTPA token).
    Plain,
}

/// A running xmpp.js client: see the module documentation for its commands and events.
pub struct XmppJsClient(Scripted);

impl XmppJsClient {
    /// Starts a client signing in to `server` as `jid` with `password`, trusting the
    /// certificate in `certificate_pem` (a file) for the names `localhost` and `127.0.0.1`.
    /// Wait for `SESSION_START` (or `FAILED_AUTH`) with [`Scripted::expect`].
    ///
    /// # Panics
    ///
    /// If `node` cannot be run; without `npm ci --prefix e2e` the first expect fails with
    /// node's "Cannot find package '@xmpp/client'" in the stderr it reports.
    pub fn start(
        server: SocketAddr,
        jid: &str,
        password: &str,
        transport: XmppTransport,
        mechanism: XmppJsMechanism,
        certificate_pem: &Path,
    ) -> XmppJsClient {
        let mode = match transport {
            XmppTransport::StartTls => "starttls",
            XmppTransport::DirectTls => "direct",
        };
        let mechanism = match mechanism {
            XmppJsMechanism::Preferred => "any",
            XmppJsMechanism::Plain => "PLAIN",
        };
        let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e");
        let mut command = Command::new("node");
        command.current_dir(e2e).env("NODE_EXTRA_CA_CERTS", certificate_pem);
        command.args(["--input-type=module", "-e", HARNESS.source, jid, password]);
        command.arg(server.ip().to_string()).arg(server.port().to_string());
        command.args([mode, mechanism]);
        XmppJsClient(Scripted::spawn(&HARNESS, command))
    }
}

impl Deref for XmppJsClient {
    type Target = Scripted;

    fn deref(&self) -> &Scripted {
        &self.0
    }
}

impl DerefMut for XmppJsClient {
    fn deref_mut(&mut self) -> &mut Scripted {
        &mut self.0
    }
}
