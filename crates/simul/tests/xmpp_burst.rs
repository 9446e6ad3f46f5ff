//! A burst of stanzas on the XMPP door: written together, they leave in
//! a few TLS records rather than one each, and stream management
//! (XEP-0198) still counts each stanza: a resumed session gets exactly
//! the ones its client had not acknowledged, in order. The TLS records
//! are counted on the wire by a relay between client and server.

use crate::support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use simul_testkit::{RawXmpp, XmppTransport, attributes};
use support::xmpp::xmpp_server_with;
use support::{deployment, next_status, post_json, watch, web_user};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The door's log at info, where it says when a session waits; the
/// message limits lifted, for a burst.
const ENV: [(&str, &str); 3] = [
    ("SIMUL_LOG", "warn,simul_xmpp=info"),
    ("SIMUL_SERVER__MESSAGES_PER_MINUTE", "1000000"),
    ("SIMUL_SERVER__MESSAGE_BURST", "1000000"),
];
/// What the door logs when a session's connection broke and it waits.
const WAITING: &str = "connection lost; the session waits";
/// Messages in the burst.
const BURST: usize = 40;
/// TLS's record type of application data (RFC 8446 §5.1; every record
/// after the handshake is one).
const APPLICATION_DATA: u8 = 23;

/// A TCP relay to the door for one connection, counting the TLS records
/// the server sends through it.
struct Relay {
    address: SocketAddr,
    records: Arc<AtomicUsize>,
}

impl Relay {
    async fn to(door: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let records = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&records);
        tokio::spawn(async move {
            let (client, _) = listener.accept().await.unwrap();
            let server = TcpStream::connect(door).await.unwrap();
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, server_write) = server.into_split();
            tokio::spawn(async move {
                let mut server_write = server_write;
                tokio::io::copy(&mut client_read, &mut server_write).await.ok();
            });
            // Record by record: a 5-byte header (type, version, length),
            // then its body.
            let mut header = [0; 5];
            while server_read.read_exact(&mut header).await.is_ok() {
                let mut body = vec![0; usize::from(u16::from_be_bytes([header[3], header[4]]))];
                if server_read.read_exact(&mut body).await.is_err() {
                    break;
                }
                if header[0] == APPLICATION_DATA {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
                let relayed = client_write.write_all(&header).await;
                if relayed.and(client_write.write_all(&body).await).is_err() {
                    break;
                }
            }
        });
        Relay { address, records }
    }

    fn records(&self) -> usize {
        self.records.load(Ordering::SeqCst)
    }
}

/// `alice` over direct TLS to `address`, signed in, its stream open
/// again after SASL (to bind or to resume).
async fn signed_in(address: SocketAddr, data: &Path) -> RawXmpp {
    let certificate = std::fs::read(data.join("tls-certificate.pem")).unwrap();
    let mut raw = RawXmpp::connect(address, XmppTransport::DirectTls, &certificate).await.unwrap();
    raw.open_stream("localhost").await.unwrap();
    raw.authenticate_plain("alice", "long enough").await.unwrap();
    raw.open_stream("localhost").await.unwrap();
    raw
}

/// Resumes session `id`, `handled` of its stanzas acknowledged: all
/// the server sent up to and including its request for an
/// acknowledgement, which ends what it sends again.
async fn resume(raw: &mut RawXmpp, id: &str, handled: usize) -> String {
    let resume = format!("<resume xmlns='urn:xmpp:sm:3' h='{handled}' previd='{id}'/>");
    raw.send(resume.as_bytes()).await.unwrap();
    let mut got = raw.read_until("<r ").await.unwrap();
    got.push_str(&raw.read_until(">").await.unwrap());
    assert!(got.contains("<resumed "), "{got}");
    got
}

/// The bodies of the messages in `xml`, in order.
fn bodies(xml: &str) -> Vec<&str> {
    xml.split("<body>").skip(1).filter_map(|rest| rest.split("</body>").next()).collect()
}

/// The stanzas in `xml` (stream management's count).
fn stanzas(xml: &str) -> usize {
    ["<message ", "<presence ", "<iq "].iter().map(|start| xml.matches(start).count()).sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_resent_on_resumption_goes_in_a_few_records_and_is_counted_stanza_by_stanza() {
    let dir = deployment(&["alice", "bob"]);
    let data = dir.path().join("data");
    let (server, _, direct) = xmpp_server_with(&data, &ENV);
    let (bob, mut bob_events) = web_user(&server, "bob").await;
    watch(&mut bob_events, "alice").await;

    let mut alice = signed_in(direct, &data).await;
    alice
        .send(b"<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
        .await
        .unwrap();
    alice.read_until("</iq>").await.unwrap();
    alice.send(b"<enable xmlns='urn:xmpp:sm:3' resume='true'/>").await.unwrap();
    let enabled = alice.read_until(">").await.unwrap();
    let id = attributes(&enabled, "id")[0].to_owned();
    alice.send(b"<presence/>").await.unwrap();
    next_status(&mut bob_events, "alice", "available").await;

    // Her connection breaks; bob writes meanwhile: a burst waits for her.
    drop(alice);
    server.log_line(WAITING);
    for n in 1..=BURST {
        let text = json!({"text": n.to_string()});
        let sent = post_json(&server, "/api/v1/im/alice", &bob, &text).await;
        assert_eq!(sent["delivered"], true, "{sent}");
    }

    // She resumes having acknowledged nothing: everything comes again,
    // in order, in a few records (one a stanza before they were gathered).
    let relay = Relay::to(direct).await;
    let mut alice = signed_in(relay.address, &data).await;
    let before = relay.records();
    let got = resume(&mut alice, &id, 0).await;
    let expected: Vec<String> = (1..=BURST).map(|n| n.to_string()).collect();
    assert_eq!(bodies(&got), expected, "{got}");
    let records = relay.records() - before;
    assert!(records <= 4, "{BURST} messages in {records} TLS records");

    // She acknowledges all of it but the last 5, and loses the
    // connection again: exactly those 5 come on the next resumption.
    let handled = stanzas(&got);
    drop(alice);
    server.log_line(WAITING);
    let mut alice = signed_in(direct, &data).await;
    let got = resume(&mut alice, &id, handled - 5).await;
    assert_eq!(bodies(&got), expected[BURST - 5..], "{got}");
    assert_eq!(stanzas(&got), 5, "{got}");
}
