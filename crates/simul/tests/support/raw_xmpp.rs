//! A raw XMPP client over direct TLS (XEP-0368) for what slixmpp cannot
//! say: SCRAM bound to the TLS channel (`tls-exporter`, RFC 9266, which
//! Python's ssl module cannot export), and stanzas written by hand. It
//! reads text until an expected marker; the tests match substrings.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use simul_directory::scram::ScramHash;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A raw client's connection.
pub struct RawXmpp {
    tls: TlsStream<TcpStream>,
    /// Read but not yet returned.
    pending: String,
}

impl RawXmpp {
    /// Connects to the direct TLS listener at `address`, trusting the
    /// deployment's certificate in `data`, and opens a stream: the
    /// features are returned.
    pub async fn connect(address: SocketAddr, data: &Path) -> (Self, String) {
        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_file_iter(data.join("tls-certificate.pem")).unwrap()
        {
            roots.add(certificate.unwrap()).unwrap();
        }
        let mut config =
            rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
        config.alpn_protocols = vec![b"xmpp-client".to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = TcpStream::connect(address).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let tls = connector.connect(name, tcp).await.unwrap();
        let mut client = Self { tls, pending: String::new() };
        let features = client.open_stream().await;
        (client, features)
    }

    /// Sends a stream header; the stream features that answer it.
    pub async fn open_stream(&mut self) -> String {
        self.send(
            "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' \
             xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
        )
        .await;
        self.read_until("</stream:features>").await
    }

    /// Writes `xml`.
    pub async fn send(&mut self, xml: &str) {
        self.tls.write_all(xml.as_bytes()).await.unwrap();
    }

    /// What came up to and including the first of `markers` (10 s at most).
    pub async fn read_until_any(&mut self, markers: &[&str]) -> String {
        self.read_until_end(|text| {
            markers.iter().filter_map(|marker| text.find(marker).map(|at| at + marker.len())).min()
        })
        .await
    }

    /// What came up to where `end` says what came so far ends (10 s at
    /// most).
    async fn read_until_end(&mut self, end: impl Fn(&str) -> Option<usize>) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(end) = end(&self.pending) {
                let rest = self.pending.split_off(end);
                return std::mem::replace(&mut self.pending, rest);
            }
            let mut buffer = [0; 4096];
            let read = tokio::time::timeout_at(deadline, self.tls.read(&mut buffer)).await;
            let read = read.unwrap_or_else(|_| panic!("nothing more after {:?}", self.pending));
            let n = read.unwrap();
            assert!(n > 0, "the server closed after {:?}", self.pending);
            self.pending.push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    }

    /// What came up to and including `marker`.
    pub async fn read_until(&mut self, marker: &str) -> String {
        self.read_until_any(&[marker]).await
    }

