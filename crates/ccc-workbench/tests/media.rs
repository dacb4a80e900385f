//! Calls with real WebRTC audio through the emulator's SIP server: tones both ways
//! (Goertzel on what each side hears), the customer's DTMF reaching the program, the
//! platform's recording downloaded three ways (into memory, into a file, as a byte
//! stream), auto-answer on the INVITE, and the agent's own leg of a call it dials.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use ccc_media::audio::{AudioFrame, AudioSource, WavSource};
use ccc_media::dsp::dominant_tone;
use ccc_workbench::{Event, Status};
use common::tones::{AGENT_HZ, CUSTOMER_HZ, counting_audio};
use common::{Rig, build, wait_until};
use serde_json::json;

const ALICE: &str = "alice@ccc-emulator";

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

/// The share of a WAV file's 20 ms frames in which `hz` is the loudest candidate.
fn tone_share(file: &Path, hz: f64) -> f64 {
    let mut source = WavSource::open(file).expect("a WAV file");
    let mut frame = AudioFrame::silent(8000);
    let (mut total, mut with_tone) = (0u32, 0u32);
    while source.fill(&mut frame) {
        total += 1;
        if dominant_tone(frame.samples(), 8000, &[hz, CUSTOMER_HZ]) == Some(hz) {
            with_tone += 1;
        }
    }
    f64::from(with_tone) / f64::from(total.max(1))
}

