//! The agent machine against the guide's stories, on simulated time.

use std::time::{Duration, Instant};

use super::*;
use crate::error::ErrorCode;
use crate::model::{CallType as T, ChannelContext, ChannelFlags, ChannelState as CS};
use crate::testkit::{CUSTOMER, HOTLINE, ME, MY_EXT, agent_leg, call, customer_leg, user};

/// An agent on simulated time.
struct Harness {
    agent: Agent,
    now: Instant,
    context_id: i64,
}

impl Harness {
    fn new(config: &Config) -> Self {
        let mut h = Self {
            agent: Agent::new(config),
            now: Instant::now(),
            context_id: 0,
        };
        assert_eq!(h.events(), [Event::Init]);
        h
    }

    fn default() -> Self {
        Self::new(&Config::builder("ccc-test", true).build().unwrap())
    }

    /// Registered, signed in and ready, with the events of that drained.
    fn ready() -> Self {
        let mut h = Self::default();
        h.register_to_ready();
        h
    }

    fn register_to_ready(&mut self) {
        self.request(Operation::Register).unwrap();
        self.feed(Input::SipRegistered);
        self.feed_user(warm_up());
        assert_eq!(self.actions(), [Action::GoReady]);
        self.feed_user(user("READY"));
        assert_eq!(self.agent.status(), Status::Ready);
        self.events();
    }

    fn feed(&mut self, input: Input) {
        self.agent.handle(self.now, input);
    }

    fn request(&mut self, op: Operation) -> Result<(), NotAllowed> {
        self.agent.request(self.now, op)
    }

    fn feed_user(&mut self, user: UserContext) {
        self.feed(Input::UserContext(user));
    }

    /// A full snapshot with the next ContextId.
    fn snap(&mut self, state: &str, legs: Option<(T, Vec<ChannelContext>)>) {
        self.context_id += 1;
        let call = legs.map(|(t, legs)| call(t, legs));
        self.feed(Input::Snapshot(AgentSnapshot::new(
            Some(self.context_id),
            user(state),
            call,
        )));
    }

    /// Moves the clock, firing every timer due on the way, in order.
    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(due) = self.agent.poll_timeout().filter(|due| *due <= end) {
            self.now = self.now.max(due);
            self.agent.handle_timeout(self.now);
        }
        self.now = end;
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.agent.poll_event()).collect()
    }

    fn actions(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.agent.poll_action()).collect()
    }

    /// The status codes of the StatusChange events drained, starting with the first
    /// change's lastCode; checks every change's lastCode is the code before it.
    fn codes(&mut self) -> Vec<i8> {
        codes_of(&self.events())
    }
}

fn codes_of(events: &[Event]) -> Vec<i8> {
    let mut codes = Vec::new();
    for event in events {
        if let Event::StatusChange(change) = event {
            if let Some(last) = codes.last() {
                assert_eq!(
                    change.last_code.code(),
                    *last,
                    "lastCode chains: {events:?}"
                );
            } else {
                codes.push(change.last_code.code());
            }
            codes.push(change.code.code());
        }
    }
    codes
}

fn hooks(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::hook_name).collect()
}

