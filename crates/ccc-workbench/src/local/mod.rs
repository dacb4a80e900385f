//! One registered workbench per agent per machine, and the local control channel of the
//! guide's section 10 (C23 `useLocalStorageToCall`).
//!
//! In the browser only one tab may register an agent; a second registration kicks the
//! first out. With C23 the other tabs ask the registered one to dial or hang up by writing
//! `localStorage` keys (`workbenchSdkCall`, `workbenchSdkHangup`) and read its status
//! from `workbenchSdkStatus`. Here the tabs are processes:
//!
//! - [`LocalLock`] is an exclusive `flock(2)` on a file named after the instance and the
//!   agent, in an owner-only directory ([`LocalDir`]). The process that holds it is the
//!   registered one; a second one gets [`LockError::Held`] with the control socket's
//!   path, or asks the holder to let go ([`LocalLock::take_over`]).
//! - [`ControlServer`] is the registered process's end: a Unix socket beside the lock
//!   file (owner-only, in the owner-only directory) answering one JSON request per line
//!   ([`ControlRequest`]) with one JSON reply per line ([`ControlReply`]).
//! - [`ControlClient`] is the other processes' end (`ccc ctl call NUMBER`, `ccc ctl
//!   hangup`, `ccc ctl status`).
//!
//! The guide's rules are applied before a request reaches the workbench: dialing only at
//! status 3, 4 or 5, hanging up only at 8, 9, 10, 11, 12 or 21 ([`may_call`],
//! [`may_hang_up`]).
//!
//! Unix only: the lock is `flock(2)` and the channel a Unix socket.

mod client;
mod dir;
mod handler;
mod lock;
mod protocol;
mod server;

pub use client::{ControlClient, ControlError};
pub use dir::{DirError, LocalDir};
pub(crate) use handler::Handler;
pub use lock::{LocalLock, LockError};
pub use protocol::{CallRequest, ControlReply, ControlRequest, MAX_LINE};
pub use server::{ControlHandler, ControlServer, HandlerError};

use ccc_core::Status;

/// The statuses at which another process may ask for a call (section 10: 3, 4, 5).
pub const CALL_STATUSES: [Status; 3] = [Status::Ready, Status::Break, Status::AfterCallWork];

/// The statuses at which another process may ask for a hang-up (section 10: 8, 9, 10, 11,
/// 12, 21).
pub const HANG_UP_STATUSES: [Status; 6] = [
    Status::Dialing,
    Status::InboundCall,
    Status::OutboundCall,
    Status::InternalCall,
    Status::Hold,
    Status::Monitoring,
];

/// Whether section 10 lets another process dial at `status`.
pub fn may_call(status: Status) -> bool {
    CALL_STATUSES.contains(&status)
}

/// Whether section 10 lets another process hang up at `status`.
pub fn may_hang_up(status: Status) -> bool {
    HANG_UP_STATUSES.contains(&status)
}

#[cfg(test)]
mod tests;
