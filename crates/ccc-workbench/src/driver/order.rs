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
//! So every such answer leaves an expectation: the push that confirms it. They queue
//! in the order the answers came (each change is pushed once, in the same order):
//! - a push that says what a queued answer said confirms it and every older one (the
//!   pushes come in order: the older ones' pushes are behind it); it is applied only
//!   when no newer answer waits, since then it is the newest state (break, ready,
//!   break, ready answered before their pushes show 4 3 4 3 once);
//! - a push that confirms nothing is held back (only the newest): it is older than
//!   the answers that wait, unless their pushes never come; once they are all
//!   confirmed, a held push (older than the last confirmation) is dropped;
//! - an answer that the held-back push already says was confirmed early, and so was
//!   everything before it: nothing more is expected, and that push is applied after
//!   the answer (the machine learns its `ContextId`, so an older push still on its way
//!   is ignored: the first frame of the agent link can follow the answer of the
//!   `PollUserStatus` made when it arrived);
//! - an answer whose push was already applied, and followed by a newer push, is stale
//!   and not applied: going ready with a call in the queue, the platform pushes ready
//!   and at once the ringing of the queued call, both before the answer; applied, the
//!   answer would end the ringing (6, 3, then 6 again);
//! - after [`WINDOW`] without the last answer confirmed, the held-back push is
//!   applied, or, with none, the driver reads the state (`PollUserStatus`) rather than
//!   guess.
//!
//! While `register` waits for its sign-in, every push is held back the same way (they
//! describe the state the sign-in replaces). Answers that carry an id (the call
//! actions') are ordered by the machine itself and end every expectation.

use std::collections::VecDeque;
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
        let code = user.break_code.as_deref().map(str::to_owned);
        same(&self.state, &user.user_state)
            && same(&self.break_code, &code)
            && same(&self.work_mode, &user.work_mode)
            && same(&self.outbound, &user.outbound_scenario)
    }

    /// Whether a push that said `pushed` says the same as this answer.
    fn covers(&self, pushed: &Self) -> bool {
        same(&self.state, &pushed.state)
            && same(&self.break_code, &pushed.break_code)
            && same(&self.work_mode, &pushed.work_mode)
            && same(&self.outbound, &pushed.outbound)
    }

    fn matches_snapshot(&self, snapshot: &AgentSnapshot) -> bool {
        snapshot
            .user_context
            .as_ref()
            .is_some_and(|u| self.matches(u))
    }
}

/// Whether `a` is left out or says what `b` says.
fn same<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    a.is_none() || a == b
}

/// How many applied pushes are remembered (those of the last [`WINDOW`]).
const APPLIED: usize = 8;

/// Whether the driver applies a state answer.
#[derive(Debug, PartialEq)]
pub(crate) enum Answer {
    /// Apply it.
    Apply,
    /// Apply it, then this held-back push that confirmed it (so the machine knows its
    /// `ContextId`, and ignores older pushes still on their way).
    Confirmed(Box<AgentSnapshot>),
    /// Its push was applied and a newer push followed: applied, it would undo that.
    Stale,
}

/// The most answers awaiting their push at once (more only come from a program
/// firing state methods in a loop; the oldest expectations are dropped first).
const MAX_EXPECTED: usize = 16;

