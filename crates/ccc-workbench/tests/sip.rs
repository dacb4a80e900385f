//! The SIP link's faults and what the integrator sees: the emulator's `sip drop` while
//! idle (registered again, calls still ring) and in a call (the call moves to the new
//! flow and goes on, tones both ways, nothing released; where the server keeps no
//! dialog past its flow, the call is released with a clear reason and a fault report),
//! its `delay` (the late INVITE still answered with media) and `black-hole` (a new
//! flow; a lost INVITE is not answered into silence); and a cut link, which the fault
//! API does not make: a test-side proxy in front of the SIP link, and of the agent
//! link, closed for longer than the call's grace period releases the call with the
//! reason, and for longer than the link timeout signs the agent out with `ASM_SIP`, or
//! `ASM_Private&SIP` with both.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ccc_core::{ErrorCode, SignOutReason};
use ccc_media::audio::{AudioFrame, AudioSource, WavSource};
use ccc_media::dsp::dominant_tone;
use ccc_workbench::{Event, Status};
use common::proxy::Mode;
use common::tones::{AGENT_HZ, CUSTOMER_HZ, counting_audio};
use common::{Rig, build, fast_links, wait_until};
use serde_json::json;

const ALICE: &str = "alice@ccc-emulator";

/// An inbound call from a customer who plays 1000 Hz, recording what it hears.
fn singing_customer(rig: &Rig) -> String {
    rig.customer_calls_in(
        "13800000042",
        json!({"outcome": "answer", "play": {"kind": "tone", "hz": 1000}, "record": true}),
    )
}

/// The share of the last `frames` 20 ms frames of what the customer of `job` heard in
/// which the agent's tone is the loudest.
fn agent_tone_at_the_end(dir: &Path, job: &str, frames: usize) -> f64 {
    let file = std::fs::read_dir(dir)
        .expect("the recordings directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{job}-leg")) && n.ends_with("-heard.wav"))
        })
        .expect("what the customer heard");
    let mut source = WavSource::open(&file).expect("a WAV file");
    let mut frame = AudioFrame::silent(8000);
    let mut tones = Vec::new();
    while source.fill(&mut frame) {
        tones
            .push(dominant_tone(frame.samples(), 8000, &[AGENT_HZ, CUSTOMER_HZ]) == Some(AGENT_HZ));
    }
    let tail = &tones[tones.len().saturating_sub(frames)..];
    tail.iter().filter(|t| **t).count() as f64 / tail.len().max(1) as f64
}

fn told_of_the_lost_link(e: &Event) -> bool {
    matches!(e, Event::ErrorNotify(n) if n.code == ErrorCode::NetworkError
        && n.msg.contains("SIP link went down during the call"))
}

fn registrations(rec: &common::Recorder) -> usize {
    rec.events()
        .iter()
        .filter(|e| matches!(e, Event::Register(_)))
        .count()
}

