//! Calls and their legs (channels), and how they turn into `CallContext`s.

use std::time::Instant;

use ccc_core::model::{
    CallContext, CallType, ChannelContext, ChannelFlag, ChannelFlags, ChannelState, Text,
};

/// The flags of a leg (`ChannelFlags` on the wire).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    pub(crate) hold: bool,
    pub(crate) muted: bool,
    pub(crate) monitoring: bool,
    pub(crate) monitored: bool,
    pub(crate) coaching: bool,
    pub(crate) coached: bool,
}

impl Flags {
    pub(crate) fn wire(self) -> ChannelFlags {
        [
            (self.hold, ChannelFlag::Hold),
            (self.muted, ChannelFlag::Muted),
            (self.monitoring, ChannelFlag::Monitoring),
            (self.monitored, ChannelFlag::Monitored),
            (self.coaching, ChannelFlag::Coaching),
            (self.coached, ChannelFlag::Coached),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .fold(ChannelFlags::NONE, |all, (_, flag)| all.with(flag))
    }
}

use crate::scenario::CustomerScript;

/// One leg of a call, unique for the life of the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u64);

/// An agent of the scenario, by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(pub usize);

/// Who is at the far end of a leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Party {
    /// A simulated customer (or any external number) following a script.
    Line {
        number: Text,
        script: CustomerScript,
    },
    /// An agent, reached on their device.
    Agent { agent: AgentId, device: Device },
}

/// How an agent's leg reaches the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Device {
    /// The agent's registered SIP device (the shell sends the INVITE).
    Sip,
    /// No device: answered by `AnswerCall`, or at once when the agent placed the call.
    Virtual,
    /// The agent's mobile phone (off-site mode), a simulated line.
    Mobile {
        number: Text,
        script: CustomerScript,
    },
}

/// What an agent's leg is for, beyond its `CallType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The agent placed the call (the leg rings the agent first, then the customer is
    /// dialed).
    Caller,
    /// The agent is offered or transferred the call.
    Callee,
    /// A supervisor's leg (monitor, barge, intercept, coach): back to the earlier
    /// state afterwards.
    Supervisor,
}

/// One leg.
#[derive(Debug, Clone)]
pub(crate) struct Channel {
    pub(crate) leg: LegId,
    pub(crate) id: Text,
    pub(crate) party: Party,
    pub(crate) role: Role,
    pub(crate) call_type: CallType,
    pub(crate) state: ChannelState,
    pub(crate) flags: Flags,
    pub(crate) originator: Text,
    pub(crate) destination: Text,
    pub(crate) index: i64,
    pub(crate) timestamp: i64,
    pub(crate) skill_group: Option<Text>,
    pub(crate) release_initiator: Option<Text>,
    pub(crate) release_reason: Option<Text>,
    pub(crate) created_at: Instant,
    pub(crate) answered_at: Option<Instant>,
    pub(crate) released_at: Option<Instant>,
    pub(crate) held_since: Option<Instant>,
    pub(crate) hold_ms: u64,
    /// DTMF digits this leg received from the platform (`SendDtmfSignaling`).
    pub(crate) dtmf_received: String,
    /// The line's scripted hang-up is scheduled.
    pub(crate) hangup_armed: bool,
}

impl Channel {
    pub(crate) fn agent(&self) -> Option<AgentId> {
        match &self.party {
            Party::Agent { agent, .. } => Some(*agent),
            Party::Line { .. } => None,
        }
    }

    pub(crate) fn is_live(&self) -> bool {
        self.state.is_live()
    }

    pub(crate) fn is_answered(&self) -> bool {
        self.state == ChannelState::Answered
    }

    /// The script of the simulated line at this leg's far end, if it is one.
    pub(crate) fn script(&self) -> Option<&CustomerScript> {
        match &self.party {
            Party::Line { script, .. }
            | Party::Agent {
                device: Device::Mobile { script, .. },
                ..
            } => Some(script),
            Party::Agent { .. } => None,
        }
    }

    pub(crate) fn context(
        &self,
        job_id: &Text,
        user_id: Option<&Text>,
        ext: Option<&Text>,
    ) -> ChannelContext {
        let mut c = ChannelContext::default();
        c.call_type = Some(self.call_type.clone());
        c.channel_flags = self.flags.wire();
        c.channel_id = Some(self.id.clone());
        c.channel_state = Some(self.state.clone());
        c.channel_variables = Some(Text::from(""));
        c.destination = Some(self.destination.clone());
        c.index = Some(self.index);
        c.job_id = Some(job_id.clone());
        c.media_type = Some(Text::from("AUDIO"));
        c.originator = Some(self.originator.clone());
        c.release_initiator = Some(self.release_initiator.clone().unwrap_or_else(|| "".into()));
        c.release_reason = Some(self.release_reason.clone().unwrap_or_else(|| "".into()));
        c.skill_group_id = Some(self.skill_group.clone().unwrap_or_else(|| "".into()));
        c.timestamp = Some(self.timestamp);
        c.user_extension = Some(ext.cloned().unwrap_or_else(|| "".into()));
        c.user_id = Some(user_id.cloned().unwrap_or_else(|| "".into()));
        c
    }
}

