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
    /// Every hook of the workbench, for the message of a failure.
    hooks: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
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
    let hooks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut events = setup.builder.events();
    let log = std::sync::Arc::clone(&hooks);
    let t0 = std::time::Instant::now();
    tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            let line = match &e {
                ccc_workbench::Event::StatusChange(s) => format!("{}", s.code.code()),
                other => other.hook_name().to_owned(),
            };
            if let Ok(mut log) = log.lock() {
                log.push(format!("{}ms {line}", t0.elapsed().as_millis()));
            }
        }
    });
    let mut phone = Softphone::start(setup).await.expect("the workbench builds");
    let ready = phone.wait_until(WAIT, |a| a.status == Status::Ready).await;
    assert!(ready, "not ready: {}", screen(&phone));
    Rig {
        phone,
        _dir: dir,
        hooks,
    }
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
            panic!(
                "no {what} within {WAIT:?}:\n{}\nmessages: {:?}\nin flight: {:?}\nhooks: {:?}",
                screen(&self.phone),
                self.phone.app.messages,
                self.phone.app.in_flight,
                self.hooks.lock().map(|h| h.clone()).unwrap_or_default(),
            );
        }
    }

    async fn status(&mut self, code: Status) {
        self.until(&format!("status {code}"), |a| a.status == code)
            .await;
    }

    /// Answers the ringing call with `key` and waits for the call. The workbench may
    /// refuse the first answer when the ring flickers (6, 3, 6: seen under load, see
    /// the report): the key is pressed again when it rings again, at most three times.
    async fn answer(&mut self, key: KeyCode) {
        for _ in 0..3 {
            self.key(key);
            self.until("the answer's outcome", |a| {
                a.status == Status::InboundCall || !a.in_flight.contains(&"answer")
            })
            .await;
            let answered = self
                .phone
                .wait_until(Duration::from_secs(2), |a| a.status == Status::InboundCall)
                .await;
            if answered {
                return;
            }
            eprintln!("the answer was refused: {:?}", self.phone.app.messages);
            self.status(Status::Ringing).await;
        }
        panic!("not answered in three tries:\n{}", self.screen());
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
    rig.answer(KeyCode::Char('a')).await;
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
    rig.answer(KeyCode::Enter).await;
    rig.key(KeyCode::Char('h'));
    rig.status(Status::Ready).await;

    rig.settled().await;
    rig.key(KeyCode::F(3));
    // The platform writes the record as the call ends; Ctrl-R reloads until it is there.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        rig.until("the call log", |a| a.lists.call_log.get().is_some())
            .await;
        let logged = rig
            .phone
            .app
            .lists
            .call_log
            .get()
            .is_some_and(|p| !p.records.is_empty());
        if logged || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        rig.phone.key(KeyEvent::new(
            KeyCode::Char('r'),
            ratatui::crossterm::event::KeyModifiers::CONTROL,
        ));
    }
    assert!(
        rig.screen().contains("in  13800000009"),
        "no call logged:\n{}\nhooks: {:?}\nmessages {:?}",
        rig.screen(),
        rig.hooks.lock().map(|h| h.clone()).unwrap_or_default(),
        rig.phone.app.messages
    );

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

    // The default scenario's access points: the emulator's own TURN relay.
    rig.key(KeyCode::F(9));
    rig.until("the access points", |a| {
        a.lists.access_points.get().is_some()
    })
    .await;
    assert_shows(
        &rig.screen(),
        &["In use   default", "▸default*", " cn-shanghai "],
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

/// Bob, a second agent on the rig's emulator (a plain workbench), ready; and Alice
/// (the softphone) in an answered inbound call. The customer calls the support
/// hotline: Alice is in support, Bob is not, so the call is Alice's.
async fn alice_talking_and_bob(rig: &mut Rig) -> ccc_workbench::Workbench {
    use ccc_openapi::Client;
    use ccc_openapi::transport::Direct;
    let emulator = rig.phone.emulator().expect("the embedded emulator");
    let info = emulator.info();
    let direct = Direct::builder(info.credentials())
        .endpoint(info.api_url.clone())
        .build()
        .expect("a direct transport");
    let config = ccc_workbench::Config::builder(info.instance_id.clone(), true)
        .after_call_rule_manual()
        .build()
        .unwrap();
    let bob = ccc_workbench::Workbench::builder(config, Client::new(direct), "bob@ccc-emulator")
        .sip_device(true)
        .call_config(ccc_media::call::CallConfig::loopback())
        .local_dir(rig._dir.path().join("bob"))
        .build()
        .await
        .expect("bob's workbench");
    bob.register(None, "default").await.expect("bob registers");
    emulator
        .with_platform(|p, now| {
            p.place_inbound_call(
                now,
                ccc_emulator::platform::InboundCall::new("13800000009", "057150000003"),
            )
        })
        .expect("the call is placed");
    rig.until("onCallComing", |a| {
        a.status == Status::Ringing && a.call.is_some()
    })
    .await;
    rig.answer(KeyCode::Char('a')).await;
    bob
}

/// Waits until Bob's status is `code`.
async fn bob_is(bob: &ccc_workbench::Workbench, code: Status) {
    let mut watch = bob.status_watch();
    // The guard `wait_for` gives holds the watch's lock: it is dropped at once, or the
    // workbench could not publish its next status.
    let reached = matches!(
        tokio::time::timeout(WAIT, watch.wait_for(|s| s.code == code)).await,
        Ok(Ok(_))
    );
    assert!(reached, "bob is not at {code}: {:?}", bob.status_now());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultation_from_the_transfer_view_then_the_transfer() {
    let mut rig = start(json!({"afterCallRule": "manual", "width": 400})).await;
    let bob = alice_talking_and_bob(&mut rig).await;
    rig.key(KeyCode::F(4));
    rig.until("the agents", |a| a.lists.agents.get().is_some())
        .await;
    // Bob is the first of the others: k consults the selected agent.
    assert_shows(&rig.screen(), &["▸Bob 8002"]);
    rig.key(KeyCode::Char('k'));
    rig.status(Status::ConsultInitiated).await;
    assert_shows(
        &rig.screen(),
        &["● Consult initiated", "Third    8002", "g cancel"],
    );
    bob_is(&bob, Status::Ringing).await;
    bob.answer().await.expect("bob answers");
    rig.status(Status::ConsultCall).await;
    assert_shows(&rig.screen(), &["● Consult call", "f finish", "j join"]);
    rig.key(KeyCode::Char('f'));
    rig.status(Status::AfterCallWork).await;
    rig.settled().await;
    bob_is(&bob, Status::InboundCall).await;
    bob.hang_up().await.expect("bob hangs up");
    bob.shutdown().await.unwrap();
    rig.phone.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blind_transfer_to_a_skill_group_picked_in_the_transfer_view() {
    let mut rig = start(json!({"afterCallRule": "manual", "width": 400})).await;
    let bob = alice_talking_and_bob(&mut rig).await;
    rig.key(KeyCode::F(4));
    rig.until("the agents and the skill groups", |a| {
        a.lists.agents.get().is_some() && a.lists.groups.get().is_some()
    })
    .await;
    // The groups come after the agents: move down to Sales (Bob's group too).
    let agents = rig.phone.app.lists.agents.get().map_or(0, Vec::len);
    let sales = rig
        .phone
        .app
        .lists
        .groups
        .get()
        .and_then(|g| {
            g.iter()
                .position(|g| g.skill_group_id == "sales@ccc-emulator")
        })
        .expect("Alice is in Sales");
    for _ in 0..agents + sales {
        rig.key(KeyCode::Down);
    }
    assert_shows(&rig.screen(), &["▸group Sales (sales@ccc-emulator)"]);
    rig.key(KeyCode::Enter);
    rig.status(Status::AfterCallWork).await;
    rig.settled().await;
    assert_shows(&rig.screen(), &["Transferred to Sales"]);
    bob_is(&bob, Status::Ringing).await;
    bob.shutdown().await.unwrap();
    rig.phone.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conference_from_the_conference_view_and_the_third_party_dropped() {
    let mut rig = start(json!({"afterCallRule": "manual", "width": 400})).await;
    let bob = alice_talking_and_bob(&mut rig).await;
    rig.key(KeyCode::F(5));
    assert_eq!(rig.phone.app.nav, NavItem::Conference);
    // The number field wins over the list.
    rig.keys("8002");
    rig.key(KeyCode::Enter);
    rig.status(Status::ConsultInitiated).await;
    bob_is(&bob, Status::Ringing).await;
    bob.answer().await.expect("bob answers");
    rig.status(Status::ConsultCall).await;
    rig.key(KeyCode::Char('j'));
    rig.status(Status::Conference).await;
    assert_shows(&rig.screen(), &["● Conference", "Third    8002", "x drop"]);
    rig.key(KeyCode::Char('x'));
    rig.status(Status::InboundCall).await;
    rig.settled().await;
    assert!(
        rig.phone.app.toast.as_ref().is_none_or(|t| !t.error),
        "{}",
        rig.screen()
    );
    rig.key(KeyCode::Char('h'));
    rig.status(Status::AfterCallWork).await;
    bob.shutdown().await.unwrap();
    rig.phone.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_actions_act_on_the_platform() {
    let mut rig = start(json!({"width": 400})).await;
    // Only outbound (M29), on and off.
    rig.key(KeyCode::Char('u'));
    rig.until("outbound only", |a| a.call_only).await;
    assert_shows(&rig.screen(), &["[u] Only outbound on", "· outbound only"]);
    rig.key(KeyCode::Char('u'));
    rig.until("taking calls", |a| !a.call_only).await;
    // A break (M6) of the second kind, and back (M5).
    rig.key(KeyCode::Char('b'));
    assert_shows(&rig.screen(), &[" Break ", "2 Meeting"]);
    rig.key(KeyCode::Char('2'));
    rig.status(Status::Break).await;
    rig.key(KeyCode::Char('r'));
    rig.status(Status::Ready).await;
    // Answer on the mobile (M15), and here again (M16).
    rig.key(KeyCode::Char('p'));
    rig.keys("13900008001");
    rig.key(KeyCode::Enter);
    rig.until("answering on the mobile", |a| a.mobile.is_some())
        .await;
    rig.settled().await;
    assert_shows(&rig.screen(), &["on mobile 13900008001", "[p] Answer here"]);
    rig.key(KeyCode::Char('p'));
    rig.until("answering here", |a| a.mobile.is_none()).await;
    // The volume outside a call is kept for the next one.
    rig.key(KeyCode::Char('-'));
    assert_shows(&rig.screen(), &["[-=] Volume 90%"]);
    rig.settled().await;
    assert!(
        rig.phone.app.toast.as_ref().is_none_or(|t| !t.error),
        "{}\n{:?}",
        rig.screen(),
        rig.phone.app.messages
    );
    rig.phone.shutdown().await;
}
