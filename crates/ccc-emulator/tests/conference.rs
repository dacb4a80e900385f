//! Conference and supervision with real phones: every party's leg carries the mix the
//! platform plans, heard as tones. Bob's phone says 1,000 Hz, Alice's 700 Hz, Sam's
//! (the supervisor's) 500 Hz, the customer 440 Hz; hold music is 425 Hz.

mod support;

use std::time::Duration;

use ccc_emulator::EmulatorInfo;
use ccc_sip::ua::EndReason;
use serde_json::{Value, json};
use support::phone::{Phone, tones_in_wav_windows};
use support::*;

const ALICE: &str = "alice@ccc-emulator";
const BOB: &str = "bob@ccc-emulator";
const SAM: &str = "sam@ccc-emulator";
const SALES: &str = r#"["sales@ccc-emulator"]"#;
const TONES: [f64; 5] = [425.0, 440.0, 500.0, 700.0, 1_000.0];

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

/// A customer calls the sales line; its job id.
async fn call_in(info: &EmulatorInfo) -> String {
    let (_, placed) = admin(
        info,
        "POST",
        "/calls",
        json!({"caller": "13800000009", "callee": "02150000001"}),
    )
    .await;
    placed["job_id"].as_str().unwrap().to_owned()
}

/// The file where the call's customer writes what it hears.
async fn heard_file(info: &EmulatorInfo) -> String {
    let (_, calls) = admin(info, "GET", "/calls", Value::Null).await;
    calls[0]["legs"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|l| l["heard_file"].as_str().map(str::to_owned))
        .expect("the customer records")
}

/// The live channel of `user` in the call `of` is in.
async fn channel_of(api: &mut Api, of: &str, user: &str) -> String {
    let snapshot = api.v2020("PollUserStatus", &[("UserId", of)]).await;
    snapshot["CallContext"]["ChannelContexts"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c["UserId"] == user && c["ChannelState"] != "RELEASED")
        .and_then(|c| c["ChannelId"].as_str())
        .expect("a channel")
        .to_owned()
}

/// What the customer heard, half second by half second, once its call has ended.
async fn customer_heard(file: &str) -> Vec<Vec<f64>> {
    // The mixer closes the file on its next tick after the call ends.
    tokio::time::sleep(Duration::from_millis(150)).await;
    tones_in_wav_windows(file, &TONES)
}

