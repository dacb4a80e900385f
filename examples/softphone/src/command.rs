//! What the panel asks of the workbench ([`Command`]) and what comes back
//! ([`Outcome`]): the only words the app state and the workbench bridge share.

use ccc_core::helpers::SkillGroupOfUser;
use ccc_media::access_point::RegionReport;
use ccc_media::check::NetworkReport;
use ccc_media::check::device::DeviceCheckReport;
use ccc_openapi::v2017;
use ccc_workbench::{CallLogPage, Dialed, EnvironmentReport, Recording};

/// One thing the panel asks the workbench (or the embedded emulator) to do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// M2 `register` to the access point of the configuration.
    Register,
    /// M3 `logIn` to the groups of `register`.
    LogIn,
    /// M4 `logOut`.
    LogOut,
    /// M5 `ready`.
    Ready,
    /// M6 `applyForBreak(id, name)`.
    Break {
        /// 1-5.
        id: i64,
        /// The break's name.
        name: String,
    },
    /// M8 `answer`.
    Answer,
    /// M7 `hangUp`.
    HangUp,
    /// M11 `call(callee, caller)`.
    Call {
        /// The number.
        callee: String,
        /// `""`, `"auto"` or one of the agent's numbers.
        caller: String,
    },
    /// Table K5's redial.
    Redial,
    /// M12 `sendDtmf`.
    Dtmf(String),
    /// M13 `callHold`.
    Hold,
    /// M14 `callRetrieve`.
    Retrieve,
    /// M31 `toggleMuteInCall`.
    ToggleMute,
    /// M30 `changeVolumeInCall`.
    Volume(f64),
    /// M15 `offline(mobile)`: answer on the mobile.
    Offline {
        /// The mobile's number.
        mobile: String,
    },
    /// M16 `online`.
    Online,
    /// M29 `applyForCallOnly`.
    CallOnly(bool),
    /// M23 `thirdCallTransfer`: blind transfer to an extension, a number or a skill
    /// group.
    Transfer {
        /// The extension, the number, or the skill group's routing point (the emulator
        /// routes the group's id).
        target: String,
        /// The skill group's name (`accSkillGroupName`), for a transfer to a group.
        skill_group: Option<String>,
    },
    /// M24 `conferenceInit`: consult a third party.
    Consult {
        /// The extension or number.
        target: String,
    },
    /// M25 `thirdCallTransferFinished`.
    FinishTransfer,
    /// M26 `thirdCallRetrieve`.
    CancelConsult,
    /// M27 `conferenceFinished`.
    Conference,
    /// M28 `thirdCallHangupThird`.
    DropThird {
        /// The party's extension or number.
        party: String,
    },
    /// M27 `agentToAgent`.
    AgentToAgent {
        /// The other agent's extension.
        extension: String,
    },
    /// M32 `monitor`.
    Monitor {
        /// The monitored agent's extension.
        extension: String,
    },
    /// M17 `transferStatisfic`.
    Survey,
    /// M21 `launchShortMessageAppraise`.
    SmsSurvey,
    /// M22 `launchShortMessageMissedCall`.
    SmsMissedCall,
    /// M35 `resetUserStatus`.
    Reset,
    /// M18 `downloadRecord(contactId, onlyPlay = true)`: the recordings' addresses.
    Recordings {
        /// The call.
        contact_id: String,
    },
    /// A3: a page of the call log.
    LoadCallLog {
        /// From 1.
        page: i64,
    },
    /// A1: the agent's outbound numbers (the caller choice of the dial pad).
    LoadCallers,
    /// A12: agents, for transfer and conference.
    LoadAgents,
    /// A2: the agent's skill groups, for transfer to a group.
    LoadGroups,
    /// A13: agent states, for monitoring.
    LoadStates,
    /// A15: today's figures.
    LoadMyWork,
    /// M19, M20 and (with the `device` feature) the sound devices.
    DeviceCheck,
    /// M33: time every access point.
    TestAccessPoints,
    /// M34: switch to a region.
    SwitchAccessPoint(String),
    /// The embedded emulator only: a simulated customer calls a hotline.
    CustomerCallsIn {
        /// The customer's number.
        caller: String,
        /// The hotline.
        hotline: String,
    },
}