#[tokio::test]
async fn tones_both_ways_the_customers_digits_and_the_recording_three_ways() {
    let rig = Rig::start().await;
    let heard = Arc::new(AtomicU32::new(0));
    let config = rig.config().after_call_rule_seconds(0).build().unwrap();
    let builder = rig
        .builder(ALICE, config)
        .audio(counting_audio(Arc::clone(&heard)));
    let (wb, rec) = build(builder).await;
    wb.register(None, "default").await.unwrap();
    let job = rig.customer_calls_in(
        "13800000042",
        json!({"outcome": "answer", "play": {"kind": "tone", "hz": 1000},
               "dtmf": "7*9", "dtmf_after_ms": 300, "record": true}),
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
    wait_until("the customer's digits", || {
        rec.events()
            .iter()
            .filter(|e| matches!(e, Event::Dtmf { .. }))
            .count()
            >= 3
    })
    .await;
    let digits: String = rec
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::Dtmf { digit } => Some(*digit),
            _ => None,
        })
        .collect();
    assert_eq!(digits, "7*9");
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    // The customer heard the agent.
    let dir = rig.emulator.info().recordings_dir.clone();
    wait_until("the customer's recording", || {
        heard_file(&dir, &job).is_some()
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let share = tone_share(&heard_file(&dir, &job).unwrap(), AGENT_HZ);
    assert!(
        share > 0.5,
        "the agent's tone in {share:.2} of what the customer heard"
    );
    // M18 into memory: the platform's recording of the call, a WAV.
    let recordings = wb
        .download_record(&job, false)
        .await
        .expect("downloadRecord");
    assert_eq!(recordings.len(), 1, "{recordings:?}");
    let data = recordings[0].data.clone().expect("its bytes");
    assert_eq!(&data[..4], b"RIFF", "a WAV file");
    assert!(data.len() > 8_000, "{} bytes", data.len());
    // Into a file, streamed.
    let saved = wb
        .download_record_to(&job, rig.dir.path())
        .await
        .expect("into a file");
    assert_eq!(saved.len(), 1);
    assert_eq!(std::fs::read(&saved[0]).unwrap(), data);
    // As a byte stream into any writer (here a pipe, read on the other side).
    let listed = wb.download_record(&job, true).await.unwrap();
    assert!(listed[0].data.is_none(), "onlyPlay fetches nothing");
    let (mut writer, mut reader) = tokio::io::duplex(4096);
    let read = tokio::spawn(async move {
        let mut got = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut got)
            .await
            .unwrap();
        got
    });
    let n = wb
        .fetch_recording(&listed[0], &mut writer)
        .await
        .expect("streamed");
    drop(writer);
    let streamed = read.await.unwrap();
    assert_eq!(n, u64::try_from(data.len()).unwrap());
    assert_eq!(streamed, data);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_recording_address_that_fails_is_a_clear_error() {
    let rig = Rig::start().await;
    let (wb, rec) = rig.ready_agent(ALICE, rig.config().build().unwrap()).await;
    let job = one_answered_call(&rig, &wb, &rec).await;
    let mut listed = wb.download_record(&job, true).await.unwrap();
    // A signature the platform did not make: 403 at the address.
    let url = listed[0].url.replace("Signature=", "Signature=x");
    listed[0].url = url;
    let mut sink = Vec::new();
    let err = wb.fetch_recording(&listed[0], &mut sink).await.unwrap_err();
    assert!(err.to_string().contains("HTTP 403"), "{err}");
    assert!(sink.is_empty());
    rec.wait_for(
        "onErrorNotify",
        |e| matches!(e, Event::ErrorNotify(n) if &*n.api == "downloadRecord"),
    )
    .await;
    wb.shutdown().await.unwrap();
}

/// An inbound call answered with media and hung up; its contact id.
async fn one_answered_call(
    rig: &Rig,
    wb: &ccc_workbench::Workbench,
    rec: &common::Recorder,
) -> String {
    let job = rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    rec.wait_for("mediaConnected", |e| {
        matches!(e, Event::MediaConnected { .. })
    })
    .await;
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    job
}

#[tokio::test]
async fn auto_answer_answers_the_invite_with_media() {
    let rig = Rig::start().await;
    let config = rig.config().auto_answer_call_seconds(1).build().unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    rig.call_in("13800000009", "02150000001");
    rec.wait_status(Status::Ringing).await;
    rec.wait_status(Status::InboundCall).await;
    rec.wait_for("mediaConnected", |e| {
        matches!(e, Event::MediaConnected { .. })
    })
    .await;
    assert_eq!(rec.statuses(), vec![6, 9]);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_agents_own_leg_of_a_call_it_dials_is_answered_at_once() {
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_seconds(0).build().unwrap();
    let (wb, rec) = rig.ready_agent(ALICE, config).await;
    // The default customer answers after a second: the own leg is up (media
    // connected) while the status still says dialing.
    wb.call("13800000001").await.unwrap();
    rec.wait_for("mediaConnected", |e| {
        matches!(e, Event::MediaConnected { .. })
    })
    .await;
    rec.wait_status(Status::OutboundCall).await;
    wb.hang_up().await.unwrap();
    rec.wait_status(Status::Ready).await;
    assert_eq!(rec.statuses(), vec![8, 10, 5, 3]);
    wb.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_volume_reaches_what_the_agent_hears() {
    let rig = Rig::start().await;
    let heard = Arc::new(AtomicU32::new(0));
    let config = rig.config().build().unwrap();
    let (wb, rec) = build(
        rig.builder(ALICE, config)
            .audio(counting_audio(Arc::clone(&heard))),
    )
    .await;
    wb.register(None, "default").await.unwrap();
    rig.customer_calls_in("13800000042", json!({"play": {"kind": "tone", "hz": 1000}}));
    rec.wait_status(Status::Ringing).await;
    wb.answer().await.unwrap();
    wait_until("the customer's tone", || {
        heard.load(Ordering::Relaxed) >= 10
    })
    .await;
    // M30 at 0: the headset gets silence (a few frames already on their way aside).
    wb.change_volume_in_call(0.0).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let at_zero = heard.load(Ordering::Relaxed);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let later = heard.load(Ordering::Relaxed);
    assert!(
        later - at_zero <= 2,
        "{at_zero} -> {later} frames with the tone at volume 0"
    );
    // Up again: the customer is heard again.
    wb.change_volume_in_call(1.0).await.unwrap();
    wait_until("the tone again", || {
        heard.load(Ordering::Relaxed) >= later + 10
    })
    .await;
    wb.shutdown().await.unwrap();
}
