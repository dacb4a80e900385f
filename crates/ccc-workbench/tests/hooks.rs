//! The hooks' payloads as the guide gives them (H22 onRegister's configuration, H23
//! onCallComing, H26 onCallEstablish and H27 onCallRelease with their `privateData`,
//! H33 onHangUp's four types), M9 `getStatus`, and the platform's settings below the
//! integrator's (A4 `ListConfig`).

mod common;

use ccc_emulator::platform::InboundCall;
use ccc_workbench::event::HangUpKind;
use ccc_workbench::{Event, Status, StatusDescription};
use common::{Rig, build};

const ALICE: &str = "alice@ccc-emulator";

#[tokio::test]
async fn on_register_carries_the_configuration_the_agent_registered_with() {
    let rig = Rig::start().await;
    let (wb, rec) = build(rig.builder(ALICE, rig.config().build().unwrap())).await;
    wb.register(None, "default").await.unwrap();
    let Event::Register(info) = rec
        .wait_for("onRegister", |e| matches!(e, Event::Register(_)))
        .await
    else {
        unreachable!()
    };
    assert_eq!(info.user_id, ALICE);
    assert_eq!(info.extension, "8001");
    assert_eq!(
        Some(&info.web_rtc_url),
        rig.emulator.info().sip_ws_url.as_ref()
    );
    assert_eq!(info.agent_server_url, rig.emulator.info().agent_server_url);
    assert_eq!(info.device_id, wb.device_id());
    assert_eq!(info.access_point, "default");
    let groups: Vec<&str> = info
        .skill_groups
        .iter()
        .map(|g| g.group_name.as_str())
        .collect();
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(
        info.platform_config
            .iter()
            .any(|(k, v)| k == "AutoAnswer" && v == "false"),
        "ListConfig is read: {:?}",
        info.platform_config
    );
    // The guide's camelCase, and no secret in it.
    let json = info.to_json().to_string();
    assert!(json.contains("\"webRtcUrl\""), "{json}");
    assert!(!json.contains("Signature"), "{json}");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_calls_hooks_carry_the_guides_payloads() {
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    assert_eq!(wb.status().await, StatusDescription::Ready);
    let mut call = InboundCall::new("13800000009", "02150000001");
    call.variables = Some("order=42".to_owned());
    let job = rig
        .emulator
        .with_platform(|p, now| p.place_inbound_call(now, call))
        .unwrap()
        .to_string();
    let Event::CallComing(coming) = rec
        .wait_for("onCallComing", |e| matches!(e, Event::CallComing(_)))
        .await
    else {
        unreachable!()
    };
    assert_eq!(coming.caller.as_deref(), Some("13800000009"));
    assert_eq!(coming.callee.as_deref(), Some("02150000001"));
    assert_eq!(coming.contact_id.as_deref(), Some(job.as_str()));
    assert_eq!(coming.skillgroup_id.as_deref(), Some("sales@ccc-emulator"));
    let connid = coming.connid.clone().expect("a connid");
    assert_eq!(wb.status().await, StatusDescription::CallComing);
    wb.answer().await.unwrap();
    let Event::CallEstablish(established) = rec
        .wait_for("onCallEstablish", |e| matches!(e, Event::CallEstablish(_)))
        .await
    else {
        unreachable!()
    };
    assert_eq!(established.connid.as_deref(), Some(&*connid));
    assert_eq!(established.caller.as_deref(), Some("13800000009"));
    let private = &established.private_data;
    assert_eq!(private.acid.as_deref(), Some(job.as_str()));
    assert_eq!(private.adacc.as_deref(), Some(ALICE));
    assert_eq!(private.dnis.as_deref(), Some("02150000001"));
    assert_eq!(private.data.as_deref(), Some("order=42"), "the IVR's data");
    assert!(private.skillgroupname.is_some());
    assert_eq!(wb.status().await, StatusDescription::InCall);
    rig.customer_hangs_up(&job);
    let Event::CallRelease(released) = rec
        .wait_for("onCallRelease", |e| matches!(e, Event::CallRelease(_)))
        .await
    else {
        unreachable!()
    };
    assert_eq!(released.connid.as_deref(), Some(&*connid));
    assert_eq!(released.private_data, established.private_data);
    let hang_up = rec
        .wait_for("onHangUp", |e| matches!(e, Event::HangUp { .. }))
        .await;
    assert!(matches!(
        hang_up,
        Event::HangUp {
            kind: HangUpKind::Inbound
        }
    ));
    assert_eq!(
        wb.status().await,
        StatusDescription::Other,
        "after-call work"
    );
    wb.shutdown().await.unwrap();
}

async fn hang_up_kind(rec: &common::Recorder) -> HangUpKind {
    match rec
        .wait_for("onHangUp", |e| matches!(e, Event::HangUp { .. }))
        .await
    {
        Event::HangUp { kind } => kind,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn on_hang_up_names_the_four_kinds() {
    let rig = Rig::with(|s| s.platform.ring_timeout_ms = 400).await;
    let config = rig.config().after_call_rule_seconds(0).build().unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    // Outbound, hung up while dialing.
    wb.call("13800000001").await.unwrap();
    wb.hang_up().await.unwrap();
    assert_eq!(hang_up_kind(&rec).await, HangUpKind::Dialing);
    rec.wait_status(Status::Ready).await;
    // Outbound, connected (the default customer answers after a second).
    wb.call("13800000001").await.unwrap();
    rec.wait_status(Status::OutboundCall).await;
    wb.hang_up().await.unwrap();
    assert_eq!(hang_up_kind(&rec).await, HangUpKind::Outbound);
    rec.wait_status(Status::Ready).await;
    // Inbound, answered.
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    wb.hang_up().await.unwrap();
    assert_eq!(hang_up_kind(&rec).await, HangUpKind::Inbound);
    rec.wait_status(Status::Ready).await;
    // Inbound, never answered: the ring timeout (shortened) ends it.
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    assert_eq!(hang_up_kind(&rec).await, HangUpKind::Ringing);
    assert_eq!(rec.statuses().last(), Some(&4), "then the break");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_platforms_auto_answer_applies_when_the_integrator_set_none() {
    // A4: ListConfig's AutoAnswer ranks below the integrator's autoAnswerCall.
    let rig = Rig::with(|s| {
        for item in &mut s.config_items {
            if item.name == "AutoAnswer" {
                item.value = "true".into();
            }
        }
    })
    .await;
    let (wb, rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    rec.wait_status(Status::InboundCall).await;
    assert_eq!(rec.statuses(), vec![6, 9], "answered without answer()");
    wb.shutdown().await.unwrap();
    // The integrator's rule wins: with autoAnswerCall set long, the call rings on.
    let config = rig.config().auto_answer_call_seconds(30).build().unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(wb.status_code().await.code, Status::Ringing);
    wb.shutdown().await.unwrap();
}
