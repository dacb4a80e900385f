//! `UserContext`, `CallContext` and `ChannelContext`: the agent's state as
//! `PollUserStatus` answers it and the agent link pushes it.
//!
//! Field names are the wire's (PascalCase). Every field may be missing or `null` (the
//! action answers carry subsets), so all are optional; unknown fields are ignored and
//! unknown enumeration values are kept (see [`UserState::Other`]). Strings are `Arc<str>`
//! so the agent machine can hand them to events without copying.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::enums::{CallType, ChannelFlags, ChannelState, UserState, WorkMode};

/// A string of the wire, shared without copying.
pub type Text = Arc<str>;

/// The agent's own state (`UserContext`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct UserContext {
    /// Break code while on break (`Warm-up`, `RingingTimeout`, or the integrator's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub break_code: Option<Text>,
    /// The agent's chat device (`SignInGroup` answers carry it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_device_id: Option<Text>,
    /// The agent's voice device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Text>,
    /// The state of the agent's SIP device: `UNREGISTERED`, `OFFLINE` or `ONLINE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_state: Option<Text>,
    /// The agent's extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<Text>,
    /// Last heartbeat, milliseconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<i64>,
    /// The instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<Text>,
    /// The call the agent is in, or was last in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Text>,
    /// Mobile number for off-site work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile: Option<Text>,
    /// Outbound-only mode (M29).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbound_scenario: Option<bool>,
    /// Other calls the agent takes part in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_job_list: Option<Vec<ParallelJob>>,
    /// Reserved by the platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved: Option<i64>,
    /// The skill groups the agent is signed in to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_skill_group_id_list: Option<Vec<Text>>,
    /// The agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Text>,
    /// The agent's state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_state: Option<UserState>,
    /// Where the agent takes calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_mode: Option<WorkMode>,
}

/// One entry of `UserContext.ParallelJobList`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct ParallelJob {
    /// The call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Text>,
    /// Its status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Text>,
    /// When it took that status, milliseconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
}

/// A call and its legs (`CallContext`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct CallContext {
    /// The kind of call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_type: Option<CallType>,
    /// Associated data of the call (set by the IVR flow): the guide's `privateData.data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_variables: Option<Text>,
    /// The legs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_contexts: Option<Vec<ChannelContext>>,
    /// The instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<Text>,
    /// The call (contact) id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Text>,
}

impl CallContext {
    /// The legs, empty when the wire had none.
    pub fn channels(&self) -> &[ChannelContext] {
        self.channel_contexts.as_deref().unwrap_or_default()
    }
}

/// One leg of a call (`ChannelContext`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct ChannelContext {
    /// The kind of this leg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_type: Option<CallType>,
    /// Flags such as `HOLD`.
    #[serde(skip_serializing_if = "ChannelFlags::is_empty")]
    pub channel_flags: ChannelFlags,
    /// The leg's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<Text>,
    /// The leg's state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_state: Option<ChannelState>,
    /// Variables of the leg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_variables: Option<Text>,
    /// The called number of this leg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<Text>,
    /// Order of the leg in the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<i64>,
    /// The call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Text>,
    /// Media type (`AUDIO`, `VIDEO`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<Text>,
    /// The calling number of this leg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub originator: Option<Text>,
    /// Who released the leg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_initiator: Option<Text>,
    /// Why the leg was released (`404 - No destination`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_reason: Option<Text>,
    /// The skill group the call came through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill_group_id: Option<Text>,
    /// When the leg took its state, milliseconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// The agent's extension, when the leg is an agent's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_extension: Option<Text>,
    /// The agent, when the leg is an agent's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Text>,
}

impl ChannelContext {
    /// Whether the leg is still part of the call (see [`ChannelState::is_live`]); a
    /// leg without a state counts as live.
    pub fn is_live(&self) -> bool {
        self.channel_state
            .as_ref()
            .is_none_or(ChannelState::is_live)
    }

    /// Whether the leg was answered.
    pub fn is_answered(&self) -> bool {
        self.channel_state
            .as_ref()
            .is_some_and(ChannelState::is_answered)
    }
}

/// A text chat the agent takes part in (`ChatContexts` item).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct ChatContext {
    /// Variables of the chat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_variables: Option<Text>,
    /// Kind of chat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_type: Option<Text>,
    /// The instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<Text>,
    /// The chat's job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Text>,
    /// The members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<ChatMember>>,
}

/// A member of a chat.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct ChatMember {
    /// Order of the member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<i64>,
    /// Who ended the member's part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_initiator: Option<Text>,
    /// Why it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_reason: Option<Text>,
    /// The skill group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill_group_id: Option<Text>,
    /// The member's status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Text>,
    /// The member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Text>,
    /// Kind of member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_type: Option<Text>,
}

