//! A raw XMPP client: TLS (STARTTLS or direct) and SASL (PLAIN, and SCRAM with or without
//! channel binding) written by hand over tokio-rustls, then bytes in and out as the test
//! chooses. For what no XMPP library sends (an XML bomb, a 10 MB stanza, a stanza before
//! signing in, a SCRAM exchange bound to the wrong channel) and for reading what answers it.
//!
//! ```no_run
//! # async fn f(address: std::net::SocketAddr, pem: &[u8]) -> std::io::Result<()> {
//! use simul_testkit::{RawXmpp, XmppTransport};
//! let mut raw = RawXmpp::connect(address, XmppTransport::StartTls, pem).await?;
//! raw.open_stream("localhost").await?;
//! raw.authenticate_plain("mallory", "long enough").await?;
//! raw.send(b"<!-- what no client sends -->").await?;
//! let answer = raw.read_to_end().await?;
//! # Ok(()) }
//! ```

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use simul_directory::scram::ScramHash;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::XmppTransport;

/// How long one read may wait for what the test expects.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a client resumes TLS sessions (RFC 8446 §2.2) from the tickets
/// the server gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsResumption {
    /// Every connection makes a full handshake.
    Off,
    /// A connection resumes from a ticket an earlier one got, as a client
    /// that reconnects does (the tickets are shared by the process's
    /// connections to the same server name).
    On,
}

/// A client connection with TLS up.
pub struct RawXmpp {
    tls: TlsStream<TcpStream>,
    /// What was read and not yet handed to the test.
    unread: Vec<u8>,
}

/// The header of a client stream to `to` (RFC 6120 §4.7), with `prolog` before it (an XML
/// declaration, or a DTD no server should take).
pub fn stream_header(prolog: &str, to: &str) -> String {
    format!(
        "{prolog}<stream:stream to='{to}' version='1.0' xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams'>"
    )
}

impl RawXmpp {
    /// Connects to `address` and starts TLS as `transport` says (STARTTLS: a stream header
    /// to `localhost`, `<starttls/>`, `<proceed/>`), trusting the certificates of
    /// `certificate_pem` for the name `localhost`.
    ///
    /// # Errors
    ///
    /// What the connection or TLS reported, or `InvalidData` when the server did not
    /// proceed to TLS.
    pub async fn connect(
        address: SocketAddr,
        transport: XmppTransport,
        certificate_pem: &[u8],
    ) -> io::Result<RawXmpp> {
        Self::connect_with(address, transport, certificate_pem, TlsResumption::Off).await
    }

