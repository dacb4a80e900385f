//! The registered process's end of the control channel.

use std::fmt;
use std::future::Future;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ccc_core::Status;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};

use super::lock::LocalLock;
use super::protocol::{CallRequest, ControlReply, ControlRequest, MAX_LINE};
use super::{may_call, may_hang_up};

/// How long a request may take before it is answered with a timeout error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a connection may stay silent before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How many other processes may be connected at once.
const MAX_CONNECTIONS: usize = 32;

/// Why the workbench did not carry out a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError(String);

impl HandlerError {
    /// An error with this message.
    pub fn new(message: impl fmt::Display) -> Self {
        Self(message.to_string())
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HandlerError {}

/// What the registered workbench does for the other processes. The server checks the
/// guide's status rules before it calls [`call`](Self::call) or
/// [`hang_up`](Self::hang_up).
pub trait ControlHandler: Send + Sync + 'static {
    /// The status now.
    fn status(&self) -> Status;
    /// Dial, as `call` (M11) does.
    fn call(&self, request: CallRequest) -> impl Future<Output = Result<(), HandlerError>> + Send;
    /// Hang up, as `hangUp` (M7) does.
    fn hang_up(&self) -> impl Future<Output = Result<(), HandlerError>> + Send;
    /// Shut the workbench down and drop the [`LocalLock`]: another process takes over.
    fn release(&self) -> impl Future<Output = ()> + Send;
}

/// The control socket of the registered workbench (C23). It stops, and its socket file
/// is removed, when the value is dropped.
#[derive(Debug)]
pub struct ControlServer {
    path: PathBuf,
    task: JoinHandle<()>,
}

impl ControlServer {
    /// Serves the control channel at the lock's socket path. Holding the lock proves no
    /// other process serves there, so a socket file left by a dead process is replaced.
    /// Only this user may connect: the socket is `0600` in an owner-only directory.
    pub fn bind<H: ControlHandler>(lock: &LocalLock, handler: Arc<H>) -> io::Result<Self> {
        let path = lock.socket_path().to_owned();
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let listener = UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let task = tokio::spawn(accept_loop(listener, handler));
        Ok(Self { path, task })
    }

    /// Where it serves.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn accept_loop<H: ControlHandler>(listener: UnixListener, handler: Arc<H>) {
    // Aborting this task drops the set, which aborts every connection with it.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors or similar: wait a moment rather than spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                if connections.len() >= MAX_CONNECTIONS {
                    drop(stream);
                    continue;
                }
                connections.spawn(serve(stream, Arc::clone(&handler)));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve<H: ControlHandler>(stream: UnixStream, handler: Arc<H>) {
    let mut lines = Framed::new(stream, LinesCodec::new_with_max_length(MAX_LINE));
    loop {
        let line = match tokio::time::timeout(IDLE_TIMEOUT, lines.next()).await {
            Ok(Some(Ok(line))) => line,
            Ok(Some(Err(LinesCodecError::MaxLineLengthExceeded))) => {
                let reply = ControlReply::refused(
                    handler.status(),
                    format!("request longer than {MAX_LINE} bytes"),
                );
                // The codec ends its stream after an error: answer, then close.
                let _ = send(&mut lines, &reply).await;
                return;
            }
            // Closed, broken or idle for too long.
            Ok(Some(Err(LinesCodecError::Io(_))) | None) | Err(_) => return,
        };
        let request = match serde_json::from_str::<ControlRequest>(&line) {
            Ok(request) => request,
            Err(e) => {
                let reply = ControlReply::refused(handler.status(), format!("bad request: {e}"));
                if send(&mut lines, &reply).await.is_err() {
                    return;
                }
                continue;
            }
        };
        if request == ControlRequest::Release {
            // Answer first: releasing drops this server, and this connection with it.
            let _ = send(&mut lines, &ControlReply::done(handler.status())).await;
            handler.release().await;
            return;
        }
        let reply = answer(handler.as_ref(), request).await;
        if send(&mut lines, &reply).await.is_err() {
            return;
        }
    }
}

/// Carries out a request other than [`ControlRequest::Release`].
async fn answer<H: ControlHandler>(handler: &H, request: ControlRequest) -> ControlReply {
    let status = handler.status();
    let outcome = match request {
        ControlRequest::Status | ControlRequest::Release => return ControlReply::done(status),
        ControlRequest::Call(_) if !may_call(status) => {
            return ControlReply::refused(
                status,
                format!("cannot call at status {}: only at 3, 4 or 5", status.code()),
            );
        }
        ControlRequest::Hangup if !may_hang_up(status) => {
            return ControlReply::refused(
                status,
                format!(
                    "cannot hang up at status {}: only at 8, 9, 10, 11, 12 or 21",
                    status.code()
                ),
            );
        }
        ControlRequest::Call(call) => {
            tokio::time::timeout(REQUEST_TIMEOUT, handler.call(call)).await
        }
        ControlRequest::Hangup => tokio::time::timeout(REQUEST_TIMEOUT, handler.hang_up()).await,
    };
    match outcome {
        Ok(Ok(())) => ControlReply::done(handler.status()),
        Ok(Err(e)) => ControlReply::refused(handler.status(), e.to_string()),
        Err(_) => ControlReply::refused(
            handler.status(),
            format!("no answer within {REQUEST_TIMEOUT:?}"),
        ),
    }
}

async fn send(
    lines: &mut Framed<UnixStream, LinesCodec>,
    reply: &ControlReply,
) -> Result<(), LinesCodecError> {
    // A reply always serializes: it holds a status, a bool and a string.
    let text = serde_json::to_string(reply).unwrap_or_default();
    lines.send(text).await
}
