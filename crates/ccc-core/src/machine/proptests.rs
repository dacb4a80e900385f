//! Random sequences of inputs, requests and time against the machine's invariants.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;
use crate::model::{CallType as T, ChannelContext, ChannelFlags, ChannelState as CS};
use crate::testkit::{agent_leg, call, customer_leg, user};

#[derive(Debug, Clone)]
enum Step {
    Feed(Box<Input>),
    Request(Operation),
    Wait(u64),
}

fn user_state() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "OFFLINE", "READY", "BREAK", "WORKING", "RINGING", "DIALING", "TALKING", "ODD",
    ])
}

fn leg() -> impl Strategy<Value = ChannelContext> {
    let types = prop::sample::select(vec![
        T::Inbound,
        T::Outbound,
        T::Internal,
        T::Consultant,
        T::Conference,
        T::Monitor,
        T::Coach,
    ]);
    let states = prop::sample::select(vec![CS::Created, CS::Ringing, CS::Answered, CS::Released]);
    let flags = prop::sample::select(vec!["", "HOLD", "COACHED", "MONITORING"]);
    (any::<bool>(), types, states, flags).prop_map(|(mine, t, s, f)| {
        let mut leg = if mine {
            agent_leg(t, s)
        } else {
            customer_leg(t, s)
        };
        leg.channel_flags = ChannelFlags::parse(f);
        leg
    })
}

fn input() -> impl Strategy<Value = Input> {
    let types = prop::sample::select(vec![
        T::Inbound,
        T::Outbound,
        T::Internal,
        T::Consultant,
        T::Conference,
    ]);
    let snapshot = (
        0..40i64,
        user_state(),
        prop::option::of((types, prop::collection::vec(leg(), 0..4))),
        any::<bool>(),
    )
        .prop_map(|(id, state, legs, warm)| {
            let mut u = user(state);
            if warm {
                u.break_code = Some("Warm-up".into());
            }
            Input::Snapshot(AgentSnapshot::new(
                Some(id),
                u,
                legs.map(|(t, l)| call(t, l)),
            ))
        });
    let links = prop::sample::select(vec![Link::AgentLink, Link::Sip]);
    prop_oneof![
        4 => snapshot,
        2 => user_state().prop_map(|s| Input::UserContext(user(s))),
        1 => Just(Input::SipRegistered),
        1 => Just(Input::SipIncoming),
        1 => Just(Input::SipCallEnded),
        1 => links.clone().prop_map(Input::LinkDown),
        1 => links.prop_map(Input::LinkUp),
        1 => prop::sample::select(SignOutReason::ALL.to_vec()).prop_map(Input::SignedOut),
        1 => Just(Input::Unregistered),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => input().prop_map(|i| Step::Feed(Box::new(i))),
        3 => prop::sample::select(Operation::ALL.to_vec()).prop_map(Step::Request),
        2 => (0u64..40).prop_map(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No panic; the status is always a table code; every change yields exactly one
    /// onStatusChange whose lastCode is the status before it; requests are refused
    /// exactly where the table (with the platform's settings) refuses them.
    #[test]
    fn invariants_hold_for_any_sequence(steps in prop::collection::vec(step(), 1..60), auto in any::<bool>()) {
        let mut builder = Config::builder("ccc-test", true).after_call_rule_seconds(5);
        if auto {
            builder = builder.auto_answer_call_seconds(2);
        }
        let mut agent = Agent::new(&builder.build().unwrap());
        let mut now = Instant::now();
        let mut shown = Status::Unregistered;
        for step in steps {
            let before = agent.status();
            match step {
                Step::Feed(input) => agent.handle(now, *input),
                Step::Request(op) => {
                    let allowed = allowed_in(before).contains(op)
                        && !(before == Status::InboundCall && op == Operation::HangUp && !agent.rules.inbound_hang_up);
                    let result = agent.request(now, op);
                    prop_assert_eq!(result.is_ok(), allowed, "{} in {}", op, before);
                    if let Err(e) = result {
                        prop_assert_eq!(e.status, before);
                        prop_assert_eq!(agent.status(), before, "a refused request changes nothing");
                    }
                }
                Step::Wait(s) => {
                    let end = now + Duration::from_secs(s);
                    while let Some(due) = agent.poll_timeout().filter(|d| *d <= end) {
                        prop_assert!(due >= now || agent.poll_timeout() == Some(due));
                        now = now.max(due);
                        agent.handle_timeout(now);
                    }
                    now = end;
                }
            }
            while let Some(event) = agent.poll_event() {
                if let Event::StatusChange(change) = event {
                    prop_assert_eq!(change.last_code, shown, "lastCode is the status shown before");
                    prop_assert_ne!(change.code, change.last_code, "a change changes something");
                    shown = change.code;
                }
            }
            prop_assert_eq!(shown, agent.status(), "every change was reported");
            prop_assert!(Status::from_code(i32::from(agent.status().code())).is_some());
            while agent.poll_action().is_some() {}
        }
    }
}
