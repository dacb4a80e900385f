//! Pure core of ccc-rs: what an agent's status is, what it allows, and which events a
//! program sees, exactly as the workbench guide says (`spec/MAP.md` tables S, K, H, E),
//! whichever link a change arrives on.
//!
//! No I/O and no async runtime: time enters as an argument, results leave through
//! `poll_*` calls, in the manner of quinn-proto and str0m.
//!
//! - [`Status`]: the 19 status codes (table S); [`Operation`] and [`check`]: table K.
//! - [`Agent`]: the agent machine; feed it [`Input`]s, drain [`Event`]s and [`Action`]s.
//! - [`model`]: the agent-link data (`UserContext`, `CallContext`, `ChannelContext`);
//!   [`derive_status`]: from those to a status code.
//! - [`error`]: operation error codes with the guide's tips, sign-out reasons.
//! - [`config`]: the typed, checked configuration.
//! - [`helpers`]: skill groups for sign-in, caller-number choice, masking, input checks.

pub mod config;
pub mod derive;
pub mod error;
mod event;
pub mod helpers;
pub mod machine;
pub mod model;
mod operation;
pub mod rules;
mod status;
#[cfg(test)]
mod testkit;

pub use derive::{CallView, Direction, derive_status};
pub use error::{ErrorCode, ErrorNotify, SignOutReason};
pub use event::{
    Action, CallComing, CallData, CallDialing, Event, HangUpKind, PrivateData, ReadyKind,
    StatusChange,
};
pub use machine::{Agent, Input, Link};
pub use operation::{Operation, OperationSet};
pub use rules::{NotAllowed, allowed_in, check};
pub use status::{Status, StatusDescription};
