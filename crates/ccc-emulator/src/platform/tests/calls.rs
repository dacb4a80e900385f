use super::*;
use ccc_core::model::{ChannelState, UserState};

#[test]
fn inbound_call_rings_is_answered_released_then_after_call_work() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    let job = w.inbound(CUSTOMER, SALES_LINE);
    assert_eq!(w.seq(BOB), [6]);
    let snap = w.p.snapshot(BOB).unwrap();
    let call = snap.call_context.unwrap();
    assert_eq!(call.job_id.as_deref(), Some(&*job));
    let [customer, agent] = call.channels() else {
        panic!("two legs")
    };
    assert_eq!(customer.originator.as_deref(), Some(CUSTOMER));
    assert_eq!(customer.destination.as_deref(), Some(SALES_LINE));
    assert_eq!(agent.user_id.as_deref(), Some(BOB));
    assert_eq!(agent.skill_group_id.as_deref(), Some(SALES));
    assert!(
        agent
            .channel_id
            .as_deref()
            .unwrap()
            .starts_with("ch:user:13800000009->8002:")
    );
    w.answer(BOB);
    assert_eq!(w.seq(BOB), [9]);
    w.advance(4_000);
    w.release(BOB);
    assert_eq!(w.seq(BOB), [5]);
    w.ok(
        BOB,
        Command::ReadyForService {
            outbound_only: None,
        },
    );
    assert_eq!(w.seq(BOB), [3]);
    let record = w.record(&job);
    assert_eq!(record.contact_type, "Inbound");
    assert_eq!(record.disposition, "Success");
    assert_eq!(record.calling.as_ref(), CUSTOMER);
    assert_eq!(record.agents.len(), 1);
    assert_eq!(record.agents[0].talk_ms, 4_000);
    assert!(
        record.agents[0].work_ms == 0,
        "after-call work lasted no time"
    );
    assert_eq!(record.release_initiator.as_deref(), Some(BOB));
    assert_eq!(record.recording.as_ref().map(|r| r.duration_s), Some(4));
}

#[test]
fn after_call_work_time_lands_in_the_record() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    let job = w.inbound(CUSTOMER, SALES_LINE);
    w.answer(BOB);
    w.release(BOB);
    w.advance(7_000);
    w.ok(
        BOB,
        Command::ReadyForService {
            outbound_only: None,
        },
    );
    assert_eq!(w.record(&job).agents[0].work_ms, 7_000);
}

#[test]
fn the_highest_level_rings_first_then_the_longest_idle() {
    let mut w = World::new();
    w.ready(ALICE, &[SALES]); // level 5
    w.ready(BOB, &[SALES]); // level 8
    w.ready(SAM, &[SALES]); // level 1
    w.inbound(CUSTOMER, SALES_LINE);
    assert_eq!(w.seq(BOB), [6]);
    assert!(w.seq(ALICE).is_empty());
    w.inbound("13800000010", SALES_LINE);
    assert_eq!(w.seq(ALICE), [6]);
    w.inbound("13800000011", SALES_LINE);
    assert_eq!(w.seq(SAM), [6]);

    // Same level: the one idle longest.
    let mut s = Scenario::default();
    for a in &mut s.agents {
        for skill in &mut a.skills {
            skill.level = 5;
        }
    }
    let mut w = World::with(s);
    w.ready(BOB, &[SALES]);
    w.advance(1_000);
    w.ready(ALICE, &[SALES]);
    w.inbound(CUSTOMER, SALES_LINE);
    assert_eq!(w.seq(BOB), [6], "Bob has been ready longer");
}

#[test]
fn a_call_waits_in_its_queue_until_an_agent_is_ready() {
    let mut w = World::new();
    w.sign_in(CAROL, &[SUPPORT]);
    w.seq(CAROL);
    let job = w.inbound(CUSTOMER, SUPPORT_LINE);
    assert!(w.p.calls()[0].queued);
    let mix = w.outputs.iter().rev().find_map(|o| match o {
        Output::Mix { legs, .. } => Some(legs.clone()),
        _ => None,
    });
    assert!(mix.unwrap()[0].music, "the customer hears queue music");
    w.ok(
        CAROL,
        Command::ReadyForService {
            outbound_only: None,
        },
    );
    assert_eq!(w.seq(CAROL), [3, 6]);
    assert_eq!(w.job_of(CAROL), *job);
}

