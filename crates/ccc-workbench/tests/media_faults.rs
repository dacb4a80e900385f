//! A call's media path breaks mid-call (the emulator's media fault: the agent's relayed
//! packets on its embedded TURN server are dropped). The agent's phone is relay-only,
//! so the path of its call goes through that server, with short ICE timers so that
//! each test takes seconds.
//!
//! - `break`: the allocation the call uses goes silent; the workbench sees the path go
//!   (`mediaDisconnected`), restarts ICE with a re-INVITE that the emulator answers,
//!   its new allocation works, and the tones are heard again both ways; the call goes
//!   on with no error.
//! - `black-hole`: every allocation of the agent goes silent, the restart's too; the
//!   call is released with `onErrorNotify` naming the media failure, and the platform
//!   gets a fault report (A21 `CreateFault`) for the call.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ccc_core::ErrorCode;
use ccc_media::audio::{AudioFrame, AudioSource, WavSource};
use ccc_media::call::{CallConfig, IcePolicy};
use ccc_media::dsp::dominant_tone;
use ccc_workbench::{Event, Status, Workbench};
use common::tones::{AGENT_HZ, CUSTOMER_HZ, counting_audio};
use common::{Recorder, Rig, build, wait_until};
use serde_json::json;

const ALICE: &str = "alice@ccc-emulator";

/// Relay-only media (through the access point's TURN server, the emulator's embedded
/// one) with ICE timers short enough for a test: the path counts as lost after 300 ms
/// of silence, and fails 1.2 s later.
fn relay_only() -> CallConfig {
    CallConfig {
        ice_policy: IcePolicy::RelayOnly,
        ice_disconnected_timeout: Duration::from_millis(300),
        ice_failed_timeout: Duration::from_millis(1_200),
        gathering_timeout: Duration::from_millis(800),
        ..CallConfig::loopback()
    }
}

/// The customer's WAV of what it heard in call `job`.
fn heard_file(dir: &Path, job: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{job}-leg")) && n.ends_with("-heard.wav"))
        })
}

/// For each 20 ms frame of a WAV file: whether the agent's tone is the loudest of the two.
fn agent_tone_frames(file: &Path) -> Vec<bool> {
    let mut source = WavSource::open(file).expect("a WAV file");
    let mut frame = AudioFrame::silent(8000);
    let mut frames = Vec::new();
    while source.fill(&mut frame) {
        frames
            .push(dominant_tone(frame.samples(), 8000, &[AGENT_HZ, CUSTOMER_HZ]) == Some(AGENT_HZ));
    }
    frames
}

/// The longest run of frames without the agent's tone after it was first heard, and
/// how many of the 50 frames right after that run have it.
fn gap_and_after(frames: &[bool]) -> (usize, usize) {
    let first = frames.iter().position(|t| *t).unwrap_or(frames.len());
    let (mut best, mut best_end, mut run) = (0, first, 0);
    for (i, tone) in frames.iter().enumerate().skip(first) {
        if *tone {
            run = 0;
        } else {
            run += 1;
            if run > best {
                best = run;
                best_end = i + 1;
            }
        }
    }
    let after = frames
        .iter()
        .skip(best_end)
        .take(50)
        .filter(|t| **t)
        .count();
    (best, after)
}

/// A ready agent whose call from a 1000 Hz customer is answered and heard.
async fn call_heard(rig: &Rig, heard: &Arc<AtomicU32>) -> (Workbench, Recorder, String) {
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let builder = rig
        .builder(ALICE, config)
        .call_config(relay_only())
        .audio(counting_audio(Arc::clone(heard)));
    let (wb, rec) = build(builder).await;
    wb.register(None, "default").await.unwrap();
    rec.wait_status(Status::Ready).await;
    let job = rig.customer_calls_in(
        "13800000042",
        json!({"outcome": "answer", "play": {"kind": "tone", "hz": 1000}}),
    );
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    rec.wait_for("mediaConnected", |e| {
        matches!(e, Event::MediaConnected { .. })
    })
    .await;
    wait_until("the customer's tone", || {
        heard.load(Ordering::Relaxed) >= 25
    })
    .await;
    (wb, rec, job)
}

