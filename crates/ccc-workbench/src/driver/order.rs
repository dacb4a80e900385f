//! Keeping the two sources of the agent's state in order.
//!
//! The agent link delivers snapshots in the platform's order (`ContextId` rising). The
//! answers of the 2020 state actions (`SignInGroup`, `ReadyForService`, `TakeBreak`,
//! `SignOutGroup`, `ChangeWorkMode`, `ResetAgentState`) carry the new user context
//! without an id, over another connection, so the push of a change can arrive before
//! the answer of that change, or the push of an earlier change after it. Applied as it
//! comes, such a late push undoes the answer (signing in shows 2, ready 3, then the late
//! push of the sign-in shows 2 again).
//!
//! So after such an answer the driver expects the push that confirms it:
//! - a push that says what the answer said confirms it, and is applied;
//! - a push that says something else is held back (only the newest): it is older than
//!   the answer, unless no confirming push ever comes;
//! - an answer that a held-back push already says was confirmed early: nothing more
//!   is expected;
//! - after [`WINDOW`] without confirmation the held-back push is applied, or, with none,
//!   the driver reads the state (`PollUserStatus`) rather than guess.
//!
//! While `register` waits for its sign-in, every push is held back the same way (they
//! describe the state the sign-in replaces). Answers that carry an id (the call
//! actions') are ordered by the machine itself and end any expectation.

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

    fn matches_snapshot(&self, snapshot: &AgentSnapshot) -> bool {
        snapshot
            .user_context
            .as_ref()
            .is_some_and(|u| self.matches(u))
    }
}

/// What the driver waits for.
#[derive(Debug)]
enum Waiting {
    /// Nothing: pushes apply as they come.
    Nothing,
    /// `register`'s sign-in: every push is held back.
    SignIn,
    /// The push that confirms an answer, until the deadline.
    Confirmation(Expected, Instant),
}

/// The expectation of the last state answer, and the newest push held back.
#[derive(Debug)]
pub(crate) struct Order {
    waiting: Waiting,
    held: Option<Box<AgentSnapshot>>,
}

impl Default for Order {
    fn default() -> Self {
        Self {
            waiting: Waiting::Nothing,
            held: None,
        }
    }
}

/// What the driver does with the machine after a step of [`Order`].
#[derive(Debug, PartialEq)]
pub(crate) enum Release {
    /// Nothing more.
    Nothing,
    /// Apply this held-back push now.
    Apply(Box<AgentSnapshot>),
    /// Read the state (`PollUserStatus`).
    Poll,
}

impl Order {
    /// `register` starts: hold every push until the sign-in answers.
    pub(crate) fn hold_for_sign_in(&mut self) {
        self.waiting = Waiting::SignIn;
        self.held = None;
    }

    /// `register` is over without its sign-in (failed, shut down): back to normal.
    pub(crate) fn clear(&mut self) {
        self.waiting = Waiting::Nothing;
        self.held = None;
    }

    /// A state answer was fed: expect its push, unless a held-back one already says
    /// the same, or it changes nothing.
    pub(crate) fn answered_user(
        &mut self,
        answer: &UserContext,
        current: Option<&UserContext>,
        now: Instant,
    ) {
        let expected = Expected::of(answer);
        let held = self.held.take();
        if held
            .as_deref()
            .is_some_and(|h| expected.matches_snapshot(h))
        {
            // Its push came first: confirmed.
            self.waiting = Waiting::Nothing;
            return;
        }
        let no_change = current.is_some_and(|c| expected.matches(c) && Expected::of(c) == expected);
        self.waiting = if no_change && !matches!(self.waiting, Waiting::SignIn) {
            Waiting::Nothing
        } else {
            Waiting::Confirmation(expected, now + WINDOW)
        };
    }

    /// An answer with an id was fed: the machine orders by id from here.
    pub(crate) fn answered_snapshot(&mut self) {
        if !matches!(self.waiting, Waiting::SignIn) {
            self.waiting = Waiting::Nothing;
            self.held = None;
        }
    }

    /// Whether an agent-link snapshot is to be applied now (else it is held back).
    pub(crate) fn admit(
        &mut self,
        snapshot: Box<AgentSnapshot>,
        now: Instant,
    ) -> Option<Box<AgentSnapshot>> {
        match &self.waiting {
            Waiting::Nothing => Some(snapshot),
            Waiting::SignIn => {
                self.held = Some(snapshot);
                None
            }
            Waiting::Confirmation(expected, until) => {
                if now >= *until || expected.matches_snapshot(&snapshot) {
                    // Confirmed, or no longer awaited: the push applies.
                    self.waiting = Waiting::Nothing;
                    self.held = None;
                    Some(snapshot)
                } else {
                    self.held = Some(snapshot);
                    None
                }
            }
        }
    }

