//! The guide's consultative transfer (M24, M25), replayed on the agent machine.
//!
//! Customer A calls in; agent B (this program's agent) answers, consults agent C with
//! A on hold, C answers, and B completes the transfer so A talks to C. The agent-link
//! snapshots are what the platform would push; the machine turns them into the guide's
//! status codes and hooks. The story then runs twice more with A hanging up before and
//! after C answers. Each run prints its events and checks the status sequence against
//! the guide's, exiting non-zero on a difference.
//!
//! Run: `cargo run -p ccc-core --example consult_transfer`

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ccc_core::config::Config;
use ccc_core::model::{
    AgentSnapshot, CallContext, CallType, ChannelContext, ChannelFlags, ChannelState, UserContext,
    UserState,
};
use ccc_core::{Action, Agent, Event, Input, Operation};

const B: &str = "agent-b@ccc-demo";
const C: &str = "agent-c@ccc-demo";

fn main() -> ExitCode {
    let stories: [(&str, &[Moment], &[i8]); 3] = [
        (
            "transfer completed",
            &[Moment::CAnswers, Moment::BTransfers],
            &[9, 12, 16, 17, 5, 3],
        ),
        (
            "A hangs up before C answers",
            &[Moment::AHangsUp, Moment::CAnswers],
            &[9, 12, 16, 8, 10],
        ),
        (
            "A hangs up after C answers",
            &[Moment::CAnswers, Moment::AHangsUp],
            &[9, 12, 16, 17, 10],
        ),
    ];
    let mut failed = false;
    for (name, moments, want) in stories {
        println!("== {name}");
        let got = replay(moments);
        let ok = got.ends_with(want);
        println!(
            "   status sequence {got:?}: {}",
            if ok { "as the guide says" } else { "DIFFERS" }
        );
        if !ok {
            eprintln!("   the guide says ... {want:?}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Moment {
    CAnswers,
    AHangsUp,
    BTransfers,
}

/// Runs one story and returns the status codes the program saw.
fn replay(moments: &[Moment]) -> Vec<i8> {
    let config = Config::builder("ccc-demo", true)
        .build()
        .expect("a valid config");
    let mut agent = Agent::new(&config);
    let mut now = Instant::now();
    let start = now;
    let mut seen = vec![agent.status().code()];
    let mut context_id = 0;
    let mut push =
        |agent: &mut Agent, now: Instant, state: UserState, call: Option<CallContext>| {
            context_id += 1;
            agent.handle(
                now,
                Input::Snapshot(AgentSnapshot::new(Some(context_id), user(state), call)),
            );
        };

    // Prints the events, and carries out the actions as a shell would (here the
    // platform's answer to ReadyForService is fed back at once), until both are empty.
    let drain = |agent: &mut Agent, now: Instant, seen: &mut Vec<i8>| {
        loop {
            while let Some(event) = agent.poll_event() {
                print_event(now - start, &event);
                if let Event::StatusChange(change) = event {
                    seen.push(change.code.code());
                }
            }
            let Some(action) = agent.poll_action() else {
                break;
            };
            println!(
                "   +{:>4.1}s  action          {action:?}",
                (now - start).as_secs_f32()
            );
            if action == Action::GoReady {
                agent.handle(now, Input::UserContext(user(UserState::Ready)));
            }
        }
    };

    // Register, sign in, ready.
    agent
        .request(now, Operation::Register)
        .expect("register from -1");
    agent.handle(now, Input::SipRegistered);
    let mut warm_up = user(UserState::Break);
    warm_up.break_code = Some("Warm-up".into());
    agent.handle(now, Input::UserContext(warm_up));
    drain(&mut agent, now, &mut seen);

    // A calls in; B answers.
    now += Duration::from_secs(1);
    let mut a = leg("ch-a", None, CallType::Inbound, ChannelState::Answered, 0);
    let mut b = leg("ch-b", Some(B), CallType::Inbound, ChannelState::Ringing, 1);
    push(&mut agent, now, UserState::Ringing, Some(call(&[&a, &b])));
    drain(&mut agent, now, &mut seen);
    now += Duration::from_secs(2);
    agent
        .request(now, Operation::Answer)
        .expect("answer while ringing");
    b.channel_state = Some(ChannelState::Answered);
    push(&mut agent, now, UserState::Talking, Some(call(&[&a, &b])));
    drain(&mut agent, now, &mut seen);

    // B consults C: A is held.
    now += Duration::from_secs(20);
    agent
        .request(now, Operation::ConferenceInit)
        .expect("consult from an inbound call");
    a.channel_flags = ChannelFlags::parse("HOLD");
    let mut c = leg(
        "ch-c",
        Some(C),
        CallType::Consultant,
        ChannelState::Ringing,
        2,
    );
    push(
        &mut agent,
        now,
        UserState::Talking,
        Some(call(&[&a, &b, &c])),
    );
    drain(&mut agent, now, &mut seen);

    for moment in moments {
        now += Duration::from_secs(5);
        match moment {
            Moment::CAnswers => {
                c.channel_state = Some(ChannelState::Answered);
                push(
                    &mut agent,
                    now,
                    UserState::Talking,
                    Some(call(&[&a, &b, &c])),
                );
            }
            Moment::AHangsUp => {
                a.channel_state = Some(ChannelState::Released);
                push(
                    &mut agent,
                    now,
                    UserState::Talking,
                    Some(call(&[&a, &b, &c])),
                );
            }
            Moment::BTransfers => {
                agent
                    .request(now, Operation::ThirdCallTransferFinished)
                    .expect("transfer at 17");
                push(&mut agent, now, UserState::Working, None);
                drain(&mut agent, now, &mut seen);
                // After-call work ends by itself after afterCallRule (15 s).
                now += Duration::from_secs(15);
                assert_eq!(agent.poll_timeout(), Some(now), "the after-call timer");
                agent.handle_timeout(now);
            }
        }
        drain(&mut agent, now, &mut seen);
    }
    seen
}

fn print_event(at: Duration, event: &Event) {
    let at = at.as_secs_f32();
    match event {
        Event::StatusChange(change) => println!(
            "   +{at:>4.1}s  onStatusChange  {:>2} -> {:>2}  ({} -> {})",
            change.last_code.code(),
            change.code.code(),
            change.last_code.meaning(),
            change.code.meaning()
        ),
        Event::CallComing(c) => println!(
            "   +{at:>4.1}s  onCallComing    caller {} contact {}",
            c.caller.as_deref().unwrap_or("-"),
            c.contact_id.as_deref().unwrap_or("-")
        ),
        Event::HangUp { kind } => println!("   +{at:>4.1}s  onHangUp        {kind}"),
        other => println!("   +{at:>4.1}s  {}", other.hook_name()),
    }
}

fn user(state: UserState) -> UserContext {
    let mut user = UserContext::default();
    user.user_id = Some(B.into());
    user.extension = Some("8001".into());
    user.user_state = Some(state);
    user
}

fn leg(
    id: &str,
    agent: Option<&str>,
    kind: CallType,
    state: ChannelState,
    index: i64,
) -> ChannelContext {
    let mut leg = ChannelContext::default();
    leg.channel_id = Some(id.into());
    leg.user_id = agent.map(Into::into);
    leg.call_type = Some(kind);
    leg.channel_state = Some(state);
    leg.index = Some(index);
    leg.originator = Some("13800000000".into());
    leg.destination = Some("057100000000".into());
    leg
}

fn call(legs: &[&ChannelContext]) -> CallContext {
    let mut call = CallContext::default();
    call.job_id = Some("job-demo-1".into());
    call.call_type = Some(CallType::Inbound);
    call.channel_contexts = Some(legs.iter().map(|leg| (*leg).clone()).collect());
    call
}