#[tokio::test]
async fn a_three_way_conference_carries_everyone_and_the_third_party_drops_out() {
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
    let job = call_in(&info).await;
    let mut bob_call = bob_phone.answer(1_000.0).await;
    bob.until(&mut bob_ws, 9).await;
    assert_eq!(
        bob_call.hears_only(&TONES, &[440.0]).await,
        Ok(()),
        "Bob hears the customer"
    );
    let file = heard_file(&info).await;

    // Bob consults Alice, then makes it a conference (M26 then M28's third party).
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
    // The consulted party is named, as the workbench's M28 names it.
    api.v2020(
        "StartConference",
        &[
            ("UserId", BOB),
            ("ParticipantListJson", r#"["alice@ccc-emulator"]"#),
        ],
    )
    .await;
    bob.until(&mut bob_ws, 19).await;
    alice.until(&mut alice_ws, 19).await;
    assert_eq!(
        bob_call.hears_only(&TONES, &[440.0, 700.0]).await,
        Ok(()),
        "Bob hears the customer and Alice"
    );
    assert_eq!(
        alice_call.hears_only(&TONES, &[440.0, 1_000.0]).await,
        Ok(()),
        "Alice hears the customer and Bob"
    );

    // Bob drops the third party: Alice's phone is hung up, Bob and the customer go on.
    let alice_channel = channel_of(&mut api, BOB, ALICE).await;
    api.v2020(
        "ReleaseCall",
        &[
            ("UserId", BOB),
            ("JobId", &job),
            ("ChannelId", &alice_channel),
        ],
    )
    .await;
    assert!(matches!(
        alice_phone.ended(alice_call.call).await,
        EndReason::RemoteHangup
    ));
    bob.until(&mut bob_ws, 9).await;
    alice.until(&mut alice_ws, 5).await;
    assert_eq!(
        bob_call.hears_only(&TONES, &[440.0]).await,
        Ok(()),
        "Bob hears the customer only"
    );
    api.v2020("ReleaseCall", &[("UserId", BOB), ("JobId", &job)])
        .await;
    bob.until(&mut bob_ws, 5).await;

    let heard = customer_heard(&file).await;
    assert!(
        heard.iter().any(|w| w == &[700.0, 1_000.0]),
        "the customer heard both agents at once: {heard:?}"
    );
    let last = heard.iter().rev().find(|w| !w.is_empty());
    assert_eq!(
        last.map(Vec::as_slice),
        Some([1_000.0].as_slice()),
        "then Bob alone: {heard:?}"
    );
    assert_eq!(bob.take(), [0, 2, 3, 6, 9, 12, 16, 17, 19, 9, 5]);
    assert_eq!(alice.take(), [0, 2, 3, 6, 11, 19, 5]);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_monitoring_supervisor_hears_both_sides_unheard_and_a_barge_in_is_heard() {
    let emu = start().await;
    let info = emu.info().clone();
    let mut bob_phone = Phone::register(&info, "8002", "pass-8002").await;
    let mut sam_phone = Phone::register(&info, "8009", "pass-8009").await;
    let mut api = Api::new(&info);
    let mut bob_ws = agent_link(&mut api, &info, BOB, &bob_phone.device).await;
    let mut sam_ws = agent_link(&mut api, &info, SAM, &sam_phone.device).await;
    let (mut bob, mut sam) = (Machine::new(), Machine::new());
    sign_in(&mut api, BOB, &bob_phone.device).await;
    bob.until(&mut bob_ws, 3).await;
    let job = call_in(&info).await;
    let mut bob_call = bob_phone.answer(1_000.0).await;
    bob.until(&mut bob_ws, 9).await;
    let file = heard_file(&info).await;
    sign_in(&mut api, SAM, &sam_phone.device).await;
    sam.until(&mut sam_ws, 3).await;

    // Monitor (M34): Sam's phone rings; he hears both sides, nobody hears him.
    api.v2020("MonitorCall", &[("UserId", SAM), ("MonitoredUserId", BOB)])
        .await;
    let mut sam_call = sam_phone.answer(500.0).await;
    sam.until(&mut sam_ws, 21).await;
    assert_eq!(
        sam_call.hears_only(&TONES, &[440.0, 1_000.0]).await,
        Ok(()),
        "Sam hears the customer and Bob"
    );
    assert_eq!(
        bob_call.hears_only(&TONES, &[440.0]).await,
        Ok(()),
        "Bob does not hear Sam"
    );
    api.v2020("ReleaseCall", &[("UserId", SAM), ("JobId", &job)])
        .await;
    assert!(matches!(
        sam_phone.ended(sam_call.call).await,
        EndReason::RemoteHangup
    ));
    sam.until(&mut sam_ws, 3).await;
    let monitored_until = heard_file_len(&file);

    // Barge in: a conference; everyone hears Sam now.
    api.v2020(
        "BargeInCall",
        &[("UserId", SAM), ("JobId", &job), ("BargedUserId", BOB)],
    )
    .await;
    let mut sam_call = sam_phone.answer(500.0).await;
    sam.until(&mut sam_ws, 19).await;
    assert_eq!(
        bob_call.hears_only(&TONES, &[440.0, 500.0]).await,
        Ok(()),
        "Bob hears the customer and Sam"
    );
    assert_eq!(
        sam_call.hears_only(&TONES, &[440.0, 1_000.0]).await,
        Ok(()),
        "Sam hears the customer and Bob"
    );
    api.v2020("ReleaseCall", &[("UserId", BOB), ("JobId", &job)])
        .await;
    bob.until(&mut bob_ws, 5).await;

    let heard = customer_heard(&file).await;
    let (monitored, barged) = heard.split_at(monitored_until.min(heard.len()));
    assert!(
        monitored.iter().all(|w| !w.contains(&500.0)),
        "the customer never heard the monitoring supervisor: {heard:?}"
    );
    assert!(
        barged.iter().any(|w| w == &[500.0, 1_000.0]),
        "after the barge-in the customer heard Sam and Bob: {heard:?}"
    );
    emu.shutdown().await;
}

/// How many whole half seconds the customer's file holds now (its header is written
/// at the end: count from the file's size; 8 kHz 16-bit mono after a 44-byte header).
fn heard_file_len(file: &str) -> usize {
    let bytes = std::fs::metadata(file).map_or(0, |m| m.len());
    usize::try_from(bytes.saturating_sub(44) / 8_000).unwrap_or(0)
}
