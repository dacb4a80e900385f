//! What the platform keeps after the fact: call records, recordings, the SMS outbox
//! and satisfaction ratings.

use std::collections::VecDeque;

use ccc_core::model::Text;

/// At most this many of each kind of record are kept; the oldest go first.
pub const MAX_RECORDS: usize = 100_000;

/// An agent's part in one call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentPart {
    /// The agent.
    pub user_id: Text,
    /// The agent's name.
    pub display_name: Text,
    /// The skill group the agent took the call in.
    pub skill_group: Option<Text>,
    /// When the agent's leg started, milliseconds since the Unix epoch.
    pub start_ms: i64,
    /// How long the customer waited in the queue before this agent's leg rang.
    pub queue_ms: u64,
    /// How long the agent's leg rang.
    pub ring_ms: u64,
    /// How long the agent talked.
    pub talk_ms: u64,
    /// How long the agent held the call.
    pub hold_ms: u64,
    /// How long the after-call work that followed lasted.
    pub work_ms: u64,
    /// Whether the agent answered.
    pub answered: bool,
    /// Whether the agent placed the call.
    pub outbound: bool,
}

/// A recording of a call: a stereo WAV file, the agent on the left, the other
/// parties on the right.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recording {
    /// The file name (`DownloadRecording`'s `FileName`).
    pub file_name: Text,
    /// The call.
    pub contact_id: Text,
    /// The agent of the call.
    pub agent_id: Text,
    /// The agent's name.
    pub agent_name: Text,
    /// The calling number.
    pub calling: Text,
    /// The called number.
    pub called: Text,
    /// `Inbound`, `Outbound` or `Internal`.
    pub contact_type: &'static str,
    /// When the recording starts, milliseconds since the Unix epoch.
    pub start_ms: i64,
    /// Its length in seconds.
    pub duration_s: i64,
}

/// One call's record (`ListCallDetailRecords`, `ListRecentCallRecords`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallRecord {
    /// The call's id (`ContactId`, the `JobId` of the agent link).
    pub contact_id: Text,
    /// `Inbound`, `Outbound` or `Internal`.
    pub contact_type: &'static str,
    /// How it ended (`Success`, `Abandoned`, `NoAnswer`, `Busy`, `Rejected`, `Failure`).
    pub disposition: &'static str,
    /// The calling number.
    pub calling: Text,
    /// The called number.
    pub called: Text,
    /// When the call started, milliseconds since the Unix epoch.
    pub start_ms: i64,
    /// Its length in seconds.
    pub duration_s: i64,
    /// The skill groups it went through.
    pub skill_groups: Vec<Text>,
    /// The agents who took part.
    pub agents: Vec<AgentPart>,
    /// The satisfaction rating, if the customer was surveyed.
    pub satisfaction: Option<u8>,
    /// Who hung up first (an agent id, or the number of a line).
    pub release_initiator: Option<Text>,
    /// Its recording.
    pub recording: Option<Recording>,
}

impl CallRecord {
    /// Whether `user_id` took part in the call.
    pub fn involves(&self, user_id: &str) -> bool {
        self.agents.iter().any(|a| &*a.user_id == user_id)
    }
}

/// Why an SMS was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmsKind {
    /// The satisfaction survey (`LaunchShortMessageAppraise`).
    Appraisal,
    /// A predefined template (`SendPredefinedShortMessage`), such as the missed-call
    /// notice.
    Predefined,
}

/// One message of the SMS outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmsMessage {
    /// The id the send answered with (`BizId`).
    pub biz_id: Text,
    /// Why it was sent.
    pub kind: SmsKind,
    /// The numbers it went to.
    pub phone_numbers: Vec<Text>,
    /// The template (`ConfigId`).
    pub template_id: Option<i64>,
    /// The text as sent, parameters filled in.
    pub text: Text,
    /// The call it concerns.
    pub contact_id: Option<Text>,
    /// When it was sent, milliseconds since the Unix epoch.
    pub sent_ms: i64,
}

/// A satisfaction rating.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Appraisal {
    /// The call.
    pub contact_id: Text,
    /// 1 to 5.
    pub rating: u8,
    /// `IVR` or `SMS`.
    pub channel: &'static str,
    /// When it was given, milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// Everything recorded so far, oldest first.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Records {
    /// Call records.
    pub calls: VecDeque<CallRecord>,
    /// The SMS outbox.
    pub sms: VecDeque<SmsMessage>,
    /// Satisfaction ratings.
    pub appraisals: VecDeque<Appraisal>,
}

fn push_bounded<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() >= MAX_RECORDS {
        list.pop_front();
    }
    list.push_back(item);
}

impl Records {
    pub(crate) fn add_call(&mut self, record: CallRecord) {
        push_bounded(&mut self.calls, record);
    }

    pub(crate) fn add_sms(&mut self, message: SmsMessage) {
        push_bounded(&mut self.sms, message);
    }

    pub(crate) fn add_appraisal(&mut self, appraisal: Appraisal) {
        if let Some(call) = self
            .calls
            .iter_mut()
            .rev()
            .find(|c| c.contact_id == appraisal.contact_id)
        {
            call.satisfaction = Some(appraisal.rating);
        }
        push_bounded(&mut self.appraisals, appraisal);
    }

    /// The record of a call.
    pub fn call(&self, contact_id: &str) -> Option<&CallRecord> {
        self.calls
            .iter()
            .rev()
            .find(|c| &*c.contact_id == contact_id)
    }

    /// The recording with this file name.
    pub fn recording(&self, file_name: &str) -> Option<&Recording> {
        self.calls
            .iter()
            .rev()
            .filter_map(|c| c.recording.as_ref())
            .find(|r| &*r.file_name == file_name)
    }

    /// Adds the after-call work that followed `contact_id` to the agent's part.
    pub(crate) fn add_work(&mut self, contact_id: &str, user_id: &str, work_ms: u64) {
        if let Some(part) = self
            .calls
            .iter_mut()
            .rev()
            .find(|c| &*c.contact_id == contact_id)
            .and_then(|c| c.agents.iter_mut().rev().find(|a| &*a.user_id == user_id))
        {
            part.work_ms += work_ms;
        }
    }
}
