//! The XMPP client every server under comparison is driven with: plain
//! TCP, STARTTLS or direct TLS from a chosen loopback address, SASL
//! PLAIN, resource binding, the roster and the initial presence, as a
//! desktop client signs in; then stanzas out and top-level elements in.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{
    AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadHalf, WriteHalf,
};
use tokio::net::TcpSocket;

use super::running::Endpoint;
use super::stanzas::{Piece, Splitter};

/// Longest wait for one answer while signing in.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// No TLS: PLAIN in the clear (loopback only; servers refuse it
    /// unless configured to take it).
    Cleartext,
    /// STARTTLS on the stream.
    Starttls,
    /// TLS from the first byte (XEP-0368).
    DirectTls,
}

impl Transport {
    /// Its name in results.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cleartext => "cleartext",
            Self::Starttls => "starttls",
            Self::DirectTls => "direct-tls",
        }
    }
}

/// A byte stream, with or without TLS.
trait Link: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Link for T {}

/// What reads a signed-in connection.
pub struct Reader {
    io: ReadHalf<Box<dyn Link>>,
    splitter: Splitter,
}

/// What writes to a signed-in connection.
pub struct Writer {
    io: WriteHalf<Box<dyn Link>>,
}

/// A signed-in, bound and available session.
pub struct Session {
    /// Its reading half.
    pub reader: Reader,
    /// Its writing half.
    pub writer: Writer,
    /// Items in the roster the server sent.
    pub roster_items: usize,
}

/// TLS settings for one endpoint, built once and shared by every session.
#[derive(Clone)]
pub struct Tls {
    starttls: tokio_rustls::TlsConnector,
    direct: tokio_rustls::TlsConnector,
}

impl Tls {
    /// Trusts the certificates of `ca_pem` (for the name `localhost`).
    pub fn new(ca_pem: &[u8]) -> anyhow::Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(ca_pem) {
            roots.add(certificate.context("a certificate of the server")?)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut direct = config.clone();
        direct.alpn_protocols = vec![b"xmpp-client".to_vec()];
        Ok(Self {
            starttls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            direct: tokio_rustls::TlsConnector::from(Arc::new(direct)),
        })
    }
}

/// A connection being signed in.
struct Connecting {
    io: Box<dyn Link>,
    splitter: Splitter,
    domain: String,
}

