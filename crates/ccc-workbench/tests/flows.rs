//! The guide's status sequences against the emulator: register, sign out and in, break,
//! ready, an inbound call answered, held, retrieved and hung up, after-call work.

mod common;

use ccc_workbench::{Error, Event, Status};
use common::{Rig, build};

const ALICE: &str = "alice@ccc-emulator";

#[tokio::test]
async fn register_signs_in_and_goes_ready() {
    let rig = Rig::start().await;
    let (wb, rec) = build(rig.builder(ALICE, rig.config().build().unwrap())).await;
    rec.wait_for("onInit", |e| matches!(e, Event::Init)).await;
    assert_eq!(rec.hooks().first().copied(), Some("onInit"));
    wb.register(None, "default").await.expect("register");
    assert_eq!(wb.status_code().await.code, Status::Ready);
    rec.wait_status(Status::Ready).await;
    assert_eq!(rec.statuses(), vec![0, 2, 3]);
    let hooks = rec.hooks();
    for hook in ["onRegister", "onLogIn", "onReady"] {
        assert!(hooks.contains(&hook), "{hook} in {hooks:?}");
    }
    assert_eq!(rig.platform_state(ALICE).as_deref(), Some("READY"));
    // Table K: register again is a development error naming the status.
    let err = wb.register(None, "default").await.unwrap_err();
    assert!(matches!(err, Error::NotAllowed(_)), "{err}");
    assert!(err.to_string().contains("status 3"), "{err}");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn break_ready_log_out_log_in() {
    let rig = Rig::start().await;
    let (wb, rec) = build(rig.builder(ALICE, rig.config().build().unwrap())).await;
    wb.register(None, "default").await.unwrap();
    wb.apply_for_break(2, "lunch").await.unwrap();
    assert_eq!(wb.status_code().await.code, Status::Break);
    let code = rec
        .wait_for("onBreak", |e| matches!(e, Event::Break { .. }))
        .await;
    assert!(matches!(code, Event::Break { code: Some(c) } if &*c == "lunch"));
    assert!(wb.apply_for_break(9, "x").await.is_err());
    wb.ready().await.unwrap();
    wb.log_out().await.unwrap();
    assert_eq!(wb.status_code().await.code, Status::SignedOut);
    rec.wait_for("onLogOut", |e| matches!(e, Event::LogOut { .. }))
        .await;
    // K1: only logIn.
    assert!(matches!(wb.ready().await, Err(Error::NotAllowed(_))));
    wb.log_in(None).await.unwrap();
    assert_eq!(wb.status_code().await.code, Status::Ready);
    assert_eq!(rec.statuses(), vec![0, 2, 3, 4, 3, 1, 2, 3]);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn inbound_call_answer_hold_retrieve_hang_up_after_call_work() {
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_seconds(1).build().unwrap();
    let (wb, rec) = build(rig.builder(ALICE, config)).await;
    wb.register(None, "default").await.unwrap();
    rec.clear();
    rig.call_in("13800000009", "02150000001");
    let coming = rec
        .wait_for("onCallComing", |e| matches!(e, Event::CallComing(_)))
        .await;
    let Event::CallComing(coming) = coming else {
        unreachable!()
    };
    assert_eq!(coming.caller.as_deref(), Some("13800000009"));
    assert!(coming.contact_id.is_some());
    // K6: only answer.
    assert!(matches!(wb.hang_up().await, Err(Error::NotAllowed(_))));
    wb.answer().await.unwrap();
    assert_eq!(wb.status_code().await.code, Status::InboundCall);
    wb.call_hold().await.unwrap();
    assert_eq!(wb.status_code().await.code, Status::Hold);
    wb.call_retrieve().await.unwrap();
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    let hang_up = rec
        .wait_for("onHangUp", |e| matches!(e, Event::HangUp { .. }))
        .await;
    assert!(matches!(hang_up, Event::HangUp { kind } if kind.as_str() == "inbound"));
    // afterCallRule 1 s: ready by itself.
    rec.wait_status(Status::Ready).await;
    assert_eq!(rec.statuses(), vec![6, 9, 12, 9, 5, 3]);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn no_limit_timeouts_are_taken_as_no_limit() {
    // Duration::MAX for "never give up" must not overflow a deadline anywhere.
    let rig = Rig::start().await;
    let mut links = common::fast_links();
    links.dead_after = std::time::Duration::MAX;
    links.max_backoff = std::time::Duration::MAX;
    links.connect_timeout = std::time::Duration::MAX;
    links.slow_connect = std::time::Duration::MAX;
    links.sip_call_grace = std::time::Duration::MAX;
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let builder = rig
        .builder(ALICE, config)
        .method_timeout(std::time::Duration::MAX)
        .register_timeout(std::time::Duration::MAX)
        .token_refresh(std::time::Duration::MAX)
        .links(links);
    let (wb, rec) = build(builder).await;
    wb.register(None, "default").await.expect("register");
    rec.wait_status(Status::Ready).await;
    let job = rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.expect("answer");
    rec.wait_status(Status::InboundCall).await;
    rig.customer_hangs_up(&job);
    rec.wait_status(Status::AfterCallWork).await;
    wb.ready().await.expect("ready");
    wb.shutdown().await.unwrap();
}
