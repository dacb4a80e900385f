//! The panel's data and the status-independent methods against the emulator: the call
//! log (A3), recordings (M18), SMS (M21, M22), agents and states (A12, A13), "my work"
//! (A15), the device record (A22-A24), the environment and network checks (M19, M20),
//! and the access points (M33, M34) against a real coturn.

mod common;

use std::time::Duration;

use ccc_workbench::{Error, Status};
use common::{Rig, WAIT};

const ALICE: &str = "alice@ccc-emulator";

/// Alice registered, one inbound call answered and hung up; its contact id.
async fn one_call(rig: &Rig) -> (ccc_workbench::Workbench, common::Recorder, String) {
    let config = rig.config().after_call_rule_seconds(0).build().unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    let job = rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    (wb, rec, job)
}

#[tokio::test]
async fn the_call_log_totals_on_page_one_only() {
    let rig = Rig::start().await;
    let (wb, _rec, job) = one_call(&rig).await;
    let page = wb.recent_call_records(1, 10).await.expect("call log");
    assert!(
        page.records
            .iter()
            .any(|r| r.contact_id.as_deref() == Some(job.as_str())),
        "the call is in the log"
    );
    assert!(page.total_count.is_some_and(|n| n >= 1));
    let page2 = wb.recent_call_records(2, 10).await.unwrap();
    assert_eq!(
        page2.total_count, None,
        "the guide: totalCount on page 1 only"
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn recordings_of_a_call_with_their_addresses() {
    let rig = Rig::start().await;
    let (wb, _rec, job) = one_call(&rig).await;
    let recordings = wb
        .download_record(&job, true)
        .await
        .expect("downloadRecord");
    assert_eq!(recordings.len(), 1, "{recordings:?}");
    let r = &recordings[0];
    assert!(r.url.contains(&r.file_name), "{}", r.url);
    assert!(r.data.is_none(), "onlyPlay does not fetch");
    assert!(
        wb.download_record("job-none", true)
            .await
            .unwrap()
            .is_empty()
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn sms_survey_and_missed_call_reach_the_customer() {
    let rig = Rig::start().await;
    let (wb, _rec, job) = one_call(&rig).await;
    wb.launch_short_message_appraise()
        .await
        .expect("SMS survey");
    wb.launch_short_message_missed_call()
        .await
        .expect("missed-call SMS");
    let sms = rig.emulator.with_platform(|p, _| {
        p.records()
            .sms
            .iter()
            .map(|m| {
                (
                    m.phone_numbers
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>(),
                    m.contact_id.clone(),
                )
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(sms.len(), 2, "{sms:?}");
    assert!(
        sms.iter()
            .all(|(numbers, _)| numbers == &vec!["13800000009".to_owned()])
    );
    assert!(
        sms.iter()
            .any(|(_, contact)| contact.as_deref() == Some(job.as_str()))
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_sms_before_any_call_is_refused_clearly() {
    let rig = Rig::start().await;
    let (wb, _rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    let err = wb.launch_short_message_appraise().await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err}");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn agents_states_my_work_and_devices() {
    let rig = Rig::start().await;
    let (wb, _rec, _job) = one_call(&rig).await;
    let agents = wb.real_time_agents().await.expect("ListRealTimeAgent");
    assert!(agents.iter().any(|a| a.dn.as_deref() == Some("8001")));
    let states = wb.agent_states(1, 50).await.expect("ListAgentStates");
    assert!(states.list.iter().any(|a| a.dn.as_deref() == Some("8001")));
    let groups = wb.skill_groups().await.unwrap();
    assert_eq!(groups.len(), 2);
    let numbers = wb.outbound_numbers().await.unwrap();
    assert!(!numbers.is_empty());
    let report = wb
        .my_work_report()
        .await
        .expect("GenerateAgentStatisticReport");
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("alice") || json.contains("Alice"), "{json}");
    // A22: the device record was saved at sign-in, with this end's address.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let devices = wb.agent_devices().await.expect("ListAgentDevices");
        if devices
            .iter()
            .any(|d| d.client_ip.as_deref() == Some("127.0.0.1"))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no device record: {devices:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn environment_and_network_checks() {
    let rig = Rig::start().await;
    let (wb, _rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    let env = wb.check_environment().await;
    assert!(env.is_compatible(), "{:?}", env.problems);
    let report = wb.check_network().await.expect("checkNetwork");
    assert!(
        report.service_reachable(ccc_media::check::Service::AgentLink),
        "{report:?}"
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn access_points_are_timed_and_switched_against_coturn() {
    use ccc_testpeers::{Coturn, TurnAuth};
    let auth = TurnAuth::Static {
        user: "agent".into(),
        password: "turn-secret".into(),
    };
    let Some(coturn) = Coturn::start(auth, "ccc.test").expect("coturn starts") else {
        return;
    };
    let url = coturn.turn_url();
    let region: ccc_emulator::scenario::TurnRegion = serde_json::from_value(serde_json::json!({
        "region": "cn-hangzhou",
        "urls": [url],
        "username": "agent",
        "password": "turn-secret",
    }))
    .unwrap();
    let rig = Rig::with(|s| s.turn_regions = vec![region]).await;
    let (wb, _rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    let reports = wb
        .test_turn_servers(None, Some(3))
        .await
        .expect("testTurnServers");
    assert_eq!(reports.len(), 1);
    let best = reports[0].best().expect("the relay answered");
    assert_eq!(best.successes, 3, "{best:?}");
    assert!(best.median_to_relay().is_some());
    assert!(matches!(
        wb.test_turn_servers(Some("cn-nowhere"), None).await,
        Err(Error::Unavailable { .. })
    ));
    wb.switch_access_point("cn-hangzhou").await.unwrap();
    assert_eq!(wb.access_point(), "cn-hangzhou");
    assert!(wb.switch_access_point("cn-nowhere").await.is_err());
    wb.shutdown().await.unwrap();
}
