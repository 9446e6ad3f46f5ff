//! XEP-0198 stream management, the session's side: both ends count the
//! stanzas they handled, the server keeps what it sent until the client
//! acknowledges it, and with resumption a session outlives a broken
//! connection for `[xmpp] resume_timeout`: its events go on into the
//! queue, and a new connection of the same user that resumes it (see
//! `crate::resume`) gets every stanza the client had not acknowledged,
//! in order, then carries on. Only when the window passes does the
//! session close, so a phone that loses its network for a minute loses
//! nothing, and its user does not even look offline meanwhile.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use simul_service::CommandAdmission;
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::sm::{A, Enable, Enabled, Failed, HandledCountTooHigh, Nonza, R, Resumed};
use tokio_xmpp::parsers::stanza_error::DefinedCondition;
use tokio_xmpp::parsers::stream_error::{self, StreamError};

use super::{End, Link, Session};
use crate::negotiation::policy_violation;
use crate::resume::{Registration, Takeover};

/// Unacknowledged stanzas after which the server asks for an
/// acknowledgement at once.
const ACK_BATCH: usize = 10;
/// How long unacknowledged stanzas wait before the server asks anyway:
/// the queue empties soon after a burst, without a request per stanza.
const ACK_DELAY: Duration = Duration::from_secs(2);
/// Most stanzas a session keeps unacknowledged. Each is memory held for a
/// client that may never come back (or never acknowledges): a detached
/// session over it ends (its client then starts afresh, and finds its
/// messages in the history), and so does an attached one that lets this
/// many pile up. A few megabytes at most; more than a phone away for the
/// whole window gets from a busy roster.
const MAX_UNACKED: usize = 5_000;

/// A session's stream management: off until the client enables it.
#[derive(Default)]
pub(super) struct StreamManagement {
    /// Boxed: most clients never enable it, and inline it took 136 bytes
    /// of every session's state.
    on: Option<Box<Counting>>,
}

/// Stream management once enabled.
struct Counting {
    /// Stanzas received from the client (modulo 2³², as XEP-0198 counts).
    handled: u32,
    /// Stanzas sent to the client, modulo 2³².
    sent: u32,
    /// The last stanzas sent, which the client has not acknowledged yet,
    /// oldest first.
    unacked: VecDeque<Stanza>,
    /// An `<r/>` is out, unanswered.
    ack_requested: bool,
    /// When to ask for an acknowledgement of what is unacknowledged.
    ack_due: Option<Instant>,
    /// The sleep until `ack_due` or the resumption's deadline, while
    /// there is one.
    timer: Option<Pin<Box<Sleep>>>,
    resumption: Option<Resumption>,
}

/// A resumable session's side of resumption.
struct Resumption {
    /// Its place in the door's registry (and its id).
    registration: Registration,
    /// The connections that resume it.
    takeovers: mpsc::Receiver<Box<Takeover>>,
    /// How long it waits for a new connection.
    window: Duration,
    /// While it waits: until when.
    deadline: Option<Instant>,
}

/// What stream management has to do next, not prompted by the client.
pub(super) enum Due {
    /// A new connection resumes the session.
    Takeover(Box<Takeover>),
    /// The window passed without one: the session ends.
    Expired,
    /// Time to ask the client what it handled.
    AckRequest,
}

impl StreamManagement {
    /// Whether the session outlives a broken connection.
    pub(super) fn resumable(&self) -> bool {
        self.on.as_ref().is_some_and(|on| on.resumption.is_some())
    }

    /// The client sent a stanza.
    pub(super) fn received_stanza(&mut self) {
        if let Some(on) = &mut self.on {
            on.handled = on.handled.wrapping_add(1);
        }
    }

    /// `stanza` is being sent: it is kept until acknowledged.
    pub(super) fn sending<T: Clone + Into<Stanza>>(&mut self, stanza: &T) -> Result<(), End> {
        let Some(on) = &mut self.on else { return Ok(()) };
        if on.unacked.len() >= MAX_UNACKED {
            let text = "too many stanzas unacknowledged";
            let condition = stream_error::DefinedCondition::ResourceConstraint;
            return Err(End::Tell(StreamError::new(condition, "en", text)));
        }
        on.unacked.push_back(stanza.clone().into());
        on.sent = on.sent.wrapping_add(1);
        if !on.ack_requested && on.ack_due.is_none() {
            on.ack_due = Some(Instant::now() + ACK_DELAY);
        }
        Ok(())
    }

    /// The next thing due (never, while stream management is off).
    pub(super) async fn next(&mut self) -> Due {
        // A poll of the session's own state, not an async body holding
        // two sleeps: this future waits in every idle session's loop, so
        // its size counts per session (it was 376 bytes).
        std::future::poll_fn(|cx| self.poll_due(cx)).await
    }

