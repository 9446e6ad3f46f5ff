//! A session on any front door, so that one scenario measures the web
//! door, the VP door, the XMPP door or pairs across web and VP with the
//! same loop.

use std::ops::Range;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use serde_json::json;

use crate::Common;
use crate::client::{self, Session, next_text, send};
use crate::scenario::{Door, Fresh};
use crate::vp::{Credential, ImEvent, VpSession, source_address};
use crate::xmpp::{Arrived, Sasl, XmppSession};

/// How often a long opening of sessions says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// A logged-in session of one user.
pub enum Peer {
    /// A WebSocket of the web door.
    Web(Session),
    /// A connection to the VP door.
    Vp(VpSession),
    /// A connection to the XMPP door (its TLS state is large).
    Xmpp(Box<XmppSession>),
}

/// Opens the sessions of users `range` of `fresh` on `door` (VP sessions
/// log in with their token as auth type 1), at most
/// `common.connect_concurrency` at a time, saying every few seconds how
/// many are open; the sessions in the order of the users, and how long
/// it took.
pub async fn open_all(
    fresh: &Fresh,
    door: Door,
    common: &Common,
    range: Range<usize>,
) -> anyhow::Result<(Vec<Peer>, Duration)> {
    let started = Instant::now();
    let (port, vp) = (fresh.server.port(), fresh.server.vp_address());
    let xmpp = fresh.server.xmpp_address(common.xmpp_transport.into());
    let total = range.len();
    let opening = range.map(move |i| async move {
        let token = &fresh.tokens[i];
        if door == Door::Xmpp {
            let xmpp = xmpp.ok_or_else(|| anyhow::anyhow!("the XMPP door is not listening"))?;
            let transport = common.xmpp_transport.into();
            let user = &fresh.users[i];
            let session =
                XmppSession::log_in(xmpp, transport, &fresh.certificate, user, Sasl::Plain(token))
                    .await?;
            Ok(Peer::Xmpp(Box::new(session)))
        } else if door.is_vp(i) {
            let vp = vp.ok_or_else(|| anyhow::anyhow!("the VP door is not listening"))?;
            let source = source_address(i, common.vp_sources);
            let session =
                VpSession::log_in(vp, source, &fresh.users[i], Credential::Token(token)).await?;
            Ok(Peer::Vp(session))
        } else {
            client::connect(port, token).await.map(Peer::Web)
        }
    });
    let (mut done, mut said) = (0, Instant::now());
    let peers = futures_util::stream::iter(opening)
        .buffered(common.connect_concurrency.max(1))
        .inspect(|_| {
            done += 1;
            if said.elapsed() >= PROGRESS_EVERY {
                said = Instant::now();
                eprintln!("  {done}/{total} {} sessions open", door.name());
            }
        })
        .collect::<Vec<anyhow::Result<Peer>>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((peers, started.elapsed()))
}

/// Ends every session (WebSocket close or VP logout), a few hundred at a
/// time.
pub async fn close_all(peers: Vec<Peer>) {
    let (mut web, mut vp, mut xmpp) = (Vec::new(), Vec::new(), Vec::new());
    for peer in peers {
        match peer {
            Peer::Web(session) => web.push(session),
            Peer::Vp(session) => vp.push(session),
            Peer::Xmpp(session) => xmpp.push(*session),
        }
    }
    client::close_all(web).await;
    futures_util::stream::iter(vp).for_each_concurrent(256, VpSession::log_out).await;
    futures_util::stream::iter(xmpp).for_each_concurrent(256, XmppSession::log_out).await;
}

impl Peer {
    /// Sends a 1:1 message.
    pub async fn send_im(&mut self, to: &str, text: &str) -> anyhow::Result<()> {
        match self {
            Self::Web(session) => {
                send(session, &json!({"type": "im", "to": to, "text": text})).await
            }
            Self::Vp(session) => session.send_im(to, text).await,
            Self::Xmpp(session) => session.send_im(to, text).await,
        }
    }

    /// Waits up to `within` for the message `text` from `from`; how many
    /// error answers (web error frames, VP channels ended) came first.
    pub async fn expect_im(
        &mut self,
        from: &str,
        text: &str,
        within: Duration,
    ) -> anyhow::Result<u64> {
        let mut errors = 0;
        match self {
            Self::Web(session) => {
                let markers = [format!(r#""text":"{text}""#), format!(r#""from":"{from}""#)];
                loop {
                    let frame = next_text(session, within).await?;
                    if frame.contains(r#""type":"error""#) {
                        errors += 1;
                    } else if frame.contains(r#""type":"im""#)
                        && markers.iter().all(|marker| frame.contains(marker))
                    {
                        return Ok(errors);
                    }
                }
            }
            Self::Vp(session) => loop {
                match session.next_im(within).await? {
                    ImEvent::Text { from: sender, text: got } if sender == from && got == text => {
                        return Ok(errors);
                    }
                    ImEvent::Text { .. } => {}
                    ImEvent::Refused => errors += 1,
                }
            },
            Self::Xmpp(session) => loop {
                match session.next_im(within).await? {
                    Arrived::Text { from: sender, text: got } if sender == from && got == text => {
                        return Ok(errors);
                    }
                    Arrived::Text { .. } => {}
                    Arrived::Refused => errors += 1,
                }
            },
        }
    }

    /// Error answers that arrive within `within` of each other (late
    /// answers to the last messages sent).
    pub async fn late_errors(&mut self, within: Duration) -> u64 {
        let mut errors = 0;
        match self {
            Self::Web(session) => {
                while let Ok(frame) = next_text(session, within).await {
                    errors += u64::from(frame.contains(r#""type":"error""#));
                }
            }
            Self::Vp(session) => {
                while let Ok(event) = session.next_im(within).await {
                    errors += u64::from(matches!(event, ImEvent::Refused));
                }
            }
            Self::Xmpp(session) => {
                while let Ok(arrived) = session.next_im(within).await {
                    errors += u64::from(matches!(arrived, Arrived::Refused));
                }
            }
        }
        errors
    }
}