fn warm_up() -> UserContext {
    let mut u = user("BREAK");
    u.break_code = Some("Warm-up".into());
    u
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn inbound(agent: CS) -> Option<(T, Vec<ChannelContext>)> {
    Some((
        T::Inbound,
        vec![
            customer_leg(T::Inbound, CS::Answered),
            agent_leg(T::Inbound, agent),
        ],
    ))
}

fn outbound(agent: CS, customer: Option<CS>) -> Option<(T, Vec<ChannelContext>)> {
    let mut me = agent_leg(T::Outbound, agent);
    me.originator = Some(HOTLINE.into());
    me.destination = Some(CUSTOMER.into());
    me.index = Some(0);
    let mut legs = vec![me];
    if let Some(state) = customer {
        let mut c = customer_leg(T::Outbound, state);
        c.originator = Some(HOTLINE.into());
        c.destination = Some(CUSTOMER.into());
        c.index = Some(1);
        legs.push(c);
    }
    Some((T::Outbound, legs))
}

fn held(mut leg: ChannelContext) -> ChannelContext {
    leg.channel_flags = ChannelFlags::parse("HOLD");
    leg
}

fn with_state(mut leg: ChannelContext, state: CS) -> ChannelContext {
    leg.channel_state = Some(state);
    leg
}

fn third(state: CS) -> ChannelContext {
    let mut c = customer_leg(T::Consultant, state);
    c.channel_id = Some("ch-third".into());
    c.destination = Some("8002".into());
    c.user_id = Some("c@ccc-test".into());
    c.index = Some(2);
    c
}

#[test]
fn register_signs_in_then_goes_ready() {
    let mut h = Harness::default();
    assert_eq!(h.agent.status(), Status::Unregistered);
    h.request(Operation::Register).unwrap();
    assert_eq!(h.agent.status(), Status::Registering);
    // Contexts alone do not end registration: SIP must be registered too.
    h.feed_user(warm_up());
    assert_eq!(h.agent.status(), Status::Registering);
    h.feed(Input::SipRegistered);
    assert_eq!(h.agent.status(), Status::SignedIn);
    assert_eq!(h.actions(), [Action::GoReady]);
    h.feed_user(user("READY"));
    let events = h.events();
    assert_eq!(codes_of(&events), [-1, 0, 2, 3]);
    assert_eq!(
        hooks(&events),
        [
            "onStatusChange",
            "onRegister",
            "onStatusChange",
            "onLogIn",
            "onStatusChange",
            "onReady"
        ]
    );
    assert!(events.contains(&Event::Ready {
        kind: ReadyKind::Normal
    }));
    assert_eq!(h.agent.status(), Status::Ready);
    assert_eq!(h.agent.last_status(), Status::SignedIn);
}

#[test]
fn signing_in_straight_to_ready_still_passes_through_2() {
    let mut h = Harness::default();
    h.request(Operation::Register).unwrap();
    h.feed(Input::SipRegistered);
    h.feed_user(user("READY"));
    assert_eq!(h.codes(), [-1, 0, 2, 3]);
    assert!(h.actions().is_empty(), "already ready: no GoReady");
}

#[test]
fn register_failure_goes_back_to_unregistered() {
    let mut h = Harness::default();
    h.request(Operation::Register).unwrap();
    let error = ErrorNotify::new("SignInGroup", ErrorCode::NotInAnySkillGroup, "no group");
    h.feed(Input::RegisterFailed(error.clone()));
    let events = h.events();
    assert_eq!(codes_of(&events), [-1, 0, -1]);
    assert!(events.contains(&Event::ErrorNotify(error)));
    assert!(
        !events.iter().any(|e| matches!(e, Event::LogOut { .. })),
        "never signed in"
    );
    assert!(h.request(Operation::Register).is_ok());
}

#[test]
fn operations_are_checked_against_the_status() {
    let mut h = Harness::default();
    let err = h.request(Operation::Call).unwrap_err();
    assert_eq!(
        (err.status, err.operation),
        (Status::Unregistered, Operation::Call)
    );
    h.register_to_ready();
    assert!(h.request(Operation::Register).is_err());
    assert!(h.request(Operation::Call).is_ok());
    assert_eq!(
        h.agent.status(),
        Status::Ready,
        "a checked request changes nothing by itself"
    );
    assert!(h.events().is_empty());
}

#[test]
fn inbound_call_answered_released_after_call_work_then_ready() {
    let mut h = Harness::ready();
    h.snap("RINGING", inbound(CS::Ringing));
    let events = h.events();
    assert_eq!(codes_of(&events), [3, 6]);
    let coming = events.iter().find_map(|e| match e {
        Event::CallComing(c) => Some(c.clone()),
        _ => None,
    });
    let coming = coming.expect("onCallComing");
    assert_eq!(coming.connid.as_deref(), Some("ch-agent"));
    assert_eq!(coming.caller.as_deref(), Some(CUSTOMER));
    assert_eq!(coming.callee.as_deref(), Some(HOTLINE));
    assert_eq!(coming.contact_id.as_deref(), Some("job-1"));
    assert_eq!(coming.skillgroup_id.as_deref(), Some("skg-1@ccc-test"));
    if let Event::StatusChange(change) = &events[0] {
        assert_eq!(change.connid.as_deref(), Some("ch-agent"), "context.connid");
    }

    assert!(h.agent.allowed().contains(Operation::Answer));
    h.request(Operation::Answer).unwrap();
    h.snap("TALKING", inbound(CS::Answered));
    let events = h.events();
    assert_eq!(codes_of(&events), [6, 9]);
    let established = events.iter().find_map(|e| match e {
        Event::CallEstablish(d) => Some(d.clone()),
        _ => None,
    });
    let established = established.expect("onCallEstablish");
    assert_eq!(established.caller.as_deref(), Some(CUSTOMER));
    assert_eq!(established.private_data.acid.as_deref(), Some("job-1"));
    assert_eq!(established.private_data.adacc.as_deref(), Some(ME));
    assert_eq!(established.private_data.dnis.as_deref(), Some(HOTLINE));
    assert_eq!(established.private_data.data.as_deref(), Some("order=7"));
    assert_eq!(
        established.private_data.skillgroupname.as_deref(),
        Some("skg-1@ccc-test")
    );

    h.snap("WORKING", None);
    let events = h.events();
    assert_eq!(codes_of(&events), [9, 5]);
    assert_eq!(
        hooks(&events),
        ["onStatusChange", "onCallRelease", "onHangUp"]
    );
    assert!(events.contains(&Event::HangUp {
        kind: HangUpKind::Inbound
    }));
    assert!(matches!(&events[1], Event::CallRelease(d) if *d == established));

    // afterCallRule: 15 s by default.
    h.advance(secs(14));
    assert!(h.actions().is_empty());
    h.advance(secs(1));
    assert_eq!(h.actions(), [Action::GoReady]);
    h.feed_user(user("READY"));
    assert_eq!(h.codes(), [5, 3]);
}

#[test]
fn ringing_call_abandoned_by_the_customer() {
    let mut h = Harness::ready();
    h.snap("RINGING", inbound(CS::Ringing));
    h.events();
    h.snap("READY", None);
    let events = h.events();
    assert_eq!(codes_of(&events), [6, 3]);
    assert!(events.contains(&Event::HangUp {
        kind: HangUpKind::Ringing
    }));
    assert!(!events.iter().any(|e| matches!(e, Event::CallEstablish(_))));
    assert!(h.agent.poll_timeout().is_none(), "ring timers stopped");
}

#[test]
fn outbound_call_dialing_then_talking() {
    let mut h = Harness::ready();
    h.request(Operation::Call).unwrap();
    h.snap("DIALING", outbound(CS::Ringing, None));
    let events = h.events();
    assert_eq!(codes_of(&events), [3, 8]);
    let dialing = events.iter().find_map(|e| match e {
        Event::CallDialing(d) => Some(d.clone()),
        _ => None,
    });
    let dialing = dialing.expect("onCallDialing");
    assert_eq!(dialing.callee.as_deref(), Some(CUSTOMER));
    assert_eq!(dialing.caller.as_deref(), Some(HOTLINE));
    // The agent leg answers, the customer's rings: still dialing.
    h.snap("DIALING", outbound(CS::Answered, Some(CS::Ringing)));
    assert!(h.events().is_empty());
    h.snap("TALKING", outbound(CS::Answered, Some(CS::Answered)));
    let events = h.events();
    assert_eq!(codes_of(&events), [8, 10]);
    assert!(events.iter().any(|e| matches!(e, Event::CallEstablish(_))));
    assert!(h.agent.allowed().contains(Operation::SendDtmf));
    h.snap("WORKING", None);
    let events = h.events();
    assert!(events.contains(&Event::HangUp {
        kind: HangUpKind::Outbound
    }));
}

#[test]
fn outbound_call_not_answered() {
    let mut h = Harness::ready();
    h.snap("DIALING", outbound(CS::Answered, Some(CS::Ringing)));
    h.events();
    h.snap("WORKING", None);
    let events = h.events();
    assert_eq!(codes_of(&events), [8, 5]);
    assert!(events.contains(&Event::HangUp {
        kind: HangUpKind::Dialing
    }));
}

#[test]
fn hold_and_retrieve() {
    let mut h = Harness::ready();
    h.snap("TALKING", outbound(CS::Answered, Some(CS::Answered)));
    h.events();
    let (t, legs) = outbound(CS::Answered, Some(CS::Answered)).unwrap();
    let legs: Vec<_> = legs
        .into_iter()
        .map(|l| if l.user_id.is_some() { held(l) } else { l })
        .collect();
    h.snap("TALKING", Some((t, legs)));
    assert_eq!(h.codes(), [10, 12]);
    assert!(h.request(Operation::HangUp).is_err(), "K12: retrieve only");
    h.request(Operation::CallRetrieve).unwrap();
    h.snap("TALKING", outbound(CS::Answered, Some(CS::Answered)));
    let events = h.events();
    assert_eq!(codes_of(&events), [12, 10]);
    assert!(
        !events.iter().any(|e| matches!(e, Event::CallEstablish(_))),
        "established once per call"
    );
}

#[test]
fn after_call_work_manual_never_times_out() {
    let config = Config::builder("ccc-test", true)
        .after_call_rule_manual()
        .build()
        .unwrap();
    let mut h = Harness::new(&config);
    h.register_to_ready();
    h.snap("TALKING", inbound(CS::Answered));
    h.snap("WORKING", None);
    h.events();
    assert_eq!(h.agent.poll_timeout(), None);
    h.advance(secs(3600));
    assert!(h.actions().is_empty());
    h.request(Operation::Ready).unwrap();
    h.feed_user(user("READY"));
    assert_eq!(h.codes(), [5, 3]);
}

#[test]
fn after_call_work_zero_seconds_goes_ready_at_once() {
    let config = Config::builder("ccc-test", true)
        .after_call_rule_seconds(0)
        .build()
        .unwrap();
    let mut h = Harness::new(&config);
    h.register_to_ready();
    h.snap("TALKING", inbound(CS::Answered));
    h.snap("WORKING", None);
    assert_eq!(h.agent.poll_timeout(), Some(h.now));
    h.advance(Duration::ZERO);
    assert_eq!(h.actions(), [Action::GoReady]);
}

#[test]
fn ready_during_after_call_work_stops_the_timer() {
    let mut h = Harness::ready();
    h.snap("TALKING", inbound(CS::Answered));
    h.snap("WORKING", None);
    h.request(Operation::Ready).unwrap();
    assert_eq!(h.agent.poll_timeout(), None);
    h.advance(secs(60));
    assert!(h.actions().is_empty());
}

#[test]
fn auto_answer_after_the_configured_seconds() {
    let config = Config::builder("ccc-test", true)
        .auto_answer_call_seconds(3)
        .build()
        .unwrap();
    let mut h = Harness::new(&config);
    h.register_to_ready();
    h.snap("RINGING", inbound(CS::Ringing));
    h.feed(Input::SipIncoming);
    h.advance(secs(2));
    assert!(h.actions().is_empty());
    h.advance(secs(1));
    assert_eq!(
        h.actions(),
        [Action::Answer {
            job_id: Some("job-1".into())
        }]
    );
}

#[test]
fn auto_answer_waits_for_the_sip_invite() {
    let config = Config::builder("ccc-test", true)
        .auto_answer_call_seconds(1)
        .build()
        .unwrap();
    let mut h = Harness::new(&config);
    h.register_to_ready();
    h.snap("RINGING", inbound(CS::Ringing));
    h.advance(secs(5));
    assert!(
        h.actions().is_empty(),
        "nothing to answer on this device yet"
    );
    h.feed(Input::SipIncoming);
    assert_eq!(
        h.actions(),
        [Action::Answer {
            job_id: Some("job-1".into())
        }]
    );
}

#[test]
fn manual_answer_cancels_auto_answer() {
    let config = Config::builder("ccc-test", true)
        .auto_answer_call_seconds(2)
        .build()
        .unwrap();
    let mut h = Harness::new(&config);
    h.register_to_ready();
    h.snap("RINGING", inbound(CS::Ringing));
    h.feed(Input::SipIncoming);
    h.request(Operation::Answer).unwrap();
    h.advance(secs(5));
    assert!(h.actions().is_empty());
}

#[test]
fn ringing_timeout_puts_the_agent_on_break() {
    let mut h = Harness::ready();
    h.snap("RINGING", inbound(CS::Ringing));
    h.events();
    h.advance(secs(29));
    assert!(h.actions().is_empty());
    h.advance(secs(1));
    assert_eq!(
        h.actions(),
        [Action::TakeBreak {
            code: "RingingTimeout"
        }]
    );
    let mut on_break = user("BREAK");
    on_break.break_code = Some("RingingTimeout".into());
    h.feed_user(on_break);
    let events = h.events();
    assert_eq!(codes_of(&events), [6, 4]);
    assert_eq!(
        hooks(&events),
        ["onStatusChange", "onCallRelease", "onHangUp", "onBreak"]
    );
    assert!(events.contains(&Event::HangUp {
        kind: HangUpKind::Ringing
    }));
    assert!(events.contains(&Event::Break {
        code: Some("RingingTimeout".into())
    }));
    h.advance(secs(120));
    assert!(h.actions().is_empty(), "the timeout fires once");
}

#[test]
fn shortened_ring_timeout() {
    let config = Config::builder("ccc-test", true)
        .ring_timeout(secs(2))
        .build()
        .unwrap();
    let mut h = Harness::new(&config);
    h.register_to_ready();
    h.snap("RINGING", inbound(CS::Ringing));
    h.advance(secs(2));
    assert_eq!(
        h.actions(),
        [Action::TakeBreak {
            code: "RingingTimeout"
        }]
    );
}

/// A talking inbound call (A the customer, B this agent) in which B consults C.
fn consulting(
    customer: ChannelContext,
    third_party: ChannelContext,
) -> Option<(T, Vec<ChannelContext>)> {
    Some((
        T::Consultant,
        vec![customer, agent_leg(T::Inbound, CS::Answered), third_party],
    ))
}

fn talking_inbound() -> Harness {
    let mut h = Harness::ready();
    h.snap("RINGING", inbound(CS::Ringing));
    h.snap("TALKING", inbound(CS::Answered));
    h.events();
    h
}

#[test]
fn consultative_transfer_completed() {
    let mut h = talking_inbound();
    h.request(Operation::ConferenceInit).unwrap();
    let a = held(customer_leg(T::Inbound, CS::Answered));
    h.snap("TALKING", consulting(a.clone(), third(CS::Ringing)));
    assert_eq!(h.codes(), [9, 12, 16], "M24: 9 -> 12 -> 16");
    assert!(
        h.request(Operation::ThirdCallTransferFinished).is_err(),
        "not before C answers"
    );
    h.snap("TALKING", consulting(a, third(CS::Answered)));
    assert_eq!(h.codes(), [16, 17]);
    h.request(Operation::ThirdCallTransferFinished).unwrap();
    h.snap("WORKING", None);
    let events = h.events();
    assert_eq!(codes_of(&events), [17, 5]);
    assert!(events.contains(&Event::HangUp {
        kind: HangUpKind::Inbound
    }));
}

#[test]
fn consultation_customer_hangs_up_before_the_third_party_answers() {
    let mut h = talking_inbound();
    let a = held(customer_leg(T::Inbound, CS::Answered));
    h.snap("TALKING", consulting(a.clone(), third(CS::Ringing)));
    h.events();
    let gone = with_state(a, CS::Released);
    h.snap("TALKING", consulting(gone.clone(), third(CS::Ringing)));
    h.snap("TALKING", consulting(gone, third(CS::Answered)));
    assert_eq!(h.codes(), [16, 8, 10], "M24: 16 -> 8 -> 10");
}

#[test]
fn consultation_customer_hangs_up_after_the_third_party_answers() {
    let mut h = talking_inbound();
    let a = held(customer_leg(T::Inbound, CS::Answered));
    h.snap("TALKING", consulting(a.clone(), third(CS::Answered)));
    h.events();
    h.snap(
        "TALKING",
        consulting(with_state(a, CS::Released), third(CS::Answered)),
    );
    assert_eq!(h.codes(), [17, 10], "M24: 17 -> 10");
}

#[test]
fn consultation_retrieved_before_the_third_party_answers() {
    let mut h = talking_inbound();
    let a = held(customer_leg(T::Inbound, CS::Answered));
    h.snap("TALKING", consulting(a, third(CS::Ringing)));
    h.events();
    h.request(Operation::ThirdCallRetrieve).unwrap();
    let back = customer_leg(T::Inbound, CS::Answered);
    h.snap("TALKING", consulting(back, third(CS::Released)));
    let events = h.events();
    assert_eq!(codes_of(&events), [16, 9], "M26: A and B talk again");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::CallEstablish(_) | Event::CallRelease(_)))
    );
}

