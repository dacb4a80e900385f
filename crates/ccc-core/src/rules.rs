//! Which operations each status allows: table K of the guide (section 9).
//!
//! # The table
//!
//! The rows the guide gives are implemented exactly. Where it says "only", nothing else
//! is added (one exception, `resetUserStatus`, below):
//!
//! | status | allowed (guide) | added here |
//! |---|---|---|
//! | -1 unregistered | `register` only | |
//! | 1 signed out | `logIn` only | |
//! | 2 signed in | nothing (passes to 3 at once) | |
//! | 3 ready | `call`, `applyForBreak`, `logOut` | `agentToAgent`, `monitor`, `offline`, `online`, `applyForCallOnly` |
//! | 4 break | `ready`, `logOut`, `call` | same as 3 |
//! | 5 after-call work | `logOut`, `applyForBreak`, `ready`, `call`, `redial` | same as 3 |
//! | 6 ringing | `answer` only | |
//! | 8 dialing | `hangUp` only | |
//! | 9 inbound call | `hangUp` (if the platform permits), `callHold` | `thirdCallTransfer`, `conferenceInit`, `transferStatisfic`, mute, volume |
//! | 10 outbound call | `hangUp`, `callHold`, `sendDtmf` | as 9 |
//! | 12 hold | `callRetrieve` only | |
//! | 16 consult initiated | retrieve (`callRetrieve`, `thirdCallRetrieve`) | mute, volume |
//! | 17 consult call | retrieve, transfer (`thirdCallTransferFinished`) | `conferenceFinished` (M27 calls it "at status 17"), mute, volume |
//! | 21 monitoring | `hangUp` only | |
//!
//! # Decisions for what the guide leaves out
//!
//! - **0 registering**: nothing; the registration settles by itself (success or error).
//! - **11 internal call**: as 10 (an agent-to-agent call is dialed like an outbound one:
//!   hang up, hold, DTMF, transfer, consult; M27 starts a conference from 11), but no
//!   `transferStatisfic`: there is no customer to survey.
//! - **18 consult call, switched**: as 17 (still a consultation, only the party the agent
//!   talks to changed).
//! - **19 conference**: `thirdCallHangupThird`, `hangUp`, mute, volume.
//! - **20 passive help**: `hangUp`, mute, volume, like any call the agent takes part in.
//! - **`offline`, `online`, `applyForCallOnly`, `agentToAgent`, `monitor`** are idle-time
//!   operations: allowed where dialing is (3, 4, 5).
//! - **`thirdCallTransfer`, `conferenceInit`, `transferStatisfic`** need a talking call
//!   with a customer: 9 and 10 (11 for the first two).
//! - **mute and volume** (`toggleMuteInCall`, `changeVolumeInCall`) are allowed in every
//!   talking status whose row does not say "only": 9, 10, 11, 16-20.
//! - **`resetUserStatus`** exists for a status that is stuck, which may be any status,
//!   so it is allowed in every status from 1 up, the "only" rows included. It is the one
//!   exception to them.
//! - `sendDtmf` stays out of 9: the guide gives DTMF to outbound calls only.

use std::fmt;

use crate::Status;
use crate::operation::{Operation as Op, OperationSet};

const IDLE_EXTRAS: OperationSet = OperationSet::of(&[
    Op::AgentToAgent,
    Op::Monitor,
    Op::Offline,
    Op::Online,
    Op::ApplyForCallOnly,
    Op::ResetUserStatus,
]);

const IN_CALL_EXTRAS: OperationSet = OperationSet::of(&[
    Op::ToggleMuteInCall,
    Op::ChangeVolumeInCall,
    Op::ResetUserStatus,
]);

const TALKING: OperationSet = OperationSet::of(&[
    Op::HangUp,
    Op::CallHold,
    Op::ThirdCallTransfer,
    Op::ConferenceInit,
])
.union(IN_CALL_EXTRAS);

const CONSULTING: OperationSet = OperationSet::of(&[
    Op::CallRetrieve,
    Op::ThirdCallRetrieve,
    Op::ThirdCallTransferFinished,
    Op::ConferenceFinished,
])
.union(IN_CALL_EXTRAS);

