//! What a method of the workbench can fail with.
//!
//! The guide's two kinds of errors (section 7): development errors (a method called in a
//! status that does not allow it, a bad argument) are `Err` values the program fixes in
//! its code; operation errors (the platform refused, a link failed) are `Err` values too
//! and also reach every subscriber as [`Event::ErrorNotify`](crate::Event::ErrorNotify),
//! as `onErrorNotify` did.

use std::time::Duration;

use ccc_core::helpers::InputError;
use ccc_core::{ErrorNotify, NotAllowed, Status};

/// Why a method of the [`Workbench`](crate::Workbench) did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Table K: the method is not allowed in the current status (it names the status,
    /// the method and what the status allows).
    #[error(transparent)]
    NotAllowed(#[from] NotAllowed),
    /// An argument cannot be right (a DTMF digit, a break id, a volume, no callee, ...).
    #[error("{method}: {source}")]
    Input {
        /// The guide's method name.
        method: &'static str,
        /// What is wrong.
        source: InputError,
    },
    /// The platform refused, or a request could not be made; the same error reached the
    /// subscribers as `onErrorNotify`.
    #[error("{0}")]
    Operation(ErrorNotify),
    /// The method did not settle in time.
    #[error("{method}: no result within {after:?} (status {status})")]
    Timeout {
        /// The guide's method name.
        method: &'static str,
        /// The time allowed.
        after: Duration,
        /// The status when it gave up.
        status: Status,
    },
    /// H25 `onBeforeCallDialing` did not answer in time.
    #[error("onBeforeCallDialing did not answer within {0:?}; the call was not dialed")]
    HookTimedOut(Duration),
    /// H25 `onBeforeCallDialing` declined the call.
    #[error("onBeforeCallDialing declined the call; it was not dialed")]
    DialDeclined,
    /// The method needs something the session does not have (no call to act on, not
    /// registered yet, no such access point, ...).
    #[error("{method}: {reason}")]
    Unavailable {
        /// The guide's method name.
        method: &'static str,
        /// What is missing.
        reason: String,
    },
    /// The workbench has been shut down (or its driver stopped).
    #[error("the workbench is shut down")]
    Closed,
    /// Another process is the registered workbench of this agent on this machine, or
    /// it could not be taken over.
    #[cfg(unix)]
    #[error(transparent)]
    Lock(#[from] crate::local::LockError),
    /// The local directory of locks and control sockets cannot be used.
    #[cfg(unix)]
    #[error(transparent)]
    LocalDir(#[from] crate::local::DirError),
    /// Reading or writing a file (a downloaded recording).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// What the system said.
        source: std::io::Error,
    },
}

impl Error {
    /// The `onErrorNotify` payload this error carries, if it is an operation error.
    pub fn notify(&self) -> Option<&ErrorNotify> {
        match self {
            Self::Operation(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn input(method: &'static str, source: InputError) -> Self {
        Self::Input { method, source }
    }

    pub(crate) fn unavailable(method: &'static str, reason: impl Into<String>) -> Self {
        Self::Unavailable {
            method,
            reason: reason.into(),
        }
    }
}
