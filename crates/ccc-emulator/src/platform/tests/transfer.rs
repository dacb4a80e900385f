use super::*;

/// Bob talks to a customer; Alice and Carol (support and sales) are ready.
fn talking() -> (World, Text) {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    let job = w.inbound(CUSTOMER, SALES_LINE);
    w.answer(BOB);
    assert_eq!(w.seq(BOB), [6, 9]);
    w.ready(ALICE, &[SALES, SUPPORT]);
    w.ready(CAROL, &[SUPPORT]);
    (w, job)
}

fn consult(w: &mut World, job: &Text, who: &str) {
    w.ok(
        BOB,
        Command::InitiateAttendedTransfer {
            job_id: job.to_string(),
            transferee: who.into(),
            kind: None,
            transferor: None,
        },
    );
}

#[test]
fn blind_transfer_to_an_agent() {
    let (mut w, job) = talking();
    w.ok(
        BOB,
        Command::BlindTransfer {
            job_id: job.to_string(),
            transferee: "8001".into(),
            kind: None,
            transferor: None,
        },
    );
    assert_eq!(w.seq(BOB), [5]);
    assert_eq!(w.seq(ALICE), [6]);
    w.answer(ALICE);
    assert_eq!(w.seq(ALICE), [9]);
    w.release(ALICE);
    let record = w.record(&job);
    let who: Vec<&str> = record.agents.iter().map(|a| &*a.user_id).collect();
    assert_eq!(who, [BOB, ALICE]);
}