/// The operations `status` allows (the table in the [module docs](crate::rules)).
///
/// ```
/// use ccc_core::{Operation, Status, allowed_in};
/// assert!(allowed_in(Status::Ringing).contains(Operation::Answer));
/// assert!(!allowed_in(Status::Ringing).contains(Operation::HangUp));
/// ```
pub const fn allowed_in(status: Status) -> OperationSet {
    use Status as S;
    let only_reset = OperationSet::of(&[Op::ResetUserStatus]);
    match status {
        S::Unregistered => OperationSet::of(&[Op::Register]),
        S::Registering => OperationSet::EMPTY,
        S::SignedOut => OperationSet::of(&[Op::LogIn]).union(only_reset),
        S::SignedIn => only_reset,
        S::Ready => OperationSet::of(&[Op::Call, Op::ApplyForBreak, Op::LogOut]).union(IDLE_EXTRAS),
        S::Break => OperationSet::of(&[Op::Ready, Op::LogOut, Op::Call]).union(IDLE_EXTRAS),
        S::AfterCallWork => OperationSet::of(&[
            Op::LogOut,
            Op::ApplyForBreak,
            Op::Ready,
            Op::Call,
            Op::Redial,
        ])
        .union(IDLE_EXTRAS),
        S::Ringing => OperationSet::of(&[Op::Answer]).union(only_reset),
        S::Dialing | S::Monitoring => OperationSet::of(&[Op::HangUp]).union(only_reset),
        S::InboundCall => TALKING.with(Op::TransferSatisfaction),
        S::OutboundCall => TALKING.with(Op::SendDtmf).with(Op::TransferSatisfaction),
        S::InternalCall => TALKING.with(Op::SendDtmf),
        S::Hold => OperationSet::of(&[Op::CallRetrieve]).union(only_reset),
        S::ConsultInitiated => {
            OperationSet::of(&[Op::CallRetrieve, Op::ThirdCallRetrieve]).union(IN_CALL_EXTRAS)
        }
        S::ConsultCall | S::ConsultSwitched => CONSULTING,
        S::Conference => {
            OperationSet::of(&[Op::ThirdCallHangupThird, Op::HangUp]).union(IN_CALL_EXTRAS)
        }
        S::PassiveHelp => OperationSet::of(&[Op::HangUp]).union(IN_CALL_EXTRAS),
    }
}

impl Status {
    /// Whether this status allows `op` (table K, see [`allowed_in`]).
    pub const fn allows(self, op: Op) -> bool {
        allowed_in(self).contains(op)
    }
}

/// Checks `op` against `status`: `Ok` when table K allows it, else the reason.
///
/// ```
/// use ccc_core::{Operation, Status, check};
/// let err = check(Status::Hold, Operation::HangUp).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "hangUp is not allowed in status 12 (hold); allowed there: callRetrieve, resetUserStatus"
/// );
/// ```
pub fn check(status: Status, op: Op) -> Result<(), NotAllowed> {
    check_against(status, op, allowed_in(status))
}

/// Like [`check`], against a set already narrowed by platform settings.
pub(crate) fn check_against(
    status: Status,
    operation: Op,
    allowed: OperationSet,
) -> Result<(), NotAllowed> {
    if allowed.contains(operation) {
        Ok(())
    } else {
        Err(NotAllowed {
            status,
            operation,
            allowed,
        })
    }
}

/// An operation refused in the current status: a development error, as the guide calls
/// it. Names the status, the operation and what the status allows instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAllowed {
    /// The status the agent was in.
    pub status: Status,
    /// The refused operation.
    pub operation: Op,
    /// What the status allows instead.
    pub allowed: OperationSet,
}

impl fmt::Display for NotAllowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not allowed in status {}; allowed there: {}",
            self.operation, self.status, self.allowed
        )
    }
}

impl std::error::Error for NotAllowed {}

#[cfg(test)]
mod tests {
    use super::*;
    use Status as S;

