//! Presence over HTTP and the WebSocket event stream.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use simul_core::{Event, Presence, SessionId, Status, UserId};
use utoipa::ToSchema;

use crate::auth::{Authenticated, Reached};
use crate::error::{ApiJson, ErrorBody};
use crate::{ApiError, AppState};
use simul_service::{CommandAdmission, CommandLimit};

/// `PUT /api/v1/me/status` body.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct StatusUpdate {
    /// `available`, `away`, `dnd` (do not disturb) or `in_meeting`.
    #[schema(example = "away", pattern = "^(available|away|dnd|in_meeting)$")]
    status: String,
    /// Free text shown next to the status.
    #[serde(default)]
    message: String,
    /// Whether the user is idle.
    #[serde(default)]
    idle: bool,
}

/// What others see of a user.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PresenceInfo {
    /// `available`, `away`, `dnd`, `in_meeting` or `offline`.
    #[schema(example = "available")]
    status: &'static str,
    /// The status message.
    message: String,
    /// Whether the user is idle.
    idle: bool,
}

impl From<&Presence> for PresenceInfo {
    fn from(presence: &Presence) -> Self {
        Self {
            status: presence.status.as_str(),
            message: presence.message.clone(),
            idle: presence.idle,
        }
    }
}

/// Sets the status of all the caller's sessions.
#[utoipa::path(put, path = "/api/v1/me/status", tag = "presence",
    request_body = StatusUpdate,
    responses(
        (status = 200, body = PresenceInfo),
        (status = 400, body = ErrorBody, description = "Unknown status, or `offline`"),
        (status = 409, body = ErrorBody, description = "No WebSocket of the caller is open"),
    ))]
pub(crate) async fn put_status(
    State(state): State<Arc<AppState>>,
    caller: Authenticated,
    ApiJson(update): ApiJson<StatusUpdate>,
) -> Result<Json<PresenceInfo>, ApiError> {
    let status: Status = update
        .status
        .parse()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("{e}")))?;
    if status == Status::Offline {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "offline is not a status to set: log out instead",
        ));
    }
    let presence = Presence::new(status, update.idle, &update.message);
    if state.service.set_status(&UserId::new(&caller.user), &presence) == 0 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "you are not online: open the WebSocket /api/v1/events first",
        ));
    }
    Ok(Json(PresenceInfo::from(&presence)))
}

/// The status of several users at once, by user id.
#[utoipa::path(get, path = "/api/v1/awareness", tag = "presence",
    params(("user" = Vec<String>, Query, description = "A user id; repeat for more")),
    responses((status = 200, body = BTreeMap<String, PresenceInfo>), (status = 401, body = ErrorBody)))]
pub(crate) async fn awareness(
    State(state): State<Arc<AppState>>,
    _caller: Authenticated,
    RawQuery(query): RawQuery,
) -> Json<BTreeMap<String, PresenceInfo>> {
    let users: Vec<UserId> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == "user")
        .map(|(_, value)| UserId::new(value.into_owned()))
        .collect();
    let presences = state.service.presences(&users);
    Json(users.iter().zip(&presences).map(|(u, p)| (u.to_string(), p.into())).collect())
}

/// The event stream: a WebSocket that is one community session (the user
/// is online while one is open). Its first event is `{"type": "ready"}`;
/// the README lists the events and the commands it accepts.
#[utoipa::path(get, path = "/api/v1/events", tag = "presence",
    params(("presence" = Option<String>, Query,
        description = "`none`: only watch others (an awareness widget); the user is not put online")),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Upgrade from another site"),
    ))]
pub(crate) async fn events(
    State(state): State<Arc<AppState>>,
    reached: Reached,
    caller: Authenticated,
    RawQuery(query): RawQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    // A plain GET (no upgrade headers) is answered in JSON like any error.
    let upgrade =
        upgrade.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
    // `presence=none`: an awareness widget's session, which watches others
    // without putting its user online or changing their status.
    let watcher = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(key, value)| key == "presence" && value == "none");
    // Browsers send cookies on cross-site WebSocket upgrades too: only
    // pages of this very origin (host and port), or of an allowed origin
    // (`server.allowed_origins`), may open one.
    if !reached.trusted_origin {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "WebSocket from another site refused"));
    }
    // Said before the upgrade, where a client can read it.
    let user = UserId::new(&caller.user);
    state.service.check_new_session(&user)?;
    // tungstenite allocates its read buffer up front (128 KiB by default)
    // and zero-fills all of it on every read attempt: that was 133 KiB of
    // RSS per idle session and a 128 KiB memset each time a session woke
    // (BENCHMARKS.md, "simul serve under load"). Commands are small; a
    // larger frame still arrives whole, the buffer grows to its length.
    let upgrade = upgrade
        .read_buffer_size(1024)
        // Commands are small; tungstenite would take 64 MiB messages.
        .max_message_size(MAX_COMMAND_BYTES)
        .max_frame_size(MAX_COMMAND_BYTES);
    let address = reached.client.address;
    Ok(upgrade.on_upgrade(move |socket| session(state, caller, watcher, address, socket)))
}

