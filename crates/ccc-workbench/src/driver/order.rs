//! Keeping the two sources of the agent's state in order.
//!
//! The agent link delivers snapshots in the platform's order (`ContextId` rising). The
//! answers of the 2020 state actions (`SignInGroup`, `ReadyForService`, `TakeBreak`,
//! `SignOutGroup`, `ChangeWorkMode`, `ResetAgentState`) carry the new user context
//! without an id, over another connection, so the push of an earlier change can arrive
//! after them: applied, it would undo the answer (signing in shows 2, ready 3, then the
//! late push of the sign-in shows 2 again).
//!
//! So after such an answer the driver expects the push that confirms it: agent-link
//! snapshots whose user state differs are older and dropped, until one matches (then
//! everything applies again) or [`WINDOW`] passes (then the driver reads the state with
//! `PollUserStatus` rather than guess). The platform pushes every change, so the
//! confirming push comes; an answer that changes nothing expects nothing. Answers that
//! carry an id (the call actions') are ordered by the machine itself and end any
//! expectation.

use std::time::{Duration, Instant};

use ccc_core::model::{AgentSnapshot, UserContext, UserState, WorkMode};

/// How long an answer waits for its confirming push.
pub(crate) const WINDOW: Duration = Duration::from_secs(2);

/// What an answer said the agent's state is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    state: Option<UserState>,
    break_code: Option<String>,
    work_mode: Option<WorkMode>,
    outbound: Option<bool>,
}

impl Expected {
    fn of(user: &UserContext) -> Self {
        Self {
            state: user.user_state.clone(),
            break_code: (user.user_state == Some(UserState::Break))
                .then(|| user.break_code.as_deref().map(str::to_owned))
                .flatten(),
            work_mode: user.work_mode.clone(),
            outbound: user.outbound_scenario,
        }
    }

    /// Whether `user` says the same (what the answer left out is not compared).
    fn matches(&self, user: &UserContext) -> bool {
        fn same<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
            a.is_none() || a == b
        }
        let code = user.break_code.as_deref().map(str::to_owned);
        same(&self.state, &user.user_state)
            && same(&self.break_code, &code)
            && same(&self.work_mode, &user.work_mode)
            && same(&self.outbound, &user.outbound_scenario)
    }
}

/// The expectation of the last state answer, if any.
#[derive(Debug, Default)]
pub(crate) struct Order {
    expect: Option<(Expected, Instant)>,
}

impl Order {
    /// A state answer was fed: expect its push, unless it changes nothing.
    pub(crate) fn answered_user(
        &mut self,
        answer: &UserContext,
        current: Option<&UserContext>,
        now: Instant,
    ) {
        let expected = Expected::of(answer);
        if current.is_some_and(|c| expected.matches(c) && Expected::of(c) == expected) {
            return;
        }
        self.expect = Some((expected, now + WINDOW));
    }

    /// An answer with an id was fed: the machine orders by id from here.
    pub(crate) fn answered_snapshot(&mut self) {
        self.expect = None;
    }

    /// Whether an agent-link snapshot is to be applied.
    pub(crate) fn admit(&mut self, snapshot: &AgentSnapshot, now: Instant) -> bool {
        let Some((expected, until)) = &self.expect else {
            return true;
        };
        if now >= *until {
            self.expect = None;
            return true;
        }
        let confirms = snapshot
            .user_context
            .as_ref()
            .is_some_and(|u| expected.matches(u));
        if confirms {
            self.expect = None;
        }
        confirms
    }

    /// When the expectation runs out.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.expect.as_ref().map(|(_, until)| *until)
    }

    /// Whether the expectation ran out unconfirmed (it is dropped).
    pub(crate) fn expired(&mut self, now: Instant) -> bool {
        if self.expect.as_ref().is_some_and(|(_, until)| now >= *until) {
            self.expect = None;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(state: UserState, code: Option<&str>) -> UserContext {
        let mut u = UserContext::default();
        u.user_state = Some(state);
        u.break_code = code.map(Into::into);
        u
    }

    fn snapshot(id: i64, u: UserContext) -> AgentSnapshot {
        AgentSnapshot::new(Some(id), u, None)
    }

    #[test]
    fn a_late_push_of_an_earlier_change_is_dropped_until_the_confirming_one() {
        let t0 = Instant::now();
        let mut order = Order::default();
        let warm_up = user(UserState::Break, Some("Warm-up"));
        order.answered_user(&warm_up, None, t0);
        let ready = user(UserState::Ready, None);
        order.answered_user(&ready, Some(&warm_up), t0);
        assert!(!order.admit(&snapshot(6, warm_up.clone()), t0));
        assert!(order.admit(&snapshot(7, ready.clone()), t0));
        // Confirmed: everything applies again.
        assert!(order.admit(&snapshot(8, user(UserState::Ringing, None)), t0));
    }

    #[test]
    fn an_unconfirmed_answer_expires_and_an_idle_one_expects_nothing() {
        let t0 = Instant::now();
        let mut order = Order::default();
        let ready = user(UserState::Ready, None);
        order.answered_user(&ready, Some(&ready), t0);
        assert_eq!(order.deadline(), None);
        order.answered_user(&user(UserState::Break, Some("lunch")), Some(&ready), t0);
        assert!(!order.admit(&snapshot(3, ready.clone()), t0));
        assert!(!order.expired(t0));
        assert!(order.expired(t0 + WINDOW));
        assert!(order.admit(&snapshot(4, ready), t0 + WINDOW));
        order.answered_user(&user(UserState::Break, Some("x")), None, t0);
        order.answered_snapshot();
        assert!(order.admit(&snapshot(9, user(UserState::Dialing, None)), t0));
    }
}
