//! From the agent link's view of the agent to the guide's status code.
//!
//! The agent link is the authority on the agent's state and calls: it is the only link
//! that sees every leg of a call (SIP sees only the agent's own). [`derive_status`] is the
//! pure mapping; the agent machine adds what only it knows (registration, the order of
//! steps the guide prescribes, the previous status when a snapshot says too little).
//!
//! # The mapping
//!
//! Without a live leg of the agent in the call context, `UserState` decides:
//!
//! | `UserState` | status |
//! |---|---|
//! | `OFFLINE` | 1 signed out |
//! | `BREAK` with `BreakCode` `Warm-up` | 2 signed in (not yet ready) |
//! | `READY` | 3 ready |
//! | `BREAK` (any other code) | 4 break |
//! | `WORKING` | 5 after-call work |
//! | `RINGING` / `DIALING` | 6 ringing / 8 dialing |
//! | `TALKING`, missing or unknown | not decided (the machine keeps the previous status) |
//!
//! With a live leg of the agent (`UserId` equal to the agent's, or its extension), the
//! legs decide, first match wins:
//!
//! | legs | status |
//! |---|---|
//! | agent leg is `MONITOR`, or flagged `MONITORING` / `COACHING` | 21 monitoring |
//! | agent leg flagged `COACHED` | 20 passive help |
//! | call or agent leg is `CONFERENCE`, or agent leg is `BARGE` | 6 while the agent's leg rings, then 19 |
//! | agent leg is `CONSULTANT` (the agent is the consulted party) | 6 ringing, 11 while the consulting agent is still in, then 9/10 by the customer leg |
//! | another live leg is `CONSULTANT` (the agent consults) | customer live: 16 until the third party answers, then 17 (18 when the third party is held and the customer is not); customer gone: 8, then 10 |
//! | plain call, agent leg not answered | 8 when the agent originated (outbound, internal caller), else 6 |
//! | plain call, any leg flagged `HOLD` | 12 |
//! | plain call, originated, nobody else answered yet | 8 |
//! | plain call | 9 inbound, 10 outbound, 11 internal |
//!
//! "Originated" is: leg type `OUTBOUND` or `BACK2BACK`; or `INTERNAL` with the leg's
//! `Originator` equal to the agent's extension. `INTERCEPT` and `PREDICTIVE` legs ring
//! like inbound ones and talk as the customer leg's type says.

use crate::Status;
use crate::model::{
    BREAK_CODE_WARM_UP, CallContext, CallType, ChannelContext, ChannelFlag, Text, UserContext,
    UserState,
};

/// The status the contexts describe, or `None` when they do not decide it (see the
/// [module docs](crate::derive)).
///
/// ```
/// use ccc_core::derive_status;
/// use ccc_core::model::UserContext;
///
/// let user: UserContext = serde_json::from_str(r#"{"UserState": "WORKING"}"#).unwrap();
/// assert_eq!(derive_status(&user, None).map(|s| s.code()), Some(5));
/// ```
pub fn derive_status(user: &UserContext, call: Option<&CallContext>) -> Option<Status> {
    if let Some(view) = call.and_then(|call| CallView::new(user, call)) {
        return Some(view.status());
    }
    Some(match user.user_state.as_ref()? {
        UserState::Offline => Status::SignedOut,
        UserState::Ready => Status::Ready,
        UserState::Break if user.break_code.as_deref() == Some(BREAK_CODE_WARM_UP) => {
            Status::SignedIn
        }
        UserState::Break => Status::Break,
        UserState::Working => Status::AfterCallWork,
        UserState::Ringing => Status::Ringing,
        UserState::Dialing => Status::Dialing,
        UserState::Talking | UserState::Other(_) => return None,
    })
}

/// Which way a call leg goes, from the agent's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The agent was called.
    Incoming,
    /// The agent called.
    Outgoing,
}