    /// [`RawXmpp::connect`], resuming a TLS session from a ticket an earlier
    /// connection of this process got if `resumption` says so.
    ///
    /// # Errors
    ///
    /// As [`RawXmpp::connect`].
    pub async fn connect_with(
        address: SocketAddr,
        transport: XmppTransport,
        certificate_pem: &[u8],
        resumption: TlsResumption,
    ) -> io::Result<RawXmpp> {
        let mut tcp = TcpStream::connect(address).await?;
        tcp.set_nodelay(true)?;
        if transport == XmppTransport::StartTls {
            tcp.write_all(stream_header("<?xml version='1.0'?>", "localhost").as_bytes()).await?;
            tcp.write_all(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>").await?;
            let mut plain = Vec::new();
            read_until_any(&mut tcp, &mut plain, &["<proceed"]).await?;
        }
        let connector = connector(certificate_pem, transport, resumption)?;
        let tls = connector.connect(localhost(), tcp).await?;
        Ok(RawXmpp { tls, unread: Vec::new() })
    }

    /// Whether the TLS handshake resumed an earlier session.
    pub fn resumed(&self) -> bool {
        self.tls.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    /// Opens a stream to `to` (again after TLS or SASL) and reads up to its features.
    ///
    /// # Errors
    ///
    /// As [`RawXmpp::read_until`].
    pub async fn open_stream(&mut self, to: &str) -> io::Result<String> {
        self.send(stream_header("", to).as_bytes()).await?;
        self.read_until("</stream:features>").await
    }

    /// SASL PLAIN as `user` (RFC 4616): `success`, or the condition of the server's
    /// `<failure/>` (`not-authorized`). After success the stream is to be opened again.
    ///
    /// # Errors
    ///
    /// As [`RawXmpp::read_until`].
    pub async fn sasl_plain(&mut self, user: &str, password: &str) -> io::Result<String> {
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
        let auth = format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{credentials}</auth>"
        );
        self.send(auth.as_bytes()).await?;
        let answer =
            read_until_any(&mut self.tls, &mut self.unread, &["<success", "</failure>"]).await?;
        if answer.ends_with("<success") {
            return Ok("success".to_owned());
        }
        let failure = answer.rsplit("<failure").next().unwrap_or_default();
        let condition = failure.split('<').nth(1).and_then(|c| c.split([' ', '/', '>']).next());
        Ok(condition.unwrap_or_default().to_owned())
    }

    /// SASL PLAIN as `user` up to the server's `<success/>`; the stream is to be opened again
    /// after it.
    ///
    /// # Errors
    ///
    /// As [`RawXmpp::read_until`], and `PermissionDenied` when the server refused.
    pub async fn authenticate_plain(&mut self, user: &str, password: &str) -> io::Result<()> {
        match self.sasl_plain(user, password).await? {
            answer if answer == "success" => Ok(()),
            refused => Err(io::Error::new(io::ErrorKind::PermissionDenied, refused)),
        }
    }

    /// SASL SCRAM-SHA-256 as `user` (RFC 5802, RFC 7677, no channel binding) up to the
    /// server's `<success/>`, whose signature is checked; the stream is to be opened again
    /// after it.
    ///
    /// # Errors
    ///
    /// As [`RawXmpp::scram`]; `PermissionDenied` when the server refused.
    pub async fn authenticate_scram_sha256(
        &mut self,
        user: &str,
        password: &str,
    ) -> io::Result<()> {
        let answer = self.scram("SCRAM-SHA-256", user, password, "n", &[]).await?;
        if answer.contains("<success") {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::PermissionDenied, answer))
        }
    }

    /// A SCRAM exchange (RFC 5802) with `mechanism` (`SCRAM-SHA-1`, `SCRAM-SHA-256-PLUS`…)
    /// as `user`, with the GS2 flag `gs2_flag` (`n`, `y`, `p=tls-exporter`…) and `binding`
    /// as the channel's data in `c=`: what the server answered, up to its `<success>` (whose
    /// signature is checked) or its `</failure>`.
    ///
    /// # Errors
    ///
    /// As [`RawXmpp::read_until`]; `PermissionDenied` for a wrong server signature,
    /// `InvalidData` for a challenge that is not SCRAM's.
    pub async fn scram(
        &mut self,
        mechanism: &str,
        user: &str,
        password: &str,
        gs2_flag: &str,
        binding: &[u8],
    ) -> io::Result<String> {
        let hash = if mechanism.starts_with("SCRAM-SHA-256") {
            ScramHash::Sha256
        } else {
            ScramHash::Sha1
        };
        let mut nonce = [0u8; 18];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
        let gs2_header = format!("{gs2_flag},,");
        let client_first_bare = format!("n={user},r={}", BASE64.encode(nonce));
        let first = BASE64.encode(format!("{gs2_header}{client_first_bare}"));
        let auth = sasl_element(&format!("auth mechanism='{mechanism}'"), "auth", &first);
        self.send(auth.as_bytes()).await?;
        let answer = self.sasl_answer().await?;
        let Some(server_first) = sasl_data(&answer, "challenge") else { return Ok(answer) };
        let invalid = || io::Error::new(io::ErrorKind::InvalidData, "not a SCRAM challenge");
        let field = |name: &str| {
            server_first.split(',').find_map(|f| f.strip_prefix(name)).ok_or_else(invalid)
        };
        let (server_nonce, salt, iterations) = (field("r=")?, field("s=")?, field("i=")?);
        let salt = BASE64.decode(salt).map_err(|_| invalid())?;
        let iterations: u32 = iterations.parse().map_err(|_| invalid())?;
        let salted = hash.salted_password(password.as_bytes(), &salt, iterations);
        let client_key = hash.hmac(&salted, b"Client Key");
        let mut channel = gs2_header.into_bytes();
        channel.extend_from_slice(binding);
        let without_proof = format!("c={},r={server_nonce}", BASE64.encode(channel));
        let message = format!("{client_first_bare},{server_first},{without_proof}");
        let signature = hash.hmac(&hash.digest(&client_key), message.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(signature).map(|(k, s)| k ^ s).collect();
        let last = BASE64.encode(format!("{without_proof},p={}", BASE64.encode(proof)));
        self.send(sasl_element("response", "response", &last).as_bytes()).await?;
        let answer = self.sasl_answer().await?;
        if let Some(server_final) = sasl_data(&answer, "success") {
            let expected = hash.hmac(&hash.hmac(&salted, b"Server Key"), message.as_bytes());
            if server_final.strip_prefix("v=") != Some(BASE64.encode(expected).as_str()) {
                let wrong = "a wrong server signature";
                return Err(io::Error::new(io::ErrorKind::PermissionDenied, wrong));
            }
        }
        Ok(answer)
    }

    /// What came up to the end of the server's next SASL element.
    async fn sasl_answer(&mut self) -> io::Result<String> {
        let needles = [
            "</challenge>",
            "</success>",
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
            "</failure>",
        ];
        read_until_any(&mut self.tls, &mut self.unread, &needles).await
    }

    /// This connection's `tls-exporter` channel binding (RFC 9266).
    pub fn tls_exporter(&self) -> [u8; 32] {
        let mut data = [0; 32];
        let label = b"EXPORTER-Channel-Binding";
        let exported = self.tls.get_ref().1.export_keying_material(&mut data, label, None);
        exported.expect("TLS 1.3 exports keying material");
        data
    }

    /// This connection's `tls-server-end-point` channel binding (RFC 5929): the SHA-256 of
    /// the server's certificate (a test deployment's is signed with SHA-256).
    pub fn tls_server_end_point(&self) -> Vec<u8> {
        let certificates = self.tls.get_ref().1.peer_certificates().expect("a server certificate");
        ScramHash::Sha256.digest(certificates[0].as_ref())
    }

    /// Sends an iq and reads up to the end of the next iq, which should be its answer (the
    /// tests send nothing else meanwhile).
    ///
    /// # Errors
    ///
    /// As [`RawXmpp::read_until`].
    pub async fn request(&mut self, iq: &str) -> io::Result<String> {
        self.send(iq.as_bytes()).await?;
        let mut answer = String::new();
        // Tag by tag, until an iq has ended (an empty one, or at its end tag).
        while !iq_ended(&answer) {
            answer.push_str(&self.read_until(">").await?);
        }
        Ok(answer)
    }

    /// Opens the stream after SASL and binds a resource the server names: its full JID.
    ///
    /// # Errors
    ///
    /// As [`RawXmpp::read_until`].
    pub async fn bind(&mut self) -> io::Result<String> {
        self.open_stream("localhost").await?;
        let bind = "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";
        self.send(bind.as_bytes()).await?;
        let answer = self.read_until("</iq>").await?;
        let jid = answer.split("<jid>").nth(1).and_then(|rest| rest.split("</jid>").next());
        jid.map(str::to_owned).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, answer))
    }

    /// Sends `bytes` as they are.
    ///
    /// # Errors
    ///
    /// What the connection reported (a server that closed on bad input, for one).
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.tls.write_all(bytes).await?;
        self.tls.flush().await
    }

    /// Everything read up to and including the first `needle` (at most 10 s).
    ///
    /// # Errors
    ///
    /// `TimedOut` after 10 s, `UnexpectedEof` when the server closed first (with what it
    /// sent), or what the connection reported.
    pub async fn read_until(&mut self, needle: &str) -> io::Result<String> {
        read_until_any(&mut self.tls, &mut self.unread, &[needle]).await
    }

    /// Everything the server sends until it closes the connection cleanly (TLS
    /// `close_notify`, then the end of the TCP stream), at most 10 s.
    ///
    /// # Errors
    ///
    /// `TimedOut` when the server keeps the connection open, or what the connection
    /// reported (a close without `close_notify`, a reset), each with what was read before.
    pub async fn read_to_end(&mut self) -> io::Result<String> {
        let deadline = tokio::time::Instant::now() + READ_TIMEOUT;
        let mut chunk = [0; 16 * 1024];
        loop {
            let read = tokio::time::timeout_at(deadline, self.tls.read(&mut chunk)).await;
            let (kind, why) = match read {
                Ok(Ok(0)) => return Ok(String::from_utf8_lossy(&self.unread).into_owned()),
                Ok(Ok(n)) => {
                    self.unread.extend_from_slice(&chunk[..n]);
                    continue;
                }
                Ok(Err(error)) => (error.kind(), error.to_string()),
                Err(_) => (io::ErrorKind::TimedOut, "the server kept it open".to_owned()),
            };
            let read = String::from_utf8_lossy(&self.unread);
            return Err(io::Error::new(kind, format!("{why}, after {read}")));
        }
    }
}