#[test]
fn unanswered_offers_time_out_to_break_and_the_call_is_requeued() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    w.ready(ALICE, &[SALES]);
    let job = w.inbound(CUSTOMER, SALES_LINE);
    assert_eq!(w.seq(BOB), [6]);
    w.advance(29_999);
    assert_eq!(w.status(BOB), 6);
    w.advance(1);
    assert_eq!(w.seq(BOB), [4]);
    let bob = w.p.snapshot(BOB).unwrap().user_context.unwrap();
    assert_eq!(bob.break_code.as_deref(), Some("RingingTimeout"));
    assert_eq!(
        w.seq(ALICE),
        [6],
        "the call went back to the queue and on to Alice"
    );
    assert_eq!(w.job_of(ALICE), *job);
}

#[test]
fn a_shortened_ring_timeout_from_the_scenario() {
    let mut s = Scenario::default();
    s.platform.ring_timeout_ms = 300;
    let mut w = World::with(s);
    w.ready(BOB, &[SALES]);
    w.inbound(CUSTOMER, SALES_LINE);
    w.advance(300);
    assert_eq!(w.seq(BOB), [6, 4]);
    assert!(w.p.calls()[0].queued, "nobody else is ready: it waits");
}

#[test]
fn the_customer_hangs_up_while_it_rings() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    let job = w.inbound(CUSTOMER, SALES_LINE);
    w.input(Input::CustomerHangUp {
        job_id: job.clone(),
    });
    assert_eq!(w.seq(BOB), [6, 3], "back to ready: no call was handled");
    assert_eq!(w.record(&job).disposition, "Abandoned");
}

#[test]
fn a_scripted_customer_hangs_up_after_talking() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    // 13800000004 hangs up 5 s after being connected.
    let job = w.inbound("13800000004", SALES_LINE);
    w.advance(10_000);
    w.answer(BOB);
    w.advance(4_999);
    assert_eq!(w.status(BOB), 9);
    w.advance(1);
    assert_eq!(w.seq(BOB), [6, 9, 5]);
    assert_eq!(
        w.record(&job).release_initiator.as_deref(),
        Some("13800000004")
    );
}

#[test]
fn outbound_call_rings_the_agent_first_then_the_customer() {
    let mut w = World::new();
    w.ready(ALICE, &[SALES]);
    let r = w.ok(
        ALICE,
        Command::MakeCall {
            callee: "13800000001".into(),
            caller: Some("01050000002".into()),
        },
    );
    let call = r.call.unwrap();
    let [customer, agent] = call.channels() else {
        panic!("two legs")
    };
    assert_eq!(agent.channel_state, Some(ChannelState::Ringing));
    assert_eq!(customer.channel_state, Some(ChannelState::Created));
    assert_eq!(customer.originator.as_deref(), Some("01050000002"));
    assert_eq!(r.user.user_state, Some(UserState::Dialing));
    w.advance(100);
    let legs = &w.p.calls()[0].legs;
    assert_eq!(
        legs[0].state,
        ChannelState::Ringing,
        "the customer rings once the agent is on"
    );
    w.advance(500);
    assert_eq!(w.seq(ALICE), [8, 10]);
    w.release(ALICE);
    assert_eq!(w.seq(ALICE), [5]);
    let record = &w.p.records().calls[0];
    assert_eq!(
        (record.contact_type, record.disposition),
        ("Outbound", "Success")
    );
}

