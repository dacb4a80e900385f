//! The softphone with the real Workbench against the embedded emulator (in-process,
//! its own loopback ports, SIP and WebRTC media with silent audio): keys pressed as a
//! user would, the frame drawn on ratatui's `TestBackend` and its text asserted.

use std::time::Duration;

use ccc_core::Status;
use ccc_emulator::Scenario;
use ccc_softphone::app::Loadable;
use ccc_softphone::options::NavItem;
use ccc_softphone::{App, Setup, Softphone};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use serde_json::json;

/// The longest any one wait may take before the test fails.
const WAIT: Duration = Duration::from_secs(15);

struct Rig {
    phone: Softphone,
    _dir: tempfile::TempDir,
}

async fn start(options: serde_json::Value) -> Rig {
    start_in(options, Scenario::default()).await
}

async fn start_in(options: serde_json::Value, scenario: Scenario) -> Rig {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut setup = Setup::embedded_in(&options, scenario)
        .await
        .expect("the emulator starts");
    setup.builder = setup
        .builder
        .local_dir(dir.path().join("local"))
        .method_timeout(Duration::from_secs(8))
        .register_timeout(Duration::from_secs(10));
    let mut phone = Softphone::start(setup).await.expect("the workbench builds");
    let ready = phone.wait_until(WAIT, |a| a.status == Status::Ready).await;
    assert!(ready, "not ready: {}", screen(&phone));
    Rig { phone, _dir: dir }
}

impl Rig {
    fn key(&mut self, code: KeyCode) {
        self.phone.key(KeyEvent::from(code));
    }

    fn keys(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        if !self.phone.wait_until(WAIT, done).await {
            panic!("no {what} within {WAIT:?}:\n{}", screen(&self.phone));
        }
    }

    async fn status(&mut self, code: Status) {
        self.until(&format!("status {code}"), |a| a.status == code)
            .await;
    }

    /// Waits until every command has answered.
    async fn settled(&mut self) {
        self.until("the answers", |a| a.in_flight.is_empty()).await;
    }

    fn screen(&self) -> String {
        screen(&self.phone)
    }
}

fn screen(phone: &Softphone) -> String {
    ccc_softphone::view::render_text(&phone.app, std::time::Instant::now(), 100, 40)
}