    /// Table K as the guide writes it: the operations it names per status.
    fn guide_row(status: Status) -> Option<&'static [Op]> {
        Some(match status {
            S::Unregistered => &[Op::Register],
            S::SignedOut => &[Op::LogIn],
            S::SignedIn => &[],
            S::Ready => &[Op::Call, Op::ApplyForBreak, Op::LogOut],
            S::Break => &[Op::Ready, Op::LogOut, Op::Call],
            S::AfterCallWork => &[
                Op::LogOut,
                Op::ApplyForBreak,
                Op::Ready,
                Op::Call,
                Op::Redial,
            ],
            S::Ringing => &[Op::Answer],
            S::Dialing | S::Monitoring => &[Op::HangUp],
            S::InboundCall => &[Op::HangUp, Op::CallHold],
            S::OutboundCall => &[Op::HangUp, Op::CallHold, Op::SendDtmf],
            S::Hold => &[Op::CallRetrieve],
            S::ConsultInitiated => &[Op::CallRetrieve, Op::ThirdCallRetrieve],
            S::ConsultCall => &[
                Op::CallRetrieve,
                Op::ThirdCallRetrieve,
                Op::ThirdCallTransferFinished,
            ],
            _ => return None,
        })
    }

    /// The operations table K mentions anywhere.
    fn mentioned() -> OperationSet {
        Status::ALL
            .into_iter()
            .filter_map(guide_row)
            .flatten()
            .copied()
            .collect()
    }

    /// Rows that say "only" (or "nothing") in the guide.
    fn is_only_row(status: Status) -> bool {
        matches!(
            status,
            S::Unregistered
                | S::SignedOut
                | S::SignedIn
                | S::Ringing
                | S::Dialing
                | S::Hold
                | S::Monitoring
        )
    }

    #[test]
    fn every_row_of_table_k_is_allowed() {
        for status in Status::ALL {
            let Some(row) = guide_row(status) else {
                continue;
            };
            for op in row {
                assert!(
                    status.allows(*op),
                    "K{}: {op} must be allowed",
                    status.code()
                );
            }
        }
    }

    #[test]
    fn operations_table_k_mentions_are_refused_elsewhere() {
        let mentioned = mentioned();
        for status in Status::ALL {
            let Some(row) = guide_row(status) else {
                continue;
            };
            let row: OperationSet = row.iter().copied().collect();
            for op in mentioned.iter() {
                // K17's transfer is joined by conferenceFinished (M27), not by another K op.
                assert_eq!(
                    status.allows(op),
                    row.contains(op),
                    "K{}: {op}",
                    status.code()
                );
            }
        }
    }

    #[test]
    fn only_rows_add_nothing_but_reset() {
        for status in Status::ALL.into_iter().filter(|s| is_only_row(*s)) {
            let row: OperationSet = guide_row(status).unwrap().iter().copied().collect();
            let extra = allowed_in(status).without(Op::ResetUserStatus);
            assert_eq!(extra, row, "K{} says only", status.code());
        }
    }

    #[test]
    fn decided_rows() {
        assert!(allowed_in(S::Registering).is_empty());
        assert_eq!(
            allowed_in(S::InternalCall),
            allowed_in(S::OutboundCall).without(Op::TransferSatisfaction)
        );
        assert_eq!(allowed_in(S::ConsultSwitched), allowed_in(S::ConsultCall));
        assert!(S::ConsultCall.allows(Op::ConferenceFinished));
        assert!(S::Conference.allows(Op::ThirdCallHangupThird));
        assert!(!S::Conference.allows(Op::CallHold));
        assert!(S::PassiveHelp.allows(Op::HangUp));
        assert!(!S::InboundCall.allows(Op::SendDtmf));
        for status in Status::ALL {
            assert_eq!(
                status.allows(Op::ResetUserStatus),
                status.code() >= 1,
                "{status}"
            );
            let idle = matches!(status, S::Ready | S::Break | S::AfterCallWork);
            for op in [
                Op::AgentToAgent,
                Op::Monitor,
                Op::Offline,
                Op::Online,
                Op::ApplyForCallOnly,
            ] {
                assert_eq!(status.allows(op), idle, "{op} in {status}");
            }
            let mute = matches!(status.code(), 9..=11 | 16..=20);
            assert_eq!(
                status.allows(Op::ToggleMuteInCall),
                mute,
                "mute in {status}"
            );
            assert_eq!(
                status.allows(Op::ChangeVolumeInCall),
                mute,
                "volume in {status}"
            );
        }
    }

    #[test]
    fn not_allowed_names_status_operation_and_alternatives() {
        let err = check(S::Ringing, Op::HangUp).unwrap_err();
        assert_eq!(err.status, S::Ringing);
        assert_eq!(err.operation, Op::HangUp);
        assert!(err.allowed.contains(Op::Answer));
        assert_eq!(
            err.to_string(),
            "hangUp is not allowed in status 6 (ringing); allowed there: answer, resetUserStatus"
        );
        assert!(check(S::Ready, Op::Call).is_ok());
    }
}