#[test]
fn outbound_busy_no_answer_and_bad_caller() {
    let mut w = World::new();
    w.ready(ALICE, &[SALES]);
    let busy = w
        .ok(
            ALICE,
            Command::MakeCall {
                callee: "13800000002".into(),
                caller: None,
            },
        )
        .call
        .unwrap();
    w.advance(1_000);
    assert_eq!(w.seq(ALICE), [8, 5]);
    let record = w.record(busy.job_id.as_deref().unwrap());
    assert_eq!(record.disposition, "Busy");
    assert_eq!(
        record.calling.as_ref(),
        "02150000001",
        "the first number of the first group"
    );
    w.ok(
        ALICE,
        Command::ReadyForService {
            outbound_only: None,
        },
    );
    w.seq(ALICE);
    let silent = w
        .ok(
            ALICE,
            Command::MakeCall {
                callee: "13800000003".into(),
                caller: None,
            },
        )
        .call
        .unwrap();
    w.advance(44_000);
    assert_eq!(w.status(ALICE), 8);
    w.advance(2_000);
    assert_eq!(w.seq(ALICE), [8, 5]);
    assert_eq!(
        w.record(silent.job_id.as_deref().unwrap()).disposition,
        "NoAnswer"
    );
    let e = w
        .cmd(
            ALICE,
            Command::MakeCall {
                callee: "138".into(),
                caller: Some("4008000000".into()),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "NotExists.Number");
    let e = w
        .cmd(
            ALICE,
            Command::MakeCall {
                callee: " ".into(),
                caller: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "Parameter.Blank");
}

#[test]
fn no_call_while_ringing() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    w.inbound(CUSTOMER, SALES_LINE);
    let e = w
        .cmd(
            BOB,
            Command::MakeCall {
                callee: "13800000001".into(),
                caller: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "InvalidOperation.UserState");
    assert!(e.message.contains("(RINGING)"), "{e}");
}

#[test]
fn internal_call_between_two_agents() {
    let mut w = World::new();
    w.ready(ALICE, &[SALES]);
    w.ready(BOB, &[SALES]);
    w.ok(
        ALICE,
        Command::MakeCall {
            callee: "8002".into(),
            caller: None,
        },
    );
    w.advance(10);
    assert_eq!(w.seq(ALICE), [8]);
    assert_eq!(w.seq(BOB), [6]);
    w.answer(BOB);
    assert_eq!(w.seq(ALICE), [11]);
    assert_eq!(w.seq(BOB), [11]);
    w.release(BOB);
    assert_eq!(w.seq(ALICE), [5]);
    assert_eq!(w.seq(BOB), [5]);
    let r = &w.p.records().calls[0];
    assert_eq!((r.contact_type, r.disposition), ("Internal", "Success"));
}

#[test]
fn an_internal_call_to_a_busy_agent_fails() {
    let mut w = World::new();
    w.ready(ALICE, &[SALES]);
    w.ok(
        ALICE,
        Command::MakeCall {
            callee: "8003".into(),
            caller: None,
        },
    );
    w.advance(10);
    assert_eq!(w.seq(ALICE), [8, 5]);
    assert_eq!(
        w.p.records().calls[0].disposition,
        "NoAnswer",
        "Carol is signed out"
    );
}

#[test]
fn hold_retrieve_mute_and_dtmf() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    let job = w.inbound(CUSTOMER, SALES_LINE);
    w.answer(BOB);
    let me = w.my_channel(BOB);
    w.ok(
        BOB,
        Command::HoldCall {
            job_id: job.to_string(),
            channel_id: me.clone(),
        },
    );
    let mix = w.outputs.iter().rev().find_map(|o| match o {
        Output::Mix { legs, .. } => Some(legs.clone()),
        _ => None,
    });
    assert!(
        mix.unwrap().iter().any(|l| l.music),
        "the customer hears music"
    );
    let e = w
        .cmd(
            BOB,
            Command::HoldCall {
                job_id: job.to_string(),
                channel_id: me.clone(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "InvalidOperation.ChannelState");
    w.advance(2_000);
    w.ok(
        BOB,
        Command::RetrieveCall {
            job_id: job.to_string(),
            channel_id: me.clone(),
        },
    );
    assert_eq!(w.seq(BOB), [6, 9, 12, 9]);
    w.ok(
        BOB,
        Command::MuteCall {
            job_id: job.to_string(),
            channel_id: None,
        },
    );
    let snap = w.p.snapshot(BOB).unwrap();
    let mine = snap.call_context.unwrap().channels()[1].clone();
    assert!(
        mine.channel_flags
            .contains(ccc_core::model::ChannelFlag::Muted)
    );
    w.ok(
        BOB,
        Command::UnmuteCall {
            job_id: job.to_string(),
            channel_id: None,
        },
    );
    w.ok(
        BOB,
        Command::SendDtmf {
            job_id: job.to_string(),
            channel_id: me.clone(),
            digits: "12#".into(),
        },
    );
    assert_eq!(&*w.p.calls()[0].legs[0].dtmf_received, "12#");
    let e = w
        .cmd(
            BOB,
            Command::SendDtmf {
                job_id: job.to_string(),
                channel_id: me,
                digits: "9x".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "Parameter.Invalid");
    w.release(BOB);
    assert_eq!(w.record(&job).agents[0].hold_ms, 2_000);
}

#[test]
fn the_survey_rates_the_call() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    let job = w.inbound(CUSTOMER, SALES_LINE);
    w.answer(BOB);
    w.ok(
        BOB,
        Command::LaunchSurvey {
            job_id: job.to_string(),
        },
    );
    assert_eq!(
        w.seq(BOB),
        [6, 9, 5],
        "the agent leaves, the customer stays in the survey"
    );
    assert_eq!(w.p.calls().len(), 1);
    w.advance(1_000);
    assert!(w.p.calls().is_empty());
    assert_eq!(w.record(&job).satisfaction, Some(5));
    assert_eq!(w.p.records().appraisals[0].channel, "IVR");
}

#[test]
fn sms_outbox_and_sms_survey() {
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    let job = w.inbound(CUSTOMER, SALES_LINE);
    w.answer(BOB);
    w.release(BOB);
    let biz =
        w.p.send_sms(w.now, 2, "13800000009", Some(r#"{"time":"5 pm"}"#))
            .unwrap();
    let sms = &w.p.records().sms[0];
    assert_eq!(sms.biz_id, biz);
    assert_eq!(
        &*sms.text,
        "Sorry we missed your call. We will call you back at 5 pm."
    );
    w.p.sms_appraise(w.now, &job, "13800000009").unwrap();
    assert_eq!(w.record(&job).satisfaction, Some(5));
    assert_eq!(
        w.p.sms_appraise(w.now, "job-x", "1").unwrap_err().code,
        "NotExists.JobId"
    );
    assert_eq!(
        w.p.send_sms(w.now, 9, "1", None).unwrap_err().http_status,
        404
    );
    assert_eq!(
        w.p.send_sms(w.now, 1, "", None).unwrap_err().code,
        "Parameter.Blank"
    );
}

#[test]
fn a_phone_that_registers_while_its_call_rings_gets_the_call() {
    // The offer and the phone's REGISTER crossed: the call rang on no device, and the
    // phone must still get the INVITE, once.
    let rings = |w: &World| -> Vec<(Text, Text)> {
        w.outputs
            .iter()
            .filter_map(|o| match o {
                Output::RingDevice {
                    job_id, extension, ..
                } => Some((job_id.clone(), extension.clone())),
                _ => None,
            })
            .collect()
    };
    let mut w = World::new();
    w.ready(BOB, &[SALES]);
    let job = w.inbound(CUSTOMER, SALES_LINE);
    assert_eq!(w.seq(BOB), [6]);
    assert!(rings(&w).is_empty(), "no phone yet: {:?}", w.outputs);
    let registered = || Input::SipRegistered {
        user_id: BOB.into(),
        device_id: "urn:uuid:bob-phone".into(),
    };
    w.input(registered());
    assert_eq!(rings(&w), [(job.clone(), Text::from("8002"))]);
    w.outputs.clear();
    w.input(registered());
    assert!(rings(&w).is_empty(), "a refresh rings nothing more");
    w.answer(BOB);
    assert_eq!(w.seq(BOB), [9]);
}
