//! The links and the faults of the emulator's fault API, with what the integrator sees:
//! agent-link drops and silence, polling, link loss to sign-out (`ASM_Private`),
//! kick-out (`KA_register`), injected errors, slow handshakes (`WSConnectSlowly`),
//! failed registration, token refresh, shutdown and drop.

mod common;

use std::time::Duration;

use ccc_core::{ErrorCode, SignOutReason};
use ccc_workbench::{Error, Event, LinkOptions, Status};
use common::{Rig, build};
use serde_json::json;

const ALICE: &str = "alice@ccc-emulator";

fn fast_links() -> LinkOptions {
    let mut links = LinkOptions::default();
    links.poll_every = Duration::from_millis(150);
    links.dead_after = Duration::from_millis(600);
    links.heartbeat_every = Duration::from_millis(200);
    links.min_backoff = Duration::from_millis(100);
    links.max_backoff = Duration::from_millis(400);
    links.slow_connect = Duration::from_millis(300);
    links
}

#[tokio::test]
async fn a_dropped_agent_link_comes_back_and_calls_still_ring() {
    let rig = Rig::start().await;
    let config = rig.config().build().unwrap();
    let (wb, rec) = build(rig.builder(ALICE, config).links(fast_links())).await;
    wb.register(None, "default").await.unwrap();
    rig.admin(
        &format!("/agents/{ALICE}/agent-link"),
        json!({"action": "drop"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    assert!(!rec.hooks().contains(&"onLogOut"));
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_silent_push_link_falls_back_to_polling() {
    let rig = Rig::start().await;
    let config = rig.config().build().unwrap();
    let (wb, rec) = build(rig.builder(ALICE, config).links(fast_links())).await;
    wb.register(None, "default").await.unwrap();
    rig.admin(
        &format!("/agents/{ALICE}/agent-link"),
        json!({"action": "black-hole"}),
    )
    .await;
    // Nothing is pushed now: the call is seen by polling.
    tokio::time::sleep(Duration::from_millis(200)).await;
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    assert_eq!(wb.status_code().await.code, Status::InboundCall);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn losing_the_agent_link_for_good_signs_out_with_asm_private() {
    let rig = Rig::start().await;
    let config = rig
        .config()
        .link_timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let mut links = fast_links();
    links.connect_timeout = Duration::from_millis(300);
    let (wb, rec) = build(rig.builder(ALICE, config).links(links)).await;
    wb.register(None, "default").await.unwrap();
    // The open connection goes silent, new ones do not get through in time, and
    // polling fails: the agent link is gone.
    rig.admin(
        &format!("/agents/{ALICE}/agent-link"),
        json!({"action": "black-hole"}),
    )
    .await;
    rig.admin("/faults/ws-connect-slowly", json!({"ms": 3000}))
        .await;
    rig.admin(
        "/faults/next-error",
        json!({"action": "PollUserStatus", "count": 1000, "code": "Forbidden", "http_status": 403}),
    )
    .await;
    rec.wait_signed_out(SignOutReason::AsmPrivate).await;
    assert_eq!(wb.status_code().await.code, Status::Unregistered);
    // The guide: register again.
    rig.admin(
        &format!("/agents/{ALICE}/agent-link"),
        json!({"action": "restore"}),
    )
    .await;
    rig.admin("/faults/ws-connect-slowly", json!({"ms": 0}))
        .await;
    rig.admin(
        "/faults/next-error",
        json!({"action": "PollUserStatus", "count": 0, "code": "x"}),
    )
    .await;
    wb.register(None, "default").await.expect("register again");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_kick_out_signs_out_with_ka_register() {
    let rig = Rig::start().await;
    let (wb, rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    rig.admin(&format!("/agents/{ALICE}/kick"), json!({})).await;
    rec.wait_signed_out(SignOutReason::KaRegister).await;
    assert_eq!(wb.status_code().await.code, Status::Unregistered);
    assert!(matches!(wb.ready().await, Err(Error::NotAllowed(_))));
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn signing_in_on_another_device_kicks_the_first_out() {
    let rig = Rig::start().await;
    let config = rig.config().build().unwrap();
    let (first, rec) = build(rig.builder(ALICE, config.clone()).without_local_lock()).await;
    first.register(None, "default").await.unwrap();
    let (second, _rec2) = build(
        rig.builder(ALICE, config)
            .without_local_lock()
            .device_id("another-device"),
    )
    .await;
    second.register(None, "default").await.unwrap();
    rec.wait_for("onLogOut(KA_register)", |e| {
        matches!(
            e,
            Event::LogOut {
                reason: SignOutReason::KaRegister
            }
        )
    })
    .await;
    // ListAgentDevices tells where the other sign-in came from.
    rec.wait_for(
        "the other device",
        |e| matches!(e, Event::ErrorNotify(n) if n.code == ErrorCode::LoggedInElsewhere),
    )
    .await;
    assert_eq!(first.status_code().await.code, Status::Unregistered);
    assert_eq!(second.status_code().await.code, Status::Ready);
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_injected_error_reaches_the_method_and_on_error_notify() {
    let rig = Rig::start().await;
    let (wb, rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    wb.apply_for_break(1, "").await.unwrap();
    rig.admin(
        "/faults/next-error",
        json!({"action": "ReadyForService", "code": "6008", "message": "state wrong", "http_status": 400}),
    )
    .await;
    let err = wb.ready().await.unwrap_err();
    let notify = err.notify().expect("an operation error");
    assert_eq!(notify.code, ErrorCode::WrongState);
    assert_eq!(&*notify.msg_tip, "当前状态不对");
    rec.wait_for("onErrorNotify(6008)", |e| {
        matches!(e, Event::ErrorNotify(n) if n.code == ErrorCode::WrongState && n.request_id.is_some())
    })
    .await;
    assert_eq!(
        wb.status_code().await.code,
        Status::Break,
        "nothing changed"
    );
    wb.ready().await.expect("the next one works");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_slow_handshake_is_reported_as_ws_connect_slowly() {
    let rig = Rig::start().await;
    rig.admin("/faults/ws-connect-slowly", json!({"ms": 500}))
        .await;
    let config = rig.config().build().unwrap();
    let (wb, rec) = build(rig.builder(ALICE, config).links(fast_links())).await;
    wb.register(None, "default")
        .await
        .expect("slow, but it registers");
    rec.wait_for("onErrorNotify(WSConnectSlowly)", |e| {
        matches!(e, Event::ErrorNotify(n) if n.code == ErrorCode::SignOut(SignOutReason::WsConnectSlowly))
    })
    .await;
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_failed_register_goes_back_to_unregistered_and_can_be_retried() {
    let rig = Rig::start().await;
    rig.admin(
        "/faults/next-error",
        json!({"action": "RequestLoginInfo", "code": "Forbidden.NoPermission", "http_status": 403}),
    )
    .await;
    let (wb, rec) = build(rig.builder(ALICE, rig.config().build().unwrap())).await;
    let err = wb.register(None, "default").await.unwrap_err();
    assert_eq!(
        err.notify().map(|n| n.code.as_str().to_owned()).as_deref(),
        Some("Forbidden.NoPermission")
    );
    rec.wait_for("onErrorNotify", |e| matches!(e, Event::ErrorNotify(_)))
        .await;
    assert_eq!(wb.status_code().await.code, Status::Unregistered);
    assert_eq!(rec.statuses(), vec![0, -1]);
    wb.register(None, "default").await.expect("the retry works");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires() {
    let rig = Rig::start().await;
    rig.admin(
        "/faults/next-error",
        json!({"action": "RefreshToken", "code": "Forbidden.Token", "http_status": 403}),
    )
    .await;
    let config = rig.config().build().unwrap();
    let (wb, rec) = build(
        rig.builder(ALICE, config)
            .token_refresh(Duration::from_millis(300)),
    )
    .await;
    wb.register(None, "default").await.unwrap();
    // The first refresh meets the injected error (reported), the next ones work.
    rec.wait_for(
        "onErrorNotify(RefreshToken)",
        |e| matches!(e, Event::ErrorNotify(n) if &*n.api == "RefreshToken"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let refresh_errors = rec
        .events()
        .iter()
        .filter(|e| matches!(e, Event::ErrorNotify(n) if &*n.api == "RefreshToken"))
        .count();
    assert_eq!(refresh_errors, 1);
    assert_eq!(wb.status_code().await.code, Status::Ready);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_signs_out_and_releases_everything() {
    let rig = Rig::start().await;
    let (wb, rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    let other = wb.clone();
    wb.shutdown().await.unwrap();
    let out = rec
        .wait_for("onLogOut", |e| matches!(e, Event::LogOut { .. }))
        .await;
    assert!(matches!(
        out,
        Event::LogOut {
            reason: SignOutReason::AbNormal
        }
    ));
    // The program's own sign-out is no error (the platform's AB_normal is one).
    assert!(
        !rec.events()
            .iter()
            .any(|e| matches!(e, Event::ErrorNotify(n) if matches!(n.code, ErrorCode::SignOut(_)))),
        "{:?}",
        rec.hooks_and_codes()
    );
    assert_eq!(rig.platform_state(ALICE).as_deref(), Some("OFFLINE"));
    assert!(matches!(other.ready().await, Err(Error::Closed)));
    // A23: the device record made at sign-in (A22) is marked logged out.
    let added = rig.tap.sent_of("AddAgentDevice");
    assert_eq!(added.len(), 1, "one device record");
    let modified = rig.tap.sent_of("ModifyAgentDevice");
    assert_eq!(modified.len(), 1);
    assert_eq!(modified[0].get("IsLogin"), Some("0"));
    assert!(modified[0].get("AgentDeviceId").is_some());
    let devices = rig
        .client()
        .send(ccc_openapi::v2017::ListAgentDevices::new(
            rig.emulator.info().instance_id.clone(),
        ))
        .await
        .unwrap();
    assert!(
        devices
            .agent_device_list
            .iter()
            .all(|d| d.is_login != Some(1)),
        "{:?}",
        devices.agent_device_list
    );
}

#[tokio::test]
async fn the_device_record_goes_with_the_sign_in_and_a_late_one_is_closed_too() {
    let rig = Rig::start().await;
    // The record's answer comes back only after the workbench has shut down.
    rig.tap.delay("AddAgentDevice", Duration::from_millis(300));
    let (wb, _rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    // A22 beside the sign-in, not beside the SIP registration before it.
    let actions = rig.tap.actions_after(0);
    let at = |action: &str| actions.iter().position(|a| a == action);
    let (Some(sign_in), Some(record)) = (at("SignInGroup"), at("AddAgentDevice")) else {
        panic!("no sign-in or no device record: {actions:?}");
    };
    assert!(sign_in < record, "{actions:?}");
    wb.shutdown().await.unwrap();
    // A23 for the record that came back after its session ended.
    let added = rig.tap.sent_of("AddAgentDevice");
    assert_eq!(added.len(), 1, "one device record");
    let modified = rig.tap.sent_of("ModifyAgentDevice");
    assert_eq!(modified.len(), 1, "{:?}", rig.tap.actions_after(0));
    assert_eq!(modified[0].get("IsLogin"), Some("0"));
    let devices = rig
        .client()
        .send(ccc_openapi::v2017::ListAgentDevices::new(
            rig.emulator.info().instance_id.clone(),
        ))
        .await
        .unwrap();
    assert!(!devices.agent_device_list.is_empty());
    assert!(
        devices
            .agent_device_list
            .iter()
            .all(|d| d.is_login != Some(1)),
        "{:?}",
        devices.agent_device_list
    );
}

#[tokio::test]
async fn dropping_the_workbench_signs_out_too() {
    let rig = Rig::start().await;
    let (wb, _rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    drop(wb);
    let deadline = tokio::time::Instant::now() + common::WAIT;
    while rig.platform_state(ALICE).as_deref() != Some("OFFLINE") {
        assert!(tokio::time::Instant::now() < deadline, "still signed in");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_delayed_agent_link_shows_each_change_once_and_in_order() {
    let rig = Rig::start().await;
    let config = rig.config().build().unwrap();
    let (wb, rec) = build(rig.builder(ALICE, config).links(fast_links())).await;
    wb.register(None, "default").await.unwrap();
    rec.clear();
    // Every pushed snapshot now arrives 300 ms late, behind the answers that carry
    // the same changes: a late push must not undo a later answer.
    rig.admin(
        &format!("/agents/{ALICE}/agent-link"),
        json!({"action": "delay", "ms": 300}),
    )
    .await;
    wb.apply_for_break(1, "").await.unwrap();
    wb.ready().await.unwrap();
    wb.apply_for_break(2, "").await.unwrap();
    wb.ready().await.unwrap();
    // The four late pushes arrive one after another (300 ms each).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rec.statuses(), vec![4, 3, 4, 3]);
    // A call offered now is seen late, and answered.
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    assert_eq!(wb.status_code().await.code, Status::InboundCall);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_call_survives_a_short_agent_link_outage() {
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let (wb, rec) = build(rig.builder(ALICE, config).links(fast_links())).await;
    wb.register(None, "default").await.unwrap();
    let job = rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    rec.wait_for("mediaConnected", |e| {
        matches!(e, Event::MediaConnected { .. })
    })
    .await;
    rec.clear();
    // The agent link goes silent and polling fails: for about a second nothing of
    // the agent's state reaches the workbench (less than the link timeout).
    rig.admin(
        &format!("/agents/{ALICE}/agent-link"),
        json!({"action": "black-hole"}),
    )
    .await;
    rig.admin(
        "/faults/next-error",
        json!({"action": "PollUserStatus", "count": 1000, "code": "ServiceUnavailable", "http_status": 503}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    rig.admin(
        &format!("/agents/{ALICE}/agent-link"),
        json!({"action": "restore"}),
    )
    .await;
    rig.admin(
        "/faults/next-error",
        json!({"action": "PollUserStatus", "count": 0, "code": "x"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Nothing happened to the call: same status, no release, media not restarted.
    assert!(rec.statuses().is_empty(), "{:?}", rec.hooks_and_codes());
    assert!(
        !rec.events()
            .iter()
            .any(|e| matches!(e, Event::CallRelease(_) | Event::LogOut { .. })),
        "{:?}",
        rec.hooks_and_codes()
    );
    assert_eq!(wb.status_code().await.code, Status::InboundCall);
    assert!(
        rig.calls().iter().any(|c| *c.job_id == *job),
        "the call is up at the platform"
    );
    // And it is still the agent's to hold and hang up.
    wb.call_hold().await.expect("hold after the outage");
    wb.call_retrieve().await.unwrap();
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    assert_eq!(rec.statuses(), vec![12, 9, 5]);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_sign_out_reason_of_the_platform_reaches_on_log_out_and_on_error_notify() {
    let rig = Rig::start().await;
    let (wb, rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    for reason in SignOutReason::ALL {
        rig.admin(
            &format!("/agents/{ALICE}/kick"),
            json!({"reason": reason.code()}),
        )
        .await;
        rec.wait_for(
            &format!("onLogOut({})", reason.code()),
            |e| matches!(e, Event::LogOut { reason: r } if *r == reason),
        )
        .await;
        // Every sign-out event of the platform, AB_normal too (the guide's onErrorNotify
        // table lists them all), is an onErrorNotify as well.
        let told = |rec: &common::Recorder| {
            rec.events()
                .iter()
                .any(|e| matches!(e, Event::ErrorNotify(n) if n.code == ErrorCode::SignOut(reason)))
        };
        common::wait_until(&format!("onErrorNotify({})", reason.code()), || told(&rec)).await;
        assert_eq!(wb.status_code().await.code, Status::Unregistered);
        wb.register(None, "default").await.expect("register again");
        rec.clear();
    }
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn what_changed_during_an_outage_is_read_after_it() {
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let (wb, rec) = build(rig.builder(ALICE, config).links(fast_links())).await;
    wb.register(None, "default").await.unwrap();
    let job = rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    rig.admin(
        &format!("/agents/{ALICE}/agent-link"),
        json!({"action": "black-hole"}),
    )
    .await;
    rig.admin(
        "/faults/next-error",
        json!({"action": "PollUserStatus", "count": 1000, "code": "ServiceUnavailable", "http_status": 503}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The customer hangs up while nothing of it can reach the workbench... except
    // its own phone's BYE: SIP is up. The status shows it once the state is read.
    rig.customer_hangs_up(&job);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        wb.status_code().await.code,
        Status::InboundCall,
        "not guessed from the phone's BYE"
    );
    rig.admin(
        &format!("/agents/{ALICE}/agent-link"),
        json!({"action": "restore"}),
    )
    .await;
    rig.admin(
        "/faults/next-error",
        json!({"action": "PollUserStatus", "count": 0, "code": "x"}),
    )
    .await;
    rec.wait_status(Status::AfterCallWork).await;
    assert_eq!(rig.platform_state(ALICE).as_deref(), Some("WORKING"));
    wb.ready().await.unwrap();
    wb.shutdown().await.unwrap();
}