#[test]
fn conference_from_an_internal_call() {
    // M27: A calls agent B (agentToAgent), then consults C, then joins all three.
    let mut h = Harness::ready();
    h.request(Operation::AgentToAgent).unwrap();
    let mut me = agent_leg(T::Internal, CS::Answered);
    me.originator = Some(MY_EXT.into());
    let mut b = customer_leg(T::Internal, CS::Ringing);
    b.user_id = Some("b@ccc-test".into());
    h.snap("DIALING", Some((T::Internal, vec![me.clone(), b.clone()])));
    let b = with_state(b, CS::Answered);
    h.snap("TALKING", Some((T::Internal, vec![me.clone(), b.clone()])));
    assert_eq!(h.codes(), [3, 8, 11]);
    h.request(Operation::ConferenceInit).unwrap();
    h.snap(
        "TALKING",
        Some((
            T::Consultant,
            vec![me.clone(), held(b.clone()), third(CS::Ringing)],
        )),
    );
    h.snap(
        "TALKING",
        Some((
            T::Consultant,
            vec![me.clone(), held(b.clone()), third(CS::Answered)],
        )),
    );
    assert_eq!(h.codes(), [11, 12, 16, 17]);
    h.request(Operation::ConferenceFinished).unwrap();
    let joined = with_state(third(CS::Answered), CS::Answered);
    h.snap(
        "TALKING",
        Some((T::Conference, vec![me.clone(), b.clone(), joined.clone()])),
    );
    assert_eq!(h.codes(), [17, 19]);
    h.request(Operation::ThirdCallHangupThird).unwrap();
    h.snap(
        "TALKING",
        Some((T::Internal, vec![me, b, with_state(joined, CS::Released)])),
    );
    assert_eq!(h.codes(), [19, 11]);
}