    fn poll_due(&mut self, cx: &mut Context<'_>) -> Poll<Due> {
        let Some(on) = &mut self.on else { return Poll::Pending };
        let mut deadline = None;
        if let Some(resumption) = &mut on.resumption {
            // The registry holds the sender as long as the session holds
            // its registration, so the channel does not close under it.
            if let Poll::Ready(Some(takeover)) = resumption.takeovers.poll_recv(cx) {
                return Poll::Ready(Due::Takeover(takeover));
            }
            deadline = resumption.deadline;
        }
        // No client to ask while detached.
        let (at, due) = match (deadline, on.ack_due) {
            (Some(deadline), _) => (deadline, Due::Expired),
            (None, Some(ack_due)) => (ack_due, Due::AckRequest),
            (None, None) => {
                on.timer = None;
                return Poll::Pending;
            }
        };
        let timer = on.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        if timer.deadline() != at {
            timer.as_mut().reset(at);
        }
        timer.as_mut().poll(cx).map(|()| due)
    }
}

impl Counting {
    /// The client handled `h` stanzas: those leave the queue. More than
    /// were sent is the stream error XEP-0198 §4 names.
    fn acknowledged(&mut self, h: u32) -> Result<(), StreamError> {
        // usize is at least 32 bits wherever tokio runs. A count that goes
        // back wraps to a huge one: an error as well (TCP does not reorder).
        let acked_before = self.sent.wrapping_sub(self.unacked.len() as u32);
        let newly = h.wrapping_sub(acked_before) as usize;
        if newly > self.unacked.len() {
            return Err(HandledCountTooHigh { h, send_count: self.sent }.into());
        }
        self.unacked.drain(..newly);
        self.ack_requested = false;
        self.ack_due = (!self.unacked.is_empty()).then(|| Instant::now() + ACK_DELAY);
        Ok(())
    }
}

impl Session<'_> {
    /// A stream management element from the client.
    pub(super) async fn stream_management(&mut self, nonza: Nonza) -> Result<(), End> {
        let on = self.sm.on.as_mut();
        match (nonza, on) {
            (Nonza::Enable(enable), None) => self.enable(&enable).await,
            // Each answer is a write: requests count against the
            // session's rate as stanzas do.
            (Nonza::Req(R), Some(on)) => {
                let ack = A::new(on.handled);
                match self.commands.admit() {
                    CommandAdmission::Allowed => self.write(&ack).await,
                    // The client asks again later.
                    CommandAdmission::Refused => Ok(()),
                    CommandAdmission::CutOff => {
                        Err(End::Tell(policy_violation("too many stanzas")))
                    }
                }
            }
            (Nonza::Ack(A { h }), Some(on)) => on.acknowledged(h).map_err(End::Tell),
            // Enabling twice, acknowledging before enabling, resuming
            // after binding.
            (Nonza::Enable(_) | Nonza::Req(_) | Nonza::Ack(_) | Nonza::Resume(_), _) => {
                let failed = Failed { h: None, error: Some(DefinedCondition::UnexpectedRequest) };
                self.write(&failed).await
            }
            _ => Err(End::Tell(policy_violation("that is the server's to send"))),
        }
    }

    /// `<enable/>`: counting starts; with resumption if the client asks
    /// and the door allows, for the door's window or the client's
    /// shorter one.
    async fn enable(&mut self, enable: &Enable) -> Result<(), End> {
        let asked = enable.max.filter(|max| *max > 0).map(|max| Duration::from_secs(max.into()));
        let window =
            asked.map_or(self.door.resume_timeout, |asked| asked.min(self.door.resume_timeout));
        let resumption = (enable.resume && !window.is_zero()).then(|| {
            let (registration, takeovers) = self.door.resumable.register(self.user.as_str());
            Resumption { registration, takeovers, window, deadline: None }
        });
        let enabled = Enabled {
            id: resumption.as_ref().map(|resumption| resumption.registration.id().clone()),
            location: None,
            max: resumption.as_ref().map(|_| u32::try_from(window.as_secs()).unwrap_or(u32::MAX)),
            resume: resumption.is_some(),
        };
        self.sm.on = Some(Box::new(Counting {
            handled: 0,
            sent: 0,
            unacked: VecDeque::new(),
            ack_requested: false,
            ack_due: None,
            timer: None,
            resumption,
        }));
        self.write(&enabled).await
    }

    /// A stanza was sent: past a batch of unacknowledged ones, the
    /// client is asked what it handled.
    pub(super) async fn sent_one(&mut self) -> Result<(), End> {
        let batch = self.sm.on.as_ref().is_some_and(|on| {
            !on.ack_requested && on.unacked.len() >= ACK_BATCH && self.link.is_some()
        });
        if batch { self.request_ack().await } else { Ok(()) }
    }

    /// `<r/>`.
    async fn request_ack(&mut self) -> Result<(), End> {
        if let Some(on) = &mut self.sm.on {
            on.ack_requested = true;
            on.ack_due = None;
        }
        self.write(&R).await
    }

    /// Whatever stream management has come to.
    pub(super) async fn stream_management_due(&mut self, due: Due) -> Result<(), End> {
        match due {
            Due::Takeover(takeover) => self.take_over(takeover).await,
            Due::Expired => {
                tracing::info!(user = %self.user, "XMPP: not resumed in time; session ends");
                Err(End::Quietly)
            }
            Due::AckRequest => self.request_ack().await,
        }
    }

    /// The session's connection ended with `end`: a resumable session
    /// whose connection broke waits for its client (Ok); otherwise the
    /// session ends (`end` back).
    pub(super) fn keep_for_resumption(&mut self, end: End) -> Result<(), End> {
        let End::Lost = end else { return Err(end) };
        let Some(resumption) = self.sm.on.as_mut().and_then(|on| on.resumption.as_mut()) else {
            return Err(End::Lost);
        };
        let window = resumption.window;
        resumption.deadline = Some(Instant::now() + window);
        // The socket (and its place at the gate) goes now.
        self.link = None;
        tracing::info!(user = %self.user, ?window, "XMPP: connection lost; the session waits");
        Ok(())
    }

    /// A new connection resumes the session: the old one, if still open,
    /// is told `conflict`; the new one gets `<resumed/>` and every stanza
    /// the client had not handled, in order.
    async fn take_over(&mut self, takeover: Box<Takeover>) -> Result<(), End> {
        if let Some(old) = self.link.take() {
            let limit = self.door.keepalive.saturating_mul(2);
            // Not waited for: a half-open old connection may take long.
            tokio::spawn(async move {
                let mut old = old;
                let text = "the session was resumed from another connection";
                let conflict =
                    StreamError::new(stream_error::DefinedCondition::Conflict, "en", text);
                if old.write(&conflict).is_ok() {
                    let _ = tokio::time::timeout(limit, old.shutdown()).await;
                }
            });
        }
        let Takeover { stream, spent, ticket, handled } = *takeover;
        self.link = Some(Link::new(stream, ticket, self.door.keepalive));
        self.spent = spent;
        let Some(on) = &mut self.sm.on else { return Err(End::Quietly) };
        let Some(resumption) = &mut on.resumption else { return Err(End::Quietly) };
        resumption.deadline = None;
        let resumed = Resumed { h: on.handled, previd: resumption.registration.id().clone() };
        on.acknowledged(handled).map_err(End::Tell)?;
        let unacked = std::mem::take(&mut on.unacked);
        tracing::info!(user = %self.user, resent = unacked.len(), "XMPP: session resumed");
        let mut written = self.write(&resumed).await;
        for stanza in &unacked {
            if written.is_err() {
                break;
            }
            written = self.write(stanza).await;
        }
        let pending = !unacked.is_empty();
        if let Some(on) = &mut self.sm.on {
            on.unacked = unacked;
        }
        written?;
        if pending { self.request_ack().await } else { Ok(()) }
    }
}