/// The expectations of the state answers, the newest push held back, and what the
/// pushes applied lately said.
#[derive(Debug, Default)]
pub(crate) struct Order {
    /// `register`'s sign-in is awaited: every push is held back.
    sign_in: bool,
    /// The answers awaiting their push, oldest first.
    expected: VecDeque<Expected>,
    /// When the last answer stops waiting.
    until: Option<Instant>,
    held: Option<Box<AgentSnapshot>>,
    /// What the pushes applied lately said, oldest first, with when.
    applied: VecDeque<(Expected, Instant)>,
    /// The newest `ContextId` applied.
    newest_id: Option<i64>,
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
        self.clear();
        self.sign_in = true;
    }

    /// `register` is over without its sign-in (failed, shut down): back to normal.
    pub(crate) fn clear(&mut self) {
        self.sign_in = false;
        self.expected.clear();
        self.until = None;
        self.held = None;
        self.applied.clear();
        self.newest_id = None;
    }

    /// A state answer came: expect its push, unless the held-back one already says
    /// the same, or it changes nothing; [`Answer::Stale`] when its push was applied
    /// already and a newer one followed.
    pub(crate) fn answered_user(
        &mut self,
        answer: &UserContext,
        current: Option<&UserContext>,
        now: Instant,
    ) -> Answer {
        let expected = Expected::of(answer);
        let sign_in = std::mem::take(&mut self.sign_in);
        if let Some(held) = self.held.take().filter(|h| expected.matches_snapshot(h)) {
            // Its push came first: confirmed, and so is everything older.
            self.expected.clear();
            self.until = None;
            self.record(&held, now);
            return Answer::Confirmed(held);
        }
        self.applied
            .retain(|(_, at)| now.saturating_duration_since(*at) < WINDOW);
        let confirmed_at = self.applied.iter().rposition(|(e, _)| expected.covers(e));
        if !sign_in
            && self.expected.is_empty()
            && confirmed_at.is_some_and(|i| i + 1 < self.applied.len())
        {
            // Its push came first and was applied, then a newer one.
            return Answer::Stale;
        }
        let no_change = current.is_some_and(|c| expected.matches(c) && Expected::of(c) == expected);
        if no_change && !sign_in && self.expected.is_empty() {
            return Answer::Apply;
        }
        if self.expected.len() == MAX_EXPECTED {
            self.expected.pop_front();
        }
        self.expected.push_back(expected);
        self.until = Some(now + WINDOW);
        Answer::Apply
    }

    /// An answer with an id was fed: the machine orders by id from here.
    pub(crate) fn answered_snapshot(&mut self) {
        if !self.sign_in {
            self.expected.clear();
            self.until = None;
            self.held = None;
        }
    }

    /// Whether an agent-link snapshot is to be applied now (else it is held back or,
    /// being older than the state shown, dropped).
    pub(crate) fn admit(
        &mut self,
        snapshot: Box<AgentSnapshot>,
        now: Instant,
    ) -> Option<Box<AgentSnapshot>> {
        let admitted = self.admit_in_order(snapshot, now)?;
        self.record(&admitted, now);
        Some(admitted)
    }

    /// Remembers what an applied push said, unless the machine ignores it (an id older
    /// than one applied before).
    fn record(&mut self, snapshot: &AgentSnapshot, now: Instant) {
        if let Some(id) = snapshot.context_id {
            if self.newest_id.is_some_and(|newest| id < newest) {
                return;
            }
            self.newest_id = Some(id);
        }
        if let Some(user) = &snapshot.user_context {
            if self.applied.len() == APPLIED {
                self.applied.pop_front();
            }
            self.applied.push_back((Expected::of(user), now));
        }
    }

    fn admit_in_order(
        &mut self,
        snapshot: Box<AgentSnapshot>,
        now: Instant,
    ) -> Option<Box<AgentSnapshot>> {
        if self.sign_in {
            self.held = Some(snapshot);
            return None;
        }
        if self.expected.is_empty() {
            return Some(snapshot);
        }
        if self.until.is_some_and(|until| now >= until) {
            // No longer awaited: the push applies.
            self.expected.clear();
            self.until = None;
            self.held = None;
            return Some(snapshot);
        }
        match self
            .expected
            .iter()
            .position(|e| e.matches_snapshot(&snapshot))
        {
            Some(i) => {
                self.expected.drain(..=i);
                if self.expected.is_empty() {
                    // The push of the last answer: the newest state.
                    self.until = None;
                    self.held = None;
                    Some(snapshot)
                } else {
                    None
                }
            }
            None => {
                self.held = Some(snapshot);
                None
            }
        }
    }

    /// When the expectation runs out.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        if self.sign_in || self.expected.is_empty() {
            return None;
        }
        self.until
    }

    /// What to do once the expectation has run out unconfirmed (it is dropped).
    pub(crate) fn expire(&mut self, now: Instant) -> Release {
        match self.deadline() {
            Some(until) if now >= until => {
                self.expected.clear();
                self.until = None;
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
    fn pushes_delayed_behind_several_answers_are_not_shown() {
        // break, ready, break, ready answered before any of their pushes arrived.
        let t0 = Instant::now();
        let mut order = Order::default();
        let lunch = user(UserState::Break, Some("1"));
        let tea = user(UserState::Break, Some("2"));
        order.answered_user(&lunch, Some(&ready()), t0);
        order.answered_user(&ready(), Some(&lunch), t0);
        order.answered_user(&tea, Some(&ready()), t0);
        order.answered_user(&ready(), Some(&tea), t0);
        assert!(order.admit(snapshot(1, lunch), t0).is_none());
        assert!(order.admit(snapshot(2, ready()), t0).is_none());
        assert!(order.admit(snapshot(3, tea), t0).is_none());
        assert!(
            order.admit(snapshot(4, ready()), t0).is_some(),
            "the newest"
        );
        assert_eq!(order.deadline(), None);
        assert!(
            order
                .admit(snapshot(5, user(UserState::Ringing, None)), t0)
                .is_some()
        );
    }

    #[test]
    fn a_push_that_came_before_its_answer_confirms_it() {
        let t0 = Instant::now();
        let mut order = Order::default();
        order.hold_for_sign_in();
        // The sign-in's push arrives before its answer: held, then it confirms it, and
        // is handed back to be applied after the answer (its id with it).
        assert!(order.admit(snapshot(6, warm_up()), t0).is_none());
        assert_eq!(
            order.answered_user(&warm_up(), None, t0),
            Answer::Confirmed(snapshot(6, warm_up()))
        );
        assert_eq!(order.deadline(), None, "confirmed early");
        // The ready's push arrives while the sign-in's is still awaited: held, then it
        // confirms the ready's answer.
        let mut order = Order::default();
        order.hold_for_sign_in();
        order.answered_user(&warm_up(), None, t0);
        assert!(order.admit(snapshot(7, ready()), t0).is_none());
        assert!(matches!(
            order.answered_user(&ready(), Some(&warm_up()), t0),
            Answer::Confirmed(s) if s.context_id == Some(7)
        ));
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

    #[test]
    fn an_answer_whose_push_was_applied_and_followed_is_stale() {
        let t0 = Instant::now();
        let mut order = Order::default();
        // Going ready with a call in the queue: the ready push, then the ringing of
        // the queued call, then the answer of ReadyForService.
        let on_break = user(UserState::Break, Some("lunch"));
        assert!(order.admit(snapshot(10, on_break.clone()), t0).is_some());
        assert!(order.admit(snapshot(11, ready()), t0).is_some());
        let ringing = user(UserState::Ringing, None);
        assert!(order.admit(snapshot(12, ringing.clone()), t0).is_some());
        assert_eq!(
            order.answered_user(&ready(), Some(&ringing), t0),
            Answer::Stale
        );
        assert_eq!(order.deadline(), None, "nothing more is awaited");
        // The answer whose push is the newest applied is confirmed, and applies.
        assert!(order.admit(snapshot(13, on_break.clone()), t0).is_some());
        assert_eq!(
            order.answered_user(&on_break, Some(&on_break), t0),
            Answer::Apply
        );
        assert_eq!(order.deadline(), None);
        // A push older than the window confirms nothing: the answer applies and waits.
        let later = t0 + WINDOW;
        assert_eq!(
            order.answered_user(&ready(), Some(&on_break), later),
            Answer::Apply
        );
        assert_eq!(order.deadline(), Some(later + WINDOW));
    }

    #[test]
    fn a_push_older_than_one_applied_confirms_nothing() {
        let t0 = Instant::now();
        let mut order = Order::default();
        // The machine ignores push 4 after push 5; so does the memory of what applied.
        assert!(order.admit(snapshot(5, ready()), t0).is_some());
        assert!(order.admit(snapshot(4, warm_up()), t0).is_some());
        assert_eq!(
            order.answered_user(&ready(), Some(&ready()), t0),
            Answer::Apply
        );
    }
}
