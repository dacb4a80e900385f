//! What the [`Workbench`](crate::Workbench) handle asks the driver, and what comes back.

use ccc_core::helpers::LoginSkillGroup;
use ccc_core::{Operation, Status};
use tokio::sync::oneshot;

use crate::error::Error;
use crate::types::{CallRequest, Dialed};

/// A method's answer.
#[derive(Debug)]
pub(crate) enum Output {
    /// Done.
    Unit,
    /// `call`, `agentToAgent`: what was dialed.
    Dialed(Dialed),
    /// `toggleMuteInCall`: muted now.
    Muted(bool),
}

/// Where a method's answer goes.
pub(crate) type Reply = oneshot::Sender<Result<Output, Error>>;

/// A state-bound method (table K), with its arguments checked.
#[derive(Debug)]
pub(crate) enum Op {
    LogIn(Option<Vec<LoginSkillGroup>>),
    LogOut,
    Ready,
    Break {
        code: String,
    },
    HangUp,
    Answer,
    Call(CallRequest),
    Redial,
    SendDtmf(String),
    Hold,
    Retrieve,
    Offline {
        mobile: String,
        caller: Option<String>,
    },
    Online,
    TransferSatisfaction,
    ThirdCallTransfer {
        callee: String,
        caller: String,
        use_vir_num_call: bool,
        skill_group_name: Option<String>,
    },
    ConferenceInit {
        callee: String,
        caller: String,
    },
    ThirdCallTransferFinished,
    ThirdCallRetrieve,
    ConferenceFinished,
    AgentToAgent(String),
    ThirdCallHangupThird(String),
    CallOnly(bool),
    Volume(f32),
    ToggleMute,
    Monitor(String),
    ResetUserStatus,
}

impl Op {
    /// The table-K operation this method is.
    pub(crate) fn operation(&self) -> Operation {
        use Operation as O;
        match self {
            Self::LogIn(_) => O::LogIn,
            Self::LogOut => O::LogOut,
            Self::Ready => O::Ready,
            Self::Break { .. } => O::ApplyForBreak,
            Self::HangUp => O::HangUp,
            Self::Answer => O::Answer,
            Self::Call(_) => O::Call,
            Self::Redial => O::Redial,
            Self::SendDtmf(_) => O::SendDtmf,
            Self::Hold => O::CallHold,
            Self::Retrieve => O::CallRetrieve,
            Self::Offline { .. } => O::Offline,
            Self::Online => O::Online,
            Self::TransferSatisfaction => O::TransferSatisfaction,
            Self::ThirdCallTransfer { .. } => O::ThirdCallTransfer,
            Self::ConferenceInit { .. } => O::ConferenceInit,
            Self::ThirdCallTransferFinished => O::ThirdCallTransferFinished,
            Self::ThirdCallRetrieve => O::ThirdCallRetrieve,
            Self::ConferenceFinished => O::ConferenceFinished,
            Self::AgentToAgent(_) => O::AgentToAgent,
            Self::ThirdCallHangupThird(_) => O::ThirdCallHangupThird,
            Self::CallOnly(_) => O::ApplyForCallOnly,
            Self::Volume(_) => O::ChangeVolumeInCall,
            Self::ToggleMute => O::ToggleMuteInCall,
            Self::Monitor(_) => O::Monitor,
            Self::ResetUserStatus => O::ResetUserStatus,
        }
    }

    /// The guide's method name.
    pub(crate) fn method(&self) -> &'static str {
        self.operation().js_name()
    }
}

/// A request to the driver.
#[derive(Debug)]
pub(crate) enum Command {
    /// M2 `register`.
    Register {
        groups: Option<Vec<LoginSkillGroup>>,
        access_point: String,
        reply: Reply,
    },
    /// A state-bound method.
    Op { op: Op, reply: Reply },
    /// M34 `switchAccessPoint`.
    SwitchAccessPoint { region: String, reply: Reply },
    /// The guide's reload: sign out, unregister, release everything, stop.
    Shutdown { reply: oneshot::Sender<()> },
    /// Another process asks to let go of the lock (C23 take-over).
    Release,
    /// An operation error found outside the driver, for `onErrorNotify`.
    Report(ccc_core::ErrorNotify),
}

/// When a method that waits for the platform has settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    /// Ready (3): `register`, `logIn`.
    Ready,
    /// In a connected call (9, 10, 11, 19, 20, 21): `answer`.
    Talking,
}

impl Until {
    pub(crate) fn reached(self, status: Status) -> bool {
        match self {
            Self::Ready => status == Status::Ready,
            Self::Talking => matches!(
                status,
                Status::InboundCall
                    | Status::OutboundCall
                    | Status::InternalCall
                    | Status::Conference
                    | Status::PassiveHelp
                    | Status::Monitoring
            ),
        }
    }
}