#[test]
fn monitoring_another_agent() {
    let mut h = Harness::ready();
    h.request(Operation::Monitor).unwrap();
    let legs = vec![
        customer_leg(T::Inbound, CS::Answered),
        agent_leg(T::Monitor, CS::Answered),
    ];
    h.snap("TALKING", Some((T::Inbound, legs)));
    assert_eq!(h.codes(), [3, 21]);
    assert!(h.request(Operation::CallHold).is_err(), "K21: hang up only");
    h.request(Operation::HangUp).unwrap();
    h.snap("READY", None);
    assert_eq!(h.codes(), [21, 3]);
}

#[test]
fn older_snapshots_are_ignored() {
    let mut h = Harness::ready();
    h.snap("RINGING", inbound(CS::Ringing));
    h.snap("TALKING", inbound(CS::Answered));
    h.events();
    let stale = AgentSnapshot::new(Some(1), user("READY"), None);
    h.feed(Input::Snapshot(stale));
    assert_eq!(h.agent.status(), Status::InboundCall);
    assert!(h.events().is_empty());
    // The same ContextId again is not older: it applies (idempotent).
    let same = AgentSnapshot::new(
        Some(h.context_id),
        user("TALKING"),
        inbound(CS::Answered).map(|(t, l)| call(t, l)),
    );
    h.feed(Input::Snapshot(same));
    assert!(h.events().is_empty(), "no change, no event");
}

