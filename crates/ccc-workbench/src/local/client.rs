//! The other processes' end of the control channel.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ccc_core::Status;
use futures_util::{SinkExt, StreamExt};
use tokio::net::UnixStream;
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};

use super::protocol::{CallRequest, ControlReply, ControlRequest, MAX_LINE};

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a reply may take: the server's own limit per request, and a margin.
const REPLY_TIMEOUT: Duration = Duration::from_secs(35);

/// What went wrong talking to the registered workbench.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// Nobody serves there: no workbench of this agent is registered with C23 on.
    #[error("no registered workbench serves {path}: {source}")]
    NotServing {
        /// The socket path.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The channel broke, or a line was too long.
    #[error("control channel: {0}")]
    Channel(#[from] LinesCodecError),
    /// The workbench closed the channel without a reply.
    #[error("the registered workbench closed the channel without a reply")]
    Closed,
    /// No reply in time.
    #[error("no reply within {0:?}")]
    TimedOut(Duration),
    /// The reply was not one of the channel's.
    #[error("bad reply {line:?}: {reason}")]
    BadReply {
        /// The line received.
        line: String,
        /// Why it was refused.
        reason: String,
    },
    /// The workbench refused or failed the request.
    #[error("refused at status {}: {reason}", status.code())]
    Refused {
        /// Its status then.
        status: Status,
        /// Why.
        reason: String,
    },
}

/// A connection to the registered workbench of an agent (the `ccc ctl` commands).
#[derive(Debug)]
pub struct ControlClient {
    lines: Framed<UnixStream, LinesCodec>,
}

impl ControlClient {
    /// Connects to the control socket at `path` (see
    /// [`LocalDir::socket_path`](super::LocalDir::socket_path)).
    pub async fn connect(path: &Path) -> Result<Self, ControlError> {
        let not_serving = |source| ControlError::NotServing {
            path: path.to_owned(),
            source,
        };
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, UnixStream::connect(path))
            .await
            .map_err(|_| not_serving(io::ErrorKind::TimedOut.into()))?
            .map_err(not_serving)?;
        Ok(Self {
            lines: Framed::new(stream, LinesCodec::new_with_max_length(MAX_LINE)),
        })
    }

    /// Sends one request and returns the reply as it came, refused or not.
    pub async fn request(
        &mut self,
        request: &ControlRequest,
    ) -> Result<ControlReply, ControlError> {
        let text = serde_json::to_string(request).map_err(|e| ControlError::BadReply {
            line: String::new(),
            reason: format!("request does not serialize: {e}"),
        })?;
        self.lines.send(text).await?;
        let line = tokio::time::timeout(REPLY_TIMEOUT, self.lines.next())
            .await
            .map_err(|_| ControlError::TimedOut(REPLY_TIMEOUT))?
            .ok_or(ControlError::Closed)??;
        serde_json::from_str(&line).map_err(|e| ControlError::BadReply {
            reason: e.to_string(),
            line,
        })
    }

    /// Dials (`workbenchSdkCall`); the status after it on success.
    pub async fn call(&mut self, call: CallRequest) -> Result<Status, ControlError> {
        self.checked(&ControlRequest::Call(call)).await
    }

    /// Hangs up (`workbenchSdkHangup`); the status after it on success.
    pub async fn hang_up(&mut self) -> Result<Status, ControlError> {
        self.checked(&ControlRequest::Hangup).await
    }

    /// The status (`workbenchSdkStatus`).
    pub async fn status(&mut self) -> Result<Status, ControlError> {
        self.checked(&ControlRequest::Status).await
    }

    /// Asks the workbench to shut down and let go of its lock.
    pub async fn release(&mut self) -> Result<Status, ControlError> {
        self.checked(&ControlRequest::Release).await
    }

    async fn checked(&mut self, request: &ControlRequest) -> Result<Status, ControlError> {
        let reply = self.request(request).await?;
        if reply.ok {
            Ok(reply.status)
        } else {
            Err(ControlError::Refused {
                status: reply.status,
                reason: reply.error.unwrap_or_default(),
            })
        }
    }
}
