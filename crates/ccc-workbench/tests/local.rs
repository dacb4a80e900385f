//! One registered workbench per agent per machine, and C23: other processes call, hang
//! up and read the status through the registered one (section 10), against the
//! emulator.

#![cfg(unix)]

mod common;

use ccc_core::SignOutReason;
use ccc_workbench::local::{ControlClient, ControlError, LocalDir, LockError};
use ccc_workbench::{CallRequest, Error, Event, Status};
use common::{Rig, build};

const ALICE: &str = "alice@ccc-emulator";

fn socket(rig: &Rig) -> std::path::PathBuf {
    let dir = LocalDir::at(rig.dir.path().join("local")).unwrap();
    dir.socket_path(&rig.emulator.info().instance_id, ALICE)
}

#[tokio::test]
async fn a_second_workbench_of_the_agent_is_refused_clearly() {
    let rig = Rig::start().await;
    let config = rig.config().build().unwrap();
    let (first, _rec) = rig.ready_agent(ALICE, config.clone()).await;
    let (second, rec2) = build(rig.builder(ALICE, config)).await;
    let err = second.register(None, "default").await.unwrap_err();
    assert!(
        matches!(err, Error::Lock(LockError::Held { pid: Some(_), .. })),
        "{err}"
    );
    assert!(err.to_string().contains("already registered"), "{err}");
    rec2.wait_status(Status::Unregistered).await;
    assert_eq!(first.status_code().await.code, Status::Ready);
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_second_workbench_may_take_over_and_the_first_is_kicked_out() {
    let rig = Rig::start().await;
    let config = rig.config().build().unwrap();
    let (first, rec) = rig.ready_agent(ALICE, config.clone()).await;
    let (second, rec2) = build(rig.builder(ALICE, config).take_over(true)).await;
    second.register(None, "default").await.expect("take over");
    rec.wait_for("onLogOut(KA_register)", |e| {
        matches!(
            e,
            Event::LogOut {
                reason: SignOutReason::KaRegister
            }
        )
    })
    .await;
    assert_eq!(first.status_code().await.code, Status::Unregistered);
    assert_eq!(
        second.status_code().await.code,
        Status::Ready,
        "{:?} / first {:?}",
        rec2.hooks_and_codes(),
        rec.hooks_and_codes()
    );
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn other_processes_call_hang_up_and_read_the_status_with_c23() {
    let rig = Rig::start().await;
    let config = rig
        .config()
        .use_local_storage_to_call(true)
        .after_call_rule_manual()
        .build()
        .unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    let mut ctl = ControlClient::connect(&socket(&rig))
        .await
        .expect("the socket serves");
    assert_eq!(ctl.status().await.unwrap(), Status::Ready);
    // Section 10: hang-up only at 8, 9, 10, 11, 12, 21.
    assert!(matches!(
        ctl.hang_up().await,
        Err(ControlError::Refused { .. })
    ));
    let status = ctl
        .call(CallRequest::new("13800000001").caller(""))
        .await
        .expect("workbenchSdkCall");
    assert_eq!(status, Status::Dialing);
    rec.wait_status(Status::OutboundCall).await;
    ctl.hang_up().await.expect("workbenchSdkHangup");
    rec.wait_status(Status::AfterCallWork).await;
    // At 5 another call may be placed (3, 4 or 5).
    ctl.call(CallRequest::new("13800000001")).await.unwrap();
    ctl.hang_up().await.unwrap();
    wb.shutdown().await.unwrap();
    assert!(
        ControlClient::connect(&socket(&rig)).await.is_err(),
        "the socket is gone"
    );
}

#[tokio::test]
async fn without_c23_other_processes_may_only_read_the_status() {
    let rig = Rig::start().await;
    let (wb, _rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    let mut ctl = ControlClient::connect(&socket(&rig)).await.unwrap();
    assert_eq!(ctl.status().await.unwrap(), Status::Ready);
    let err = ctl.call(CallRequest::new("13800000001")).await.unwrap_err();
    assert!(err.to_string().contains("useLocalStorageToCall"), "{err}");
    assert_eq!(wb.status_code().await.code, Status::Ready);
    wb.shutdown().await.unwrap();
}
