//! Stream negotiation (RFC 6120 §4–7): TLS (STARTTLS, required, or
//! direct), SASL PLAIN, a stream restart, resource binding. What comes
//! out is a secure stream bound to a signed-in user.

use std::borrow::Cow;
use std::net::SocketAddr;

use futures_util::{SinkExt as _, StreamExt as _};
use rand_core::{OsRng, RngCore as _};
use simul_service::ScramHash;
use simul_service::{ClientRefusal, Service};
use tokio::io::BufStream;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::{FullJid, ResourcePart};
use tokio_xmpp::parsers::bind::{BindFeature, BindQuery, BindResponse};
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::ns;
use tokio_xmpp::parsers::sasl::{self, Challenge, DefinedCondition, Mechanism, Success};
use tokio_xmpp::parsers::starttls::{self, Proceed, StartTls};
use tokio_xmpp::parsers::stream_error::{self, StreamError};
use tokio_xmpp::parsers::stream_features::StreamFeatures;
use tokio_xmpp::xmlstream::{
    FallibleStreamElement, ReadError, StreamHeader, Timeouts, XmlStream, XmppStreamElement,
    accept_stream,
};

use crate::budget::{Budgeted, Spent};
use crate::unoffered::{Arm, Unoffered};
use crate::{Door, Transport};

/// The transport under the XML stream once TLS is up.
pub(crate) type Secure = Budgeted<BufStream<Unoffered<TlsStream<TcpStream>>>>;
/// The XML stream of a connection.
pub(crate) type Stream = XmlStream<Secure, FallibleStreamElement>;

/// A negotiated stream: its user and full JID.
pub(crate) struct Bound {
    pub(crate) stream: Stream,
    pub(crate) spent: Spent,
    pub(crate) user: String,
    pub(crate) jid: FullJid,
}

/// Negotiation ended without a bound stream; the stream error that
/// explains why, if any, was sent where it happened.
pub(crate) struct Failed;

impl From<std::io::Error> for Failed {
    fn from(error: std::io::Error) -> Self {
        tracing::debug!(%error, "XMPP: negotiation failed");
        Failed
    }
}

/// Negotiates a connection from `peer` up to a bound resource.
pub(crate) async fn negotiate(
    tcp: TcpStream,
    peer: SocketAddr,
    service: &Service,
    door: &Door,
    transport: Transport,
    timeouts: Timeouts,
) -> Result<Bound, Failed> {
    let tls = match transport {
        Transport::DirectTls => TlsAcceptor::from(door.direct_tls.clone()).accept(tcp).await?,
        Transport::StartTls => start_tls(tcp, door, timeouts).await?,
    };
    let (spent, arm) = (Spent::default(), Arm::default());
    let io = Budgeted::new(BufStream::new(Unoffered::new(tls, arm.clone())), spent.clone());
    let accepted = accept_stream(io, ns::DEFAULT_NS, timeouts).await?;
    let features =
        StreamFeatures { sasl_mechanisms: mechanisms(service), ..StreamFeatures::default() };
    let mut stream = answer_header(accepted, door, &features).await?;
    let (user, data) = authenticate(&mut stream, peer, service).await?;
    let accepted = stream.accept_reset(&Success { data }).await?;
    // SASL is not offered again (unoffered.rs).
    arm.arm();
    let features =
        StreamFeatures { bind: Some(BindFeature { required: true }), ..StreamFeatures::default() };
    let mut stream = answer_header(accepted, door, &features).await?;
    spent.reset();
    let jid = bind(&mut stream, &user, door).await?;
    spent.reset();
    Ok(Bound { stream, spent, user, jid })
}

/// The plain-text part of a STARTTLS connection: its header, the
/// features (STARTTLS only, required), `<starttls/>`, `<proceed/>`, then
/// TLS on the same socket.
async fn start_tls(
    tcp: TcpStream,
    door: &Door,
    timeouts: Timeouts,
) -> Result<TlsStream<TcpStream>, Failed> {
    let io = Budgeted::new(BufStream::new(tcp), Spent::default());
    let accepted = accept_stream(io, ns::DEFAULT_NS, timeouts).await?;
    let features =
        StreamFeatures { starttls: Some(StartTls { required: true }), ..StreamFeatures::default() };
    let mut plain = answer_header(accepted, door, &features).await?;
    match plain.next().await {
        Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Starttls(
            starttls::Nonza::Request(_),
        )))) => {}
        _ => {
            // Nothing but TLS before TLS (RFC 6120 §5.3.1).
            let error = policy_violation("start TLS first (STARTTLS is required)");
            let _ = plain.send(&error).await;
            let _ = plain.shutdown().await;
            return Err(Failed);
        }
    }
    plain.send(&Proceed).await?;
    let tcp = plain.into_inner().into_inner().into_inner();
    Ok(TlsAcceptor::from(door.starttls.clone()).accept(tcp).await?)
}

