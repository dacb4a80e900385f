//! The softphone against "a real deployment" from a configuration file (the format of
//! `ccc agent --config`): here an emulator started apart, reached the browser SDK's
//! way, through the integrator's proxy of `ajaxOrigin` + `ajaxPath`, with the panel's
//! UI options from the same file.

use std::time::{Duration, Instant};

use ccc_core::Status;
use ccc_emulator::platform::InboundCall;
use ccc_emulator::{Emulator, EmulatorConfig};
use ccc_softphone::options::NavItem;
use ccc_softphone::{Setup, Softphone};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_file_signs_in_through_the_proxy_and_honours_its_ui_options() {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("the emulator starts");
    let info = emulator.info();
    let origin = info
        .proxy_url
        .strip_suffix("/data/api.json")
        .expect("the proxy path is the guide's default")
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.json");
    std::fs::write(
        &file,
        serde_json::to_string_pretty(&json!({
            "instanceId": info.instance_id,
            "useOpenApiSdk": false,
            "ajaxOrigin": origin,
            "ajaxPath": "/data/api.json",
            "afterCallRule": "manual",
            "userId": "alice@ccc-emulator",
            "transport": "proxy",
            "moreActionList": ["break", "offline"],
            "sideNavList": ["呼入", "通话记录"],
            "width": 400,
        }))
        .unwrap(),
    )
    .unwrap();
    let mut setup = Setup::from_file(&file).await.expect("the file is good");
    assert!(
        setup.emulator.is_none(),
        "a deployment, not the embedded one"
    );
    setup.builder = setup
        .builder
        .local_dir(dir.path().join("local"))
        .call_config(ccc_media::call::CallConfig::loopback());
    let mut phone = Softphone::start(setup).await.expect("the workbench builds");
    assert!(
        phone.wait_until(WAIT, |a| a.status == Status::Ready).await,
        "not ready: {}",
        text(&phone)
    );
    let screen = text(&phone);
    for shown in [
        "Alice 8001",
        "[b] Break",
        "[l] Offline",
        "Inbound",
        "Call log",
    ] {
        assert!(screen.contains(shown), "{shown:?} not shown:\n{screen}");
    }
    for hidden in ["Only outbound", "Volume", "Outbound", "Transfer", "My work"] {
        assert!(!screen.contains(hidden), "{hidden:?} shown:\n{screen}");
    }
    // No simulated customers against a deployment: the key says so.
    phone.key(KeyEvent::from(KeyCode::Char('i')));
    assert!(
        phone
            .app
            .toast(Instant::now())
            .is_some_and(|t| t.text.contains("embedded emulator"))
    );
    // A customer calls the deployment's hotline; the panel shows it and answers.
    emulator
        .with_platform(|p, now| {
            p.place_inbound_call(now, InboundCall::new("13800000007", "02150000001"))
        })
        .expect("the call is placed");
    assert!(
        phone
            .wait_until(WAIT, |a| a.status == Status::Ringing && a.call.is_some())
            .await,
        "no call: {}",
        text(&phone)
    );
    assert_eq!(phone.app.nav, NavItem::Inbound);
    assert!(text(&phone).contains("Caller   13800000007"));
    phone.key(KeyEvent::from(KeyCode::Enter));
    assert!(
        phone
            .wait_until(WAIT, |a| a.status == Status::InboundCall)
            .await,
        "not answered: {}",
        text(&phone)
    );
    phone.key(KeyEvent::from(KeyCode::Char('h')));
    assert!(
        phone
            .wait_until(WAIT, |a| a.status == Status::AfterCallWork)
            .await
    );
    // The header's offline: sign out, and in again.
    phone.key(KeyEvent::from(KeyCode::Char('l')));
    assert!(
        phone
            .wait_until(WAIT, |a| a.status == Status::SignedOut)
            .await,
        "not signed out: {}",
        text(&phone)
    );
    assert!(text(&phone).contains("[l] Online"));
    phone.key(KeyEvent::from(KeyCode::Char('l')));
    assert!(
        phone.wait_until(WAIT, |a| a.status == Status::Ready).await,
        "not back: {}",
        text(&phone)
    );
    phone.shutdown().await;
    emulator.shutdown().await;
}

fn text(phone: &Softphone) -> String {
    ccc_softphone::view::render_text(&phone.app, Instant::now(), 100, 40)
}
