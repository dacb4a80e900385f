use super::*;
use ccc_core::model::{UserState, WorkMode};

#[test]
fn sign_in_ready_break_sign_out() {
    let mut w = World::new();
    assert_eq!(
        w.status(ALICE),
        0,
        "registering until signed in (the guide's register)"
    );
    let r = w.ok(
        ALICE,
        Command::SignInGroup {
            device_id: "dev-a".into(),
            groups: vec![SALES.into(), SUPPORT.into()],
            additivity: false,
        },
    );
    assert_eq!(r.user.user_state, Some(UserState::Break));
    assert_eq!(r.user.break_code.as_deref(), Some("Warm-up"));
    assert_eq!(
        r.user.signed_skill_group_id_list.as_ref().map(Vec::len),
        Some(2)
    );
    assert_eq!(w.seq(ALICE), [2]);
    w.ok(
        ALICE,
        Command::ReadyForService {
            outbound_only: None,
        },
    );
    w.ok(
        ALICE,
        Command::TakeBreak {
            code: "lunch".into(),
        },
    );
    w.ok(
        ALICE,
        Command::ReadyForService {
            outbound_only: None,
        },
    );
    w.ok(ALICE, Command::SignOutGroup);
    assert_eq!(w.seq(ALICE), [3, 4, 3, 1]);
    w.sign_in(ALICE, &[SALES]);
    assert_eq!(w.seq(ALICE), [2], "signing in again from 1");
}

#[test]
fn every_answer_carries_a_rising_context_id() {
    let mut w = World::new();
    let a = w.ok(
        BOB,
        Command::SignInGroup {
            device_id: "d".into(),
            groups: vec![SALES.into()],
            additivity: false,
        },
    );
    let b = w.ok(
        BOB,
        Command::ReadyForService {
            outbound_only: None,
        },
    );
    assert!(b.context_id > a.context_id);
    let polled =
        w.p.poll_user_status(w.now, Principal::Admin, Some(BOB))
            .unwrap();
    assert_eq!(polled.context_id, Some(b.context_id));
    assert!(polled.user_context.unwrap().heartbeat.is_some());
}