/// How many packets of `user`'s allocations the media fault dropped.
async fn dropped(rig: &Rig, user: &str) -> u64 {
    rig.admin_get("/faults").await["media"][user]["dropped_packets"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_media_path_comes_back_with_an_ice_restart() {
    let rig = Rig::start().await;
    let heard = Arc::new(AtomicU32::new(0));
    let (wb, rec, job) = call_heard(&rig, &heard).await;
    let answer = rig
        .admin(
            &format!("/agents/{ALICE}/media"),
            json!({"action": "break"}),
        )
        .await;
    assert_eq!(answer["action"], "break");
    rec.wait_for("mediaDisconnected", |e| {
        matches!(e, Event::MediaDisconnected)
    })
    .await;
    let at_loss = heard.load(Ordering::Relaxed);
    // The path really went through the relay, and the fault took it.
    assert!(dropped(&rig, ALICE).await > 0, "no relayed packet dropped");
    rec.wait_for("mediaReconnected", |e| matches!(e, Event::MediaReconnected))
        .await;
    // The agent hears the customer again: 1 s of tone more.
    wait_until("the customer's tone again", || {
        heard.load(Ordering::Relaxed) >= at_loss + 50
    })
    .await;
    // The call is still up, with no error and no fault report.
    assert_eq!(wb.status_code().await.code, Status::InboundCall);
    assert_eq!(rig.calls().len(), 1, "the call goes on");
    let errors: Vec<Event> = rec
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::ErrorNotify(_)))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    assert!(rig.fault_reports().await.is_empty());
    // The customer heard the agent before the break, nothing while the path was gone,
    // and the agent again after the restart.
    let dir = rig.emulator.info().recordings_dir.clone();
    wait_until("the customer's recording", || {
        heard_file(&dir, &job).is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let frames = agent_tone_frames(&heard_file(&dir, &job).unwrap());
    let (gap, after) = gap_and_after(&frames);
    assert!(
        gap >= 10,
        "the customer heard the agent all along ({gap} silent frames at most)"
    );
    assert!(
        after >= 40,
        "the agent's tone in {after} of the 50 frames after the gap of {gap}"
    );
    wb.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_media_path_that_stays_broken_releases_the_call_with_a_fault_report() {
    let rig = Rig::start().await;
    let heard = Arc::new(AtomicU32::new(0));
    let (wb, rec, job) = call_heard(&rig, &heard).await;
    rig.admin(
        &format!("/agents/{ALICE}/media"),
        json!({"action": "black-hole"}),
    )
    .await;
    rec.wait_for("mediaDisconnected", |e| {
        matches!(e, Event::MediaDisconnected)
    })
    .await;
    // The restart finds no path either: the call is released, and the integrator is
    // told why.
    let told = rec
        .wait_for("onErrorNotify", |e| matches!(e, Event::ErrorNotify(_)))
        .await;
    let Event::ErrorNotify(notify) = &told else {
        unreachable!()
    };
    assert_eq!(notify.code, ErrorCode::GetLocalMediaFailed, "{notify:?}");
    assert!(
        notify.msg.contains("media failed (ICE failed"),
        "{}",
        notify.msg
    );
    rec.wait_status(Status::AfterCallWork).await;
    wait_until("the call released at the platform", || {
        rig.calls().is_empty()
    })
    .await;
    let hooks = rec.hooks();
    assert!(!hooks.contains(&"mediaReconnected"), "{hooks:?}");
    assert_eq!(
        hooks.iter().filter(|h| **h == "onErrorNotify").count(),
        1,
        "told once: {hooks:?}"
    );
    // A21: one fault report, naming the call and the failure.
    let deadline = tokio::time::Instant::now() + common::WAIT;
    let reports = loop {
        let reports = rig.fault_reports().await;
        if !reports.is_empty() {
            break reports;
        }
        assert!(tokio::time::Instant::now() < deadline, "no fault report");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["ConnectId"].as_str(), Some(job.as_str()));
    assert!(
        reports[0]["Description"]
            .as_str()
            .is_some_and(|d| d.starts_with("call media failed: ICE failed")),
        "{}",
        reports[0]
    );
    assert!(dropped(&rig, ALICE).await > 0, "no relayed packet dropped");
    // With the fault lifted the next call works.
    rig.admin(
        &format!("/agents/{ALICE}/media"),
        json!({"action": "restore"}),
    )
    .await;
    wb.ready().await.unwrap();
    rec.wait_status(Status::Ready).await;
    rig.call_in("13800000042", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    rec.wait_for("mediaConnected", |e| {
        matches!(e, Event::MediaConnected { .. })
    })
    .await;
    wb.shutdown().await.unwrap();
}