impl Session {
    /// Connects from `source` to `endpoint` over `transport`, signs in as
    /// `user` with SASL PLAIN and `secret`, binds a resource, fetches the
    /// roster and sends the initial presence.
    pub async fn sign_in(
        endpoint: &Endpoint,
        tls: &Tls,
        transport: Transport,
        source: IpAddr,
        user: &str,
        secret: &str,
    ) -> anyhow::Result<Self> {
        let signing_in = async {
            let address = match transport {
                Transport::Cleartext => {
                    endpoint.cleartext.context("the server takes no XMPP without TLS")?
                }
                Transport::Starttls => endpoint.starttls,
                Transport::DirectTls => endpoint.direct_tls,
            };
            let tcp = connect_from(source, address).await?;
            let mut connection = match transport {
                Transport::DirectTls => {
                    let stream = tls.direct.connect(localhost(), tcp).await?;
                    Connecting::new(Box::new(stream), &endpoint.domain)
                }
                Transport::Cleartext | Transport::Starttls => {
                    Connecting::new(Box::new(tcp), &endpoint.domain)
                }
            };
            let mut features = connection.open_stream().await?;
            if transport == Transport::Starttls {
                connection.send(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>").await?;
                let proceed = connection.element().await?;
                if !proceed.starts_with("<proceed") {
                    bail!("STARTTLS refused: {proceed}");
                }
                connection = connection.start_tls(&tls.starttls).await?;
                features = connection.open_stream().await?;
            }
            if !features.contains(">PLAIN<") {
                bail!("the server offers no SASL PLAIN here: {features}");
            }
            let credentials =
                base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{secret}"));
            let auth = format!(
                "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{credentials}</auth>"
            );
            connection.send(auth.as_bytes()).await?;
            let answer = connection.element().await?;
            if !answer.starts_with("<success") {
                bail!("sign-in refused: {answer}");
            }
            connection.splitter.reset();
            connection.open_stream().await?;
            connection
                .send(b"<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
                .await?;
            connection.answer("bind").await?;
            connection
                .send(b"<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>")
                .await?;
            let roster = connection.answer("roster").await?;
            connection.send(b"<presence/>").await?;
            let roster_items = roster.matches("<item ").count();
            let (read, write) = tokio::io::split(connection.io);
            anyhow::Ok(Self {
                reader: Reader { io: read, splitter: connection.splitter },
                writer: Writer { io: write },
                roster_items,
            })
        };
        tokio::time::timeout(ANSWER_TIMEOUT, signing_in)
            .await
            .context("the sign-in took over a minute")?
            .with_context(|| format!("XMPP sign-in of {user} over {}", transport.name()))
    }
}

impl Connecting {
    fn new(io: Box<dyn Link>, domain: &str) -> Self {
        Self { io, splitter: Splitter::default(), domain: domain.to_owned() }
    }

    async fn send(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.io.write_all(bytes).await?;
        Ok(self.io.flush().await?)
    }

    /// Opens the stream and reads up to its features.
    async fn open_stream(&mut self) -> anyhow::Result<String> {
        let header = format!(
            "<?xml version='1.0'?><stream:stream to='{}' version='1.0' xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams'>",
            self.domain
        );
        self.send(header.as_bytes()).await?;
        match next(&mut self.io, &mut self.splitter).await? {
            Piece::StreamOpened => {}
            other => bail!("expected the server's stream header, got {other:?}"),
        }
        let features = self.element().await?;
        if !features.starts_with("<stream:features") {
            bail!("expected stream features, got {features}");
        }
        Ok(features)
    }

    /// The next top-level element.
    async fn element(&mut self) -> anyhow::Result<String> {
        match next(&mut self.io, &mut self.splitter).await? {
            Piece::Element(element) => Ok(element),
            other => bail!("the server ended the stream: {other:?}"),
        }
    }

    /// The answer to the iq `id` (what comes before it, such as pushed
    /// presences, is skipped).
    async fn answer(&mut self, id: &str) -> anyhow::Result<String> {
        let wanted = [format!("id='{id}'"), format!("id=\"{id}\"")];
        loop {
            let element = self.element().await?;
            if element.starts_with("<iq") && wanted.iter().any(|w| element.contains(w.as_str())) {
                if element.contains("type='error'") || element.contains("type=\"error\"") {
                    bail!("the server refused {id}: {element}");
                }
                return Ok(element);
            }
        }
    }

    /// TLS over the connection, after `<proceed/>`.
    async fn start_tls(self, connector: &tokio_rustls::TlsConnector) -> anyhow::Result<Self> {
        let Self { io, domain, .. } = self;
        let stream = connector.connect(localhost(), io).await?;
        Ok(Self { io: Box::new(stream), splitter: Splitter::default(), domain })
    }
}

impl Reader {
    /// The next top-level element; an error when the stream ends.
    pub async fn element(&mut self) -> anyhow::Result<String> {
        match next(&mut self.io, &mut self.splitter).await? {
            Piece::Element(element) => Ok(element),
            other => bail!("the server ended the stream: {other:?}"),
        }
    }
}

impl Writer {
    /// Sends `bytes` as they are.
    pub async fn send(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.io.write_all(bytes).await?;
        Ok(self.io.flush().await?)
    }

    /// Ends the stream.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.send(b"</stream:stream>")).await;
        let _ = self.io.shutdown().await;
    }
}

/// The next piece from `io`, reading as needed.
async fn next<R: AsyncRead + Unpin>(io: &mut R, splitter: &mut Splitter) -> anyhow::Result<Piece> {
    let mut chunk = [0; 8 * 1024];
    loop {
        if let Some(piece) = splitter.next_piece()? {
            return Ok(piece);
        }
        let read = io.read(&mut chunk).await?;
        if read == 0 {
            bail!("the server closed the connection");
        }
        splitter.feed(&chunk[..read]);
    }
}

/// A TCP connection from `source` (any port) to `address`.
async fn connect_from(
    source: IpAddr,
    address: SocketAddr,
) -> anyhow::Result<tokio::net::TcpStream> {
    let socket = if source.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.bind(SocketAddr::new(source, 0))?;
    let tcp =
        socket.connect(address).await.with_context(|| format!("cannot connect to {address}"))?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").expect("a valid name")
}