impl Command {
    /// A short name for the panel's busy line and its messages.
    pub const fn label(&self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::LogIn => "logIn",
            Self::LogOut => "logOut",
            Self::Ready => "ready",
            Self::Break { .. } => "applyForBreak",
            Self::Answer => "answer",
            Self::HangUp => "hangUp",
            Self::Call { .. } => "call",
            Self::Redial => "redial",
            Self::Dtmf(_) => "sendDtmf",
            Self::Hold => "callHold",
            Self::Retrieve => "callRetrieve",
            Self::ToggleMute => "toggleMuteInCall",
            Self::Volume(_) => "changeVolumeInCall",
            Self::Offline { .. } => "offline",
            Self::Online => "online",
            Self::CallOnly(_) => "applyForCallOnly",
            Self::Transfer { .. } => "thirdCallTransfer",
            Self::Consult { .. } => "conferenceInit",
            Self::FinishTransfer => "thirdCallTransferFinished",
            Self::CancelConsult => "thirdCallRetrieve",
            Self::Conference => "conferenceFinished",
            Self::DropThird { .. } => "thirdCallHangupThird",
            Self::AgentToAgent { .. } => "agentToAgent",
            Self::Monitor { .. } => "monitor",
            Self::Survey => "transferStatisfic",
            Self::SmsSurvey => "launchShortMessageAppraise",
            Self::SmsMissedCall => "launchShortMessageMissedCall",
            Self::Reset => "resetUserStatus",
            Self::Recordings { .. } => "downloadRecord",
            Self::LoadCallLog { .. } => "call log",
            Self::LoadCallers => "outbound numbers",
            Self::LoadAgents => "agents",
            Self::LoadGroups => "skill groups",
            Self::LoadStates => "agent states",
            Self::LoadMyWork => "my work",
            Self::DeviceCheck => "device check",
            Self::TestAccessPoints => "testTurnServers",
            Self::SwitchAccessPoint(_) => "switchAccessPoint",
            Self::CustomerCallsIn { .. } => "customer call",
        }
    }
}

/// What the device check found.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceCheck {
    /// M19.
    pub environment: EnvironmentReport,
    /// M20, or why it could not run.
    pub network: Result<NetworkReport, String>,
    /// The microphone and speaker; `None` in a build without the `device` feature
    /// (calls use silent virtual audio).
    pub devices: Option<DeviceCheckReport>,
}

/// What a command gave.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Payload {
    /// It was done.
    Done,
    /// A call was dialed.
    Dialed(Dialed),
    /// Whether the microphone is muted now.
    Muted(bool),
    /// A page of the call log.
    CallLog(CallLogPage),
    /// The outbound numbers.
    Callers(Vec<String>),
    /// The agents.
    Agents(Vec<v2017::list_real_time_agent::User>),
    /// The agent's skill groups.
    Groups(Vec<SkillGroupOfUser>),
    /// Agent states.
    States(v2017::list_agent_states::AgentStatePage),
    /// Today's figures.
    MyWork(Box<v2017::GenerateAgentStatisticReportResponse>),
    /// The device check.
    DeviceCheck(Box<DeviceCheck>),
    /// The access points, best first.
    AccessPoints(Vec<RegionReport>),
    /// The access point now in use.
    AccessPoint(String),
    /// The recordings of a call.
    Recordings(Vec<Recording>),
    /// The emulator placed the customer's call (its contact id).
    CustomerCall(String),
}

/// Why a command failed, as the panel shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The error's text.
    pub message: String,
    /// The platform's error (`onErrorNotify`), when it was one.
    pub notify: Option<ccc_core::ErrorNotify>,
}

/// A command's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The command it answers.
    pub command: Command,
    /// What it gave.
    pub result: Result<Payload, Failure>,
}
