//! Transfers, consultations, conferences, monitoring and the voice survey (M17,
//! M23-M28, M32) with several agents against the emulator, and the guide's status
//! sequences (M24's 9 -> 12 -> 16 -> 17 and its two early hang-up variants).

mod common;

use ccc_workbench::{Error, Event, Status};
use common::{Recorder, Rig};

const ALICE: &str = "alice@ccc-emulator";
const BOB: &str = "bob@ccc-emulator";
const SAM: &str = "sam@ccc-emulator";

/// Alice in an answered inbound call; Bob ready.
async fn alice_talking(
    rig: &Rig,
) -> (
    ccc_workbench::Workbench,
    Recorder,
    ccc_workbench::Workbench,
    Recorder,
    String,
) {
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let (bob, bob_rec) = rig.ready_agent(BOB, config.clone()).await;
    // Bob's level in sales is higher: a break keeps the call for Alice.
    bob.apply_for_break(1, "meeting").await.unwrap();
    let (alice, alice_rec) = rig.ready_agent(ALICE, config).await;
    let job = rig.call_in("13800000009", "02150000001");
    alice_rec.wait_status(Status::Ringing).await;
    alice.answer().await.unwrap();
    bob.ready().await.unwrap();
    bob_rec.clear();
    alice_rec.clear();
    (alice, alice_rec, bob, bob_rec, job)
}

#[tokio::test]
async fn consult_then_transfer_9_12_16_17_and_the_agent_leaves() {
    let rig = Rig::start().await;
    let (alice, rec, bob, bob_rec, _job) = alice_talking(&rig).await;
    // K9: no retrieve while talking.
    assert!(matches!(
        alice.third_call_retrieve().await,
        Err(Error::NotAllowed(_))
    ));
    alice
        .conference_init("8002", "")
        .await
        .expect("conferenceInit");
    rec.wait_status(Status::ConsultInitiated).await;
    bob_rec.wait_status(Status::Ringing).await;
    bob.answer().await.unwrap();
    rec.wait_status(Status::ConsultCall).await;
    alice.third_call_transfer_finished().await.unwrap();
    rec.wait_status(Status::AfterCallWork).await;
    assert_eq!(rec.statuses(), vec![12, 16, 17, 5]);
    bob_rec.wait_status(Status::InboundCall).await;
    alice.shutdown().await.unwrap();
    bob.shutdown().await.unwrap();
}