#[test]
fn user_context_answers_end_the_known_call() {
    let mut h = talking_inbound();
    // ReleaseCall answered, then after-call work reported by the user context alone.
    h.feed_user(user("WORKING"));
    let events = h.events();
    assert_eq!(codes_of(&events), [9, 5]);
    assert!(events.iter().any(|e| matches!(e, Event::CallRelease(_))));
    assert!(h.agent.call_context().is_none());
}

#[test]
fn talking_without_a_call_context_keeps_the_status() {
    let mut h = talking_inbound();
    h.feed_user(user("TALKING"));
    assert_eq!(h.agent.status(), Status::InboundCall);
    assert!(h.events().is_empty());
}

#[test]
fn a_short_link_outage_keeps_the_call() {
    let mut h = talking_inbound();
    h.feed(Input::LinkDown(Link::AgentLink));
    h.advance(secs(20));
    h.feed(Input::LinkUp(Link::AgentLink));
    h.advance(secs(60));
    assert_eq!(h.agent.status(), Status::InboundCall);
    assert!(h.events().is_empty());
}

#[test]
fn sip_link_lost_for_30_seconds_signs_out() {
    let mut h = talking_inbound();
    h.feed(Input::LinkDown(Link::Sip));
    h.advance(secs(29));
    assert_eq!(h.agent.status(), Status::InboundCall);
    h.advance(secs(1));
    let events = h.events();
    assert_eq!(codes_of(&events), [9, -1]);
    assert_eq!(
        hooks(&events),
        [
            "onStatusChange",
            "onCallRelease",
            "onHangUp",
            "onLogOut",
            "onErrorNotify"
        ]
    );
    assert!(events.contains(&Event::LogOut {
        reason: SignOutReason::AsmSip
    }));
    assert!(matches!(&events[4], Event::ErrorNotify(e) if e.code.as_str() == "ASM_SIP"));
    assert!(h.agent.poll_timeout().is_none());
    assert!(
        h.request(Operation::Register).is_ok(),
        "the guide: register again"
    );
}