#[test]
fn blind_transfer_to_a_skill_group_and_to_a_number() {
    let (mut w, job) = talking();
    w.ok(
        BOB,
        Command::BlindTransfer {
            job_id: job.to_string(),
            transferee: SUPPORT.into(),
            kind: Some(TransfereeType::SkillGroup),
            transferor: None,
        },
    );
    assert_eq!(w.seq(BOB), [5]);
    assert_eq!(w.seq(CAROL), [6], "Carol has the higher support level");
    w.answer(CAROL);
    w.ok(
        CAROL,
        Command::BlindTransfer {
            job_id: job.to_string(),
            transferee: "13800000001".into(),
            kind: Some(TransfereeType::ExternalNumber),
            transferor: Some("02150000001".into()),
        },
    );
    assert_eq!(w.seq(CAROL), [9, 5]);
    w.advance(600);
    let call = &w.p.calls()[0];
    assert_eq!(
        call.legs.last().map(|l| l.state.clone()),
        Some(ccc_core::model::ChannelState::Answered)
    );
    w.input(Input::CustomerHangUp {
        job_id: job.clone(),
    });
    assert!(w.p.calls().is_empty());
    let e = w
        .cmd(
            ALICE,
            Command::BlindTransfer {
                job_id: job.to_string(),
                transferee: "x".into(),
                kind: None,
                transferor: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "NotExists.JobId");
}

#[test]
fn consultative_transfer_follows_m24() {
    let (mut w, job) = talking();
    consult(&mut w, &job, ALICE);
    assert_eq!(w.seq(BOB), [12, 16], "through hold to consult initiated");
    assert_eq!(w.seq(ALICE), [6]);
    w.answer(ALICE);
    assert_eq!(w.seq(BOB), [17]);
    assert_eq!(w.seq(ALICE), [11], "talking to the consulting agent");
    w.ok(
        BOB,
        Command::CompleteAttendedTransfer {
            job_id: job.to_string(),
        },
    );
    assert_eq!(w.seq(BOB), [5]);
    assert_eq!(w.seq(ALICE), [9], "now with the customer");
    let mix = w.outputs.iter().rev().find_map(|o| match o {
        Output::Mix { legs, .. } => Some(legs.clone()),
        _ => None,
    });
    let mix = mix.unwrap();
    assert!(
        mix.iter().all(|l| !l.music && l.hears.len() == 1),
        "{mix:?}"
    );
}

#[test]
fn consultation_cancelled_before_and_after_the_third_party_answers() {
    let (mut w, job) = talking();
    consult(&mut w, &job, ALICE);
    w.ok(
        BOB,
        Command::CancelAttendedTransfer {
            job_id: job.to_string(),
        },
    );
    assert_eq!(w.seq(BOB), [12, 16, 9]);
    assert_eq!(w.seq(ALICE), [6, 3]);
    consult(&mut w, &job, CAROL);
    w.answer(CAROL);
    let me = w.my_channel(BOB);
    // M26: "retrieve" during the consultation goes back to the customer.
    w.ok(
        BOB,
        Command::RetrieveCall {
            job_id: job.to_string(),
            channel_id: me,
        },
    );
    assert_eq!(w.seq(BOB), [12, 16, 17, 9]);
    assert_eq!(w.seq(CAROL), [6, 11, 5]);
}

#[test]
fn the_customer_hangs_up_during_the_consultation() {
    // Before the third party answers: 16 -> 8 -> 10.
    let (mut w, job) = talking();
    consult(&mut w, &job, ALICE);
    w.input(Input::CustomerHangUp {
        job_id: job.clone(),
    });
    w.answer(ALICE);
    assert_eq!(w.seq(BOB), [12, 16, 8, 10]);
    assert_eq!(w.seq(ALICE), [6, 11]);
    w.release(BOB);
    assert_eq!(w.seq(ALICE), [5]);

    // After: 17 -> 10.
    let (mut w, job) = talking();
    consult(&mut w, &job, ALICE);
    w.answer(ALICE);
    w.input(Input::CustomerHangUp {
        job_id: job.clone(),
    });
    assert_eq!(w.seq(BOB), [12, 16, 17, 10]);
}

#[test]
fn consulting_an_outside_number() {
    let (mut w, job) = talking();
    consult(&mut w, &job, "13800000001");
    assert_eq!(w.seq(BOB), [12, 16]);
    w.advance(600);
    assert_eq!(w.seq(BOB), [17]);
    w.ok(
        BOB,
        Command::CompleteAttendedTransfer {
            job_id: job.to_string(),
        },
    );
    assert_eq!(w.seq(BOB), [5]);
    assert_eq!(
        w.p.calls()[0]
            .legs
            .iter()
            .filter(|l| l.state.is_live())
            .count(),
        2
    );
}

#[test]
fn three_way_conference_and_dropping_the_third_party() {
    let (mut w, job) = talking();
    consult(&mut w, &job, ALICE);
    w.answer(ALICE);
    w.ok(
        BOB,
        Command::StartConference {
            participants: vec![],
        },
    );
    assert_eq!(w.seq(BOB), [12, 16, 17, 19]);
    assert_eq!(w.seq(ALICE), [6, 11, 19]);
    let mix = w.outputs.iter().rev().find_map(|o| match o {
        Output::Mix { legs, .. } => Some(legs.clone()),
        _ => None,
    });
    assert!(
        mix.unwrap().iter().all(|l| l.hears.len() == 2),
        "everyone hears everyone"
    );
    let alice = w.my_channel(ALICE);
    w.ok(
        BOB,
        Command::ReleaseCall {
            job_id: job.to_string(),
            channel_id: Some(alice),
        },
    );
    assert_eq!(w.seq(BOB), [9]);
    assert_eq!(w.seq(ALICE), [5]);
}

#[test]
fn a_conference_from_idle_calls_every_participant() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    w.ready(ALICE, &[SALES]);
    w.ok(
        BOB,
        Command::StartConference {
            participants: vec!["13800000001".into(), "8001".into()],
        },
    );
    w.advance(10);
    assert_eq!(w.seq(ALICE), [6]);
    w.answer(ALICE);
    w.advance(600);
    assert_eq!(w.seq(BOB), [6, 19]);
    assert_eq!(w.seq(ALICE), [19]);
    assert_eq!(
        w.p.calls()[0]
            .legs
            .iter()
            .filter(|l| l.state.is_live())
            .count(),
        3
    );
}