/// The agent's call as the legs show it: the agent's own leg and the others.
#[derive(Debug, Clone, Copy)]
pub struct CallView<'a> {
    /// The call.
    pub call: &'a CallContext,
    /// The agent's own live leg.
    pub mine: &'a ChannelContext,
    extension: Option<&'a str>,
}

impl<'a> CallView<'a> {
    /// The view of `call` from `user`, or `None` when the agent has no live leg in it.
    pub fn new(user: &'a UserContext, call: &'a CallContext) -> Option<Self> {
        let id = user.user_id.as_deref().filter(|id| !id.is_empty());
        let extension = user.extension.as_deref().filter(|ext| !ext.is_empty());
        let is_mine = |leg: &&ChannelContext| {
            let by_id = id.is_some() && leg.user_id.as_deref() == id;
            let by_ext =
                id.is_none() && extension.is_some() && leg.user_extension.as_deref() == extension;
            by_id || by_ext
        };
        let mine = call
            .channels()
            .iter()
            .filter(is_mine)
            .find(|leg| leg.is_live())?;
        Some(Self {
            call,
            mine,
            extension: extension.or(mine.user_extension.as_deref()),
        })
    }

    /// The other live legs.
    pub fn others(&self) -> impl Iterator<Item = &'a ChannelContext> + use<'a> {
        let mine = self.mine;
        self.call
            .channels()
            .iter()
            .filter(move |leg| !std::ptr::eq(*leg, mine) && leg.is_live())
    }

    /// The leg of the other party: the first customer leg (no agent on it) by index,
    /// else the first other agent's leg, else the agent's own leg (an outbound call
    /// before the customer's leg exists). Live or not, so it serves release payloads.
    pub fn remote(&self) -> &'a ChannelContext {
        let mine = self.mine;
        let others = || {
            self.call
                .channels()
                .iter()
                .filter(move |leg| !std::ptr::eq(*leg, mine))
        };
        let by_index = |leg: &&ChannelContext| leg.index.unwrap_or(i64::MAX);
        others()
            .filter(|leg| leg.user_id.as_deref().is_none_or(str::is_empty))
            .min_by_key(by_index)
            .or_else(|| others().min_by_key(by_index))
            .unwrap_or(mine)
    }

    /// The type of the agent's leg (the call's type when the leg has none).
    pub fn my_type(&self) -> Option<&'a CallType> {
        self.mine
            .call_type
            .as_ref()
            .or(self.call.call_type.as_ref())
    }

    /// Which way the agent's leg goes.
    pub fn direction(&self) -> Direction {
        match self.my_type() {
            Some(CallType::Outbound | CallType::Back2Back) => Direction::Outgoing,
            Some(CallType::Internal) if self.originated_internal() => Direction::Outgoing,
            _ => Direction::Incoming,
        }
    }

    fn originated_internal(&self) -> bool {
        let originator = self.mine.originator.as_deref();
        originator.is_some() && originator == self.extension
    }

    /// The status these legs give.
    pub fn status(&self) -> Status {
        let mine = self.mine;
        let flags = mine.channel_flags;
        let my_type = self.my_type();
        if matches!(my_type, Some(CallType::Monitor))
            || flags.contains(ChannelFlag::Monitoring)
            || flags.contains(ChannelFlag::Coaching)
        {
            return Status::Monitoring;
        }
        if flags.contains(ChannelFlag::Coached) {
            return Status::PassiveHelp;
        }
        let conference = matches!(self.call.call_type, Some(CallType::Conference))
            || matches!(my_type, Some(CallType::Conference | CallType::Barge));
        if conference {
            return if mine.is_answered() {
                Status::Conference
            } else {
                Status::Ringing
            };
        }
        if matches!(my_type, Some(CallType::Consultant)) {
            return self.consulted_status();
        }
        if let Some(third) = self.others().find(|leg| is_consultant(leg)) {
            return self.consulting_status(third);
        }
        self.plain_status()
    }

    /// The agent is the consulted party (C).
    fn consulted_status(&self) -> Status {
        if !self.mine.is_answered() {
            return Status::Ringing;
        }
        let agent_still_in = self
            .others()
            .any(|leg| leg.user_id.as_deref().is_some_and(|id| !id.is_empty()));
        if agent_still_in {
            return Status::InternalCall;
        }
        match self.remote().call_type {
            Some(CallType::Inbound) => Status::InboundCall,
            _ => Status::OutboundCall,
        }
    }

    /// The agent consults a third party (B consulting C, the customer A held).
    fn consulting_status(&self, third: &ChannelContext) -> Status {
        let mut customers = self.others().filter(|leg| !is_consultant(leg));
        let customer = customers.next();
        match (customer, third.is_answered()) {
            (Some(_), false) => Status::ConsultInitiated,
            (Some(customer), true) => {
                let switched = third.channel_flags.contains(ChannelFlag::Hold)
                    && !customer.channel_flags.contains(ChannelFlag::Hold);
                if switched {
                    Status::ConsultSwitched
                } else {
                    Status::ConsultCall
                }
            }
            (None, false) => Status::Dialing,
            (None, true) => Status::OutboundCall,
        }
    }

    fn plain_status(&self) -> Status {
        let direction = self.direction();
        if !self.mine.is_answered() {
            return match direction {
                Direction::Outgoing => Status::Dialing,
                Direction::Incoming => Status::Ringing,
            };
        }
        let held = self.mine.channel_flags.contains(ChannelFlag::Hold)
            || self
                .others()
                .any(|leg| leg.channel_flags.contains(ChannelFlag::Hold));
        if held {
            return Status::Hold;
        }
        if direction == Direction::Outgoing && !self.others().any(ChannelContext::is_answered) {
            return Status::Dialing;
        }
        match self.my_type() {
            Some(CallType::Internal) => Status::InternalCall,
            Some(CallType::Inbound) => Status::InboundCall,
            Some(CallType::Outbound | CallType::Back2Back) => Status::OutboundCall,
            _ => match self.remote().call_type {
                Some(CallType::Inbound) => Status::InboundCall,
                _ => Status::OutboundCall,
            },
        }
    }

    /// The call (contact) id.
    pub fn job_id(&self) -> Option<&'a Text> {
        self.call.job_id.as_ref().or(self.mine.job_id.as_ref())
    }
}