#[tokio::test]
async fn consult_cancelled_before_the_third_party_answers() {
    let rig = Rig::start().await;
    let (alice, rec, bob, bob_rec, _job) = alice_talking(&rig).await;
    alice.conference_init("8002", "").await.unwrap();
    rec.wait_status(Status::ConsultInitiated).await;
    bob_rec.wait_status(Status::Ringing).await;
    alice
        .third_call_retrieve()
        .await
        .expect("thirdCallRetrieve");
    rec.wait_status(Status::InboundCall).await;
    assert_eq!(rec.statuses(), vec![12, 16, 9]);
    alice.shutdown().await.unwrap();
    bob.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_customer_hangs_up_before_the_third_party_answers_16_8_10() {
    let rig = Rig::start().await;
    let (alice, rec, bob, bob_rec, job) = alice_talking(&rig).await;
    alice.conference_init("8002", "").await.unwrap();
    rec.wait_status(Status::ConsultInitiated).await;
    bob_rec.wait_status(Status::Ringing).await;
    rig.customer_hangs_up(&job);
    rec.wait_status(Status::Dialing).await;
    bob.answer().await.unwrap();
    rec.wait_status(Status::OutboundCall).await;
    assert_eq!(rec.statuses(), vec![12, 16, 8, 10]);
    alice.shutdown().await.unwrap();
    bob.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_customer_hangs_up_after_the_third_party_answers_17_10() {
    let rig = Rig::start().await;
    let (alice, rec, bob, bob_rec, job) = alice_talking(&rig).await;
    alice.conference_init("8002", "").await.unwrap();
    bob_rec.wait_status(Status::Ringing).await;
    bob.answer().await.unwrap();
    rec.wait_status(Status::ConsultCall).await;
    rig.customer_hangs_up(&job);
    rec.wait_status(Status::OutboundCall).await;
    assert_eq!(rec.statuses(), vec![12, 16, 17, 10]);
    alice.shutdown().await.unwrap();
    bob.shutdown().await.unwrap();
}

#[tokio::test]
async fn conference_then_drop_the_third_party() {
    let rig = Rig::start().await;
    let (alice, rec, bob, bob_rec, _job) = alice_talking(&rig).await;
    alice.conference_init("8002", "").await.unwrap();
    bob_rec.wait_status(Status::Ringing).await;
    bob.answer().await.unwrap();
    rec.wait_status(Status::ConsultCall).await;
    alice
        .conference_finished()
        .await
        .expect("conferenceFinished");
    rec.wait_status(Status::Conference).await;
    alice
        .third_call_hangup_third("8002")
        .await
        .expect("thirdCallHangupThird");
    rec.wait_status(Status::InboundCall).await;
    assert!(matches!(
        alice.third_call_hangup_third("8099").await,
        Err(Error::NotAllowed(_) | Error::Unavailable { .. })
    ));
    assert_eq!(rec.statuses(), vec![12, 16, 17, 19, 9]);
    alice.shutdown().await.unwrap();
    bob.shutdown().await.unwrap();
}

#[tokio::test]
async fn blind_transfer_to_an_agent() {
    let rig = Rig::start().await;
    let (alice, rec, bob, bob_rec, _job) = alice_talking(&rig).await;
    alice
        .third_call_transfer("8002", "", false, None)
        .await
        .expect("thirdCallTransfer");
    rec.wait_status(Status::AfterCallWork).await;
    bob_rec.wait_status(Status::Ringing).await;
    bob.answer().await.unwrap();
    bob_rec.wait_status(Status::InboundCall).await;
    alice.shutdown().await.unwrap();
    bob.shutdown().await.unwrap();
}

#[tokio::test]
async fn blind_transfer_to_a_skill_group() {
    let rig = Rig::start().await;
    let (alice, rec, bob, bob_rec, _job) = alice_talking(&rig).await;
    alice
        .third_call_transfer("sales@ccc-emulator", "", false, Some("Sales"))
        .await
        .expect("thirdCallTransfer to a group");
    rec.wait_status(Status::AfterCallWork).await;
    bob_rec.wait_status(Status::Ringing).await;
    alice.shutdown().await.unwrap();
    bob.shutdown().await.unwrap();
}

#[tokio::test]
async fn agent_to_agent_then_conference_from_idle() {
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_manual().build().unwrap();
    let (bob, bob_rec) = rig.ready_agent(BOB, config.clone()).await;
    let (alice, rec) = rig.ready_agent(ALICE, config).await;
    let dialed = alice.agent_to_agent("8002").await.expect("agentToAgent");
    assert!(dialed.job_id.is_some());
    rec.wait_status(Status::Dialing).await;
    bob_rec.wait_status(Status::Ringing).await;
    bob.answer().await.unwrap();
    rec.wait_status(Status::InternalCall).await;
    // M27 from an internal call: consult an outside number, then join.
    alice.conference_init("13800000001", "").await.unwrap();
    rec.wait_status(Status::ConsultCall).await;
    alice.conference_finished().await.unwrap();
    rec.wait_status(Status::Conference).await;
    assert_eq!(rec.statuses(), vec![8, 11, 12, 16, 17, 19]);
    alice.shutdown().await.unwrap();
    bob.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_supervisor_monitors_a_call() {
    let rig = Rig::start().await;
    let (alice, _rec, bob, _bob_rec, _job) = alice_talking(&rig).await;
    let config = rig.config().after_call_rule_seconds(0).build().unwrap();
    let (sam, sam_rec) = rig.ready_agent(SAM, config).await;
    sam.monitor("8001").await.expect("monitor");
    sam_rec.wait_status(Status::Monitoring).await;
    // K21: only hang up.
    assert!(matches!(sam.call_hold().await, Err(Error::NotAllowed(_))));
    sam.hang_up().await.unwrap();
    sam_rec
        .wait_for(
            "out of monitoring",
            |e| matches!(e, Event::StatusChange(s) if s.last_code == Status::Monitoring),
        )
        .await;
    sam.shutdown().await.unwrap();
    alice.shutdown().await.unwrap();
    bob.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_voice_survey_takes_the_customer_and_the_agent_leaves() {
    let rig = Rig::start().await;
    let (alice, rec, bob, _bob_rec, job) = alice_talking(&rig).await;
    alice
        .transfer_satisfaction()
        .await
        .expect("transferStatisfic");
    rec.wait_status(Status::AfterCallWork).await;
    // The survey IVR takes the rating after a second.
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        let rating = rig
            .emulator
            .with_platform(|p, _| p.records().call(&job).and_then(|c| c.satisfaction));
        if rating.is_some() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no rating recorded");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    alice.shutdown().await.unwrap();
    bob.shutdown().await.unwrap();
}

#[tokio::test]
async fn two_agents_taking_calls_at_once_never_change_status_by_themselves() {
    // Both agents ring, talk and wrap up at the same moments, round after round: each
    // one's statuses are its own calls' and nothing else (no break, no stale status).
    let rig = Rig::start().await;
    let config = rig.config().after_call_rule_seconds(0).build().unwrap();
    let (alice, alice_rec) = rig.ready_agent(ALICE, config.clone()).await;
    let (bob, bob_rec) = rig.ready_agent(BOB, config).await;
    const ROUNDS: usize = 5;
    for round in 0..ROUNDS {
        let first = rig.call_in("13800000009", "02150000001");
        let second = rig.call_in("13800000008", "02150000001");
        for (wb, rec) in [(&alice, &alice_rec), (&bob, &bob_rec)] {
            rec.wait_status(Status::Ringing).await;
            wb.answer()
                .await
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        for rec in [&alice_rec, &bob_rec] {
            rec.wait_status(Status::InboundCall).await;
        }
        rig.customer_hangs_up(&first);
        rig.customer_hangs_up(&second);
        for rec in [&alice_rec, &bob_rec] {
            rec.wait_status(Status::Ready).await;
        }
    }
    for (who, rec) in [("alice", &alice_rec), ("bob", &bob_rec)] {
        assert_eq!(
            rec.statuses(),
            [6, 9, 5, 3].repeat(ROUNDS),
            "{who}: {:?}",
            rec.hooks_and_codes()
        );
        assert!(!rec.hooks().contains(&"onErrorNotify"), "{who}");
    }
    alice.shutdown().await.unwrap();
    bob.shutdown().await.unwrap();
}