#[test]
fn both_links_lost_sign_out_with_both_named() {
    let mut h = Harness::ready();
    h.feed(Input::LinkDown(Link::AgentLink));
    h.advance(secs(10));
    h.feed(Input::LinkDown(Link::Sip));
    h.advance(secs(20));
    let events = h.events();
    assert!(events.contains(&Event::LogOut {
        reason: SignOutReason::AsmPrivateAndSip
    }));
    assert_eq!(codes_of(&events), [3, -1]);
}

#[test]
fn agent_link_lost_alone() {
    let mut h = Harness::ready();
    h.feed(Input::LinkDown(Link::AgentLink));
    h.advance(secs(30));
    assert!(h.events().contains(&Event::LogOut {
        reason: SignOutReason::AsmPrivate
    }));
}

#[test]
fn kicked_out_by_a_sign_in_elsewhere() {
    let mut h = Harness::ready();
    h.feed(Input::SignedOut(SignOutReason::KaRegister));
    let events = h.events();
    assert_eq!(codes_of(&events), [3, -1]);
    assert_eq!(
        hooks(&events),
        ["onStatusChange", "onLogOut", "onErrorNotify"]
    );
    let Event::ErrorNotify(error) = &events[2] else {
        unreachable!()
    };
    assert_eq!(error.code, ErrorCode::SignOut(SignOutReason::KaRegister));
    assert_eq!(error.msg_tip, "您的账号已在别处登录，如需登录请刷新页面");
}