    /// Signs in with PLAIN and restarts the stream: the features after
    /// authentication.
    pub async fn sign_in(&mut self, user: &str, password: &str) -> String {
        let credentials = STANDARD.encode(format!("\0{user}\0{password}"));
        self.send(&format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{credentials}</auth>"
        ))
        .await;
        let answer = self.read_until_any(&["</success>", "<success", "</failure>"]).await;
        assert!(answer.contains("<success"), "{answer}");
        self.open_stream().await
    }

    /// Binds a resource (after [`Self::sign_in`]).
    pub async fn bind(&mut self) {
        let bind = "<iq type='set' id='bind'>\
             <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>raw</resource></bind></iq>";
        let answer = self.request(bind).await;
        assert!(answer.contains("raw</jid>"), "{answer}");
    }

    /// Sends an iq: everything read up to the end of an iq, which should
    /// be its answer (the tests send nothing else meanwhile).
    pub async fn request(&mut self, iq: &str) -> String {
        self.send(iq).await;
        self.read_until_end(|text| {
            let start = text.find("<iq")?;
            let tag_end = start + text[start..].find('>')?;
            if text[..tag_end].ends_with('/') {
                return Some(tag_end + 1);
            }
            text[tag_end..].find("</iq>").map(|at| tag_end + at + "</iq>".len())
        })
        .await
    }

    /// This connection's `tls-exporter` channel binding (RFC 9266).
    pub fn tls_exporter(&self) -> [u8; 32] {
        let mut data = [0; 32];
        let label = b"EXPORTER-Channel-Binding";
        self.tls.get_ref().1.export_keying_material(&mut data, label, None).unwrap();
        data
    }

    /// This connection's `tls-server-end-point` channel binding (RFC
    /// 5929): the SHA-256 of the server's certificate (the deployment's
    /// self-signed one is signed with ECDSA and SHA-256).
    pub fn tls_server_end_point(&self) -> Vec<u8> {
        use sha2::Digest as _;
        let certificates = self.tls.get_ref().1.peer_certificates().unwrap();
        sha2::Sha256::digest(certificates[0].as_ref()).to_vec()
    }

    /// A SCRAM exchange with `mechanism` (`SCRAM-SHA-256-PLUS` and the
    /// like) as `user` with `password`, the GS2 flag `gs2_flag` (`n`,
    /// `y`, `p=tls-exporter`) and `binding` in `c=`: the server's
    /// `<success/>` (its signature checked) or `<failure/>`, as text.
    pub async fn scram(
        &mut self,
        mechanism: &str,
        user: &str,
        password: &str,
        gs2_flag: &str,
        binding: &[u8],
    ) -> String {
        let hash = if mechanism.starts_with("SCRAM-SHA-256") {
            ScramHash::Sha256
        } else {
            ScramHash::Sha1
        };
        let gs2_header = format!("{gs2_flag},,");
        let client_first_bare = format!("n={user},r=raw-client-nonce");
        let first = STANDARD.encode(format!("{gs2_header}{client_first_bare}"));
        self.send(&format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{mechanism}'>{first}</auth>"
        ))
        .await;
        let answer = self.read_until_any(&["</challenge>", "</failure>"]).await;
        let Some(challenge) = between(&answer, "'>", "</challenge>")
            .or_else(|| between(&answer, "\">", "</challenge>"))
        else {
            return answer;
        };
        let server_first = String::from_utf8(STANDARD.decode(challenge).unwrap()).unwrap();
        let field = |name: &str| {
            server_first.split(',').find_map(|f| f.strip_prefix(name)).unwrap().to_owned()
        };
        let (nonce, salt, iterations) = (field("r="), field("s="), field("i="));
        let salt = STANDARD.decode(salt).unwrap();
        let salted = hash.salted_password(password.as_bytes(), &salt, iterations.parse().unwrap());
        let client_key = hash.hmac(&salted, b"Client Key");
        let mut channel = gs2_header.into_bytes();
        channel.extend_from_slice(binding);
        let without_proof = format!("c={},r={nonce}", STANDARD.encode(channel));
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let signature = hash.hmac(&hash.digest(&client_key), auth_message.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&signature).map(|(k, s)| k ^ s).collect();
        let last = STANDARD.encode(format!("{without_proof},p={}", STANDARD.encode(proof)));
        self.send(&format!("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{last}</response>"))
            .await;
        let answer = self.read_until_any(&["</success>", "</failure>"]).await;
        if let Some(data) =
            between(&answer, "'>", "</success>").or_else(|| between(&answer, "\">", "</success>"))
        {
            let server_final = String::from_utf8(STANDARD.decode(data).unwrap()).unwrap();
            let server_key = hash.hmac(&salted, b"Server Key");
            let expected = STANDARD.encode(hash.hmac(&server_key, auth_message.as_bytes()));
            assert_eq!(server_final, format!("v={expected}"), "the server's signature");
        }
        answer
    }
}

/// The text between the last `start` before `end` and `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let stop = text.find(end)?;
    let begin = text[..stop].rfind(start)? + start.len();
    Some(&text[begin..stop])
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
