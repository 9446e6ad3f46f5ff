//! Stream negotiation (RFC 6120 §4–7): TLS (STARTTLS, required, or
//! direct; none from a local TLS-terminating proxy), SASL PLAIN, a stream restart, resource binding, or instead
//! the resumption of a session (XEP-0198). What comes out is a secure
//! stream bound to a signed-in user, or nothing when the stream went to
//! the session it resumed.

use std::borrow::Cow;
use std::net::SocketAddr;

use futures_util::{SinkExt as _, StreamExt as _};
use rand_core::{OsRng, RngCore as _};
use simul_service::ScramHash;
use simul_service::{ClientRefusal, ConnectionTicket, Service};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::either::Either;
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::{FullJid, ResourcePart};
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::bind::{BindFeature, BindQuery, BindResponse};
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::ns;
use tokio_xmpp::parsers::sasl::{self, Challenge, DefinedCondition, Mechanism, Success};
use tokio_xmpp::parsers::sm::{self, StreamManagement};
use tokio_xmpp::parsers::stanza_error::DefinedCondition as StanzaCondition;
use tokio_xmpp::parsers::starttls::{self, Proceed, StartTls};
use tokio_xmpp::parsers::stream_error::{self, StreamError};
use tokio_xmpp::parsers::stream_features::StreamFeatures;
use tokio_xmpp::xmlstream::{
    FallibleStreamElement, ReadError, StreamHeader, Timeouts, XmlStream, XmppStreamElement,
    accept_stream,
};

use crate::budget::{Budgeted, Spent};
use crate::gather::{Gather, Gathered};
use crate::sasl::Channel;
use crate::unoffered::{Arm, Unoffered};
use crate::{Door, Transport};

/// The connection under the XML stream once it is secure: TLS, or the
/// plain TCP of a listener that only local proxies reach, which ended
/// the client's TLS themselves (`Transport::Cleartext`).
pub(crate) type Secure = Budgeted<Unoffered<Gathered<Connection>>>;

/// A client's connection: TLS, or plain TCP from a local proxy. The TLS
/// side is boxed: inline, its 1.3 KiB of TLS state sized every session's
/// link, plain ones too (BENCHMARKS.md §7).
pub(crate) type Connection = Either<Box<TlsStream<TcpStream>>, TcpStream>;

/// `connection` with what every secure stream reads and writes through:
/// `gather`, SASL refused once `arm`ed, a read buffer, the budget
/// `spent` and the nesting limit.
pub(crate) fn secure_io(
    connection: Connection,
    spent: &Spent,
    arm: &Arm,
    gather: &Gather,
) -> Secure {
    let io = Unoffered::new(Gathered::new(connection, gather.clone()), arm.clone());
    Budgeted::new(io, spent.clone())
}

/// The XML stream of a connection.
pub(crate) type Stream = XmlStream<Secure, FallibleStreamElement>;

/// A negotiated stream: its user and full JID.
pub(crate) struct Bound {
    /// Boxed, as it lives for the whole session: inline, its 3 KiB were
    /// kept in several slots of the session's future (a local keeps its
    /// slot after it is moved on), which took 14 KiB a session; 2.3 KiB
    /// since (BENCHMARKS.md §7).
    pub(crate) stream: Box<Stream>,
    pub(crate) spent: Spent,
    /// The connection's place at the gate: it goes where the stream goes.
    pub(crate) ticket: ConnectionTicket,
    pub(crate) user: String,
    pub(crate) jid: FullJid,
}

