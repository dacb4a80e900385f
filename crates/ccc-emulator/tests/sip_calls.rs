//! The guide's flows with SIP devices and real audio: outbound, hold with music,
//! consultative transfer between two agents' phones, the ring timeout cancelling the
//! INVITE, a kick-out closing the SIP flow, a dropped SIP link coming back, a delayed
//! and a black-holed SIP link as the phone sees them.

mod support;

use std::time::Duration;

use ccc_emulator::{Emulator, EmulatorConfig, Scenario};
use ccc_sip::ua::EndReason;
use serde_json::json;
use support::phone::{Phone, tone_in_wav};
use support::*;

const ALICE: &str = "alice@ccc-emulator";
const BOB: &str = "bob@ccc-emulator";
const SALES: &str = r#"["sales@ccc-emulator"]"#;
/// The tones the parties say: music, the customer, Alice, Bob.
const TONES: [f64; 4] = [425.0, 440.0, 700.0, 1_000.0];

async fn sign_in(api: &mut Api, user: &str, device: &str) {
    api.v2020(
        "SignInGroup",
        &[
            ("UserId", user),
            ("DeviceId", device),
            ("SignedSkillGroupIdList", SALES),
        ],
    )
    .await;
    api.v2020("ReadyForService", &[("UserId", user)]).await;
}

async fn heard_file(info: &ccc_emulator::EmulatorInfo) -> String {
    let (_, calls) = admin(info, "GET", "/calls", serde_json::Value::Null).await;
    calls[0]["legs"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|l| l["heard_file"].as_str().map(str::to_owned))
        .expect("the customer records")
}

#[tokio::test]
async fn an_outbound_call_rings_the_agents_phone_then_the_customer() {
    let emu = start().await;
    let info = emu.info().clone();
    let mut phone = Phone::register(&info, "8001", "pass-8001").await;
    let mut api = Api::new(&info);
    let mut ws = agent_link(&mut api, &info, ALICE, &phone.device).await;
    let mut m = Machine::new();
    sign_in(&mut api, ALICE, &phone.device).await;
    m.until(&mut ws, 3).await;
    let made = api
        .v2020(
            "MakeCall",
            &[
                ("UserId", ALICE),
                ("Callee", "13800000001"),
                ("Caller", "01050000002"),
            ],
        )
        .await;
    let job = made["CallContext"]["JobId"].as_str().unwrap().to_owned();
    let (call, offer, from) = phone.incoming().await;
    assert!(
        from.contains("01050000002"),
        "the phone shows the caller number: {from}"
    );
    // The workbench answers its own leg; the customer is dialed then (and answers after 500 ms).
    let (sink, _heard) = ccc_media::audio::pulled_sink(10);
    let (session, _) = ccc_media::call::MediaSession::new(
        ccc_media::call::CallConfig::loopback(),
        ccc_media::call::CallAudio::new(ccc_media::audio::Tone::new(1_000.0, 0.3), sink),
    )
    .await
    .unwrap();
    let answer = session.answer(&offer).await.unwrap();
    phone.client.answer(call, answer.into_bytes()).await;
    m.until(&mut ws, 10).await;
    let file = heard_file(&info).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    api.v2020("ReleaseCall", &[("UserId", ALICE), ("JobId", &job)])
        .await;
    m.until(&mut ws, 5).await;
    assert_eq!(m.take(), [0, 2, 3, 8, 10, 5]);
    assert!(matches!(phone.ended(call).await, EndReason::RemoteHangup));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        tone_in_wav(&file, 1.0, &[440.0, 1_000.0]),
        Some(1_000.0),
        "the customer heard the agent"
    );
    let _ = session.close().await;
    emu.shutdown().await;
}