/// The agent's state at one moment: the `Data` of a `PollUserStatus` answer, and the
/// body of each agent-link push frame.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct AgentSnapshot {
    /// Rises with every change; older snapshots are ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_id: Option<i64>,
    /// The agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_context: Option<UserContext>,
    /// The agent's call, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_context: Option<CallContext>,
    /// The agent's chats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_contexts: Option<Vec<ChatContext>>,
}

impl AgentSnapshot {
    /// A snapshot of these contexts.
    pub fn new(context_id: Option<i64>, user: UserContext, call: Option<CallContext>) -> Self {
        Self {
            context_id,
            user_context: Some(user),
            call_context: call,
            chat_contexts: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ChannelFlag;

    const POLL_USER_STATUS_DATA: &str = r#"{
        "ContextId": 42,
        "UserContext": {
            "BreakCode": "", "DeviceId": "ACC-1", "Extension": "8001", "Heartbeat": 1700000000000,
            "InstanceId": "ccc-test", "JobId": "job-1", "Mobile": "", "OutboundScenario": false,
            "ParallelJobList": [{"JobId": "job-0", "Status": "Released", "Timestamp": 1}],
            "Reserved": 0, "SignedSkillGroupIdList": ["skg-1@ccc-test"],
            "UserId": "agent@ccc-test", "UserState": "TALKING", "WorkMode": "ON_SITE"
        },
        "CallContext": {
            "CallType": "INBOUND", "CallVariables": "{\"order\":7}", "InstanceId": "ccc-test", "JobId": "job-1",
            "ChannelContexts": [
                {"CallType": "INBOUND", "ChannelFlags": "", "ChannelId": "ch-0", "ChannelState": "ANSWERED",
                 "ChannelVariables": "", "Destination": "057100000000", "Index": 0, "JobId": "job-1",
                 "Originator": "13800000000", "ReleaseInitiator": "", "ReleaseReason": "", "SkillGroupId": "skg-1@ccc-test",
                 "Timestamp": 1, "UserExtension": "", "UserId": ""},
                {"CallType": "INBOUND", "ChannelFlags": "HOLD", "ChannelId": "ch-1", "ChannelState": "ANSWERED",
                 "Destination": "8001", "Index": 1, "JobId": "job-1", "Originator": "13800000000",
                 "SkillGroupId": "skg-1@ccc-test", "Timestamp": 2, "UserExtension": "8001", "UserId": "agent@ccc-test"}
            ]
        },
        "ChatContexts": [{"ChatType": "ONLINE", "JobId": "chat-1", "Members": [{"UserId": "agent@ccc-test", "Index": 0}]}]
    }"#;

    #[test]
    fn poll_user_status_data_decodes_every_field() {
        let snap: AgentSnapshot = serde_json::from_str(POLL_USER_STATUS_DATA).unwrap();
        assert_eq!(snap.context_id, Some(42));
        let user = snap.user_context.as_ref().unwrap();
        assert_eq!(user.user_state, Some(UserState::Talking));
        assert_eq!(user.work_mode, Some(WorkMode::OnSite));
        assert_eq!(user.heartbeat, Some(1_700_000_000_000));
        assert_eq!(user.signed_skill_group_id_list.as_ref().unwrap().len(), 1);
        assert_eq!(
            user.parallel_job_list.as_ref().unwrap()[0]
                .job_id
                .as_deref(),
            Some("job-0")
        );
        let call = snap.call_context.as_ref().unwrap();
        assert_eq!(call.call_type, Some(CallType::Inbound));
        assert_eq!(call.call_variables.as_deref(), Some("{\"order\":7}"));
        let [customer, agent] = call.channels() else {
            panic!("two channels")
        };
        assert_eq!(customer.originator.as_deref(), Some("13800000000"));
        assert!(agent.channel_flags.contains(ChannelFlag::Hold));
        assert_eq!(agent.user_extension.as_deref(), Some("8001"));
        assert!(agent.is_answered() && agent.is_live());
        assert_eq!(
            snap.chat_contexts.as_ref().unwrap()[0]
                .members
                .as_ref()
                .unwrap()
                .len(),
            1
        );

        let again: AgentSnapshot =
            serde_json::from_str(&serde_json::to_string(&snap).unwrap()).unwrap();
        assert_eq!(again, snap);
    }

    #[test]
    fn subsets_nulls_and_unknown_fields_decode() {
        let snap: AgentSnapshot =
            serde_json::from_str(r#"{"UserContext": {"UserState": "READY", "Mobile": null, "NewField": 1}, "CallContext": null}"#)
                .unwrap();
        assert_eq!(snap.context_id, None);
        assert_eq!(
            snap.user_context.unwrap().user_state,
            Some(UserState::Ready)
        );
        assert!(snap.call_context.is_none());
    }

    #[test]
    fn wrong_types_are_errors_not_panics() {
        assert!(serde_json::from_str::<AgentSnapshot>(r#"{"ContextId": "x"}"#).is_err());
        assert!(serde_json::from_str::<AgentSnapshot>(r#"[1,2]"#).is_err());
        assert!(serde_json::from_str::<AgentSnapshot>("").is_err());
    }
}