/// What negotiation made of a connection.
pub(crate) enum Negotiated {
    /// A new session's stream (boxed: the session's task keeps what it
    /// was started with for its whole life).
    Bound(Box<Bound>),
    /// The stream went to the session it resumed (XEP-0198).
    Resumed,
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

/// Negotiates a connection from `peer` (holding `ticket`) up to a bound
/// resource or a resumed session.
pub(crate) async fn negotiate(
    tcp: TcpStream,
    peer: SocketAddr,
    mut ticket: ConnectionTicket,
    service: &Service,
    door: &Door,
    transport: Transport,
    timeouts: Timeouts,
) -> Result<Negotiated, Failed> {
    let secure = match transport {
        Transport::DirectTls => {
            Either::Left(Box::new(TlsAcceptor::from(door.direct_tls.clone()).accept(tcp).await?))
        }
        Transport::StartTls => Either::Left(Box::new(start_tls(tcp, door, timeouts).await?)),
        Transport::Cleartext => Either::Right(tcp),
    };
    // Without TLS here there is nothing to bind SCRAM to.
    let exporter = match &secure {
        Either::Left(tls) => crate::binding::tls_exporter(tls),
        Either::Right(_) => None,
    };
    let end_point = match &secure {
        Either::Left(_) => door.server_end_point.as_ref().map(|live| live.server_end_point()),
        Either::Right(_) => None,
    };
    let (mut spent, arm, gather) = (Spent::default(), Arm::default(), Gather::default());
    let io = secure_io(secure, &spent, &arm, &gather);
    let accepted = accept_stream(io, ns::DEFAULT_NS, timeouts).await?;
    // What SCRAM may bind to here: nothing where SCRAM is not offered.
    let channel = Channel {
        plus: false,
        exporter: exporter.as_ref().map(|data| &data[..]),
        end_point: end_point.as_deref(),
    };
    let channel = if service.offers_scram() {
        channel
    } else {
        Channel { exporter: None, end_point: None, ..channel }
    };
    let plus = channel.offered();
    let features = StreamFeatures {
        sasl_mechanisms: mechanisms(service, plus),
        sasl_cb: plus.then(|| crate::binding::feature(&channel)),
        in_band_registration: door.registration,
        ..StreamFeatures::default()
    };
    let mut stream = answer_header(accepted, door, &features, &gather).await?;
    let (user, data) = authenticate(&mut stream, peer, service, door, channel).await?;
    let accepted = stream.accept_reset(&Success { data }).await?;
    // SASL is not offered again (unoffered.rs).
    arm.arm();
    let features = StreamFeatures {
        bind: Some(BindFeature { required: true }),
        stream_management: Some(StreamManagement { optional: false }),
        others: vec![crate::caps::feature()],
        ..StreamFeatures::default()
    };
    let mut stream = Box::new(answer_header(accepted, door, &features, &gather).await?);
    loop {
        spent.reset();
        let next = stream.next().await;
        let Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::SM(nonza)))) = next else {
            let jid = bind(&mut stream, next, &user, door).await?;
            spent.reset();
            return Ok(Negotiated::Bound(Box::new(Bound { stream, spent, ticket, user, jid })));
        };
        // Resumption instead of binding; anything else of XEP-0198's
        // comes after binding.
        let answer = match nonza {
            sm::Nonza::Resume(resume) => {
                let handled = resume.h;
                let takeover = Box::new(crate::resume::Takeover { stream, spent, ticket, handled });
                match crate::resume::resume(&door.resumable, &user, &resume.previd, takeover) {
                    Ok(()) => return Ok(Negotiated::Resumed),
                    Err(back) => {
                        (stream, spent, ticket) = (back.stream, back.spent, back.ticket);
                        crate::resume::not_found()
                    }
                }
            }
            _ => sm::Failed { h: None, error: Some(StanzaCondition::UnexpectedRequest) },
        };
        stream.send(&answer).await?;
    }
}

/// The plain-text part of a STARTTLS connection: its header, the
/// features (STARTTLS only, required), `<starttls/>`, `<proceed/>`, then
/// TLS on the same socket.
async fn start_tls(
    tcp: TcpStream,
    door: &Door,
    timeouts: Timeouts,
) -> Result<TlsStream<TcpStream>, Failed> {
    // Only STARTTLS is offered: no SASL, not even an empty one (unoffered.rs).
    let (arm, gather) = (Arm::default(), Gather::default());
    arm.arm();
    let io = Unoffered::new(Gathered::new(tcp, gather.clone()), arm);
    let io = Budgeted::new(io, Spent::default());
    let accepted = accept_stream(io, ns::DEFAULT_NS, timeouts).await?;
    let features =
        StreamFeatures { starttls: Some(StartTls { required: true }), ..StreamFeatures::default() };
    let mut plain = answer_header(accepted, door, &features, &gather).await?;
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
    let tcp = plain.into_inner().into_inner().into_inner().into_inner();
    Ok(TlsAcceptor::from(door.starttls.clone()).accept(tcp).await?)
}

/// Checks the client's stream header and answers it with ours and
/// `features`, gathered by `gather` into one write.
async fn answer_header<Io>(
    accepted: tokio_xmpp::xmlstream::AcceptedStream<Io>,
    door: &Door,
    features: &StreamFeatures,
    gather: &Gather,
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
    gather.start();
    let sent = accepted.send_header(header).await;
    // What follows (the features or an error) flushes both.
    gather.stop();
    let pending = sent?;
    if !to_us {
        let text = format!("this server is {}", door.domain);
        let error = StreamError::new(stream_error::DefinedCondition::HostUnknown, "en", text);
        let _ = pending.send_error(&error).await;
        return Err(Failed);
    }
    Ok(pending.send_features(features).await?)
}

