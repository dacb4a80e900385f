//! Random sequences of actions, device events and time: the platform never panics,
//! every snapshot gives a status of the guide's table, `ContextId` rises per agent, and
//! every agent ends up in a known state.

use proptest::prelude::*;

use super::*;

const USERS: [&str; 4] = [ALICE, BOB, CAROL, SAM];
const TABLE: [i8; 18] = [
    1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 16, 17, 18, 19, 20, 21, 0,
];

#[derive(Debug, Clone)]
enum Step {
    Cmd(usize, u8, u8),
    Inbound(u8),
    Advance(u16),
    Device(u8, u8),
    HangUp(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..4usize, any::<u8>(), any::<u8>()).prop_map(|(u, c, x)| Step::Cmd(u, c, x)),
        1 => any::<u8>().prop_map(Step::Inbound),
        2 => any::<u16>().prop_map(Step::Advance),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(l, k)| Step::Device(l, k)),
        1 => any::<u8>().prop_map(Step::HangUp),
    ]
}

fn pick<T: Clone>(items: &[T], x: u8) -> Option<T> {
    (!items.is_empty()).then(|| items[usize::from(x) % items.len()].clone())
}

fn command(w: &mut World, user: &str, c: u8, x: u8) -> Command {
    let job =
        w.p.agents()
            .into_iter()
            .find(|a| &*a.user_id == user)
            .and_then(|a| a.job_id)
            .or_else(|| {
                pick(
                    &w.p.calls()
                        .into_iter()
                        .map(|c| c.job_id)
                        .collect::<Vec<_>>(),
                    x,
                )
            })
            .map(|j| j.to_string())
            .unwrap_or_default();
    let channels: Vec<String> =
        w.p.calls()
            .into_iter()
            .flat_map(|c| c.legs.into_iter().map(|l| l.channel_id.to_string()))
            .collect();
    let channel = pick(&channels, x).unwrap_or_default();
    let other = USERS[usize::from(x) % 4].to_owned();
    match c % 20 {
        0 => Command::SignInGroup {
            device_id: format!("d{}", x % 2),
            groups: vec![[SALES, SUPPORT][usize::from(x) % 2].into()],
            additivity: x.is_multiple_of(3),
        },
        1 => Command::SignOutGroup,
        2 | 3 => Command::ReadyForService {
            outbound_only: Some(x.is_multiple_of(5)),
        },
        4 => Command::TakeBreak {
            code: "lunch".into(),
        },
        5 => Command::MakeCall {
            callee: ["13800000001", "13800000002", "13800000003", "8002", "8001"]
                [usize::from(x) % 5]
                .into(),
            caller: None,
        },
        6 | 7 => Command::AnswerCall { job_id: job },
        8 => Command::ReleaseCall {
            job_id: job,
            channel_id: (x.is_multiple_of(3)).then_some(channel),
        },
        9 => Command::HoldCall {
            job_id: job,
            channel_id: channel,
        },
        10 => Command::RetrieveCall {
            job_id: job,
            channel_id: channel,
        },
        11 => Command::SendDtmf {
            job_id: job,
            channel_id: channel,
            digits: "1#".into(),
        },
        12 => Command::BlindTransfer {
            job_id: job,
            transferee: other,
            kind: None,
            transferor: None,
        },
        13 => Command::InitiateAttendedTransfer {
            job_id: job,
            transferee: other,
            kind: None,
            transferor: None,
        },
        14 => Command::CompleteAttendedTransfer { job_id: job },
        15 => Command::CancelAttendedTransfer { job_id: job },
        16 => Command::StartConference {
            participants: vec![other],
        },
        17 => Command::MonitorCall {
            monitored_user: other,
        },
        18 => Command::ResetAgentState,
        _ => Command::LaunchSurvey { job_id: job },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_sequences_keep_the_guides_statuses(steps in prop::collection::vec(step(), 1..80)) {
        let mut w = World::new();
        for s in steps {
            match s {
                Step::Cmd(u, c, x) => {
                    let cmd = command(&mut w, USERS[u], c, x);
                    let _ = w.cmd(USERS[u], cmd);
                }
                Step::Inbound(x) => {
                    let line = [SALES_LINE, SUPPORT_LINE, "4008000000"][usize::from(x) % 3];
                    let caller = ["13800000004", CUSTOMER, "13800000002"][usize::from(x) % 3];
                    w.inbound(caller, line);
                }
                Step::Advance(ms) => w.advance(u64::from(ms) * 2),
                Step::Device(l, k) => {
                    let legs: Vec<LegId> = w.p.calls().into_iter().flat_map(|c| c.legs.into_iter().map(|l| l.leg)).collect();
                    if let Some(leg) = pick(&legs, l) {
                        let input = match k % 3 {
                            0 => Input::LegAnswered(leg),
                            1 => Input::LegFailed { leg, status: 486 },
                            _ => Input::LegHungUp(leg),
                        };
                        w.input(input);
                    }
                }
                Step::HangUp(x) => {
                    let jobs: Vec<Text> = w.p.calls().into_iter().map(|c| c.job_id).collect();
                    if let Some(job_id) = pick(&jobs, x) {
                        w.input(Input::CustomerHangUp { job_id });
                    }
                }
            }
            for user in USERS {
                let seq = w.seq(user);
                prop_assert!(seq.iter().all(|c| TABLE.contains(c)), "{user}: {seq:?}");
            }
        }
        // Ending every call leaves no agent in a call state.
        for call in w.p.calls() {
            w.input(Input::CustomerHangUp { job_id: call.job_id });
        }
        for user in USERS {
            let _ = w.cmd(user, Command::ResetAgentState);
        }
        w.advance(120_000);
        prop_assert!(w.p.calls().is_empty(), "{:?}", w.p.calls());
        for a in w.p.agents() {
            prop_assert!(a.job_id.is_none());
            prop_assert!(matches!(a.state, ccc_core::model::UserState::Ready | ccc_core::model::UserState::Offline), "{a:?}");
        }
    }
}