#[tokio::test]
async fn hold_plays_music_and_a_consultation_moves_the_customer_to_another_phone() {
    let emu = start().await;
    let info = emu.info().clone();
    let mut bob_phone = Phone::register(&info, "8002", "pass-8002").await;
    let mut alice_phone = Phone::register(&info, "8001", "pass-8001").await;
    let mut api = Api::new(&info);
    let mut bob_ws = agent_link(&mut api, &info, BOB, &bob_phone.device).await;
    let mut alice_ws = agent_link(&mut api, &info, ALICE, &alice_phone.device).await;
    let (mut bob, mut alice) = (Machine::new(), Machine::new());
    sign_in(&mut api, BOB, &bob_phone.device).await;
    bob.until(&mut bob_ws, 3).await;
    let (_, placed) = admin(
        &info,
        "POST",
        "/calls",
        json!({"caller": "13800000009", "callee": "02150000001"}),
    )
    .await;
    let job = placed["job_id"].as_str().unwrap().to_owned();
    let mut bob_call = bob_phone.answer(1_000.0).await;
    bob.until(&mut bob_ws, 9).await;
    assert_eq!(
        bob_call.hears_only(&TONES, &[440.0]).await,
        Ok(()),
        "Bob hears the customer"
    );

    // Hold: Bob hears nobody, the customer hears music.
    let snapshot = api.v2020("PollUserStatus", &[("UserId", BOB)]).await;
    let channel = snapshot["CallContext"]["ChannelContexts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["UserId"] == BOB)
        .unwrap()["ChannelId"]
        .as_str()
        .unwrap()
        .to_owned();
    api.v2020(
        "HoldCall",
        &[("UserId", BOB), ("JobId", &job), ("ChannelId", &channel)],
    )
    .await;
    bob.until(&mut bob_ws, 12).await;
    assert_eq!(
        bob_call.hears_now(&[440.0, 1_000.0]).await,
        None,
        "Bob hears silence on hold"
    );
    api.v2020(
        "RetrieveCall",
        &[("UserId", BOB), ("JobId", &job), ("ChannelId", &channel)],
    )
    .await;
    bob.until(&mut bob_ws, 9).await;

    // Consult Alice (M24): 12, 16; she answers: 17; complete: Bob leaves, Alice has the customer.
    sign_in(&mut api, ALICE, &alice_phone.device).await;
    alice.until(&mut alice_ws, 3).await;
    api.v2020(
        "InitiateAttendedTransfer",
        &[("UserId", BOB), ("JobId", &job), ("Transferee", ALICE)],
    )
    .await;
    bob.until(&mut bob_ws, 16).await;
    let mut alice_call = alice_phone.answer(700.0).await;
    bob.until(&mut bob_ws, 17).await;
    alice.until(&mut alice_ws, 11).await;
    assert_eq!(
        bob_call.hears_only(&TONES, &[700.0]).await,
        Ok(()),
        "Bob and Alice talk"
    );
    api.v2020(
        "CompleteAttendedTransfer",
        &[("UserId", BOB), ("JobId", &job)],
    )
    .await;
    bob.until(&mut bob_ws, 5).await;
    alice.until(&mut alice_ws, 9).await;
    assert!(matches!(
        bob_phone.ended(bob_call.call).await,
        EndReason::RemoteHangup
    ));
    assert_eq!(
        alice_call.hears_only(&TONES, &[440.0]).await,
        Ok(()),
        "Alice hears the customer"
    );
    let file = heard_file(&info).await;
    api.v2020("ReleaseCall", &[("UserId", ALICE), ("JobId", &job)])
        .await;
    alice.until(&mut alice_ws, 5).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        tone_in_wav(&file, 0.6, &[440.0, 425.0, 700.0, 1_000.0]),
        Some(700.0),
        "the customer ended with Alice"
    );
    assert_eq!(bob.take(), [0, 2, 3, 6, 9, 12, 9, 12, 16, 17, 5]);
    assert_eq!(alice.take(), [0, 2, 3, 6, 11, 9, 5]);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_call_outlives_a_dropped_sip_flow_and_the_platform_sees_no_break() {
    let emu = start().await;
    let info = emu.info().clone();
    let mut phone = Phone::register(&info, "8002", "pass-8002").await;
    let mut api = Api::new(&info);
    let mut ws = agent_link(&mut api, &info, BOB, &phone.device).await;
    let mut m = Machine::new();
    sign_in(&mut api, BOB, &phone.device).await;
    m.until(&mut ws, 3).await;
    let (_, placed) = admin(
        &info,
        "POST",
        "/calls",
        json!({"caller": "13800000009", "callee": "02150000001"}),
    )
    .await;
    let job = placed["job_id"].as_str().unwrap().to_owned();
    let mut call = phone.answer(1_000.0).await;
    m.until(&mut ws, 9).await;
    assert_eq!(call.hears_only(&TONES, &[440.0]).await, Ok(()));
    let file = heard_file(&info).await;

    // The SIP flow drops mid-call; the phone comes back on a new one and moves the
    // call there (RFC 5626 flow recovery); the emulator's leg waited for it.
    let (status, body) = admin(
        &info,
        "POST",
        &format!("/agents/{BOB}/sip"),
        json!({"action": "drop"}),
    )
    .await;
    assert_eq!((status, body["closed"].as_u64()), (200, Some(1)), "{body}");
    loop {
        match phone.next_ua().await {
            ccc_sip::ua::UaEvent::CallRecovered { call: c } if c == call.call => break,
            ccc_sip::ua::UaEvent::CallEnded { reason, .. } => panic!("ended: {reason:?}"),
            _ => {}
        }
    }
    assert_eq!(
        call.hears_only(&TONES, &[440.0]).await,
        Ok(()),
        "Bob still hears the customer"
    );
    let snapshot = api.v2020("PollUserStatus", &[("UserId", BOB)]).await;
    assert_eq!(snapshot["CallContext"]["JobId"], job.as_str(), "{snapshot}");
    // The platform's BYE reaches the phone over the new flow.
    api.v2020("ReleaseCall", &[("UserId", BOB), ("JobId", &job)])
        .await;
    m.until(&mut ws, 5).await;
    assert!(matches!(
        phone.ended(call.call).await,
        EndReason::RemoteHangup
    ));
    assert_eq!(
        m.take(),
        [0, 2, 3, 6, 9, 5],
        "no status change for the outage"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        tone_in_wav(&file, 1.0, &[440.0, 1_000.0]),
        Some(1_000.0),
        "the customer heard Bob"
    );
    let _ = call.session.close().await;
    emu.shutdown().await;
}

#[tokio::test]
async fn an_unanswered_offer_is_cancelled_at_the_ring_timeout() {
    let mut scenario = Scenario::default();
    scenario.platform.ring_timeout_ms = 600;
    let emu = Emulator::start(EmulatorConfig::new(scenario))
        .await
        .unwrap();
    let info = emu.info().clone();
    let mut phone = Phone::register(&info, "8002", "pass-8002").await;
    let mut api = Api::new(&info);
    let mut ws = agent_link(&mut api, &info, BOB, &phone.device).await;
    let mut m = Machine::new();
    sign_in(&mut api, BOB, &phone.device).await;
    admin(
        &info,
        "POST",
        "/calls",
        json!({"caller": "13800000009", "callee": "02150000001"}),
    )
    .await;
    let (call, _, _) = phone.incoming().await;
    phone.client.ringing(call).await;
    m.until(&mut ws, 4).await;
    assert_eq!(m.take(), [0, 2, 3, 6, 4]);
    assert_eq!(
        m.agent.user_context().unwrap().break_code.as_deref(),
        Some("RingingTimeout")
    );
    assert!(
        matches!(phone.ended(call).await, EndReason::Cancelled),
        "the INVITE was cancelled"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_second_sign_in_closes_the_first_devices_sip_flow_and_a_dropped_flow_comes_back() {
    let emu = start().await;
    let info = emu.info().clone();
    let mut phone = Phone::register(&info, "8002", "pass-8002").await;
    let mut api = Api::new(&info);
    sign_in(&mut api, BOB, &phone.device).await;
    // The admin's SIP drop: the flow closes; the phone reconnects and registers again.
    let (status, body) = admin(
        &info,
        "POST",
        &format!("/agents/{BOB}/sip"),
        json!({"action": "drop"}),
    )
    .await;
    assert_eq!((status, body["closed"].as_u64()), (200, Some(1)), "{body}");
    phone.disconnected().await;
    phone.registered().await;
    // Another device signs in: the first device's flow is closed (KA_register).
    api.v2020(
        "SignInGroup",
        &[
            ("UserId", BOB),
            ("DeviceId", "urn:uuid:another-tab"),
            ("SignedSkillGroupIdList", SALES),
        ],
    )
    .await;
    phone.disconnected().await;
    emu.shutdown().await;
}

async fn sip_fault(
    info: &ccc_emulator::EmulatorInfo,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, answer) = admin(info, "POST", &format!("/agents/{BOB}/sip"), body).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

#[tokio::test]
async fn a_delayed_sip_link_is_late_and_a_black_holed_one_is_given_up_by_the_phone() {
    let emu = start().await;
    let info = emu.info().clone();
    // The phone pings every 100 ms and gives a silent flow up after 600 ms.
    let mut phone = Phone::register_with(&info, "8002", "pass-8002", |link| {
        link.keepalive = Duration::from_millis(100);
        link.dead_after = Duration::from_millis(600);
    })
    .await;
    let mut api = Api::new(&info);
    sign_in(&mut api, BOB, &phone.device).await;

    // Delayed: the offer reaches the phone no sooner than the delay, and its refusal
    // reaches the platform no sooner than the delay again.
    let delay = Duration::from_millis(300);
    let answer = sip_fault(&info, json!({"action": "delay", "ms": 300})).await;
    assert_eq!(answer["flows"], 1);
    let (_, faults) = admin(&info, "GET", "/faults", serde_json::Value::Null).await;
    assert_eq!(faults["sip"][BOB]["delay_ms"], 300);
    let placed = std::time::Instant::now();
    admin(
        &info,
        "POST",
        "/calls",
        json!({"caller": "13800000009", "callee": "02150000001"}),
    )
    .await;
    let (call, _, _) = phone.incoming().await;
    assert!(
        placed.elapsed() >= delay,
        "offered after {:?}",
        placed.elapsed()
    );
    let refused = std::time::Instant::now();
    assert!(phone.client.reject(call, 486, "Busy Here").await);
    let mut state = String::new();
    while refused.elapsed() < WAIT && state != "BREAK" {
        let data = api.v2020("PollUserStatus", &[("UserId", BOB)]).await;
        state = data["UserContext"]["UserState"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if state != "BREAK" {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(state, "BREAK", "a refused offer puts the agent on break");
    assert!(
        refused.elapsed() >= delay,
        "refusal seen after {:?}",
        refused.elapsed()
    );
    sip_fault(&info, json!({"action": "restore"})).await;

    // Black-holed: the phone's keep-alives go unanswered; it gives the flow up by its
    // own limit. Its next flow registers, then falls silent too while the fault holds.
    sip_fault(&info, json!({"action": "black-hole"})).await;
    let silent = ccc_sip::link::DownReason::Silent(Duration::from_millis(600));
    let reason = phone.disconnected().await;
    assert_eq!(format!("{reason:?}"), format!("{silent:?}"));
    phone.registered().await;
    let reason = phone.disconnected().await;
    assert_eq!(format!("{reason:?}"), format!("{silent:?}"));
    // Lifted: the next flow stays up.
    sip_fault(&info, json!({"action": "restore"})).await;
    phone.registered().await;
    let down = tokio::time::timeout(Duration::from_millis(900), phone.disconnected()).await;
    assert!(
        down.is_err(),
        "the flow stayed up after the fault was lifted: {down:?}"
    );
    let (_, agents) = admin(&info, "GET", "/agents", serde_json::Value::Null).await;
    let bob = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_id"] == BOB)
        .unwrap()
        .clone();
    assert_eq!(bob["sip_registered"], true, "{bob}");
    emu.shutdown().await;
}