/// Checks the client's stream header and answers it with ours and
/// `features`.
async fn answer_header<Io>(
    accepted: tokio_xmpp::xmlstream::AcceptedStream<Io>,
    door: &Door,
    features: &StreamFeatures,
) -> Result<XmlStream<Io, FallibleStreamElement>, Failed>
where
    Io: tokio::io::AsyncBufRead + tokio::io::AsyncWrite + Unpin,
{
    let to_us = accepted.header().to.is_none_or(|to| to.eq_ignore_ascii_case(&door.domain));
    let header = StreamHeader {
        from: Some(Cow::Borrowed(door.domain.as_str())),
        to: None,
        id: Some(Cow::Owned(format!("{:016x}", OsRng.next_u64()))),
    };
    let pending = accepted.send_header(header).await?;
    if !to_us {
        let text = format!("this server is {}", door.domain);
        let error = StreamError::new(stream_error::DefinedCondition::HostUnknown, "en", text);
        let _ = pending.send_error(&error).await;
        return Err(Failed);
    }
    Ok(pending.send_features(features).await?)
}

/// The SASL mechanisms offered: SCRAM where the realm keeps SCRAM
/// credentials, and PLAIN (over TLS) always.
fn mechanisms(service: &Service) -> std::collections::BTreeSet<String> {
    let mut offered = vec![Mechanism::Plain];
    if service.offers_scram() {
        offered.extend([Mechanism::ScramSha256, Mechanism::ScramSha1]);
    }
    offered.iter().map(ToString::to_string).collect()
}

/// SASL against the service until it succeeds: PLAIN (a password, or an
/// LTPA token as the password) or SCRAM. The user's id and the data of
/// `<success/>` (SCRAM's server signature).
async fn authenticate(
    stream: &mut Stream,
    peer: SocketAddr,
    service: &Service,
) -> Result<(String, Vec<u8>), Failed> {
    loop {
        let auth = match next_sasl(stream).await? {
            sasl::Nonza::Auth(auth) => auth,
            _ => {
                stream.send(&sasl_failure(DefinedCondition::Aborted, None)).await?;
                continue;
            }
        };
        let outcome = match auth.mechanism {
            Mechanism::Plain => plain(&auth.data, peer, service).await,
            Mechanism::ScramSha256 if service.offers_scram() => {
                scram(stream, ScramHash::Sha256, &auth.data, peer, service).await?
            }
            Mechanism::ScramSha1 if service.offers_scram() => {
                scram(stream, ScramHash::Sha1, &auth.data, peer, service).await?
            }
            _ => Err((DefinedCondition::InvalidMechanism, None)),
        };
        match outcome {
            Ok(signed_in) => return Ok(signed_in),
            Err((condition, text)) => stream.send(&sasl_failure(condition, text)).await?,
        }
    }
}

/// Why a SASL exchange failed: its condition and text.
type SaslFailure = (DefinedCondition, Option<&'static str>);

/// The next SASL element; anything else ends negotiation.
async fn next_sasl(stream: &mut Stream) -> Result<sasl::Nonza, Failed> {
    match stream.next().await {
        Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Sasl(nonza)))) => Ok(nonza),
        other => Err(unexpected(stream, other).await),
    }
}

/// PLAIN: a password or a token, decided by the service.
async fn plain(
    data: &[u8],
    peer: SocketAddr,
    service: &Service,
) -> Result<(String, Vec<u8>), SaslFailure> {
    let (name, secret) = crate::sasl::plain(data).map_err(|condition| (condition, None))?;
    match service.client_log_in(&name, &secret, peer.ip()).await {
        Ok(user) => Ok((user, Vec::new())),
        Err(refusal) => Err(failure_of(refusal)),
    }
}

