//! The agent link: a WebSocket at `AgentServerUrl` that pushes the agent's snapshots.
//!
//! Framing (ours; `docs/emulator.md`): connect to
//! `AgentServerUrl?UserId=..&SignData=..&Signature=..[&DeviceId=..]` with the token of
//! `RequestLoginInfo` (or `RefreshToken`, `GetLoginDetails`). Each text frame the
//! server sends is one JSON object, the `Data` of a `PollUserStatus` answer
//! (`ContextId`, `UserContext`, `CallContext`); the first is the agent's state at
//! connect time. The client may send any text frame as a heartbeat. A platform
//! sign-out closes the connection with code 4001 and the guide's reason
//! (`KA_register`).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::engine::Engine;
use super::faults::LinkKind;
use super::hub::LinkFrame;
use crate::platform::Input;

/// The server pings this often.
pub const PING_EVERY: Duration = Duration::from_secs(15);
/// A client silent this long (no frame, no pong) is dropped.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(45);
/// A handshake must finish within this (besides an injected delay).
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);
/// Heartbeats reach the platform at most this often per connection.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);

/// Who connected.
#[derive(Debug, Clone)]
struct Caller {
    user: String,
    device: Option<String>,
}

fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.uri()
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn refuse(status: StatusCode, why: &str) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(
        serde_json::json!({ "Code": "Forbidden.Token", "Message": why }).to_string(),
    ));
    *response.status_mut() = status;
    response
}

/// Accepts agent-link connections until `shutdown`.
pub(super) async fn serve(
    engine: Arc<Engine>,
    listener: TcpListener,
    shutdown: watch::Receiver<bool>,
) {
    let mut stop = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let engine = engine.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move { connection(engine, stream, shutdown).await });
            }
            _ = stop.changed() => return,
        }
    }
}

async fn connection(engine: Arc<Engine>, stream: TcpStream, mut shutdown: watch::Receiver<bool>) {
    let delay = engine.run(|s, _| s.faults.handshake_delay);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut caller = None;
    #[allow(clippy::result_large_err)] // tungstenite's callback type, not ours
    let check = |req: &Request, response: Response| -> Result<Response, ErrorResponse> {
        let pairs = query_pairs(req);
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let (Some(user), Some(data), Some(signature)) =
            (get("UserId"), get("SignData"), get("Signature"))
        else {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "UserId, SignData and Signature are required",
            ));
        };
        match engine.tokens.verify(data, signature, engine.now_ms()) {
            Ok(owner) if owner == user => {}
            Ok(_) => {
                return Err(refuse(
                    StatusCode::FORBIDDEN,
                    "the token is another agent's",
                ));
            }
            Err(e) => return Err(refuse(StatusCode::UNAUTHORIZED, &e.to_string())),
        }
        caller = Some(Caller {
            user: user.to_owned(),
            device: get("DeviceId").filter(|d| !d.is_empty()).map(str::to_owned),
        });
        Ok(response)
    };
    let Ok(Ok(ws)) = tokio::time::timeout(
        HANDSHAKE_LIMIT,
        tokio_tungstenite::accept_hdr_async(stream, check),
    )
    .await
    else {
        return;
    };
    let Some(caller) = caller else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    // Joining and reading the current snapshot under one lock: no snapshot is missed.
    let (id, mut frames, first) = engine.run(|s, _| {
        let (id, rx) = engine.hub.join(&caller.user, caller.device.clone());
        (id, rx, s.platform.snapshot(&caller.user))
    });
    if let Some(first) = first
        && let Ok(text) = serde_json::to_string(&first)
        && sink.send(Message::Text(text.into())).await.is_err()
    {
        engine.hub.leave(&caller.user, id);
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_heard = tokio::time::Instant::now();
    let mut last_heartbeat: Option<tokio::time::Instant> = None;
    loop {
        // Black-holed: nothing is read (pings go unanswered) and frames are dropped;
        // checked again at least every 100 ms, and for each frame as it comes.
        let silent = engine.run(|s, _| s.faults.link(LinkKind::AgentLink, &caller.user).black_hole);
        if silent {
            last_heard = tokio::time::Instant::now();
        }
        tokio::select! {
            frame = frames.recv() => match frame {
                Some(LinkFrame::Snapshot(snapshot)) => {
                    let fault = engine.run(|s, _| s.faults.link(LinkKind::AgentLink, &caller.user));
                    if fault.black_hole {
                        continue;
                    }
                    if !fault.delay.is_zero() {
                        tokio::time::sleep(fault.delay).await;
                    }
                    let Ok(text) = serde_json::to_string(&*snapshot) else { continue };
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(LinkFrame::Close { code, reason }) => {
                    let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
                    break;
                }
                Some(LinkFrame::Drop) => break,
                // The hub dropped us (our queue overflowed): close, the client resyncs.
                None => {
                    let frame = CloseFrame { code: CloseCode::Again, reason: "too slow".into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break;
                }
            },
            message = source.next(), if !silent => match message {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(message)) => {
                    last_heard = tokio::time::Instant::now();
                    if matches!(message, Message::Text(_) | Message::Binary(_) | Message::Ping(_))
                        && last_heartbeat.is_none_or(|t| t.elapsed() >= HEARTBEAT_EVERY)
                    {
                        last_heartbeat = Some(tokio::time::Instant::now());
                        let user = caller.user.as_str().into();
                        engine.run(|s, now| s.platform.handle(now, Input::Heartbeat { user_id: user }));
                    }
                }
            },
            () = tokio::time::sleep(Duration::from_millis(100)), if silent => {}
            _ = ping.tick(), if !silent => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    break;
                }
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
            _ = shutdown.changed() => {
                let frame = CloseFrame { code: CloseCode::Away, reason: "emulator stopping".into() };
                let _ = sink.send(Message::Close(Some(frame))).await;
                break;
            }
        }
    }
    engine.hub.leave(&caller.user, id);
}