/// A pending attended transfer: who consults whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Consult {
    /// The consulting agent's leg.
    pub(crate) by: LegId,
    /// The consulted party's leg.
    pub(crate) third: LegId,
    /// The legs put on hold for the consultation.
    pub(crate) held: [Option<LegId>; 2],
}

/// How a call ended, for its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// An agent talked to the customer.
    Success,
    /// The customer hung up before an agent answered.
    Abandoned,
    /// The called customer did not answer.
    NoAnswer,
    /// The called customer was busy.
    Busy,
    /// The called customer declined.
    Rejected,
    /// The call could not be put through (no device, no route).
    Failure,
}

impl Disposition {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "Success",
            Self::Abandoned => "Abandoned",
            Self::NoAnswer => "NoAnswer",
            Self::Busy => "Busy",
            Self::Rejected => "Rejected",
            Self::Failure => "Failure",
        }
    }
}

/// One call (a job, in CCC's words).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) job_id: Text,
    pub(crate) call_type: CallType,
    /// The type before a conference, to go back to when it shrinks to two parties.
    pub(crate) base_type: CallType,
    pub(crate) variables: Option<Text>,
    pub(crate) channels: Vec<Channel>,
    pub(crate) started_at: Instant,
    pub(crate) started_ms: i64,
    /// The skill group the call came through or was placed for.
    pub(crate) skill_group: Option<Text>,
    /// Queued since, when waiting for an agent.
    pub(crate) queued_since: Option<Instant>,
    pub(crate) consult: Option<Consult>,
    /// The call's calling and called numbers for its record.
    pub(crate) calling: Text,
    pub(crate) called: Text,
    pub(crate) disposition: Option<Disposition>,
    /// The survey's rating, when the customer was surveyed.
    pub(crate) satisfaction: Option<u8>,
    /// The customer is in the satisfaction survey IVR.
    pub(crate) in_survey: bool,
    /// The parts of the agents who have left the call, for its record.
    pub(crate) parts: Vec<super::records::AgentPart>,
    /// Who released the first leg (`None` inside: the platform did).
    pub(crate) first_release: Option<Option<Text>>,
    pub(crate) ended: bool,
}

impl Call {
    pub(crate) fn channel(&self, leg: LegId) -> Option<&Channel> {
        self.channels.iter().find(|c| c.leg == leg)
    }

    pub(crate) fn channel_mut(&mut self, leg: LegId) -> Option<&mut Channel> {
        self.channels.iter_mut().find(|c| c.leg == leg)
    }

    pub(crate) fn by_channel_id(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| &*c.id == id)
    }

    pub(crate) fn live(&self) -> impl Iterator<Item = &Channel> {
        self.channels.iter().filter(|c| c.is_live())
    }

    /// The agent's live leg in this call.
    pub(crate) fn leg_of(&self, agent: AgentId) -> Option<&Channel> {
        self.live().find(|c| c.agent() == Some(agent))
    }

    /// Live legs that are not supervisors'.
    pub(crate) fn parties(&self) -> impl Iterator<Item = &Channel> {
        self.live().filter(|c| c.role != Role::Supervisor)
    }

    pub(crate) fn next_index(&self) -> i64 {
        i64::try_from(self.channels.len()).unwrap_or(i64::MAX)
    }

    pub(crate) fn context(
        &self,
        names: &impl Fn(AgentId) -> (Text, Text),
        instance: &Text,
    ) -> CallContext {
        let mut c = CallContext::default();
        c.call_type = Some(self.call_type.clone());
        c.call_variables = Some(self.variables.clone().unwrap_or_else(|| "".into()));
        c.instance_id = Some(instance.clone());
        c.job_id = Some(self.job_id.clone());
        c.channel_contexts = Some(
            self.channels
                .iter()
                .map(|ch| match ch.agent() {
                    Some(agent) => {
                        let (user, ext) = names(agent);
                        ch.context(&self.job_id, Some(&user), Some(&ext))
                    }
                    None => ch.context(&self.job_id, None, None),
                })
                .collect(),
        );
        c
    }
}
