//! What goes into the platform and what comes out of it.

use std::sync::Arc;

use ccc_core::SignOutReason;
use ccc_core::model::{AgentSnapshot, CallContext, Text, UserContext, WorkMode};

use super::call::{AgentId, LegId};
use crate::scenario::CustomerScript;

/// Who makes an API request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// The instance administrator's AccessKey (or a proxy request): acts on any agent
    /// named by `UserId`.
    Admin,
    /// An agent's own AccessKey: acts as that agent, on its own data only.
    Agent(AgentId),
}

/// Where a blind or attended transfer goes (`TransfereeType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransfereeType {
    /// Another agent, by id or extension.
    Agent,
    /// A skill group's queue.
    SkillGroup,
    /// An outside number.
    ExternalNumber,
}

impl TransfereeType {
    /// `AGENT`, `SKILL_GROUP` or `EXTERNAL_NUMBER`.
    pub fn parse(wire: &str) -> Option<Self> {
        match wire.to_ascii_uppercase().as_str() {
            "AGENT" => Some(Self::Agent),
            "SKILL_GROUP" => Some(Self::SkillGroup),
            "EXTERNAL_NUMBER" => Some(Self::ExternalNumber),
            _ => None,
        }
    }
}

/// A 2020-07-01 agent-control action, with its parameters read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `SignInGroup`: sign in on `device_id` to these skill groups (added to the
    /// current ones with `additivity`). A sign-in from another device signs the first
    /// one out with `KA_register`.
    SignInGroup {
        /// `DeviceId`.
        device_id: String,
        /// `SignedSkillGroupIdList`.
        groups: Vec<String>,
        /// `Additivity`.
        additivity: bool,
    },
    /// `SignOutGroup`.
    SignOutGroup,
    /// `ReadyForService`, outbound-only when `outbound_only` (M29).
    ReadyForService {
        /// `OutboundScenario`.
        outbound_only: Option<bool>,
    },
    /// `TakeBreak` with a break code.
    TakeBreak {
        /// `Code`.
        code: String,
    },
    /// `ChangeWorkMode`: on site, off site on a mobile, or an office phone.
    ChangeWorkMode {
        /// `WorkMode`.
        mode: WorkMode,
        /// `Mobile`.
        mobile: Option<String>,
        /// `SignedSkillGroupIdList`.
        groups: Option<Vec<String>>,
    },
    /// `ResetAgentState` (and the 2017 `ResetUserStatus`): out of any call, ready.
    ResetAgentState,
    /// `MakeCall`: the agent's leg first, then the callee (a number, or another
    /// agent's extension for an internal call).
    MakeCall {
        /// `Callee`.
        callee: String,
        /// `Caller`: one of the agent's outbound numbers; the first when left out.
        caller: Option<String>,
    },
    /// `RedialCall`: the last call's callee again, or the one given.
    RedialCall {
        /// `JobId` of the call to redial.
        job_id: Option<String>,
        /// `Callee`.
        callee: Option<String>,
        /// `Caller`.
        caller: Option<String>,
    },
    /// `AnswerCall`.
    AnswerCall {
        /// `JobId`.
        job_id: String,
    },
    /// `ReleaseCall`: the agent's leg, or the leg named (dropping a third party).
    ReleaseCall {
        /// `JobId`.
        job_id: String,
        /// `ChannelId`.
        channel_id: Option<String>,
    },
    /// `HoldCall`: the other parties hear music.
    HoldCall {
        /// `JobId`.
        job_id: String,
        /// `ChannelId`: the agent's leg, or the leg to hold.
        channel_id: String,
    },
    /// `RetrieveCall`.
    RetrieveCall {
        /// `JobId`.
        job_id: String,
        /// `ChannelId`.
        channel_id: String,
    },
    /// `MuteCall`.
    MuteCall {
        /// `JobId`.
        job_id: String,
        /// `ChannelId`.
        channel_id: Option<String>,
    },
    /// `UnmuteCall`.
    UnmuteCall {
        /// `JobId`.
        job_id: String,
        /// `ChannelId`.
        channel_id: Option<String>,
    },
    /// `SendDtmfSignaling`: digits to the other parties.
    SendDtmf {
        /// `JobId`.
        job_id: String,
        /// `ChannelId`.
        channel_id: String,
        /// `Dtmf`.
        digits: String,
    },
    /// `BlindTransfer` to an agent, a skill group or a number.
    BlindTransfer {
        /// `JobId`.
        job_id: String,
        /// `Transferee`.
        transferee: String,
        /// `TransfereeType`; guessed from `transferee` when left out.
        kind: Option<TransfereeType>,
        /// `Transferor`: the number shown to an outside transferee.
        transferor: Option<String>,
    },
    /// `InitiateAttendedTransfer`: the customer is held while the agent consults.
    InitiateAttendedTransfer {
        /// `JobId`.
        job_id: String,
        /// `Transferee`.
        transferee: String,
        /// `TransfereeType`.
        kind: Option<TransfereeType>,
        /// `Transferor`.
        transferor: Option<String>,
    },
    /// `CompleteAttendedTransfer`: the customer talks to the consulted party.
    CompleteAttendedTransfer {
        /// `JobId`.
        job_id: String,
    },
    /// `CancelAttendedTransfer`: back to the customer.
    CancelAttendedTransfer {
        /// `JobId`.
        job_id: String,
    },
    /// `StartConference`: joins a consultation into a three-way conference, calls
    /// the participants not yet in the call, or starts a conference from idle.
    StartConference {
        /// `ParticipantListJson`: numbers or extensions.
        participants: Vec<String>,
    },
    /// `MonitorCall`: a supervisor listens to an agent's call.
    MonitorCall {
        /// `MonitoredUserId`.
        monitored_user: String,
    },
    /// `BargeInCall`: a supervisor joins an agent's call.
    BargeInCall {
        /// `JobId`.
        job_id: String,
        /// `BargedUserId`.
        barged_user: String,
    },
    /// `InterceptCall`: a supervisor takes an agent's call over.
    InterceptCall {
        /// `JobId`.
        job_id: String,
        /// `InterceptedUserId`.
        intercepted_user: String,
    },
    /// `CoachCall`: a supervisor speaks to the agent only.
    CoachCall {
        /// `JobId`.
        job_id: String,
        /// `CoachedUserId`.
        coached_user: String,
    },
    /// `LaunchSurvey` (and the 2017 `LaunchAppraise`): the customer goes to the
    /// satisfaction IVR, the agent leaves the call.
    LaunchSurvey {
        /// `JobId`.
        job_id: String,
    },
}