    /// When the expectation runs out.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match &self.waiting {
            Waiting::Confirmation(_, until) => Some(*until),
            _ => None,
        }
    }

    /// What to do once the expectation has run out unconfirmed (it is dropped).
    pub(crate) fn expire(&mut self, now: Instant) -> Release {
        match &self.waiting {
            Waiting::Confirmation(_, until) if now >= *until => {
                self.waiting = Waiting::Nothing;
                match self.held.take() {
                    Some(held) => Release::Apply(held),
                    None => Release::Poll,
                }
            }
            _ => Release::Nothing,
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

    fn snapshot(id: i64, u: UserContext) -> Box<AgentSnapshot> {
        Box::new(AgentSnapshot::new(Some(id), u, None))
    }

    fn warm_up() -> UserContext {
        user(UserState::Break, Some("Warm-up"))
    }

    fn ready() -> UserContext {
        user(UserState::Ready, None)
    }

    #[test]
    fn pushes_that_confirm_answers() {
        let t0 = Instant::now();
        let mut order = Order::default();
        order.hold_for_sign_in();
        assert!(
            order
                .admit(snapshot(5, user(UserState::Offline, None)), t0)
                .is_none()
        );
        order.answered_user(&warm_up(), None, t0);
        assert!(order.admit(snapshot(6, warm_up()), t0).is_some());
        order.answered_user(&ready(), Some(&warm_up()), t0);
        assert!(order.admit(snapshot(7, ready()), t0).is_some());
        assert!(
            order
                .admit(snapshot(8, user(UserState::Ringing, None)), t0)
                .is_some()
        );
    }

    #[test]
    fn a_late_push_of_an_earlier_change_is_held_back() {
        let t0 = Instant::now();
        let mut order = Order::default();
        order.answered_user(&warm_up(), None, t0);
        order.answered_user(&ready(), Some(&warm_up()), t0);
        assert!(order.admit(snapshot(6, warm_up()), t0).is_none());
        assert!(order.admit(snapshot(7, ready()), t0).is_some());
        assert!(
            order
                .admit(snapshot(8, user(UserState::Ringing, None)), t0)
                .is_some()
        );
    }

    #[test]
    fn a_push_that_came_before_its_answer_confirms_it() {
        let t0 = Instant::now();
        let mut order = Order::default();
        order.hold_for_sign_in();
        // The sign-in's push arrives before its answer: held, then it confirms it.
        assert!(order.admit(snapshot(6, warm_up()), t0).is_none());
        order.answered_user(&warm_up(), None, t0);
        assert_eq!(order.deadline(), None, "confirmed early");
        // The ready's push arrives while the sign-in's is still awaited: held, then it
        // confirms the ready's answer.
        let mut order = Order::default();
        order.hold_for_sign_in();
        order.answered_user(&warm_up(), None, t0);
        assert!(order.admit(snapshot(7, ready()), t0).is_none());
        order.answered_user(&ready(), Some(&warm_up()), t0);
        assert_eq!(order.deadline(), None, "confirmed early");
        assert!(
            order
                .admit(snapshot(8, user(UserState::Ringing, None)), t0)
                .is_some()
        );
    }

    #[test]
    fn an_unconfirmed_answer_expires_into_the_held_push_or_a_poll() {
        let t0 = Instant::now();
        let mut order = Order::default();
        order.answered_user(&user(UserState::Break, Some("lunch")), Some(&ready()), t0);
        assert!(
            order
                .admit(snapshot(3, user(UserState::Ringing, None)), t0)
                .is_none()
        );
        assert_eq!(order.expire(t0), Release::Nothing);
        match order.expire(t0 + WINDOW) {
            Release::Apply(s) => assert_eq!(s.context_id, Some(3)),
            other => panic!("{other:?}"),
        }
        order.answered_user(&user(UserState::Break, Some("x")), Some(&ready()), t0);
        assert_eq!(order.expire(t0 + WINDOW), Release::Poll);
        // An answer that changes nothing expects nothing; one with an id ends it all.
        order.answered_user(&ready(), Some(&ready()), t0);
        assert_eq!(order.deadline(), None);
        order.answered_user(&user(UserState::Break, Some("y")), Some(&ready()), t0);
        order.answered_snapshot();
        assert!(
            order
                .admit(snapshot(9, user(UserState::Dialing, None)), t0)
                .is_some()
        );
    }
}