#[test]
fn wrong_states_and_bad_parameters_get_cccs_codes() {
    let mut w = World::new();
    let e = w
        .cmd(
            ALICE,
            Command::ReadyForService {
                outbound_only: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "InvalidOperation.UserState");
    assert_eq!(
        e.message,
        "The operation is not allowed. User state (OFFLINE) does not meet expectations (READY,BREAK,WORKING)."
    );
    let e = w
        .cmd(ALICE, Command::TakeBreak { code: " ".into() })
        .unwrap_err();
    assert_eq!((e.code.as_ref(), e.http_status), ("Parameter.Blank", 400));
    let e = w
        .cmd(
            ALICE,
            Command::SignInGroup {
                device_id: "d".into(),
                groups: vec!["vip@ccc-emulator".into()],
                additivity: false,
            },
        )
        .unwrap_err();
    assert_eq!(
        (e.code.as_ref(), e.http_status),
        ("NotExists.SkillGroupId", 404)
    );
    let e = w
        .cmd("nobody@ccc-emulator", Command::SignOutGroup)
        .unwrap_err();
    assert_eq!(e.code, "NotExists.UserId");
    assert_eq!(
        e.message,
        "The user nobody@ccc-emulator does not exist in instance ccc-emulator."
    );
    let e =
        w.p.command(w.now, Principal::Admin, None, Command::SignOutGroup)
            .unwrap_err();
    assert_eq!(e.code, "Parameter.Blank");
    w.ready(ALICE, &[SALES]);
    let e = w
        .cmd(
            ALICE,
            Command::AnswerCall {
                job_id: "job-1".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "NotExists.JobId");
    let e = w
        .cmd(
            ALICE,
            Command::ChangeWorkMode {
                mode: WorkMode::from("SOMEWHERE"),
                mobile: None,
                groups: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "Parameter.Invalid");
}

#[test]
fn an_agents_own_key_acts_only_on_itself() {
    let w = World::new();
    let alice = w.p.agent_id(ALICE).unwrap();
    assert_eq!(w.p.resolve(Principal::Agent(alice), None), Ok(alice));
    let e = w.p.resolve(Principal::Agent(alice), Some(BOB)).unwrap_err();
    assert_eq!(
        (e.code.as_ref(), e.http_status),
        ("Forbidden.NoPermission", 403)
    );
    let sam = w.p.agent_id(SAM).unwrap();
    assert!(
        w.p.resolve(Principal::Agent(sam), Some(BOB)).is_ok(),
        "admins may"
    );
}

#[test]
fn a_second_sign_in_kicks_the_first_device_out() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    w.outputs.clear();
    w.ok(
        BOB,
        Command::SignInGroup {
            device_id: "second-tab".into(),
            groups: vec![SALES.into()],
            additivity: false,
        },
    );
    let kicked: Vec<&Output> = w
        .outputs
        .iter()
        .filter(|o| matches!(o, Output::SignedOut { .. }))
        .collect();
    assert_eq!(
        kicked,
        [&Output::SignedOut {
            user_id: BOB.into(),
            device: Some(format!("dev-{BOB}").into()),
            reason: ccc_core::SignOutReason::KaRegister,
        }]
    );
    // The same device signing in again kicks nobody.
    w.outputs.clear();
    w.ok(
        BOB,
        Command::SignInGroup {
            device_id: "second-tab".into(),
            groups: vec![SALES.into()],
            additivity: true,
        },
    );
    assert!(
        !w.outputs
            .iter()
            .any(|o| matches!(o, Output::SignedOut { .. }))
    );
}

#[test]
fn no_second_sign_in_while_in_a_call() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    w.inbound(CUSTOMER, SALES_LINE);
    let e = w
        .cmd(
            BOB,
            Command::SignInGroup {
                device_id: "other".into(),
                groups: vec![SALES.into()],
                additivity: false,
            },
        )
        .unwrap_err();
    assert_eq!(
        (e.code.as_ref(), e.http_status),
        ("Forbidden.AgentInCall", 403)
    );
}

#[test]
fn the_admin_kick_signs_out_with_the_reason() {
    let mut w = World::new();
    w.ready(ALICE, &[SALES]);
    w.inbound(CUSTOMER, SALES_LINE);
    w.seq(ALICE);
    w.p.kick(w.now, BOB, ccc_core::SignOutReason::KaRegister)
        .unwrap();
    w.drain();
    assert!(
        w.outputs
            .iter()
            .any(|o| matches!(o, Output::SignedOut { user_id, .. } if **user_id == *BOB))
    );
    w.answer(ALICE);
    w.p.kick(w.now, ALICE, ccc_core::SignOutReason::KaRegister)
        .unwrap();
    w.drain();
    assert_eq!(w.seq(ALICE), [9, 1]);
    assert!(w.p.calls().is_empty(), "the call ended with the kick-out");
}

#[test]
fn outbound_only_agents_get_no_inbound_calls() {
    let mut w = World::new();
    w.sign_in(BOB, &[SALES]);
    w.ok(
        BOB,
        Command::ReadyForService {
            outbound_only: Some(true),
        },
    );
    w.seq(BOB);
    let job = w.inbound(CUSTOMER, SALES_LINE);
    assert_eq!(w.status(BOB), 3);
    assert!(w.p.calls()[0].queued);
    w.ok(
        BOB,
        Command::ReadyForService {
            outbound_only: Some(false),
        },
    );
    assert_eq!(w.seq(BOB), [6]);
    assert_eq!(w.job_of(BOB), *job);
}

#[test]
fn reset_takes_a_stuck_agent_out_of_its_call() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    w.inbound(CUSTOMER, SALES_LINE);
    w.answer(BOB);
    w.ok(BOB, Command::ResetAgentState);
    assert_eq!(w.seq(BOB), [6, 9, 3]);
    assert!(w.p.calls().is_empty());
}

#[test]
fn off_site_agents_answer_on_their_mobile() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    let r = w.ok(
        BOB,
        Command::ChangeWorkMode {
            mode: WorkMode::OffSite,
            mobile: Some("13800000001".into()),
            groups: None,
        },
    );
    assert_eq!(r.user.work_mode, Some(WorkMode::OffSite));
    assert_eq!(r.user.mobile.as_deref(), Some("13800000001"));
    let job = w.inbound(CUSTOMER, SALES_LINE);
    assert_eq!(w.seq(BOB), [6]);
    // The mobile line (customer 13800000001) answers after 500 ms by its script.
    w.advance(600);
    assert_eq!(w.seq(BOB), [9]);
    assert!(
        w.outputs
            .iter()
            .any(|o| matches!(o, Output::LineUp { number, .. } if &**number == "13800000001"))
    );
    w.input(Input::CustomerHangUp {
        job_id: job.clone(),
    });
    assert_eq!(w.seq(BOB), [5]);
    assert_eq!(w.record(&job).disposition, "Success");
}
