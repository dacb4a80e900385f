//! One model: every action of ccc-openapi (32 of 2017-07-05, 29 of 2020-07-01) is read
//! back from wire parameters by ccc-openapi's own model, put on the wire as it does,
//! answered by the emulator, and the answer decodes into ccc-openapi's typed response
//! (which also rejects `Success: false` and non-OK codes).

mod support;

use ccc_core::model::UserState;
use ccc_openapi::{v2017 as a17, v2020 as a20};
use serde_json::json;
use support::*;

const BOB: &str = "bob@ccc-emulator";
const ALICE: &str = "alice@ccc-emulator";
const SAM: &str = "sam@ccc-emulator";
const SALES: &str = r#"["sales@ccc-emulator"]"#;

macro_rules! ok {
    ($api:expr, $action:ty, $($wire:expr),* $(,)?) => {
        $api.typed::<$action>(&[$($wire),*]).await.unwrap_or_else(|e| panic!("{}: {e}", stringify!($action)))
    };
}

fn job_of(snapshot: &ccc_core::model::AgentSnapshot) -> String {
    snapshot
        .call_context
        .as_ref()
        .and_then(|c| c.job_id.as_deref())
        .expect("a call")
        .to_owned()
}

fn my_channel(snapshot: &ccc_core::model::AgentSnapshot, user: &str) -> String {
    snapshot
        .call_context
        .as_ref()
        .unwrap()
        .channels()
        .iter()
        .rev()
        .find(|c| c.user_id.as_deref() == Some(user) && c.is_live())
        .and_then(|c| c.channel_id.as_deref())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn every_2020_action_answers_in_ccc_openapis_model() {
    let emu = start().await;
    let mut api = Api::new(emu.info());
    let details = ok!(api, a20::GetLoginDetails, ("UserId", BOB));
    assert_eq!(
        details.data.as_ref().and_then(|d| d.extension.as_deref()),
        Some("8002")
    );
    ok!(api, a20::GetTurnServerList,);
    ok!(api, a20::GetTurnCredentials, ("UserId", BOB));
    for user in [BOB, ALICE, SAM] {
        let r = ok!(
            api,
            a20::SignInGroup,
            ("UserId", user),
            ("DeviceId", "d"),
            ("SignedSkillGroupIdList", SALES)
        );
        assert_eq!(r.data.unwrap().user_state, Some(UserState::Break));
        ok!(api, a20::ReadyForService, ("UserId", user));
    }
    ok!(api, a20::TakeBreak, ("UserId", ALICE), ("Code", "lunch"));
    ok!(
        api,
        a20::ChangeWorkMode,
        ("UserId", ALICE),
        ("WorkMode", "ON_SITE")
    );
    ok!(
        api,
        a20::ReadyForService,
        ("UserId", ALICE),
        ("OutboundScenario", "false")
    );

    // An outbound call: make, hold, retrieve, mute, DTMF, release, redial.
    let made = ok!(
        api,
        a20::MakeCall,
        ("UserId", BOB),
        ("Callee", "13800000001")
    );
    let snapshot = made.data.unwrap();
    let job = job_of(&snapshot);
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let polled = ok!(api, a20::PollUserStatus, ("UserId", BOB)).data.unwrap();
    let channel = my_channel(&polled, BOB);
    ok!(
        api,
        a20::HoldCall,
        ("UserId", BOB),
        ("JobId", &job),
        ("ChannelId", &channel)
    );
    ok!(
        api,
        a20::RetrieveCall,
        ("UserId", BOB),
        ("JobId", &job),
        ("ChannelId", &channel)
    );
    ok!(api, a20::MuteCall, ("UserId", BOB), ("JobId", &job));
    ok!(api, a20::UnmuteCall, ("UserId", BOB), ("JobId", &job));
    ok!(
        api,
        a20::SendDtmfSignaling,
        ("UserId", BOB),
        ("JobId", &job),
        ("ChannelId", &channel),
        ("Dtmf", "12#")
    );
    // A supervisor listens, barges, coaches, then takes it over.
    ok!(
        api,
        a20::MonitorCall,
        ("UserId", SAM),
        ("MonitoredUserId", BOB)
    );
    let sam = ok!(api, a20::PollUserStatus, ("UserId", SAM)).data.unwrap();
    ok!(
        api,
        a20::ReleaseCall,
        ("UserId", SAM),
        ("JobId", &job),
        ("ChannelId", &my_channel(&sam, SAM))
    );
    ok!(api, a20::ReadyForService, ("UserId", SAM));
    ok!(
        api,
        a20::BargeInCall,
        ("UserId", SAM),
        ("JobId", &job),
        ("BargedUserId", BOB)
    );
    let sam = ok!(api, a20::PollUserStatus, ("UserId", SAM)).data.unwrap();
    ok!(
        api,
        a20::ReleaseCall,
        ("UserId", SAM),
        ("JobId", &job),
        ("ChannelId", &my_channel(&sam, SAM))
    );
    ok!(api, a20::ReadyForService, ("UserId", SAM));
    ok!(
        api,
        a20::CoachCall,
        ("UserId", SAM),
        ("JobId", &job),
        ("CoachedUserId", BOB)
    );
    let sam = ok!(api, a20::PollUserStatus, ("UserId", SAM)).data.unwrap();
    ok!(
        api,
        a20::ReleaseCall,
        ("UserId", SAM),
        ("JobId", &job),
        ("ChannelId", &my_channel(&sam, SAM))
    );
    ok!(api, a20::ReadyForService, ("UserId", SAM));
    // Consult Alice, cancel; consult again and complete.
    ok!(
        api,
        a20::InitiateAttendedTransfer,
        ("UserId", BOB),
        ("JobId", &job),
        ("Transferee", ALICE),
        ("TransfereeType", "AGENT")
    );
    ok!(
        api,
        a20::CancelAttendedTransfer,
        ("UserId", BOB),
        ("JobId", &job)
    );
    ok!(api, a20::ReadyForService, ("UserId", ALICE));
    ok!(
        api,
        a20::InitiateAttendedTransfer,
        ("UserId", BOB),
        ("JobId", &job),
        ("Transferee", ALICE)
    );
    ok!(api, a20::AnswerCall, ("UserId", ALICE), ("JobId", &job));
    // Alice, the consulted party, is in the call already: the consultation joins.
    ok!(
        api,
        a20::StartConference,
        ("UserId", BOB),
        ("ParticipantListJson", r#"["8001"]"#)
    );
    let alice = ok!(api, a20::PollUserStatus, ("UserId", ALICE))
        .data
        .unwrap();
    ok!(
        api,
        a20::ReleaseCall,
        ("UserId", BOB),
        ("JobId", &job),
        ("ChannelId", &my_channel(&alice, ALICE))
    );
    ok!(api, a20::ReadyForService, ("UserId", ALICE));
    ok!(
        api,
        a20::InitiateAttendedTransfer,
        ("UserId", BOB),
        ("JobId", &job),
        ("Transferee", "8001")
    );
    ok!(api, a20::AnswerCall, ("UserId", ALICE), ("JobId", &job));
    ok!(
        api,
        a20::CompleteAttendedTransfer,
        ("UserId", BOB),
        ("JobId", &job)
    );
    ok!(
        api,
        a20::InterceptCall,
        ("UserId", SAM),
        ("JobId", &job),
        ("InterceptedUserId", ALICE)
    );
    ok!(
        api,
        a20::BlindTransfer,
        ("UserId", SAM),
        ("JobId", &job),
        ("Transferee", "sales@ccc-emulator"),
        ("TransfereeType", "SKILL_GROUP")
    );
    ok!(api, a20::ReadyForService, ("UserId", BOB));
    let bob = ok!(api, a20::PollUserStatus, ("UserId", BOB)).data.unwrap();
    let job = job_of(&bob);
    ok!(api, a20::AnswerCall, ("UserId", BOB), ("JobId", &job));
    ok!(
        api,
        a20::LaunchSurvey,
        ("UserId", BOB),
        ("JobId", &job),
        ("SmsMetadataId", "1")
    );
    ok!(api, a20::ReadyForService, ("UserId", BOB));
    ok!(
        api,
        a20::RedialCall,
        ("UserId", BOB),
        ("Callee", "13800000001")
    );
    ok!(api, a20::ResetAgentState, ("UserId", BOB));
    ok!(api, a20::SignOutGroup, ("UserId", BOB));

    // A wrong state is an error answer of CCC's shape, typed as such.
    let err = api
        .typed::<a20::ReadyForService>(&[("UserId", BOB)])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("InvalidOperation.UserState"),
        "{err}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn every_2017_action_answers_in_ccc_openapis_model() {
    // Bob has an AccessKey of his own: actions without `UserId` act as him.
    let mut scenario = ccc_emulator::Scenario::default();
    scenario.agents[1].access_key_id = Some("LTAIbob".into());
    scenario.agents[1].access_key_secret = Some("bob-secret".into());
    let emu = ccc_emulator::Emulator::start(ccc_emulator::EmulatorConfig::new(scenario))
        .await
        .unwrap();
    let mut api = Api::new(emu.info());
    let mut bob = Api::with(
        emu.info(),
        ccc_openapi::Credentials::new("LTAIbob", "bob-secret"),
    );
    let login = ok!(bob, a17::RequestLoginInfo,);
    assert_eq!(
        login
            .login_info
            .as_ref()
            .and_then(|l| l.extension.as_deref()),
        Some("8002")
    );
    let token = ok!(bob, a17::RefreshToken,);
    assert!(
        token
            .token
            .and_then(|t| t.sign_data)
            .unwrap()
            .starts_with("bob@ccc-emulator:8002:")
    );
    let groups = ok!(api, a17::ListSkillGroupsOfUser, ("UserId", BOB));
    assert_eq!(groups.skill_levels.len(), 1);
    assert_eq!(groups.skill_levels[0].level, Some(8));
    ok!(api, a17::ListOutboundPhoneNumberOfUser, ("UserId", BOB));
    ok!(api, a17::ListConfig, ("ConfigItem.1", "AutoAnswer"));
    ok!(
        api,
        a17::GetServiceExtensions,
        ("ServiceType", "Satisfaction")
    );
    ok!(
        api,
        a17::GetSmsConfig,
        ("Scenario.1", "1"),
        ("Scenario.2", "2")
    );
    ok!(
        api,
        a17::PickGlobalOutboundNumbers,
        ("CalleeNumber", "13810001234"),
        ("SkillGroupId.1", "sales@ccc-emulator")
    );
    ok!(api, a17::GetNumberRegionInfo, ("Number", "13800000001"));
    ok!(
        api,
        a17::PickLocalNumber,
        ("CalleeNumber", "13810001234"),
        ("CandidateNumber.1", "02150000001"),
        ("CandidateNumber.2", "01050000002")
    );
    ok!(api, a17::ListRealTimeAgent,);
    ok!(
        api,
        a17::ListAgentStates,
        ("PageNumber", "1"),
        ("PageSize", "10")
    );
    ok!(
        api,
        a17::CheckNumberAvaliable,
        ("Callee", "13800000001"),
        ("Caller", "02150000001")
    );
    ok!(api, a17::GetTURNServerList,);
    ok!(api, a17::GetTURNCredentials, ("UserName", BOB));
    let device = ok!(
        bob,
        a17::AddAgentDevice,
        ("BrowserVersion", "ccc-rs"),
        ("ClientIp", "127.0.0.1")
    );
    let id = device.agent_device_id.unwrap().to_string();
    ok!(
        api,
        a17::ModifyAgentDevice,
        ("AgentDeviceId", &id),
        ("IsLogin", "0")
    );
    ok!(api, a17::ListAgentDevices,);
    ok!(
        api,
        a17::CreateFault,
        ("AgentId", "200000000000002"),
        ("ConnectId", "c1"),
        ("StartTime", "1"),
        ("EndTime", "2")
    );
    ok!(bob, a17::GetRecordOssUploadParam, ("FileName", "agent.wav"));
    let privacy = ok!(
        api,
        a17::CallOnlinePrivacyNumber,
        ("TelA", "13800000001"),
        ("TelB", "13800000009")
    );
    let call_id = privacy.data.and_then(|d| d.call_id).unwrap();
    ok!(
        api,
        a17::ModifyPrivacyNumberCallDetail,
        ("CallId", &call_id),
        ("ContactId", "job-x")
    );
    ok!(api, a17::Encrypt, ("PlainText.1", "13800000001"));

    // A call, for the call-bound actions.
    api.v2020(
        "SignInGroup",
        &[
            ("UserId", BOB),
            ("DeviceId", "d"),
            ("SignedSkillGroupIdList", SALES),
        ],
    )
    .await;
    api.v2020("ReadyForService", &[("UserId", BOB)]).await;
    let (_, placed) = admin(
        emu.info(),
        "POST",
        "/calls",
        json!({"caller": "13800000009", "callee": "02150000001"}),
    )
    .await;
    let job = placed["job_id"].as_str().unwrap().to_owned();
    api.v2020("AnswerCall", &[("UserId", BOB), ("JobId", &job)])
        .await;
    ok!(api, a17::LaunchAppraise, ("Acid", &job));
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    ok!(
        api,
        a17::LaunchShortMessageAppraise,
        ("Acid", &job),
        ("ContactType", "1"),
        ("PhoneNumbers", "13800000009")
    );
    ok!(
        api,
        a17::SendPredefinedShortMessage,
        ("ConfigId", "2"),
        ("PhoneNumbers", "13800000009"),
        ("TemplateParam", r#"{"time":"9"}"#)
    );
    let recent = ok!(
        api,
        a17::ListRecentCallRecords,
        ("PageNumber", "1"),
        ("PageSize", "10")
    );
    let records = recent.call_detail_records.unwrap();
    assert_eq!(records.total_count, Some(1));
    assert_eq!(records.list.len(), 1);
    ok!(
        api,
        a17::ListCallDetailRecords,
        ("PageNumber", "1"),
        ("PageSize", "10")
    );
    let recordings = ok!(api, a17::ListRecordingsByContactId, ("ContactId", &job));
    let file = recordings.recordings[0].file_name.clone().unwrap();
    ok!(api, a17::DownloadRecording, ("FileName", &file));
    ok!(
        api,
        a17::GenerateAgentStatisticReport,
        ("StartDate", "20000101"),
        ("EndDate", "29991231"),
        ("PageNumber", "1"),
        ("PageSize", "10")
    );
    ok!(
        api,
        a17::ResetUserStatus,
        ("RamIdList.1", "200000000000002")
    );
    emu.shutdown().await;
}