#[test]
fn a_normal_sign_out_by_the_platform_is_told_like_the_others() {
    // The guide's onErrorNotify table lists every sign-out event, AB_normal too.
    let mut h = Harness::ready();
    h.feed(Input::SignedOut(SignOutReason::AbNormal));
    let events = h.events();
    assert_eq!(
        hooks(&events),
        ["onStatusChange", "onLogOut", "onErrorNotify"]
    );
    let Event::ErrorNotify(error) = &events[2] else {
        unreachable!()
    };
    assert_eq!(error.code, ErrorCode::SignOut(SignOutReason::AbNormal));
    assert_eq!(error.msg_tip, "软电话正常签出");
}

#[test]
fn kicked_out_while_registering() {
    let mut h = Harness::default();
    h.request(Operation::Register).unwrap();
    h.events();
    h.feed(Input::SignedOut(SignOutReason::WsConnectSlowly));
    let events = h.events();
    assert_eq!(hooks(&events), ["onErrorNotify", "onStatusChange"]);
    assert_eq!(codes_of(&events), [0, -1]);
}

#[test]
fn log_out_and_log_in_again() {
    let mut h = Harness::ready();
    h.request(Operation::LogOut).unwrap();
    h.feed_user(user("OFFLINE"));
    let events = h.events();
    assert_eq!(codes_of(&events), [3, 1]);
    assert!(events.contains(&Event::LogOut {
        reason: SignOutReason::AbNormal
    }));
    assert!(
        !events.iter().any(|e| matches!(e, Event::ErrorNotify(_))),
        "the program's own sign-out is no error"
    );
    assert!(h.request(Operation::Call).is_err(), "K1: sign in only");
    h.request(Operation::LogIn).unwrap();
    h.feed_user(warm_up());
    assert_eq!(h.actions(), [Action::GoReady]);
    h.feed_user(user("READY"));
    let events = h.events();
    assert_eq!(codes_of(&events), [1, 2, 3]);
    assert_eq!(hooks(&events)[..2], ["onStatusChange", "onLogIn"]);
}

#[test]
fn shutdown_unregisters() {
    let mut h = Harness::ready();
    h.feed(Input::Unregistered);
    let events = h.events();
    assert_eq!(codes_of(&events), [3, -1]);
    assert!(events.contains(&Event::LogOut {
        reason: SignOutReason::AbNormal
    }));
    h.feed(Input::Unregistered);
    assert!(h.events().is_empty(), "twice is once");
}

