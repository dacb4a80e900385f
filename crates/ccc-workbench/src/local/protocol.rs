//! The control channel's messages: one JSON object per line each way.
//!
//! Requests mirror the guide's `localStorage` keys: `workbenchSdkCall` is
//! `{"op":"call","callee":"..","caller":"..","publicKey":"..","useVirNumCall":false}`,
//! `workbenchSdkHangup` is `{"op":"hangup"}`, reading `workbenchSdkStatus` is
//! `{"op":"status"}`. `{"op":"release"}` asks the registered process to shut its
//! workbench down and let go of the lock (a take-over). Every request gets one reply:
//! `{"ok":true,"status":3}` or `{"ok":false,"status":9,"error":".."}`, where `status` is
//! the status code when the reply was made. A line that is not a request gets a refusal
//! and the channel goes on; a line longer than [`MAX_LINE`] gets one and the channel
//! closes.

use ccc_core::Status;
use serde::{Deserialize, Serialize};

/// The longest line either side accepts, in bytes.
pub const MAX_LINE: usize = 4096;

pub use crate::types::CallRequest;

/// A request from another process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
#[non_exhaustive]
pub enum ControlRequest {
    /// Dial (allowed at status 3, 4, 5).
    Call(CallRequest),
    /// Hang up (allowed at status 8, 9, 10, 11, 12, 21).
    Hangup,
    /// Tell the status code.
    Status,
    /// Shut the workbench down and let go of the lock.
    Release,
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlReply {
    /// Whether the request was carried out.
    pub ok: bool,
    /// The status when the reply was made (`workbenchSdkStatus`; its code on the wire).
    pub status: Status,
    /// Why not, when `ok` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ControlReply {
    /// A request carried out.
    pub fn done(status: Status) -> Self {
        Self {
            ok: true,
            status,
            error: None,
        }
    }

    /// A request refused or failed, and why.
    pub fn refused(status: Status, error: impl Into<String>) -> Self {
        Self {
            ok: false,
            status,
            error: Some(error.into()),
        }
    }
}
