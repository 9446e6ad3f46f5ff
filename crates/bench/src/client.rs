//! WebSocket sessions of the event stream, `ws://127.0.0.1:PORT/api/v1/events`.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::{HeaderValue, header};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// One logged-in session: a WebSocket past its `{"type":"ready"}` frame.
pub type Session = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Longest wait for the upgrade and the `ready` frame.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The client's buffers: the bench holds thousands of sockets that carry
/// small frames, so it keeps tungstenite's eager read buffer small.
fn config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0)
}

/// Opens a session with `Authorization: Bearer <token>` and waits for its
/// `ready` frame.
pub async fn connect(port: u16, token: &str) -> anyhow::Result<Session> {
    let mut request = format!("ws://127.0.0.1:{port}/api/v1/events").into_client_request()?;
    request
        .headers_mut()
        .insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}"))?);
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(config()), true);
    let (mut session, _) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .context("WebSocket upgrade timed out")?
        .context("WebSocket upgrade")?;
    let first = next_text(&mut session, CONNECT_TIMEOUT).await?;
    if !first.contains(r#""type":"ready""#) {
        bail!("expected the ready frame first, got {first}");
    }
    Ok(session)
}

/// Opens one session per token, at most `concurrency` handshakes at a time;
/// the sessions in the order of the tokens, and how long it took.
pub async fn connect_all(
    port: u16,
    tokens: &[String],
    concurrency: usize,
) -> anyhow::Result<(Vec<Session>, Duration)> {
    let started = Instant::now();
    let sessions = futures_util::stream::iter(tokens.iter().map(|token| connect(port, token)))
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((sessions, started.elapsed()))
}

/// Sends a JSON command.
pub async fn send(session: &mut Session, command: &serde_json::Value) -> anyhow::Result<()> {
    session.send(Message::Text(command.to_string().into())).await?;
    Ok(())
}

/// The next text frame, within `within`.
pub async fn next_text(session: &mut Session, within: Duration) -> anyhow::Result<String> {
    loop {
        let message = tokio::time::timeout(within, session.next())
            .await
            .context("no frame in time")?
            .context("the server closed the WebSocket")??;
        match message {
            Message::Text(text) => return Ok(text.as_str().to_owned()),
            Message::Close(frame) => bail!("the server closed the WebSocket: {frame:?}"),
            _ => {}
        }
    }
}

/// Closes every session (close handshake started, not awaited).
pub async fn close_all(sessions: Vec<Session>) {
    futures_util::stream::iter(sessions)
        .for_each_concurrent(256, |mut session| async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), session.close(None)).await;
        })
        .await;
}