impl Command {
    /// The action's name.
    pub const fn action(&self) -> &'static str {
        match self {
            Self::SignInGroup { .. } => "SignInGroup",
            Self::SignOutGroup => "SignOutGroup",
            Self::ReadyForService { .. } => "ReadyForService",
            Self::TakeBreak { .. } => "TakeBreak",
            Self::ChangeWorkMode { .. } => "ChangeWorkMode",
            Self::ResetAgentState => "ResetAgentState",
            Self::MakeCall { .. } => "MakeCall",
            Self::RedialCall { .. } => "RedialCall",
            Self::AnswerCall { .. } => "AnswerCall",
            Self::ReleaseCall { .. } => "ReleaseCall",
            Self::HoldCall { .. } => "HoldCall",
            Self::RetrieveCall { .. } => "RetrieveCall",
            Self::MuteCall { .. } => "MuteCall",
            Self::UnmuteCall { .. } => "UnmuteCall",
            Self::SendDtmf { .. } => "SendDtmfSignaling",
            Self::BlindTransfer { .. } => "BlindTransfer",
            Self::InitiateAttendedTransfer { .. } => "InitiateAttendedTransfer",
            Self::CompleteAttendedTransfer { .. } => "CompleteAttendedTransfer",
            Self::CancelAttendedTransfer { .. } => "CancelAttendedTransfer",
            Self::StartConference { .. } => "StartConference",
            Self::MonitorCall { .. } => "MonitorCall",
            Self::BargeInCall { .. } => "BargeInCall",
            Self::InterceptCall { .. } => "InterceptCall",
            Self::CoachCall { .. } => "CoachCall",
            Self::LaunchSurvey { .. } => "LaunchSurvey",
        }
    }
}

/// What a state-changing action answers with: the agent's new contexts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reply {
    /// The snapshot's `ContextId`.
    pub context_id: i64,
    /// The agent.
    pub user: UserContext,
    /// The call the action concerned, if any.
    pub call: Option<CallContext>,
}