/// Reads from `from` into `unread` until it holds one of `needles`; hands out what comes up
/// to the end of the first one found and keeps the rest.
async fn read_until_any<R: tokio::io::AsyncRead + Unpin>(
    from: &mut R,
    unread: &mut Vec<u8>,
    needles: &[&str],
) -> io::Result<String> {
    let deadline = tokio::time::Instant::now() + READ_TIMEOUT;
    loop {
        let found = needles
            .iter()
            .filter_map(|needle| {
                let at = unread.windows(needle.len()).position(|w| w == needle.as_bytes())?;
                Some(at + needle.len())
            })
            .min();
        if let Some(end) = found {
            let rest = unread.split_off(end);
            let found = std::mem::replace(unread, rest);
            return Ok(String::from_utf8_lossy(&found).into_owned());
        }
        let mut chunk = [0; 16 * 1024];
        let read = tokio::time::timeout_at(deadline, from.read(&mut chunk)).await;
        let waited_for = || format!("{needles:?}; got {}", String::from_utf8_lossy(unread));
        match read {
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, waited_for())),
            Ok(Ok(0)) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, waited_for())),
            Ok(Ok(n)) => unread.extend_from_slice(&chunk[..n]),
            Ok(Err(error)) => return Err(error),
        }
    }
}

/// A TLS client that trusts the certificates of `pem` (a test deployment's self-signed
/// one), asking for `xmpp-client` on direct TLS (XEP-0368); made once per certificate,
/// transport and `resumption`. A client configuration (its roots parsed, its verifier and
/// session cache made) cost the bench's sign-ins CPU next to the server's on the same
/// cores; kept, it resumes no session unless `resumption` says so.
fn connector(
    pem: &[u8],
    transport: XmppTransport,
    resumption: TlsResumption,
) -> io::Result<TlsConnector> {
    type Made = Vec<((Vec<u8>, XmppTransport, TlsResumption), TlsConnector)>;
    static MADE: Mutex<Made> = Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (pem.to_vec(), transport, resumption);
    if let Some((_, connector)) = made.iter().find(|(known, _)| *known == key) {
        return Ok(connector.clone());
    }
    let connector = new_connector(pem, transport, resumption)?;
    made.push((key, connector.clone()));
    Ok(connector)
}