/// The largest WebSocket message a client may send (a 10,000-character
/// message in JSON fits; the HTTP body limit is larger for contact lists).
const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// A command a client sends over the socket.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Command {
    Watch { users: Vec<UserId> },
    Unwatch { users: Vec<UserId> },
    Typing { to: UserId, typing: bool },
    Im { to: UserId, text: String },
}

async fn session(
    state: Arc<AppState>,
    caller: Authenticated,
    watcher: bool,
    address: std::net::IpAddr,
    mut socket: WebSocket,
) {
    let user = UserId::new(&caller.user);
    let (session, mut events) = match state.service.open_session(&user, watcher) {
        Ok(connected) => connected,
        // Another session came first since the check before the upgrade.
        Err(error) => {
            close(&mut socket, error.to_string()).await;
            return;
        }
    };
    state.service.describe_session(session, "web", address);
    let mut commands = CommandLimit::new(state.service.flood());
    // Tells the client its session is live: events from now on reach it.
    let ready = json!({"type": "ready", "user": user}).to_string();
    let mut open = socket.send(Message::Text(ready.into())).await.is_ok();
    // Then what came while the user was away (an awareness widget only
    // watches, and leaves them for the user's client).
    if !watcher {
        let missed = state.service.missed_messages(session).await.unwrap_or_else(|error| {
            tracing::warn!(%user, %error, "missed messages not read; they stay in the history");
            Vec::new()
        });
        for frame in missed.iter().flat_map(event_frames) {
            open = open && socket.send(Message::Text(frame.to_string().into())).await.is_ok();
        }
    }
    // A client that vanished (laptop closed, network gone) must not stay
    // online for hours until TCP notices: ping it, and end the session
    // when it has been silent for two rounds. Browsers answer pings by
    // themselves.
    let mut ping = tokio::time::interval(state.keepalive);
    ping.tick().await;
    let mut last_heard = tokio::time::Instant::now();
    // The token the socket was opened with ends it when every call would
    // refuse it (at its expiry, past the clock skew servers of an SSO
    // domain allow each other): a client whose cookie was renewed opens
    // the next socket with the new one (events.js reconnects on close),
    // one whose cookie expired is refused and signs in again.
    let refused_from = caller.stamp.expires_ms.saturating_add(ltpa::token::DEFAULT_CLOCK_SKEW_MS);
    let expiry = tokio::time::sleep(until(refused_from));
    tokio::pin!(expiry);
    while open {
        tokio::select! {
            () = &mut expiry => {
                close(&mut socket, "the sign-in expired: sign in again".into()).await;
                break;
            }
            event = events.recv() => {
                let Some(event) = event else {
                    // The hub let go of this session: its account was signed
                    // out, or it could not keep up. Say so before closing.
                    close(&mut socket, "session ended by the server".into()).await;
                    break;
                };
                // A logout, a password change or a disabled account ends
                // the token this session was opened with: the session
                // ends with it.
                if *event == Event::TokensRevoked && !state.service.still_accepted(&caller.stamp) {
                    close(&mut socket, "signed out".into()).await;
                    break;
                }
                for frame in event_frames(&event) {
                    open = socket.send(Message::Text(frame.to_string().into())).await.is_ok();
                    if !open {
                        break;
                    }
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > state.keepalive * 2 {
                    tracing::info!(%user, "WebSocket silent; ending its session");
                    break;
                }
                open = socket.send(Message::Ping(Default::default())).await.is_ok();
            }
            message = socket.recv() => {
                let Some(Ok(message)) = message else { break };
                last_heard = tokio::time::Instant::now();
                let Message::Text(text) = message else { continue };
                let reply = match commands.admit() {
                    CommandAdmission::Allowed => command(&state, session, &user, &text).await,
                    CommandAdmission::Refused => Some(format!(
                        "too many commands: slow down (at most {} a second)",
                        state.service.flood().commands_per_second
                    )),
                    CommandAdmission::CutOff => {
                        tracing::info!(%user, "session cut off: too many commands");
                        close(&mut socket, "too many commands".into()).await;
                        break;
                    }
                };
                if let Some(error) = reply {
                    let error = json!({"type": "error", "error": error});
                    let _ = socket.send(Message::Text(error.to_string().into())).await;
                }
            }
        }
    }
    // Two keepalive rounds: a reloaded page finds its n-way chats.
    state.service.close_session(session, state.keepalive * 2);
}

/// How long until `moment_ms` (ms since the Unix epoch); no time for a
/// past one, at most a year (a timer's range) for a far one.
fn until(moment_ms: i64) -> std::time::Duration {
    const YEAR_MS: i64 = 365 * 24 * 3_600_000;
    let left = moment_ms.saturating_sub(chrono::Utc::now().timestamp_millis());
    std::time::Duration::from_millis(left.clamp(0, YEAR_MS).unsigned_abs())
}

/// Closes the socket with a policy violation (1008) and the reason.
async fn close(socket: &mut WebSocket, reason: String) {
    let frame = axum::extract::ws::CloseFrame {
        code: axum::extract::ws::close_code::POLICY,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// Carries out one client command; the error to report, if any.
async fn command(
    state: &AppState,
    session: SessionId,
    user: &UserId,
    text: &str,
) -> Option<String> {
    let result = match serde_json::from_str::<Command>(text) {
        Err(e) => return Some(format!("unknown command: {e}")),
        Ok(Command::Watch { users }) => state.service.watch(session, &users),
        Ok(Command::Unwatch { users }) => state.service.unwatch(session, &users),
        Ok(Command::Typing { to, typing }) => state.service.typing(session, &to, typing),
        Ok(Command::Im { to, text }) => {
            let sent = crate::messages::deliver_im(state, user, Some(session), to.as_str(), text);
            return sent.await.err().map(|e| e.message().to_owned());
        }
    };
    result.err().map(|e| e.to_string())
}

/// The JSON frames of an event, as the API contract names them: one
/// each, but for the presences a watch reports, which are one `status`
/// frame per user, as for a change.
fn event_frames(event: &Event) -> Vec<Value> {
    let frame = match event {
        Event::Presences { presences } => {
            return presences.iter().map(|(user, presence)| status_json(user, presence)).collect();
        }
        Event::Status { user, presence } => status_json(user, presence),
        Event::Im { from, to, text, at, id, missed, file } => {
            let at = at.to_rfc3339();
            let frame = json!({"type": "im", "id": id, "from": from, "to": to, "text": text, "at": at, "missed": missed});
            crate::files::with_file(frame, file.as_deref())
        }
        Event::Typing { from, typing, .. } => {
            json!({"type": "typing", "from": from, "typing": typing})
        }
        Event::NwayInvite { chat, from, topic } => {
            json!({"type": "nway_invite", "id": chat, "from": from, "topic": topic})
        }
        Event::NwayMessage { chat, from, text, at, id, file } => {
            let at = at.to_rfc3339();
            let frame = json!({"type": "nway_message", "id": chat, "message": id, "from": from, "text": text, "at": at});
            crate::files::with_file(frame, file.as_deref())
        }
        Event::NwayMembers { chat, members } => {
            json!({"type": "nway_members", "id": chat, "members": members})
        }
        Event::Read { conversation, up_to } => {
            json!({"type": "read", "conversation": conversation.to_string(), "up_to": up_to})
        }
        Event::MessageChanged { place, id, change, .. } => {
            crate::message_changes::change_frame(place, *id, change)
        }
        Event::Seen { by, up_to } => json!({"type": "seen", "by": by, "up_to": up_to}),
        Event::Announcement { from, text, at } => {
            json!({"type": "announcement", "from": from, "text": text, "at": at.to_rfc3339()})
        }
        // The browser client reads its contact list when it opens and
        // is the one editing it; the API names no frame for a change.
        Event::ContactsChanged { .. } => return Vec::new(),
        // The session checks its own token (`session`): nothing to show.
        Event::TokensRevoked => return Vec::new(),
    };
    vec![frame]
}

fn status_json(user: &UserId, presence: &Presence) -> Value {
    json!({
        "type": "status", "user": user, "status": presence.status.as_str(),
        "message": presence.message, "idle": presence.idle,
    })
}
