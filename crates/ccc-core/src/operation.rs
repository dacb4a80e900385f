//! The state-bound methods of the guide, and sets of them.

use std::fmt;

/// A method of the guide whose use depends on the agent's status (MAP.md M2-M35).
///
/// Methods that do not depend on the status (`getStatus`, `getStatusCode`,
/// `downloadRecord`, `isAvailBroswer`, `checkNetwork`, the SMS methods,
/// `testTurnServers`, `switchAccessPoint`) have no `Operation`: they are allowed in
/// every status. The UI-only methods `changeVisible` and `reRender` (M0, M1) have no
/// meaning without a panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// M2 `register`: SIP registration, sign-in and ready.
    Register,
    /// M3 `logIn`: sign in to skill groups.
    LogIn,
    /// M4 `logOut`: sign out.
    LogOut,
    /// M5 `ready`: become ready (end a break, end after-call work).
    Ready,
    /// M6 `applyForBreak`: take a break.
    ApplyForBreak,
    /// M8 `answer`: answer the ringing call.
    Answer,
    /// M7 `hangUp`: hang up.
    HangUp,
    /// M11 `call`: dial a number.
    Call,
    /// "Redial" (再次拨打) of table K5: dial the last number again.
    Redial,
    /// M12 `sendDtmf`: send a DTMF digit.
    SendDtmf,
    /// M13 `callHold`: put the call on hold.
    CallHold,
    /// M14 `callRetrieve`: retrieve the held call.
    CallRetrieve,
    /// M15 `offline`: answer on the mobile phone.
    Offline,
    /// M16 `online`: answer on this device again.
    Online,
    /// M17 `transferStatisfic`: transfer the customer to the satisfaction survey.
    TransferSatisfaction,
    /// M23 `thirdCallTransfer`: blind transfer.
    ThirdCallTransfer,
    /// M24 `conferenceInit`: start a consultation with a third party.
    ConferenceInit,
    /// M25 `thirdCallTransferFinished`: complete the consultative transfer.
    ThirdCallTransferFinished,
    /// M26 `thirdCallRetrieve`: cancel the consultation, back to the first party.
    ThirdCallRetrieve,
    /// M27 `conferenceFinished`: join the consultation into a three-way conference.
    ConferenceFinished,
    /// M27 `agentToAgent`: call another agent.
    AgentToAgent,
    /// M28 `thirdCallHangupThird`: drop the third party from a conference.
    ThirdCallHangupThird,
    /// M29 `applyForCallOnly`: outbound only, or back to taking calls.
    ApplyForCallOnly,
    /// M30 `changeVolumeInCall`: headset volume.
    ChangeVolumeInCall,
    /// M31 `toggleMuteInCall`: mute or unmute the microphone.
    ToggleMuteInCall,
    /// M32 `monitor`: listen to another agent's call.
    Monitor,
    /// M35 `resetUserStatus`: reset a stuck status.
    ResetUserStatus,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Self; 27] = [
        Self::Register,
        Self::LogIn,
        Self::LogOut,
        Self::Ready,
        Self::ApplyForBreak,
        Self::Answer,
        Self::HangUp,
        Self::Call,
        Self::Redial,
        Self::SendDtmf,
        Self::CallHold,
        Self::CallRetrieve,
        Self::Offline,
        Self::Online,
        Self::TransferSatisfaction,
        Self::ThirdCallTransfer,
        Self::ConferenceInit,
        Self::ThirdCallTransferFinished,
        Self::ThirdCallRetrieve,
        Self::ConferenceFinished,
        Self::AgentToAgent,
        Self::ThirdCallHangupThird,
        Self::ApplyForCallOnly,
        Self::ChangeVolumeInCall,
        Self::ToggleMuteInCall,
        Self::Monitor,
        Self::ResetUserStatus,
    ];

    /// The method's name in the JavaScript SDK, spelled as the guide spells it
    /// (`transferStatisfic` included).
    pub const fn js_name(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::LogIn => "logIn",
            Self::LogOut => "logOut",
            Self::Ready => "ready",
            Self::ApplyForBreak => "applyForBreak",
            Self::Answer => "answer",
            Self::HangUp => "hangUp",
            Self::Call => "call",
            Self::Redial => "redial",
            Self::SendDtmf => "sendDtmf",
            Self::CallHold => "callHold",
            Self::CallRetrieve => "callRetrieve",
            Self::Offline => "offline",
            Self::Online => "online",
            Self::TransferSatisfaction => "transferStatisfic",
            Self::ThirdCallTransfer => "thirdCallTransfer",
            Self::ConferenceInit => "conferenceInit",
            Self::ThirdCallTransferFinished => "thirdCallTransferFinished",
            Self::ThirdCallRetrieve => "thirdCallRetrieve",
            Self::ConferenceFinished => "conferenceFinished",
            Self::AgentToAgent => "agentToAgent",
            Self::ThirdCallHangupThird => "thirdCallHangupThird",
            Self::ApplyForCallOnly => "applyForCallOnly",
            Self::ChangeVolumeInCall => "changeVolumeInCall",
            Self::ToggleMuteInCall => "toggleMuteInCall",
            Self::Monitor => "monitor",
            Self::ResetUserStatus => "resetUserStatus",
        }
    }

    const fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.js_name())
    }
}

/// A set of [`Operation`]s (a bit set: copying it costs nothing).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OperationSet(u32);

impl OperationSet {
    /// The empty set.
    pub const EMPTY: Self = Self(0);

    /// The set of the given operations.
    pub const fn of(ops: &[Operation]) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < ops.len() {
            bits |= ops[i].bit();
            i += 1;
        }
        Self(bits)
    }

    /// Whether `op` is in the set.
    pub const fn contains(self, op: Operation) -> bool {
        self.0 & op.bit() != 0
    }

    /// The set with `op` added.
    #[must_use]
    pub const fn with(self, op: Operation) -> Self {
        Self(self.0 | op.bit())
    }

    /// The set with `op` removed.
    #[must_use]
    pub const fn without(self, op: Operation) -> Self {
        Self(self.0 & !op.bit())
    }

    /// The operations of both sets.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many operations the set holds.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The operations in the set, in the order of [`Operation::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Operation> {
        Operation::ALL
            .into_iter()
            .filter(move |op| self.contains(*op))
    }
}

impl fmt::Debug for OperationSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for OperationSet {
    /// `answer, hangUp`, or `nothing` for the empty set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("nothing");
        }
        for (i, op) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(op.js_name())?;
        }
        Ok(())
    }
}

impl FromIterator<Operation> for OperationSet {
    fn from_iter<I: IntoIterator<Item = Operation>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, Self::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_operations_have_distinct_bits_and_names() {
        let set: OperationSet = Operation::ALL.into_iter().collect();
        assert_eq!(set.len(), Operation::ALL.len());
        let mut names: Vec<_> = Operation::ALL.iter().map(|op| op.js_name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Operation::ALL.len());
    }

    #[test]
    fn set_operations() {
        let set = OperationSet::of(&[Operation::Answer, Operation::HangUp]);
        assert!(set.contains(Operation::Answer));
        assert!(!set.contains(Operation::Call));
        assert_eq!(set.to_string(), "answer, hangUp");
        assert_eq!(set.without(Operation::Answer).to_string(), "hangUp");
        assert_eq!(OperationSet::EMPTY.to_string(), "nothing");
        assert_eq!(
            format!("{:?}", OperationSet::of(&[Operation::Call])),
            "{Call}"
        );
    }
}
