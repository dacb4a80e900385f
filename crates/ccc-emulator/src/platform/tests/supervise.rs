use super::*;

fn talking() -> (World, Text) {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    w.ready(SAM, &[SUPPORT]);
    let job = w.inbound(CUSTOMER, SALES_LINE);
    w.answer(BOB);
    assert_eq!(w.seq(BOB), [6, 9]);
    (w, job)
}

#[test]
fn monitor_listens_without_being_heard() {
    let (mut w, _job) = talking();
    w.ok(
        SAM,
        Command::MonitorCall {
            monitored_user: BOB.into(),
        },
    );
    w.advance(10);
    assert_eq!(w.seq(SAM), [21]);
    assert!(w.seq(BOB).is_empty(), "the monitored agent notices nothing");
    let mix = w.outputs.iter().rev().find_map(|o| match o {
        Output::Mix { legs, .. } => Some(legs.clone()),
        _ => None,
    });
    let mix = mix.unwrap();
    let sam_leg = mix
        .iter()
        .find(|l| l.hears.len() == 2)
        .expect("Sam hears both")
        .leg;
    assert!(
        mix.iter().all(|l| !l.hears.contains(&sam_leg)),
        "nobody hears Sam"
    );
    w.release(SAM);
    assert_eq!(w.seq(SAM), [3], "back to ready");
    assert_eq!(w.status(BOB), 9);
}

#[test]
fn barge_in_makes_a_conference_for_the_supervisor() {
    let (mut w, job) = talking();
    w.ok(
        SAM,
        Command::BargeInCall {
            job_id: job.to_string(),
            barged_user: BOB.into(),
        },
    );
    w.advance(10);
    assert_eq!(
        w.seq(SAM),
        [6, 19],
        "the supervisor's device rings, then the conference"
    );
}

#[test]
fn coaching_is_passive_help_for_the_agent() {
    let (mut w, job) = talking();
    w.ok(
        SAM,
        Command::CoachCall {
            job_id: job.to_string(),
            coached_user: BOB.into(),
        },
    );
    w.advance(10);
    assert_eq!(w.seq(SAM), [21]);
    assert_eq!(w.seq(BOB), [20]);
    w.release(SAM);
    assert_eq!(w.seq(BOB), [9]);
}

#[test]
fn intercept_takes_the_call_over() {
    let (mut w, job) = talking();
    w.ok(
        SAM,
        Command::InterceptCall {
            job_id: job.to_string(),
            intercepted_user: BOB.into(),
        },
    );
    w.advance(10);
    assert_eq!(w.seq(BOB), [5]);
    assert_eq!(
        w.seq(SAM),
        [6, 9],
        "rings like an inbound call, then talks to the customer"
    );
}

#[test]
fn only_supervisors_supervise_and_only_calls() {
    let (mut w, _) = talking();
    w.ready(ALICE, &[SALES]);
    let e = w
        .cmd(
            ALICE,
            Command::MonitorCall {
                monitored_user: BOB.into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "Forbidden.NoPermission");
    let e = w
        .cmd(
            SAM,
            Command::MonitorCall {
                monitored_user: ALICE.into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "InvalidOperation.CallState");
}