#[tokio::test]
async fn a_dropped_sip_link_registers_again_and_calls_still_ring() {
    let rig = Rig::start().await;
    let config = rig.config().build().unwrap();
    let (wb, rec) = build(rig.builder(ALICE, config).links(fast_links())).await;
    wb.register(None, "default").await.unwrap();
    assert_eq!(registrations(&rec), 1);
    rig.admin(&format!("/agents/{ALICE}/sip"), json!({"action": "drop"}))
        .await;
    wait_until("onRegister again", || registrations(&rec) >= 2).await;
    assert!(!rec.hooks().contains(&"onLogOut"));
    assert_eq!(wb.status_code().await.code, Status::Ready);
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    rec.wait_for("mediaConnected", |e| {
        matches!(e, Event::MediaConnected { .. })
    })
    .await;
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_short_sip_outage_mid_call_keeps_the_call_with_tones_both_ways() {
    // The emulator's leg waits only 2 s for the phone: a call still up well past that
    // has moved to the phone's new flow.
    let rig = Rig::with_config(|c| c.sip_call_grace = Duration::from_secs(2)).await;
    let heard = Arc::new(AtomicU32::new(0));
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let builder = rig
        .builder(ALICE, config)
        .links(fast_links())
        .audio(counting_audio(Arc::clone(&heard)));
    let (wb, rec) = build(builder).await;
    wb.register(None, "default").await.unwrap();
    let job = singing_customer(&rig);
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    rec.wait_status(Status::InboundCall).await;
    wait_until("the customer's tone", || {
        heard.load(Ordering::Relaxed) >= 25
    })
    .await;
    rec.clear();
    rig.admin(&format!("/agents/{ALICE}/sip"), json!({"action": "drop"}))
        .await;
    // Registered again on a new flow, still signed in and in the call.
    wait_until("onRegister again", || registrations(&rec) >= 1).await;
    let after = heard.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    wait_until("the customer's tone after the outage", || {
        heard.load(Ordering::Relaxed) >= after + 50
    })
    .await;
    let events = rec.events();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::CallRelease(_)) || told_of_the_lost_link(e)),
        "{events:?}"
    );
    assert!(!rec.hooks().contains(&"onLogOut"));
    assert_eq!(wb.status_code().await.code, Status::InboundCall);
    assert_eq!(rig.calls().len(), 1, "the platform's call goes on");
    // The customer still hears the agent; hanging up works as ever.
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let share = agent_tone_at_the_end(&rig.emulator.info().recordings_dir, &job, 50);
    assert!(
        share > 0.5,
        "the agent's tone in {share:.2} of the last second"
    );
    assert!(!rec.events().iter().any(told_of_the_lost_link));
    wb.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sip_outage_that_breaks_the_media_too_moves_the_call_with_an_ice_restart() {
    // The emulator's leg waits 2 s for the phone; the phone's media is relay-only (the
    // emulator's TURN server, whose media fault breaks it) with short ICE timers.
    let rig = Rig::with_config(|c| c.sip_call_grace = Duration::from_secs(2)).await;
    let proxies = rig.proxied_links(true, false).await;
    let sip = proxies.sip.as_ref().unwrap();
    let heard = Arc::new(AtomicU32::new(0));
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let media = ccc_media::call::CallConfig {
        ice_policy: ccc_media::call::IcePolicy::RelayOnly,
        ice_disconnected_timeout: Duration::from_millis(300),
        ice_failed_timeout: Duration::from_secs(4),
        gathering_timeout: Duration::from_millis(800),
        ..ccc_media::call::CallConfig::loopback()
    };
    let builder = rig
        .builder(ALICE, config)
        .links(fast_links())
        .call_config(media)
        .audio(counting_audio(Arc::clone(&heard)));
    let (wb, rec) = build(builder).await;
    wb.register(None, "default").await.unwrap();
    singing_customer(&rig);
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    rec.wait_status(Status::InboundCall).await;
    wait_until("the customer's tone", || {
        heard.load(Ordering::Relaxed) >= 25
    })
    .await;
    rec.clear();
    // The SIP link goes, then the media path: the ICE restart's offer is made while
    // there is no flow to send it on, and waits for the new one.
    sip.set(Mode::Cut);
    rig.admin(
        &format!("/agents/{ALICE}/media"),
        json!({"action": "break"}),
    )
    .await;
    rec.wait_for("mediaDisconnected", |e| {
        matches!(e, Event::MediaDisconnected)
    })
    .await;
    assert_eq!(registrations(&rec), 0, "the SIP link is still down");
    tokio::time::sleep(Duration::from_millis(200)).await;
    sip.set(Mode::Pass);
    wait_until("onRegister again", || registrations(&rec) >= 1).await;
    rec.wait_for("mediaReconnected", |e| matches!(e, Event::MediaReconnected))
        .await;
    let after = heard.load(Ordering::Relaxed);
    wait_until("the customer's tone after the restart", || {
        heard.load(Ordering::Relaxed) >= after + 50
    })
    .await;
    // Past the emulator's wait for the phone: the call moved.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let events = rec.events();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::CallRelease(_) | Event::ErrorNotify(_))),
        "{events:?}"
    );
    assert_eq!(wb.status_code().await.code, Status::InboundCall);
    assert_eq!(rig.calls().len(), 1, "the platform's call goes on");
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    assert!(rig.fault_reports().await.is_empty());
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_sip_outage_past_the_call_s_grace_releases_it_with_a_clear_reason() {
    // The phone's grace and the emulator's leg's are short; the proxy in front of the
    // SIP link refuses the phone for longer.
    let rig = Rig::with_config(|c| c.sip_call_grace = Duration::from_millis(600)).await;
    let proxies = rig.proxied_links(true, false).await;
    let sip = proxies.sip.as_ref().unwrap();
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let mut links = fast_links();
    links.sip_call_grace = Duration::from_millis(600);
    let (wb, rec) = build(rig.builder(ALICE, config).links(links)).await;
    wb.register(None, "default").await.unwrap();
    let job = rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    rec.wait_for("mediaConnected", |e| {
        matches!(e, Event::MediaConnected { .. })
    })
    .await;
    rec.clear();
    sip.set(Mode::Cut);
    rec.wait_status(Status::AfterCallWork).await;
    let released = |e: &Event| matches!(e, Event::CallRelease(d) if d.private_data.acid.as_deref() == Some(job.as_str()));
    wait_until("onCallRelease and onErrorNotify", || {
        let events = rec.events();
        events.iter().any(released) && events.iter().any(told_of_the_lost_link)
    })
    .await;
    sip.set(Mode::Pass);
    wait_until("onRegister again", || registrations(&rec) >= 1).await;
    assert_eq!(
        rec.events()
            .iter()
            .filter(|e| told_of_the_lost_link(e))
            .count(),
        1,
        "told once"
    );
    assert!(!rec.hooks().contains(&"onLogOut"));
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_sip_outage_mid_call_a_server_without_flow_recovery_releases_with_a_clear_reason_and_a_fault_report()
 {
    // This emulator ends its legs with their flow, as a server without RFC 5626 flow
    // recovery does: the phone's re-INVITE on the new flow is refused.
    let rig = Rig::with_config(|c| c.sip_call_grace = Duration::ZERO).await;
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
    rig.admin(&format!("/agents/{ALICE}/sip"), json!({"action": "drop"}))
        .await;
    // The platform and the phone each see the flow go; in whichever order, the call
    // is over (5, the call released) and the integrator is told why.
    rec.wait_status(Status::AfterCallWork).await;
    let released = |e: &Event| matches!(e, Event::CallRelease(d) if d.private_data.acid.as_deref() == Some(job.as_str()));
    let told = told_of_the_lost_link;
    wait_until("onCallRelease and onErrorNotify", || {
        let events = rec.events();
        events.iter().any(released) && events.iter().any(told)
    })
    .await;
    assert_eq!(
        rec.events().iter().filter(|e| told(e)).count(),
        1,
        "told once"
    );
    // The device registers again by itself, still signed in.
    wait_until("onRegister again", || registrations(&rec) >= 1).await;
    assert!(!rec.hooks().contains(&"onLogOut"));
    // A21: the fault went to the platform, naming the call.
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        let faults = rig.fault_reports().await;
        if let Some(f) = faults
            .iter()
            .find(|f| f["ConnectId"].as_str() == Some(job.as_str()))
        {
            assert!(
                f["Description"]
                    .as_str()
                    .is_some_and(|d| d.contains("SIP link")),
                "{f}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no fault report: {faults:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The next call works.
    wb.ready().await.unwrap();
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_sip_link_lost_past_the_link_timeout_signs_out_with_asm_sip() {
    let rig = Rig::start().await;
    let proxies = rig.proxied_links(true, false).await;
    let sip = proxies.sip.as_ref().unwrap();
    let config = rig
        .config()
        .link_timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let (wb, rec) = build(rig.builder(ALICE, config).links(fast_links())).await;
    wb.register(None, "default").await.unwrap();
    rec.clear();
    sip.set(Mode::Cut);
    rec.wait_signed_out(SignOutReason::AsmSip).await;
    assert_eq!(wb.status_code().await.code, Status::Unregistered);
    // The guide: register again, once the network is back.
    sip.set(Mode::Pass);
    wb.register(None, "default").await.expect("register again");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn both_links_lost_sign_out_with_asm_private_and_sip() {
    let rig = Rig::start().await;
    let proxies = rig.proxied_links(true, true).await;
    let config = rig
        .config()
        .link_timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let (wb, rec) = build(rig.builder(ALICE, config).links(fast_links())).await;
    wb.register(None, "default").await.unwrap();
    rec.clear();
    // SIP silent (its keepalive finds it dead), the agent link cut, and polling
    // refused: nothing reaches the platform.
    rig.admin(
        "/faults/next-error",
        json!({"action": "PollUserStatus", "count": 1000, "code": "ServiceUnavailable", "http_status": 503}),
    )
    .await;
    proxies.sip.as_ref().unwrap().set(Mode::BlackHole);
    proxies.agent_link.as_ref().unwrap().set(Mode::Cut);
    rec.wait_signed_out(SignOutReason::AsmPrivateAndSip).await;
    assert_eq!(wb.status_code().await.code, Status::Unregistered);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn register_with_an_unreachable_sip_gateway_settles_with_a_timeout() {
    let rig = Rig::start().await;
    let proxies = rig.proxied_links(true, false).await;
    proxies.sip.as_ref().unwrap().set(Mode::BlackHole);
    let builder = rig
        .builder(ALICE, rig.config().build().unwrap())
        .links(fast_links())
        .register_timeout(Duration::from_millis(1500));
    let (wb, rec) = build(builder).await;
    let started = tokio::time::Instant::now();
    let err = wb.register(None, "default").await.unwrap_err();
    assert!(
        matches!(
            err,
            ccc_workbench::Error::Timeout {
                method: "register",
                ..
            }
        ),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "bounded");
    rec.wait_status(Status::Unregistered).await;
    assert_eq!(rec.statuses(), vec![0, -1]);
    assert_eq!(
        rig.platform_state(ALICE).as_deref(),
        Some("OFFLINE"),
        "it never signed in"
    );
    // The gateway back: register works.
    proxies.sip.as_ref().unwrap().set(Mode::Pass);
    wb.register(None, "default").await.expect("register");
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_delayed_sip_link_still_rings_and_answers_with_media() {
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let (wb, rec) = build(rig.builder(ALICE, config).links(fast_links())).await;
    wb.register(None, "default").await.unwrap();
    rec.clear();
    // Every SIP message each way now waits 300 ms: the INVITE comes well after the
    // status shows the ring, and the answer reaches the platform late.
    rig.admin(
        &format!("/agents/{ALICE}/sip"),
        json!({"action": "delay", "ms": 300}),
    )
    .await;
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    let started = tokio::time::Instant::now();
    wb.answer().await.expect("answered on the INVITE, late");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the answer waited for the delayed INVITE and its 200"
    );
    rec.wait_for("mediaConnected", |e| {
        matches!(e, Event::MediaConnected { .. })
    })
    .await;
    assert_eq!(rec.statuses(), vec![6, 9]);
    assert!(
        !rec.hooks().contains(&"onErrorNotify"),
        "{:?}",
        rec.events()
    );
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn answering_the_next_call_while_the_last_ones_leg_is_still_going_takes_the_new_leg() {
    // A bot's loop: hang up, ready, and answer the queued call the moment it rings. With
    // SIP 300 ms slow, the last call's BYE is still unanswered when answer() comes and
    // the new INVITE is still on its way: answer() must wait for the new leg, not for
    // the old one being hung up (it waited for that one and the new call rang on).
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let (wb, rec) = build(rig.builder(ALICE, config).links(fast_links())).await;
    wb.register(None, "default").await.unwrap();
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.expect("the first call");
    rec.wait_for("mediaConnected", |e| {
        matches!(e, Event::MediaConnected { .. })
    })
    .await;
    rig.call_in("13800000008", "02150000001"); // queued: the agent is busy
    rig.admin(
        &format!("/agents/{ALICE}/sip"),
        json!({"action": "delay", "ms": 300}),
    )
    .await;
    rec.clear();
    wb.hang_up().await.expect("hang up the first call");
    rec.wait_status(Status::AfterCallWork).await;
    wb.ready().await.expect("ready");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.expect("the second call, on its own leg");
    rec.wait_for("the second call's media", |e| {
        matches!(e, Event::MediaConnected { .. })
    })
    .await;
    assert_eq!(rec.statuses(), vec![5, 3, 6, 9]);
    assert!(
        !rec.hooks().contains(&"onErrorNotify"),
        "{:?}",
        rec.events()
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_black_holed_sip_link_is_given_up_and_a_lost_invite_is_not_answered_into_silence() {
    let rig = Rig::start().await;
    let config = rig.config().build().unwrap();
    let builder = rig
        .builder(ALICE, config)
        .links(fast_links())
        .method_timeout(Duration::from_millis(1500));
    let (wb, rec) = build(builder).await;
    wb.register(None, "default").await.unwrap();
    rec.clear();
    // The flow goes silent: its keep-alives go unanswered, the phone gives it up after
    // `dead_after` (600 ms here) and registers on a new one, which the fault follows
    // from its registration on.
    rig.admin(
        &format!("/agents/{ALICE}/sip"),
        json!({"action": "black-hole"}),
    )
    .await;
    wait_until("onRegister on a new flow", || registrations(&rec) >= 1).await;
    assert!(
        !rec.hooks().contains(&"onLogOut"),
        "{:?}",
        rec.hooks_and_codes()
    );
    // A call offered now: its INVITE is lost in the silence. answer() does not
    // connect the customer to a phone that has no audio for them: it says so.
    let job = rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    let err = wb.answer().await.unwrap_err();
    assert!(
        matches!(&err, ccc_workbench::Error::Unavailable { method: "answer", reason }
            if reason.contains("INVITE did not reach this device")),
        "{err}"
    );
    assert_eq!(
        wb.status_code().await.code,
        Status::Ringing,
        "still ringing"
    );
    rig.customer_hangs_up(&job);
    rec.wait_status(Status::Ready).await;
    // Restored (and the flows dropped, so the phone starts on a clean one): calls ring
    // here again and are answered with media.
    rig.admin(
        &format!("/agents/{ALICE}/sip"),
        json!({"action": "restore"}),
    )
    .await;
    let before = registrations(&rec);
    rig.admin(&format!("/agents/{ALICE}/sip"), json!({"action": "drop"}))
        .await;
    wait_until("onRegister again", || registrations(&rec) > before).await;
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    rec.wait_for("mediaConnected", |e| {
        matches!(e, Event::MediaConnected { .. })
    })
    .await;
    wb.shutdown().await.unwrap();
}