/// The SASL mechanisms offered: SCRAM where the realm keeps SCRAM
/// credentials, bound to the channel too (`plus`) where the connection's
/// binding can be computed, and PLAIN (over TLS) always.
fn mechanisms(service: &Service, plus: bool) -> std::collections::BTreeSet<String> {
    let mut offered = vec![Mechanism::Plain];
    if service.offers_scram() {
        offered.extend([Mechanism::ScramSha256, Mechanism::ScramSha1]);
    }
    if plus {
        offered.extend([Mechanism::ScramSha256Plus, Mechanism::ScramSha1Plus]);
    }
    offered.iter().map(ToString::to_string).collect()
}

/// SASL against the service until it succeeds: PLAIN (a password, or an
/// LTPA token as the password) or SCRAM, bound to `channel` where -PLUS
/// is offered; registration requests
/// (XEP-0077) are answered meanwhile. The user's id and the data of
/// `<success/>` (SCRAM's server signature).
async fn authenticate(
    stream: &mut Stream,
    peer: SocketAddr,
    service: &Service,
    door: &Door,
    channel: Channel<'_>,
) -> Result<(String, Vec<u8>), Failed> {
    loop {
        let auth = match next_before_sign_in(stream).await? {
            BeforeSignIn::Sasl(sasl::Nonza::Auth(auth)) => auth,
            BeforeSignIn::Registration { id, payload, is_set } => {
                let client = peer.ip();
                let answer = crate::register::before_sign_in(
                    service,
                    door.registration,
                    client,
                    &id,
                    payload,
                    is_set,
                )
                .await;
                stream.send(&answer).await?;
                continue;
            }
            BeforeSignIn::Sasl(_) => {
                stream.send(&sasl_failure(DefinedCondition::Aborted, None)).await?;
                continue;
            }
        };
        let outcome = match (&auth.mechanism, scram_variant(&auth.mechanism)) {
            (Mechanism::Plain, _) => plain(&auth.data, peer, service).await,
            (_, Some((hash, plus))) if service.offers_scram() && (!plus || channel.offered()) => {
                let channel = Channel { plus, ..channel };
                scram(stream, hash, channel, &auth.data, peer, service).await?
            }
            _ => Err((DefinedCondition::InvalidMechanism, None)),
        };
        match outcome {
            Ok(signed_in) => return Ok(signed_in),
            Err((condition, text)) => stream.send(&sasl_failure(condition, text)).await?,
        }
    }
}

/// The hash of a SCRAM mechanism, and whether it binds to the channel.
fn scram_variant(mechanism: &Mechanism) -> Option<(ScramHash, bool)> {
    match mechanism {
        Mechanism::ScramSha256 => Some((ScramHash::Sha256, false)),
        Mechanism::ScramSha1 => Some((ScramHash::Sha1, false)),
        Mechanism::ScramSha256Plus => Some((ScramHash::Sha256, true)),
        Mechanism::ScramSha1Plus => Some((ScramHash::Sha1, true)),
        _ => None,
    }
}

/// Why a SASL exchange failed: its condition and text.
type SaslFailure = (DefinedCondition, Option<&'static str>);

/// What a client may send before it signs in.
enum BeforeSignIn {
    Sasl(sasl::Nonza),
    /// A registration request (XEP-0077): `get` or `set`.
    Registration {
        id: String,
        payload: Element,
        is_set: bool,
    },
}

/// The next SASL element or registration request; anything else ends
/// negotiation.
async fn next_before_sign_in(stream: &mut Stream) -> Result<BeforeSignIn, Failed> {
    match stream.next().await {
        Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Sasl(nonza)))) => {
            Ok(BeforeSignIn::Sasl(nonza))
        }
        Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Iq(iq))))) => {
            let (id, payload, is_set) = match iq {
                Iq::Get { id, payload, .. } => (id, payload, false),
                Iq::Set { id, payload, .. } => (id, payload, true),
                _ => return Err(refuse(stream, not_authorized()).await),
            };
            if !crate::register::is_request(&payload) {
                return Err(refuse(stream, not_authorized()).await);
            }
            Ok(BeforeSignIn::Registration { id, payload, is_set })
        }
        other => Err(unexpected(stream, other).await),
    }
}

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
    channel: Channel<'_>,
    data: &[u8],
    peer: SocketAddr,
    service: &Service,
) -> Result<Result<(String, Vec<u8>), SaslFailure>, Failed> {
    let start = match crate::sasl::scram_first(data, channel) {
        Ok(start) => start,
        // Binding refused: the one answer of every bad credential.
        Err(DefinedCondition::NotAuthorized) => {
            return Ok(Err(failure_of(ClientRefusal::BadCredentials)));
        }
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

/// Resource binding (RFC 6120 §7) on the client's request `next`: the
/// client's resource if it names one a JID can hold, else one of the
/// server's.
async fn bind(
    stream: &mut Stream,
    next: Option<Result<FallibleStreamElement, ReadError>>,
    user: &str,
    door: &Door,
) -> Result<FullJid, Failed> {
    let (id, payload) =
        match next {
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