/// A new TLS client for [`connector`].
fn new_connector(
    pem: &[u8],
    transport: XmppTransport,
    resumption: TlsResumption,
) -> io::Result<TlsConnector> {
    let invalid = |error: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("certificate: {error}"))
    };
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(pem) {
        roots.add(certificate.map_err(|e| invalid(&e))?).map_err(|e| invalid(&e))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(&e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    if resumption == TlsResumption::Off {
        config.resumption = rustls::client::Resumption::disabled();
    }
    if transport == XmppTransport::DirectTls {
        config.alpn_protocols = vec![b"xmpp-client".to_vec()];
    }
    Ok(TlsConnector::from(Arc::new(config)))
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").expect("a valid name")
}

/// A SASL element `<{open} xmlns=…>{data}</{close}>`.
fn sasl_element(open: &str, close: &str, data: &str) -> String {
    format!("<{open} xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{data}</{close}>")
}

/// Whether `text` holds a whole iq: an empty one, or one up to its end tag.
fn iq_ended(text: &str) -> bool {
    let Some(start) = text.find("<iq") else { return false };
    let Some(tag_end) = text[start..].find('>').map(|at| start + at) else { return false };
    text[..tag_end].ends_with('/') || text[tag_end..].contains("</iq>")
}

/// The decoded data of the SASL element `name` in `answer`, if it is there.
fn sasl_data(answer: &str, name: &str) -> Option<String> {
    let element = answer.rsplit_once(&format!("<{name}"))?.1;
    let data = element.split_once('>').map_or("", |(_, rest)| rest);
    let data = data.split('<').next().unwrap_or_default();
    let decoded = BASE64.decode(data.trim()).ok()?;
    Some(String::from_utf8_lossy(&decoded).into_owned())
}

/// The values of attribute `name` in `xml`, in order (either quote).
pub fn attributes<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let mut values = Vec::new();
    for quote in ['\'', '"'] {
        let pattern = format!(" {name}={quote}");
        let mut rest = xml;
        while let Some(at) = rest.find(&pattern) {
            rest = &rest[at + pattern.len()..];
            let end = rest.find(quote).unwrap_or(rest.len());
            values.push(&rest[..end]);
        }
    }
    values
}