/// SCRAM: the client's first message (`data`), our challenge, its proof.
async fn scram(
    stream: &mut Stream,
    hash: ScramHash,
    data: &[u8],
    peer: SocketAddr,
    service: &Service,
) -> Result<Result<(String, Vec<u8>), SaslFailure>, Failed> {
    let start = match crate::sasl::scram_first(data) {
        Ok(start) => start,
        Err(condition) => return Ok(Err((condition, None))),
    };
    let sign_in = match service.scram_begin(&start.name, hash, peer.ip()).await {
        Ok(sign_in) => sign_in,
        Err(refusal) => return Ok(Err(failure_of(refusal))),
    };
    let server_first = start.server_first(&sign_in.credentials);
    stream.send(&Challenge { data: server_first.clone().into_bytes() }).await?;
    let sasl::Nonza::Response(response) = next_sasl(stream).await? else {
        let _ = sign_in.finish(false);
        return Ok(Err((DefinedCondition::Aborted, None)));
    };
    match start.verify(&server_first, &sign_in.credentials, &response.data) {
        Ok(server_final) => Ok(match sign_in.finish(true) {
            Ok(user) => Ok((user, server_final.into_bytes())),
            Err(refusal) => Err(failure_of(refusal)),
        }),
        Err(_) => {
            let _ = sign_in.finish(false);
            Ok(Err(failure_of(ClientRefusal::BadCredentials)))
        }
    }
}

/// The SASL failure of a refusal.
fn failure_of(refusal: ClientRefusal) -> SaslFailure {
    let (condition, text) = condition_of(refusal);
    (condition, Some(text))
}

/// The SASL condition and text of a refusal: one for every bad
/// credential, so that the answer does not tell which was bad.
fn condition_of(refusal: ClientRefusal) -> (DefinedCondition, &'static str) {
    match refusal {
        ClientRefusal::BadCredentials | ClientRefusal::Unknown => {
            (DefinedCondition::NotAuthorized, "wrong user name or password")
        }
        ClientRefusal::Restricted => {
            (DefinedCondition::AccountDisabled, "this account may not sign in now")
        }
        ClientRefusal::DirectoryDown => {
            (DefinedCondition::TemporaryAuthFailure, "the directory does not answer; try later")
        }
    }
}

fn sasl_failure(condition: DefinedCondition, text: Option<&str>) -> sasl::Failure {
    sasl::Failure {
        defined_condition: condition,
        texts: text.map(|text| ("en".to_owned(), text.to_owned())).into_iter().collect(),
    }
}

/// Resource binding (RFC 6120 §7): the client's resource if it names
/// one a JID can hold, else one of the server's.
async fn bind(stream: &mut Stream, user: &str, door: &Door) -> Result<FullJid, Failed> {
    let (id, payload) =
        match stream.next().await {
            Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Iq(
                Iq::Set { id, payload, .. },
            ))))) => (id, payload),
            other => return Err(unexpected(stream, other).await),
        };
    let Ok(query) = BindQuery::try_from(payload) else {
        return Err(refuse(stream, not_authorized()).await);
    };
    let Some(bare) = crate::jid::jid_of(user, &door.domain) else {
        let error = policy_violation("this user id cannot be written as a JID");
        return Err(refuse(stream, error).await);
    };
    let resource = query
        .resource
        .and_then(|wanted| ResourcePart::new(&wanted).ok().map(|r| r.into_owned()))
        .unwrap_or_else(|| {
            let made = format!("simul-{:08x}", OsRng.next_u32());
            ResourcePart::new(&made).expect("a valid resource").into_owned()
        });
    let jid = bare.with_resource(&resource);
    let answer = Iq::from_result(id, Some(BindResponse { jid: jid.clone() }));
    stream.send(&answer).await?;
    Ok(jid)
}

/// What the client sent where negotiation wanted something else: the
/// stream error that answers it.
async fn unexpected(
    stream: &mut Stream,
    got: Option<Result<FallibleStreamElement, ReadError>>,
) -> Failed {
    let error = match got {
        None | Some(Err(ReadError::StreamFooterReceived)) => return Failed,
        Some(Err(ReadError::HardError(error))) => {
            let Some(error) = crate::read_error::stream_error_of(&error) else { return Failed };
            error
        }
        _ => not_authorized(),
    };
    refuse(stream, error).await
}

/// Sends `error` and closes the stream.
async fn refuse(stream: &mut Stream, error: StreamError) -> Failed {
    let _ = stream.send(&error).await;
    let _ = stream.shutdown().await;
    Failed
}

/// The stream error for anything but the negotiation's next step.
fn not_authorized() -> StreamError {
    let text = "authenticate and bind a resource first";
    StreamError::new(stream_error::DefinedCondition::NotAuthorized, "en", text)
}

/// A `policy-violation` stream error with `text`.
pub(crate) fn policy_violation(text: &str) -> StreamError {
    StreamError::new(stream_error::DefinedCondition::PolicyViolation, "en", text)
}