fn is_consultant(leg: &ChannelContext) -> bool {
    matches!(leg.call_type, Some(CallType::Consultant))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CallType as T, ChannelFlags, ChannelState as CS};
    use crate::testkit::{agent_leg, call, customer_leg, user};

    #[test]
    fn user_states_without_a_call() {
        let cases = [
            ("OFFLINE", None, Some(1)),
            ("BREAK", Some("Warm-up"), Some(2)),
            ("READY", None, Some(3)),
            ("BREAK", Some("lunch"), Some(4)),
            ("BREAK", Some("RingingTimeout"), Some(4)),
            ("WORKING", None, Some(5)),
            ("RINGING", None, Some(6)),
            ("DIALING", None, Some(8)),
            ("TALKING", None, None),
            ("SOMETHING_NEW", None, None),
        ];
        for (state, code, want) in cases {
            let mut u = user(state);
            u.break_code = code.map(Into::into);
            assert_eq!(
                derive_status(&u, None).map(Status::code),
                want,
                "{state} {code:?}"
            );
        }
        assert_eq!(derive_status(&UserContext::default(), None), None);
    }

    fn status_of(legs: Vec<crate::model::ChannelContext>, call_type: T) -> i8 {
        let u = user("TALKING");
        let c = call(call_type, legs);
        derive_status(&u, Some(&c)).expect("decided").code()
    }

    #[test]
    fn inbound_call() {
        assert_eq!(
            status_of(
                vec![
                    customer_leg(T::Inbound, CS::Answered),
                    agent_leg(T::Inbound, CS::Ringing)
                ],
                T::Inbound
            ),
            6
        );
        assert_eq!(
            status_of(
                vec![
                    customer_leg(T::Inbound, CS::Answered),
                    agent_leg(T::Inbound, CS::Answered)
                ],
                T::Inbound
            ),
            9
        );
        let mut held = agent_leg(T::Inbound, CS::Answered);
        held.channel_flags = ChannelFlags::NONE.with(ChannelFlag::Hold);
        assert_eq!(
            status_of(
                vec![customer_leg(T::Inbound, CS::Answered), held],
                T::Inbound
            ),
            12
        );
        let mut held_customer = customer_leg(T::Inbound, CS::Answered);
        held_customer.channel_flags = ChannelFlags::parse("HOLD");
        assert_eq!(
            status_of(
                vec![held_customer, agent_leg(T::Inbound, CS::Answered)],
                T::Inbound
            ),
            12
        );
    }

    #[test]
    fn outbound_call() {
        assert_eq!(
            status_of(vec![agent_leg(T::Outbound, CS::Ringing)], T::Outbound),
            8
        );
        assert_eq!(
            status_of(vec![agent_leg(T::Outbound, CS::Answered)], T::Outbound),
            8
        );
        assert_eq!(
            status_of(
                vec![
                    agent_leg(T::Outbound, CS::Answered),
                    customer_leg(T::Outbound, CS::Ringing)
                ],
                T::Outbound
            ),
            8
        );
        assert_eq!(
            status_of(
                vec![
                    agent_leg(T::Outbound, CS::Answered),
                    customer_leg(T::Outbound, CS::Answered)
                ],
                T::Outbound
            ),
            10
        );
    }

    #[test]
    fn internal_call_either_side() {
        let mut caller = agent_leg(T::Internal, CS::Answered);
        caller.originator = Some("8001".into());
        let mut other = customer_leg(T::Internal, CS::Ringing);
        other.user_id = Some("b@ccc".into());
        assert_eq!(
            status_of(vec![caller.clone(), other.clone()], T::Internal),
            8
        );
        other.channel_state = Some(CS::Answered);
        assert_eq!(status_of(vec![caller, other.clone()], T::Internal), 11);
        let mut callee = agent_leg(T::Internal, CS::Ringing);
        callee.originator = Some("8002".into());
        assert_eq!(
            status_of(vec![other.clone(), callee.clone()], T::Internal),
            6
        );
        callee.channel_state = Some(CS::Answered);
        assert_eq!(status_of(vec![other, callee], T::Internal), 11);
    }

    #[test]
    fn consultation_from_the_consulting_agent() {
        let mut held = customer_leg(T::Inbound, CS::Answered);
        held.channel_flags = ChannelFlags::parse("HOLD");
        let me = agent_leg(T::Inbound, CS::Answered);
        let mut third = customer_leg(T::Consultant, CS::Ringing);
        third.index = Some(2);
        assert_eq!(
            status_of(vec![held.clone(), me.clone(), third.clone()], T::Consultant),
            16
        );
        third.channel_state = Some(CS::Answered);
        assert_eq!(
            status_of(vec![held.clone(), me.clone(), third.clone()], T::Consultant),
            17
        );
        let mut third_held = third.clone();
        third_held.channel_flags = ChannelFlags::parse("HOLD");
        let mut unheld = held.clone();
        unheld.channel_flags = ChannelFlags::NONE;
        assert_eq!(
            status_of(vec![unheld, me.clone(), third_held], T::Consultant),
            18
        );
        // The customer hangs up before / after the third party answers.
        let mut gone = held.clone();
        gone.channel_state = Some(CS::Released);
        let mut ringing_third = third.clone();
        ringing_third.channel_state = Some(CS::Ringing);
        assert_eq!(
            status_of(vec![gone.clone(), me.clone(), ringing_third], T::Consultant),
            8
        );
        assert_eq!(
            status_of(vec![gone, me.clone(), third.clone()], T::Consultant),
            10
        );
        // Retrieved before the third party answered: the plain call again.
        let mut dropped = third;
        dropped.channel_state = Some(CS::Released);
        let mut back = held;
        back.channel_flags = ChannelFlags::NONE;
        assert_eq!(status_of(vec![back, me, dropped], T::Consultant), 9);
    }

    #[test]
    fn consultation_from_the_consulted_agent() {
        let customer = customer_leg(T::Inbound, CS::Answered);
        let mut consulting = customer_leg(T::Inbound, CS::Answered);
        consulting.user_id = Some("b@ccc".into());
        let mut me = agent_leg(T::Consultant, CS::Ringing);
        assert_eq!(
            status_of(
                vec![customer.clone(), consulting.clone(), me.clone()],
                T::Consultant
            ),
            6
        );
        me.channel_state = Some(CS::Answered);
        assert_eq!(
            status_of(
                vec![customer.clone(), consulting.clone(), me.clone()],
                T::Consultant
            ),
            11
        );
        consulting.channel_state = Some(CS::Released);
        assert_eq!(status_of(vec![customer, consulting, me], T::Consultant), 9);
    }

    #[test]
    fn conference_monitor_coach() {
        let customer = customer_leg(T::Inbound, CS::Answered);
        assert_eq!(
            status_of(
                vec![customer.clone(), agent_leg(T::Inbound, CS::Answered)],
                T::Conference
            ),
            19
        );
        assert_eq!(
            status_of(
                vec![customer.clone(), agent_leg(T::Conference, CS::Ringing)],
                T::Conference
            ),
            6
        );
        assert_eq!(
            status_of(
                vec![customer.clone(), agent_leg(T::Barge, CS::Answered)],
                T::Inbound
            ),
            19
        );
        assert_eq!(
            status_of(
                vec![customer.clone(), agent_leg(T::Monitor, CS::Ringing)],
                T::Inbound
            ),
            21
        );
        let mut coached = agent_leg(T::Inbound, CS::Answered);
        coached.channel_flags = ChannelFlags::parse("COACHED");
        assert_eq!(status_of(vec![customer.clone(), coached], T::Inbound), 20);
        let mut coach = agent_leg(T::Coach, CS::Answered);
        coach.channel_flags = ChannelFlags::parse("COACHING");
        assert_eq!(status_of(vec![customer, coach], T::Inbound), 21);
    }

    #[test]
    fn call_without_my_live_leg_falls_back_to_user_state() {
        let mut gone = agent_leg(T::Inbound, CS::Released);
        gone.channel_flags = ChannelFlags::NONE;
        let c = call(
            T::Inbound,
            vec![customer_leg(T::Inbound, CS::Answered), gone],
        );
        assert_eq!(
            derive_status(&user("WORKING"), Some(&c)),
            Some(Status::AfterCallWork)
        );
        let mut anonymous = user("TALKING");
        anonymous.user_id = None;
        anonymous.extension = None;
        assert_eq!(derive_status(&anonymous, Some(&c)), None);
    }

    #[test]
    fn the_agent_is_found_by_extension_when_the_id_is_missing() {
        let mut u = user("TALKING");
        u.user_id = None;
        let mut mine = agent_leg(T::Inbound, CS::Answered);
        mine.user_id = None;
        let c = call(
            T::Inbound,
            vec![customer_leg(T::Inbound, CS::Answered), mine],
        );
        assert_eq!(derive_status(&u, Some(&c)), Some(Status::InboundCall));
    }

    #[test]
    fn remote_leg_prefers_the_customer() {
        let u = user("TALKING");
        let c = call(
            T::Inbound,
            vec![
                agent_leg(T::Inbound, CS::Answered),
                customer_leg(T::Inbound, CS::Answered),
            ],
        );
        let view = CallView::new(&u, &c).unwrap();
        assert_eq!(view.remote().originator.as_deref(), Some("13800000000"));
        assert_eq!(view.job_id().map(|j| &**j), Some("job-1"));
    }
}
