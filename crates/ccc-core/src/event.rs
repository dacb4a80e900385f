//! What the agent machine reports: the guide's hook events (H21-H34) and the actions
//! the shell must carry out.

use std::fmt;

use crate::Status;
use crate::error::{ErrorNotify, SignOutReason};
use crate::model::Text;

/// A hook event of the guide (MAP.md H21-H34), with its payload.
///
/// H25 `onBeforeCallDialing` is not here: it is a question the integrator answers
/// before a call is dialed, so it lives in the facade as an async hook.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// H21 `onInit`: the instance is constructed.
    Init,
    /// H22 `onRegister`: SIP registration succeeded. The facade attaches the call-center
    /// configuration it registered with.
    Register,
    /// H23 `onCallComing`: an inbound call rings.
    CallComing(CallComing),
    /// H24 `onCallDialing`: an outbound call is dialing.
    CallDialing(CallDialing),
    /// H26 `onCallEstablish`: the call is connected.
    CallEstablish(CallData),
    /// H27 `onCallRelease`: the call ended (answered or not).
    CallRelease(CallData),
    /// H28 `onErrorNotify`: an operation error or a sign-out event.
    ErrorNotify(ErrorNotify),
    /// H29 `onLogOut`: signed out; `reason` says why (`AB_normal` for a normal sign-out).
    LogOut {
        /// Why.
        reason: SignOutReason,
    },
    /// H30 `onLogIn`: signed in.
    LogIn,
    /// H31 `onBreak`: on break.
    Break {
        /// The break code (`RingingTimeout` after an unanswered call, or the
        /// integrator's break name).
        code: Option<Text>,
    },
    /// H32 `onReady`: ready; `kind` is [`ReadyKind::Offline`] when answering on mobile.
    Ready {
        /// The guide's `type`.
        kind: ReadyKind,
    },
    /// H33 `onHangUp`: a call was hung up.
    HangUp {
        /// The guide's `type`.
        kind: HangUpKind,
    },
    /// H34 `onStatusChange`: the status changed. Emitted exactly once per change, before
    /// the other events of the same change.
    StatusChange(StatusChange),
}

impl Event {
    /// The guide's hook name (`onCallComing`, ...).
    pub const fn hook_name(&self) -> &'static str {
        match self {
            Self::Init => "onInit",
            Self::Register => "onRegister",
            Self::CallComing(_) => "onCallComing",
            Self::CallDialing(_) => "onCallDialing",
            Self::CallEstablish(_) => "onCallEstablish",
            Self::CallRelease(_) => "onCallRelease",
            Self::ErrorNotify(_) => "onErrorNotify",
            Self::LogOut { .. } => "onLogOut",
            Self::LogIn => "onLogIn",
            Self::Break { .. } => "onBreak",
            Self::Ready { .. } => "onReady",
            Self::HangUp { .. } => "onHangUp",
            Self::StatusChange(_) => "onStatusChange",
        }
    }
}

/// H34's payload: `code`, `lastCode`, `context{connid}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The new status.
    pub code: Status,
    /// The status before.
    pub last_code: Status,
    /// The agent's call leg at the time, if in a call (`context.connid`).
    pub connid: Option<Text>,
}

/// H23's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallComing {
    /// The agent's call leg (`ChannelId`).
    pub connid: Option<Text>,
    /// The calling number.
    pub caller: Option<Text>,
    /// The called number.
    pub callee: Option<Text>,
    /// The call (contact) id, for call records (`JobId`).
    pub contact_id: Option<Text>,
    /// The skill group the call came through.
    pub skillgroup_id: Option<Text>,
}

/// H24's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallDialing {
    /// The agent's call leg (`ChannelId`).
    pub connid: Option<Text>,
    /// The calling number.
    pub caller: Option<Text>,
    /// The called number.
    pub callee: Option<Text>,
    /// The call (contact) id (`JobId`).
    pub contact_id: Option<Text>,
}

/// H26's and H27's payload: `connid`, `caller`, `privateData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallData {
    /// The agent's call leg (`ChannelId`).
    pub connid: Option<Text>,
    /// The calling number.
    pub caller: Option<Text>,
    /// `privateData`.
    pub private_data: PrivateData,
}

/// The guide's `privateData{acid, adacc, dnis, data, skillgroupname}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateData {
    /// The call (contact) id, for call records (`JobId`).
    pub acid: Option<Text>,
    /// The agent of the call (`UserId`).
    pub adacc: Option<Text>,
    /// The called number.
    pub dnis: Option<Text>,
    /// Associated data set by the IVR flow (`CallVariables`).
    pub data: Option<Text>,
    /// The skill group (its id, as the guide says).
    pub skillgroupname: Option<Text>,
}

/// H32's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadyKind {
    /// Ready on this device (the guide passes no type).
    Normal,
    /// `offline`: ready, answering on the mobile phone (M15).
    Offline,
}

/// H33's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HangUpKind {
    /// `ringing`: an inbound call hung up before it was answered.
    Ringing,
    /// `dialing`: an outbound call hung up before it was answered.
    Dialing,
    /// `inbound`: an answered inbound call.
    Inbound,
    /// `outbound`: an answered outbound call.
    Outbound,
}

impl HangUpKind {
    /// The guide's word.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ringing => "ringing",
            Self::Dialing => "dialing",
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        }
    }
}

impl fmt::Display for HangUpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something the shell must do now, decided by a rule of the guide.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Go ready (`ReadyForService`): after-call work has lasted `afterCallRule` seconds,
    /// or the agent just signed in (status 2 passes to 3 at once).
    GoReady,
    /// Answer the ringing call (`autoAnswerCall` seconds passed).
    Answer {
        /// The call.
        job_id: Option<Text>,
    },
    /// Put the agent on break (`TakeBreak`) with this code: the ringing call was not
    /// answered within the ring timeout (`RingingTimeout`).
    TakeBreak {
        /// The break code.
        code: &'static str,
    },
}