/// The next connection that resumes the session; never, if it cannot be
/// resumed.
#[cfg(test)]
mod tests {
    use tokio_xmpp::parsers::message::Message;

    use super::*;

    /// Stream management after `sent` stanzas, the last `unacked` of them
    /// unacknowledged.
    fn counting(sent: u32, unacked: usize) -> Counting {
        let stanza = |n: usize| {
            Stanza::from(Message::new(None).with_body(Default::default(), n.to_string()))
        };
        Counting {
            handled: 0,
            sent,
            unacked: (0..unacked).map(stanza).collect(),
            ack_requested: true,
            ack_due: None,
            timer: None,
            resumption: None,
        }
    }

    fn first_body(on: &Counting) -> Option<String> {
        match on.unacked.front()? {
            Stanza::Message(message) => message.bodies.values().next().cloned(),
            _ => None,
        }
    }

    #[test]
    fn an_acknowledgement_drops_what_it_covers_and_no_more() {
        let mut on = counting(10, 4);
        on.acknowledged(8).unwrap();
        assert_eq!((on.unacked.len(), first_body(&on).as_deref()), (2, Some("2")));
        assert!(!on.ack_requested);
        // The same count again changes nothing.
        on.acknowledged(8).unwrap();
        assert_eq!(on.unacked.len(), 2);
        on.acknowledged(10).unwrap();
        assert!(on.unacked.is_empty() && on.ack_due.is_none());
    }

    #[test]
    fn counts_wrap_around_at_two_to_the_32() {
        // 3 sent since the count wrapped, 5 unacknowledged.
        let mut on = counting(3, 5);
        on.acknowledged(u32::MAX).unwrap();
        assert_eq!(on.unacked.len(), 4);
        on.acknowledged(2).unwrap();
        assert_eq!(on.unacked.len(), 1);
    }

    #[test]
    fn acknowledging_more_than_was_sent_or_going_back_is_the_stream_error_of_xep_0198() {
        for h in [11, 5] {
            let mut on = counting(10, 4);
            let error = on.acknowledged(h).unwrap_err();
            assert_eq!(error.condition, stream_error::DefinedCondition::UndefinedCondition);
            let specific = error.application_specific.first().expect("handled-count-too-high");
            assert!(specific.is("handled-count-too-high", tokio_xmpp::parsers::ns::SM));
            assert_eq!(specific.attr("h"), Some(h.to_string().as_str()));
            assert_eq!(specific.attr("send-count"), Some("10"));
            assert_eq!(on.unacked.len(), 4, "nothing dropped");
        }
    }
}