#[test]
fn break_and_back() {
    let mut h = Harness::ready();
    h.request(Operation::ApplyForBreak).unwrap();
    let mut lunch = user("BREAK");
    lunch.break_code = Some("lunch".into());
    h.feed_user(lunch);
    let events = h.events();
    assert_eq!(codes_of(&events), [3, 4]);
    assert!(events.contains(&Event::Break {
        code: Some("lunch".into())
    }));
    assert!(
        h.request(Operation::ApplyForBreak).is_err(),
        "K4 lists no break"
    );
    h.request(Operation::Ready).unwrap();
    h.feed_user(user("READY"));
    assert_eq!(h.codes(), [4, 3]);
}

#[test]
fn answering_on_mobile_is_ready_offline() {
    let mut h = Harness::ready();
    h.request(Operation::Offline).unwrap();
    let mut mobile = user("READY");
    mobile.work_mode = Some(WorkMode::OffSite);
    h.feed_user(mobile.clone());
    assert_eq!(
        h.events(),
        [Event::Ready {
            kind: ReadyKind::Offline
        }]
    );
    // After a call on the mobile, ready again is still "offline".
    h.snap("TALKING", inbound(CS::Answered));
    let mut working = mobile.clone();
    working.user_state = Some(UserState::Working);
    h.feed_user(working);
    h.events();
    h.feed_user(mobile);
    assert!(h.events().contains(&Event::Ready {
        kind: ReadyKind::Offline
    }));
}

#[test]
fn auto_answer_is_off_while_answering_on_mobile() {
    let config = Config::builder("ccc-test", true)
        .auto_answer_call_seconds(1)
        .build()
        .unwrap();
    let mut h = Harness::new(&config);
    h.register_to_ready();
    let mut mobile = user("READY");
    mobile.work_mode = Some(WorkMode::OffSite);
    h.feed_user(mobile);
    let (t, legs) = inbound(CS::Ringing).unwrap();
    let mut ringing = user("RINGING");
    ringing.work_mode = Some(WorkMode::OffSite);
    h.context_id += 1;
    h.feed(Input::Snapshot(AgentSnapshot::new(
        Some(h.context_id),
        ringing,
        Some(call(t, legs)),
    )));
    h.advance(secs(5));
    assert!(h.actions().is_empty());
}

#[test]
fn inbound_hang_up_can_be_forbidden_by_the_platform() {
    let config = Config::builder("ccc-test", true)
        .inbound_hang_up(false)
        .build()
        .unwrap();
    let mut h = Harness::new(&config);
    h.register_to_ready();
    h.snap("TALKING", inbound(CS::Answered));
    let err = h.request(Operation::HangUp).unwrap_err();
    assert_eq!(err.status, Status::InboundCall);
    assert!(!err.allowed.contains(Operation::HangUp));
    assert!(err.allowed.contains(Operation::CallHold));
    h.snap("TALKING", outbound(CS::Answered, Some(CS::Answered)));
    assert!(
        h.request(Operation::HangUp).is_ok(),
        "outbound calls are not affected"
    );
}

#[test]
fn operation_errors_are_reported() {
    let mut h = Harness::ready();
    let error =
        ErrorNotify::new("MakeCall", ErrorCode::parse("7002"), "gone").with_request_id("r-1");
    h.feed(Input::Error(error.clone()));
    assert_eq!(h.events(), [Event::ErrorNotify(error)]);
    assert_eq!(h.agent.status(), Status::Ready);
}

#[test]
fn a_new_call_replacing_the_old_reports_the_old_released() {
    let mut h = talking_inbound();
    let (t, mut legs) = inbound(CS::Ringing).unwrap();
    for leg in &mut legs {
        leg.job_id = Some("job-2".into());
        leg.channel_id = Some("ch-2".into());
    }
    let mut next = call(t, legs);
    next.job_id = Some("job-2".into());
    h.context_id += 1;
    h.feed(Input::Snapshot(AgentSnapshot::new(
        Some(h.context_id),
        user("RINGING"),
        Some(next),
    )));
    let events = h.events();
    let released = events.iter().position(
        |e| matches!(e, Event::CallRelease(d) if d.private_data.acid.as_deref() == Some("job-1")),
    );
    let coming = events.iter().position(
        |e| matches!(e, Event::CallComing(c) if c.contact_id.as_deref() == Some("job-2")),
    );
    assert!(released.unwrap() < coming.unwrap(), "{events:?}");
    assert_eq!(codes_of(&events), [9, 6]);
}
