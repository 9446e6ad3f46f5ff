//! XMPP sessions on the XMPP door (`[xmpp] listen`, `listen_tls`), made of
//! simul-testkit's raw XMPP client (TLS, SASL and stanzas by hand over
//! tokio-rustls): sign in by PLAIN (an LTPA token or a password) or
//! SCRAM-SHA-256, bind, send the initial presence, 1:1 messages.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, bail};
use simul_testkit::{RawXmpp, TlsResumption, XmppTransport};

/// Longest wait for the connection, TLS, SASL and the binding.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How a session signs in.
#[derive(Debug, Clone, Copy)]
pub enum Sasl<'a> {
    /// PLAIN with this secret: a password or an LtpaToken2.
    Plain(&'a str),
    /// SCRAM-SHA-256 with this password (users of the embedded realm).
    ScramSha256(&'a str),
}

/// One signed-in, bound and available XMPP connection.
pub struct XmppSession(RawXmpp);

/// What arrived: a message's sender (user name) and body, or an error
/// bounced back.
#[derive(Debug)]
pub enum Arrived {
    /// A chat message.
    Text {
        /// The sender's user name (the JID's local part).
        from: String,
        /// The body.
        text: String,
    },
    /// A message that came back as an error.
    Refused,
}

impl XmppSession {
    /// Connects to the door at `server` over `transport`, trusting the
    /// certificate of `certificate_pem`, signs in as `user` and sends the
    /// initial presence.
    pub async fn log_in(
        server: SocketAddr,
        transport: XmppTransport,
        certificate_pem: &[u8],
        user: &str,
        sasl: Sasl<'_>,
    ) -> anyhow::Result<Self> {
        let tls = (transport, TlsResumption::Off);
        Self::log_in_with(server, tls, certificate_pem, user, sasl).await
    }

    /// [`XmppSession::log_in`], the TLS session resumed from an earlier
    /// connection's ticket if `tls` says so (and the server gave one).
    pub async fn log_in_with(
        server: SocketAddr,
        (transport, resumption): (XmppTransport, TlsResumption),
        certificate_pem: &[u8],
        user: &str,
        sasl: Sasl<'_>,
    ) -> anyhow::Result<Self> {
        let signing_in = async {
            let mut raw =
                RawXmpp::connect_with(server, transport, certificate_pem, resumption).await?;
            raw.open_stream("localhost").await?;
            match sasl {
                Sasl::Plain(secret) => raw.authenticate_plain(user, secret).await?,
                Sasl::ScramSha256(password) => {
                    raw.authenticate_scram_sha256(user, password).await?
                }
            }
            raw.bind().await?;
            raw.send(b"<presence/>").await?;
            anyhow::Ok(Self(raw))
        };
        tokio::time::timeout(CONNECT_TIMEOUT, signing_in)
            .await
            .context("XMPP sign-in timed out")?
            .with_context(|| format!("XMPP sign-in of {user}"))
    }

    /// Whether its TLS handshake resumed an earlier session.
    pub fn resumed(&self) -> bool {
        self.0.resumed()
    }

    /// Sends `text` to `partner` (a user name) as a chat message.
    pub async fn send_im(&mut self, partner: &str, text: &str) -> anyhow::Result<()> {
        let body = escape(text);
        let message =
            format!("<message to='{partner}@localhost' type='chat'><body>{body}</body></message>");
        self.0.send(message.as_bytes()).await.context("cannot send to the XMPP door")
    }

    /// The next message within `within` (presences are skipped).
    pub async fn next_im(&mut self, within: Duration) -> anyhow::Result<Arrived> {
        let waiting = async {
            loop {
                let read = self.0.read_until("</message>").await?;
                let message = read.rsplit_once("<message").map_or("", |(_, rest)| rest);
                if message.contains("type='error'") || message.contains("type=\"error\"") {
                    return anyhow::Ok(Arrived::Refused);
                }
                let (Some(from), Some(text)) =
                    (between(message, "from='", "@"), between(message, "<body>", "</body>"))
                else {
                    continue;
                };
                return Ok(Arrived::Text { from: from.to_owned(), text: unescape(text) });
            }
        };
        match tokio::time::timeout(within, waiting).await {
            Ok(arrived) => arrived,
            Err(_) => bail!("no XMPP message in time"),
        }
    }

    /// Ends the stream and closes the connection.
    pub async fn log_out(mut self) {
        let _ =
            tokio::time::timeout(Duration::from_secs(5), self.0.send(b"</stream:stream>")).await;
    }
}

/// The text between the first `start` and the `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}