/// An inbound call placed by a test or a demo (the admin API).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboundCall {
    /// The customer's number.
    pub caller: String,
    /// The number called: a hotline routes to its skill group.
    pub callee: String,
    /// The skill group to queue in, instead of the hotline's.
    pub skill_group: Option<String>,
    /// Associated data set by the IVR (`CallVariables`, the guide's `privateData.data`).
    pub variables: Option<String>,
    /// How the customer behaves; the scenario's script of `caller` when left out.
    pub script: Option<CustomerScript>,
}

impl InboundCall {
    /// A call from `caller` to the hotline `callee`.
    pub fn new(caller: impl Into<String>, callee: impl Into<String>) -> Self {
        Self {
            caller: caller.into(),
            callee: callee.into(),
            skill_group: None,
            variables: None,
            script: None,
        }
    }
}

/// What one leg hears in a call, for the media layer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MixLeg {
    /// The leg.
    pub leg: LegId,
    /// The legs whose audio it hears.
    pub hears: Vec<LegId>,
    /// It hears hold or queue music instead.
    pub music: bool,
}

/// Something the platform reports, or asks its shell to do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// Push this snapshot to the agent's agent-link connections.
    Snapshot {
        /// The agent.
        user_id: Text,
        /// The snapshot (`ContextId` rising), shared by every connection it goes to.
        snapshot: Arc<AgentSnapshot>,
    },
    /// The agent was signed out by the platform: close the links of `device` (all of
    /// them when `None`) with `reason`.
    SignedOut {
        /// The agent.
        user_id: Text,
        /// The device signed out.
        device: Option<Text>,
        /// Why (`KA_register` when another device signed in).
        reason: SignOutReason,
    },
    /// Ring the agent's registered SIP device for this leg (an INVITE).
    RingDevice {
        /// The leg.
        leg: LegId,
        /// The call.
        job_id: Text,
        /// The agent.
        user_id: Text,
        /// The agent's extension (the INVITE's target).
        extension: Text,
        /// The number shown (the INVITE's From).
        caller: Text,
    },
    /// A simulated line answered: start its media as its script says.
    LineUp {
        /// The leg.
        leg: LegId,
        /// The call.
        job_id: Text,
        /// The line's number.
        number: Text,
        /// Its script.
        script: CustomerScript,
    },
    /// DTMF digits for a leg (`SendDtmfSignaling`).
    Dtmf {
        /// The leg that receives them.
        leg: LegId,
        /// The digits.
        digits: Text,
    },
    /// A leg ended: hang up the device (BYE or CANCEL) or stop the line's media.
    LegDown {
        /// The leg.
        leg: LegId,
        /// The call.
        job_id: Text,
    },
    /// Who hears whom in a call changed.
    Mix {
        /// The call.
        job_id: Text,
        /// Each answered leg and what it hears.
        legs: Vec<MixLeg>,
    },
    /// A call ended; its record is complete (the media layer finishes the recording).
    CallEnded {
        /// The call.
        job_id: Text,
        /// The recording's file name, when the call is recorded.
        recording: Option<Text>,
    },
}

/// What the shell tells the platform: devices, legs and links.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// The agent's SIP device registered. A device other than the signed-in one signs
    /// the first out (`KA_register`).
    SipRegistered {
        /// The agent.
        user_id: Text,
        /// The device (the `+sip.instance`, or the flow).
        device_id: Text,
    },
    /// The agent's SIP registration ended (unregistered, expired, or the flow died).
    SipUnregistered {
        /// The agent.
        user_id: Text,
        /// The device.
        device_id: Text,
    },
    /// A heartbeat from the agent (a frame on the agent link).
    Heartbeat {
        /// The agent.
        user_id: Text,
    },
    /// The device answered the leg (SIP 200 OK).
    LegAnswered(LegId),
    /// The device refused or could not take the leg (a final SIP error).
    LegFailed {
        /// The leg.
        leg: LegId,
        /// The SIP status.
        status: u16,
    },
    /// The device hung up (SIP BYE or CANCEL).
    LegHungUp(LegId),
    /// A simulated customer hung up (admin API).
    CustomerHangUp {
        /// The call.
        job_id: Text,
    },
}
