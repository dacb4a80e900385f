//! Which actions the relay forwards: the ones the workbench needs, and only those.

use ccc_openapi::Version;

/// The 2020-07-01 actions that act on another agent's call: supervisors only.
pub const SUPERVISOR_ONLY: [&str; 4] = ["MonitorCall", "BargeInCall", "InterceptCall", "CoachCall"];

/// The workbench's 2017-07-05 actions (the guide's section 6 table and the four more it
/// names).
pub const WORKBENCH_2017: [&str; 32] = [
    "ListOutboundPhoneNumberOfUser",
    "ListSkillGroupsOfUser",
    "ListRecentCallRecords",
    "ListConfig",
    "GetServiceExtensions",
    "LaunchAppraise",
    "GetSmsConfig",
    "RequestLoginInfo",
    "RefreshToken",
    "PickGlobalOutboundNumbers",
    "GetNumberRegionInfo",
    "ListRealTimeAgent",
    "ListAgentStates",
    "ListRecordingsByContactId",
    "GenerateAgentStatisticReport",
    "LaunchShortMessageAppraise",
    "SendPredefinedShortMessage",
    "CallOnlinePrivacyNumber",
    "ModifyPrivacyNumberCallDetail",
    "GetRecordOssUploadParam",
    "CreateFault",
    "AddAgentDevice",
    "ModifyAgentDevice",
    "ListAgentDevices",
    "GetTURNCredentials",
    "GetTURNServerList",
    "ResetUserStatus",
    "CheckNumberAvaliable",
    "DownloadRecording",
    "ListCallDetailRecords",
    "Encrypt",
    "PickLocalNumber",
];

/// The workbench's 2020-07-01 actions: agent control and sign-in data.
pub const WORKBENCH_2020: [&str; 29] = [
    "GetLoginDetails",
    "GetTurnServerList",
    "GetTurnCredentials",
    "SignInGroup",
    "SignOutGroup",
    "ReadyForService",
    "TakeBreak",
    "ChangeWorkMode",
    "ResetAgentState",
    "PollUserStatus",
    "MakeCall",
    "AnswerCall",
    "ReleaseCall",
    "HoldCall",
    "RetrieveCall",
    "MuteCall",
    "UnmuteCall",
    "SendDtmfSignaling",
    "RedialCall",
    "LaunchSurvey",
    "BlindTransfer",
    "InitiateAttendedTransfer",
    "CompleteAttendedTransfer",
    "CancelAttendedTransfer",
    "StartConference",
    "MonitorCall",
    "BargeInCall",
    "InterceptCall",
    "CoachCall",
];

/// The parameters that name other agents and that only supervisors may send: an agent
/// who lists other agents' RAM ids in `ResetUserStatus` would reset their state.
const SUPERVISOR_ONLY_PARAMS: [(Version, &str, &str); 1] =
    [(Version::V20170705, "ResetUserStatus", "RamIdList")];

/// Whether a user who is not a supervisor may send the wire parameter `name` (a 2017
/// list item `RamIdList.1` counts as its list).
pub(crate) fn agent_may_send(version: Version, action: &str, name: &str) -> bool {
    !SUPERVISOR_ONLY_PARAMS.iter().any(|(v, a, param)| {
        *v == version
            && *a == action
            && name
                .strip_prefix(param)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    })
}

/// The verdict on one action for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed,
    /// Not an action of the workbench.
    NotAllowed,
    /// A supervisor's action, and the user is an agent.
    SupervisorOnly,
}

pub(crate) fn verdict(version: Version, action: &str, supervisor: bool) -> Verdict {
    let list: &[&str] = match version {
        Version::V20170705 => &WORKBENCH_2017,
        Version::V20200701 => &WORKBENCH_2020,
    };
    if !list.contains(&action) {
        return Verdict::NotAllowed;
    }
    if version == Version::V20200701 && SUPERVISOR_ONLY.contains(&action) && !supervisor {
        return Verdict::SupervisorOnly;
    }
    Verdict::Allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_allowed_action_is_known_to_the_client() {
        for (version, list) in [
            (Version::V20170705, &WORKBENCH_2017[..]),
            (Version::V20200701, &WORKBENCH_2020[..]),
        ] {
            for action in list {
                assert!(
                    ccc_openapi::models::find(version, action).is_some(),
                    "{action}"
                );
            }
        }
        assert_eq!(
            verdict(Version::V20200701, "MonitorCall", false),
            Verdict::SupervisorOnly
        );
        assert_eq!(
            verdict(Version::V20200701, "MonitorCall", true),
            Verdict::Allowed
        );
        assert_eq!(
            verdict(Version::V20200701, "DeleteInstance", true),
            Verdict::NotAllowed
        );
        assert_eq!(
            verdict(Version::V20170705, "MakeCall", true),
            Verdict::NotAllowed
        );
        assert!(!agent_may_send(
            Version::V20170705,
            "ResetUserStatus",
            "RamIdList.1"
        ));
        assert!(agent_may_send(
            Version::V20170705,
            "ResetUserStatus",
            "InstanceId"
        ));
        assert!(agent_may_send(
            Version::V20170705,
            "ResetUserStatus",
            "RamIdListX"
        ));
    }
}