fn assert_shows(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} not shown:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbound_call_is_shown_answered_held_and_hung_up_by_key() {
    let mut rig = start(json!({"afterCallRule": 1, "width": 400})).await;
    assert_shows(
        &rig.screen(),
        &["CCC softphone · Alice 8001", "● Ready", "[b] Break"],
    );
    rig.key(KeyCode::Char('i'));
    rig.status(Status::Ringing).await;
    // onStatusChange comes first, then onCallComing with the call's data.
    rig.until("onCallComing", |a| a.call.is_some()).await;
    assert_eq!(rig.phone.app.nav, NavItem::Inbound);
    assert_shows(
        &rig.screen(),
        &[
            "● Ringing",
            "Caller   13800000009",
            "Callee   02150000001",
            "a / Enter: answer",
        ],
    );
    rig.key(KeyCode::Char('a'));
    rig.status(Status::InboundCall).await;
    rig.settled().await;
    assert_shows(&rig.screen(), &["● Inbound call", "h hang up", "o hold"]);
    let contact = rig
        .phone
        .app
        .call
        .as_ref()
        .and_then(|c| c.contact_id.clone());
    assert!(contact.is_some(), "the call's contact id is kept");

    rig.key(KeyCode::Char('o'));
    rig.status(Status::Hold).await;
    assert_shows(&rig.screen(), &["● Hold", "On hold", "o retrieve"]);
    rig.key(KeyCode::Char('o'));
    rig.status(Status::InboundCall).await;

    rig.key(KeyCode::Char('h'));
    rig.status(Status::AfterCallWork).await;
    rig.until("onHangUp", |a| {
        a.call
            .as_ref()
            .is_some_and(|c| c.ended.is_some_and(|(_, kind)| kind == "inbound"))
    })
    .await;
    assert_shows(&rig.screen(), &["● After-call work", "Ended (inbound)"]);
    // afterCallRule 1 s: ready by itself.
    rig.status(Status::Ready).await;
    rig.phone.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_dialed_from_the_pad_connects_takes_dtmf_and_hangs_up() {
    let mut rig = start(json!({"afterCallRule": "manual", "width": 400})).await;
    rig.key(KeyCode::F(2));
    assert_eq!(rig.phone.app.nav, NavItem::Outbound);
    // The customer 13800000001 of the scenario answers after half a second.
    rig.keys("13800000001");
    assert_shows(&rig.screen(), &["Number   13800000001"]);
    rig.key(KeyCode::Enter);
    rig.until("dialing or talking", |a| {
        matches!(a.status, Status::Dialing | Status::OutboundCall)
    })
    .await;
    rig.status(Status::OutboundCall).await;
    rig.settled().await;
    assert!(rig.phone.app.entry.is_empty(), "the field is cleared");
    assert_shows(&rig.screen(), &["● Outbound call", "To       13800000001"]);

    rig.keys("5#");
    rig.settled().await;
    assert_eq!(
        rig.phone.app.call.as_ref().map(|c| c.sent_dtmf.as_str()),
        Some("5#")
    );
    assert!(
        rig.phone.app.toast.as_ref().is_none_or(|t| !t.error),
        "DTMF refused: {}",
        rig.screen()
    );
    assert_shows(&rig.screen(), &["DTMF     5#"]);

    rig.key(KeyCode::Char('h'));
    rig.status(Status::AfterCallWork).await;
    assert_shows(&rig.screen(), &["After-call work", "(r: ready)"]);
    // Manual after-call work: r ends it.
    rig.key(KeyCode::Char('r'));
    rig.status(Status::Ready).await;
    rig.phone.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_views_load_the_platforms_data() {
    let mut rig = start(json!({"afterCallRule": 1, "width": 500})).await;
    // A call first, so the call log has one.
    rig.key(KeyCode::Char('i'));
    rig.status(Status::Ringing).await;
    rig.key(KeyCode::Enter);
    rig.status(Status::InboundCall).await;
    rig.key(KeyCode::Char('h'));
    rig.status(Status::Ready).await;

    rig.key(KeyCode::F(3));
    rig.until("the call log", |a| a.lists.call_log.get().is_some())
        .await;
    assert_shows(&rig.screen(), &["Call log", "in  13800000009"]);

    rig.key(KeyCode::F(4));
    rig.until("the agents", |a| a.lists.agents.get().is_some())
        .await;
    assert_shows(&rig.screen(), &["Bob 8002", "Carol 8003"]);
    let agents = rig
        .phone
        .app
        .lists
        .agents
        .get()
        .cloned()
        .unwrap_or_default();
    assert!(
        agents.iter().all(|a| a.dn.as_deref() != Some("8001")),
        "not oneself: {agents:?}"
    );

    rig.key(KeyCode::F(6));
    rig.until("the agent states", |a| a.lists.states.get().is_some())
        .await;
    let text = rig.screen();
    assert_shows(&text, &["bob 8002", "carol 8003"]);
    assert!(!text.contains("alice 8001"), "not oneself:\n{text}");

    rig.key(KeyCode::F(7));
    rig.until("my work", |a| a.lists.my_work.get().is_some())
        .await;
    assert_shows(&rig.screen(), &["My work", "Calls"]);

    // The default scenario has no TURN servers: calls connect directly.
    rig.key(KeyCode::F(9));
    rig.until("the access points", |a| {
        a.lists.access_points.get().is_some()
    })
    .await;
    assert_shows(
        &rig.screen(),
        &["In use   default", "lists no access point"],
    );

    rig.key(KeyCode::F(8));
    rig.key(KeyCode::Enter);
    rig.until("the device check", |a| a.lists.device.get().is_some())
        .await;
    let text = rig.screen();
    assert_shows(&text, &["✓ WebRTC environment"]);
    if cfg!(feature = "device") {
        // Whatever this machine's sound devices are, both sides are reported.
        assert_shows(&text, &["microphone", "speaker"]);
    } else {
        assert_shows(&text, &["Sound devices: none in this build"]);
    }
    assert_shows(&text, &["✓ Sip ", "✓ AgentLink "]);
    rig.phone.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_points_are_timed_against_coturn_and_switched_by_key() {
    use ccc_testpeers::{Coturn, TurnAuth};
    let auth = TurnAuth::Static {
        user: "agent".into(),
        password: "turn-secret".into(),
    };
    let Some(coturn) = Coturn::start(auth, "ccc.test").expect("coturn starts") else {
        return;
    };
    let region: ccc_emulator::scenario::TurnRegion = serde_json::from_value(json!({
        "region": "cn-hangzhou",
        "urls": [coturn.turn_url()],
        "username": "agent",
        "password": "turn-secret",
    }))
    .expect("a TURN region");
    let mut scenario = Scenario::default();
    scenario.turn_regions = vec![region];
    let mut rig = start_in(json!({"width": 400}), scenario).await;
    rig.key(KeyCode::F(9));
    rig.until("the access points", |a| {
        !matches!(a.lists.access_points, Loadable::Loading | Loadable::Idle)
    })
    .await;
    let reports = rig.phone.app.lists.access_points.get().cloned();
    let reports = reports.unwrap_or_else(|| panic!("M33 failed:\n{}", rig.screen()));
    assert_eq!(reports.len(), 1);
    assert!(
        reports[0]
            .best()
            .and_then(ccc_media::access_point::ServerReport::median_to_relay)
            .is_some(),
        "coturn answered: {reports:?}"
    );
    let text = rig.screen();
    assert_shows(&text, &["In use   default", "▸default*", " cn-hangzhou "]);
    assert!(text.contains(" ms"), "the time is shown:\n{text}");
    rig.key(KeyCode::Down);
    rig.key(KeyCode::Enter);
    rig.until("the switch", |a| a.access_point == "cn-hangzhou")
        .await;
    assert_eq!(rig.phone.workbench().access_point(), "cn-hangzhou");
    assert_shows(&rig.screen(), &["In use   cn-hangzhou", "▸cn-hangzhou* "]);
    // And back to the default.
    rig.key(KeyCode::Up);
    rig.key(KeyCode::Enter);
    rig.until("the switch back", |a| a.access_point == "default")
        .await;
    assert_eq!(rig.phone.workbench().access_point(), "default");
    rig.phone.shutdown().await;
}
