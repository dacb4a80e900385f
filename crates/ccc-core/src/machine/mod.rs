//! The agent machine: status, hook events and timers of one agent, without I/O.
//!
//! It follows the sans-IO shape of quinn-proto and str0m. The shell (the workbench)
//! feeds it what the three links report with [`Agent::handle`] and the integrator's
//! requests with [`Agent::request`], then drains [`Agent::poll_event`] (the guide's
//! hooks), [`Agent::poll_action`] (what the shell must do now) and asks
//! [`Agent::poll_timeout`] when to call [`Agent::handle_timeout`]. Time is always an
//! argument, so every rule is tested with simulated time.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ccc_core::{Agent, Event, Input, Operation, Status, config::Config};
//! use ccc_core::model::{AgentSnapshot, UserContext, UserState};
//!
//! let config = Config::builder("ccc-test", true).build().unwrap();
//! let mut agent = Agent::new(&config);
//! let t0 = Instant::now();
//! agent.request(t0, Operation::Register).unwrap();
//! agent.handle(t0, Input::SipRegistered);
//! let mut user = UserContext::default();
//! user.user_id = Some("agent@ccc-test".into());
//! user.user_state = Some(UserState::Ready);
//! agent.handle(t0, Input::Snapshot(AgentSnapshot::new(Some(1), user, None)));
//! assert_eq!(agent.status(), Status::Ready);
//! let hooks: Vec<&str> = std::iter::from_fn(|| agent.poll_event()).map(|e| e.hook_name()).collect();
//! assert_eq!(hooks.first(), Some(&"onInit"));
//! assert!(hooks.contains(&"onReady"));
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::config::{AfterCallRule, Config};
use crate::derive::{CallView, Direction, derive_status};
use crate::error::{ErrorNotify, SignOutReason};
use crate::event::{
    Action, CallComing, CallData, CallDialing, Event, HangUpKind, PrivateData, ReadyKind,
    StatusChange,
};
use crate::model::{
    AgentSnapshot, BREAK_CODE_RINGING_TIMEOUT, CallContext, Text, UserContext, UserState, WorkMode,
};
use crate::operation::{Operation, OperationSet};
use crate::rules::{NotAllowed, allowed_in, check_against};
use crate::status::Status;

/// One of the agent's two long-lived links whose loss signs the agent out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    /// The agent link (push WebSocket to `AgentServerUrl`, or its polling fallback).
    AgentLink,
    /// The SIP link (SIP over WebSocket to `WebRtcUrl`).
    Sip,
}

impl Link {
    const fn slot(self) -> usize {
        match self {
            Self::AgentLink => 0,
            Self::Sip => 1,
        }
    }
}

/// What the shell learned from a link, or from its own work.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Input {
    /// A full snapshot: an agent-link push frame or a `PollUserStatus` answer. One whose
    /// `ContextId` is older than the newest seen is ignored.
    Snapshot(AgentSnapshot),
    /// The user context alone, as the answers of `SignInGroup`, `ReadyForService`,
    /// `TakeBreak`, `SignOutGroup`, `ChangeWorkMode` and `ResetAgentState` carry it. A
    /// state outside calls (`OFFLINE`, `READY`, `BREAK`, `WORKING`) also ends the call
    /// the machine knew of.
    UserContext(UserContext),
    /// The SIP registration succeeded (first time or again after a reconnect).
    SipRegistered,
    /// A SIP INVITE rings at this device (needed before auto-answer can answer).
    SipIncoming,
    /// The SIP call session at this device ended.
    SipCallEnded,
    /// A link went down; after the link timeout the agent is signed out.
    LinkDown(Link),
    /// A link is up again (the shell then re-reads the state).
    LinkUp(Link),
    /// The platform signed the agent out (for example `KA_register`: signed in elsewhere).
    SignedOut(SignOutReason),
    /// The shell unregistered on purpose (shutdown): back to -1.
    Unregistered,
    /// `register` failed: back to -1, and the error is reported.
    RegisterFailed(ErrorNotify),
    /// An operation failed: reported through `onErrorNotify`.
    Error(ErrorNotify),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Unregistered,
    Registering,
    Registered,
}

/// What the machine remembers of the call in progress, for the hooks' payloads.
#[derive(Debug, Clone)]
struct CurrentCall {
    job_id: Option<Text>,
    connid: Option<Text>,
    caller: Option<Text>,
    callee: Option<Text>,
    skill_group_id: Option<Text>,
    data: Option<Text>,
    agent: Option<Text>,
    direction: Direction,
    established: bool,
}

impl CurrentCall {
    fn from_view(view: &CallView<'_>, agent: Option<&Text>) -> Self {
        let remote = view.remote();
        Self {
            job_id: view.job_id().cloned(),
            connid: view.mine.channel_id.clone(),
            caller: remote.originator.clone(),
            callee: remote.destination.clone(),
            skill_group_id: view
                .mine
                .skill_group_id
                .clone()
                .or_else(|| remote.skill_group_id.clone()),
            data: view.call.call_variables.clone(),
            agent: agent.cloned(),
            direction: view.direction(),
            established: false,
        }
    }

    /// Fills in what earlier snapshots did not say yet. Values already known are kept
    /// (and not cloned again: this runs on every snapshot of the call).
    fn fill(&mut self, view: &CallView<'_>, agent: Option<&Text>) {
        fn fill(slot: &mut Option<Text>, value: Option<&Text>) {
            if slot.is_none() {
                slot.clone_from(&value.cloned());
            }
        }
        let remote = view.remote();
        fill(&mut self.connid, view.mine.channel_id.as_ref());
        fill(&mut self.caller, remote.originator.as_ref());
        fill(&mut self.callee, remote.destination.as_ref());
        fill(
            &mut self.skill_group_id,
            view.mine
                .skill_group_id
                .as_ref()
                .or(remote.skill_group_id.as_ref()),
        );
        fill(&mut self.data, view.call.call_variables.as_ref());
        fill(&mut self.agent, agent);
    }

    fn data(&self) -> CallData {
        CallData {
            connid: self.connid.clone(),
            caller: self.caller.clone(),
            private_data: PrivateData {
                acid: self.job_id.clone(),
                adacc: self.agent.clone(),
                dnis: self.callee.clone(),
                data: self.data.clone(),
                skillgroupname: self.skill_group_id.clone(),
            },
        }
    }

    fn hang_up_kind(&self) -> HangUpKind {
        match (self.established, self.direction) {
            (false, Direction::Incoming) => HangUpKind::Ringing,
            (false, Direction::Outgoing) => HangUpKind::Dialing,
            (true, Direction::Incoming) => HangUpKind::Inbound,
            (true, Direction::Outgoing) => HangUpKind::Outbound,
        }
    }
}

/// The machine's timers; `None` is "not running".
#[derive(Debug, Clone, Copy, Default)]
struct Timers {
    ring_timeout: Option<Instant>,
    auto_answer: Option<Instant>,
    after_call: Option<Instant>,
    /// Since when each [`Link`] is down.
    link_down: [Option<Instant>; 2],
}

/// The timing rules the machine applies, taken from the [`Config`].
#[derive(Debug, Clone, Copy)]
struct Rules {
    after_call: AfterCallRule,
    auto_answer: Option<Duration>,
    ring_timeout: Duration,
    link_timeout: Duration,
    inbound_hang_up: bool,
}

/// `onCallRelease` and `onHangUp` for a call that ended.
fn report_release(events: &mut VecDeque<Event>, call: &CurrentCall) {
    events.push_back(Event::CallRelease(call.data()));
    events.push_back(Event::HangUp {
        kind: call.hang_up_kind(),
    });
}

/// One agent's status machine. See the [module docs](crate::machine).
#[derive(Debug, Clone)]
pub struct Agent {
    rules: Rules,
    phase: Phase,
    status: Status,
    last_status: Status,
    user: Option<UserContext>,
    call: Option<CallContext>,
    last_context_id: Option<i64>,
    sip_registered: bool,
    sip_incoming: bool,
    auto_answer_pending: bool,
    off_site: bool,
    current: Option<CurrentCall>,
    /// Why the platform signed the agent out, until the status change reports it. `None`
    /// for a sign-out this program asked for (a normal one, no error).
    sign_out_reason: Option<SignOutReason>,
    timers: Timers,
    events: VecDeque<Event>,
    actions: VecDeque<Action>,
}

impl Agent {
    /// A machine in status -1 (unregistered) with the rules of `config`. Its first event
    /// is `onInit` (H21).
    pub fn new(config: &Config) -> Self {
        let mut events = VecDeque::with_capacity(16);
        events.push_back(Event::Init);
        Self {
            rules: Rules {
                after_call: config.after_call_rule(),
                auto_answer: config.auto_answer_call(),
                ring_timeout: config.ring_timeout(),
                link_timeout: config.link_timeout(),
                inbound_hang_up: config.inbound_hang_up(),
            },
            phase: Phase::Unregistered,
            status: Status::Unregistered,
            last_status: Status::Unregistered,
            user: None,
            call: None,
            last_context_id: None,
            sip_registered: false,
            sip_incoming: false,
            auto_answer_pending: false,
            off_site: false,
            current: None,
            sign_out_reason: None,
            timers: Timers::default(),
            events,
            actions: VecDeque::with_capacity(4),
        }
    }

    /// The current status (`getStatusCode().code`).
    pub fn status(&self) -> Status {
        self.status
    }

    /// The status before the last change (`getStatusCode().lastCode`).
    pub fn last_status(&self) -> Status {
        self.last_status
    }

    /// The newest user context the machine holds.
    pub fn user_context(&self) -> Option<&UserContext> {
        self.user.as_ref()
    }

    /// The call context the machine holds, if the agent is in a call.
    pub fn call_context(&self) -> Option<&CallContext> {
        self.call.as_ref()
    }

    /// What the current status allows, narrowed by the platform settings (an inbound
    /// call cannot be hung up when the platform forbids it).
    pub fn allowed(&self) -> OperationSet {
        let allowed = allowed_in(self.status);
        if self.status == Status::InboundCall && !self.rules.inbound_hang_up {
            allowed.without(Operation::HangUp)
        } else {
            allowed
        }
    }

    /// Checks a request of the integrator against the status, and notes what it changes
    /// locally: `register` starts registering (status 0); `answer` stops the auto-answer
    /// timer; `ready` stops the after-call timer. The shell then does the work and feeds
    /// the answers back with [`Agent::handle`].
    pub fn request(&mut self, now: Instant, op: Operation) -> Result<(), NotAllowed> {
        check_against(self.status, op, self.allowed())?;
        match op {
            Operation::Register => self.phase = Phase::Registering,
            Operation::Answer => {
                self.timers.auto_answer = None;
                self.auto_answer_pending = false;
            }
            Operation::Ready => self.timers.after_call = None,
            _ => {}
        }
        self.refresh(now);
        Ok(())
    }

    /// Feeds what a link reported (or what the shell did); then drain the events.
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Snapshot(snapshot) => {
                if let Some(id) = snapshot.context_id {
                    if self.last_context_id.is_some_and(|last| id < last) {
                        return;
                    }
                    self.last_context_id = Some(id);
                }
                if let Some(user) = snapshot.user_context {
                    self.user = Some(user);
                }
                self.call = snapshot.call_context;
            }
            Input::UserContext(user) => {
                let outside_calls = matches!(
                    user.user_state,
                    Some(
                        UserState::Offline
                            | UserState::Ready
                            | UserState::Break
                            | UserState::Working
                    )
                );
                if outside_calls {
                    self.call = None;
                }
                self.user = Some(user);
            }
            Input::SipRegistered => {
                self.sip_registered = true;
                self.timers.link_down[Link::Sip.slot()] = None;
                self.events.push_back(Event::Register);
            }
            Input::SipIncoming => {
                self.sip_incoming = true;
                if self.auto_answer_pending {
                    self.auto_answer_pending = false;
                    self.answer_now();
                }
            }
            Input::SipCallEnded => self.sip_incoming = false,
            Input::LinkDown(link) => {
                if self.phase == Phase::Registered {
                    self.timers.link_down[link.slot()].get_or_insert(now);
                }
            }
            Input::LinkUp(link) => self.timers.link_down[link.slot()] = None,
            Input::SignedOut(reason) => self.sign_out(reason),
            Input::Unregistered => {
                if self.phase != Phase::Unregistered {
                    self.sign_out_reason = None;
                    self.reset_session();
                }
            }
            Input::RegisterFailed(error) => {
                if self.phase == Phase::Registering {
                    self.reset_session();
                }
                self.events.push_back(Event::ErrorNotify(error));
            }
            Input::Error(error) => self.events.push_back(Event::ErrorNotify(error)),
        }
        self.refresh(now);
    }

    /// Fires the timers that are due at `now`; then drain the events and actions.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due = |deadline: Option<Instant>| deadline.is_some_and(|d| d <= now);
        if due(self.timers.ring_timeout) {
            self.timers.ring_timeout = None;
            self.actions.push_back(Action::TakeBreak {
                code: BREAK_CODE_RINGING_TIMEOUT,
            });
        }
        if due(self.timers.auto_answer) {
            self.timers.auto_answer = None;
            if self.sip_incoming {
                self.answer_now();
            } else {
                self.auto_answer_pending = true;
            }
        }
        if due(self.timers.after_call) {
            self.timers.after_call = None;
            self.actions.push_back(Action::GoReady);
        }
        let limit = self.rules.link_timeout;
        let [agent_link, sip] = self.timers.link_down;
        if [agent_link, sip]
            .iter()
            .flatten()
            .any(|down| *down + limit <= now)
        {
            let reason = match (agent_link.is_some(), sip.is_some()) {
                (true, true) => SignOutReason::AsmPrivateAndSip,
                (true, false) => SignOutReason::AsmPrivate,
                _ => SignOutReason::AsmSip,
            };
            self.sign_out(reason);
            self.refresh(now);
        }
    }

    /// When [`Agent::handle_timeout`] must be called next, if any timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let t = &self.timers;
        let links = t
            .link_down
            .iter()
            .flatten()
            .map(|d| *d + self.rules.link_timeout);
        [t.ring_timeout, t.auto_answer, t.after_call]
            .into_iter()
            .flatten()
            .chain(links)
            .min()
    }

    /// The next hook event, in the order they happened.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next thing the shell must do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    fn answer_now(&mut self) {
        let job_id = self.current.as_ref().and_then(|c| c.job_id.clone());
        self.actions.push_back(Action::Answer { job_id });
    }

    /// The platform or a timeout signed the agent out: forget the session.
    fn sign_out(&mut self, reason: SignOutReason) {
        if self.phase == Phase::Unregistered {
            return;
        }
        if self.status.is_signed_in() {
            // Reported after onLogOut, when the status change happens.
            self.sign_out_reason = Some(reason);
        } else {
            self.events
                .push_back(Event::ErrorNotify(ErrorNotify::sign_out(reason)));
        }
        self.reset_session();
    }

    fn reset_session(&mut self) {
        self.phase = Phase::Unregistered;
        self.user = None;
        self.call = None;
        self.sip_registered = false;
        self.sip_incoming = false;
        self.auto_answer_pending = false;
        self.timers = Timers::default();
    }

    /// Recomputes the status from what the machine knows and reports the change.
    fn refresh(&mut self, now: Instant) {
        let derived = self.observe();
        let target = match self.phase {
            Phase::Unregistered => Status::Unregistered,
            Phase::Registering => match derived {
                Some(status) if self.sip_registered && status.is_signed_in() => {
                    self.phase = Phase::Registered;
                    status
                }
                _ => Status::Registering,
            },
            Phase::Registered => derived.unwrap_or(self.status),
        };
        self.off_site_change();
        if target != self.status {
            self.walk_to(now, target);
        }
    }

    /// The status the contexts describe, following the call in them on the way: a new
    /// call replaces the one before, which is reported released if the status did not
    /// show its end.
    fn observe(&mut self) -> Option<Status> {
        let user = self.user.as_ref()?;
        let Some(view) = self
            .call
            .as_ref()
            .and_then(|call| CallView::new(user, call))
        else {
            return derive_status(user, None);
        };
        match &mut self.current {
            Some(current) if current.job_id.as_ref() == view.job_id() => {
                current.fill(&view, user.user_id.as_ref());
            }
            slot => {
                let seen = CurrentCall::from_view(&view, user.user_id.as_ref());
                if let Some(old) = slot.replace(seen) {
                    report_release(&mut self.events, &old);
                }
            }
        }
        Some(view.status())
    }

    /// Answering on mobile while ready is reported as `onReady('offline')` again.
    fn off_site_change(&mut self) {
        let off_site = self
            .user
            .as_ref()
            .is_some_and(|user| user.work_mode == Some(WorkMode::OffSite));
        if off_site != self.off_site {
            self.off_site = off_site;
            if off_site && self.status == Status::Ready {
                self.events.push_back(Event::Ready {
                    kind: ReadyKind::Offline,
                });
            }
        }
    }

    /// Moves to `target`, through the intermediate statuses the guide prescribes.
    fn walk_to(&mut self, now: Instant, target: Status) {
        let from = self.status;
        let via = if matches!(
            from,
            Status::InboundCall | Status::OutboundCall | Status::InternalCall
        ) && target == Status::ConsultInitiated
        {
            // M24: "9 or 10 -> 12 -> 16": the agent's party is held first.
            Some(Status::Hold)
        } else if !from.is_signed_in() && target.is_signed_in() && target != Status::SignedIn {
            // Table K2: signing in passes through 2 on the way to any other status.
            Some(Status::SignedIn)
        } else {
            None
        };
        if let Some(via) = via {
            self.step(now, via);
        }
        self.step(now, target);
        if target == Status::SignedIn {
            self.actions.push_back(Action::GoReady);
        }
    }

    /// One status change and its hook events.
    fn step(&mut self, now: Instant, to: Status) {
        let from = self.status;
        self.last_status = from;
        self.status = to;
        let connid = if from.is_call() || to.is_call() {
            self.current.as_ref().and_then(|c| c.connid.clone())
        } else {
            None
        };
        self.events.push_back(Event::StatusChange(StatusChange {
            code: to,
            last_code: from,
            connid,
        }));

        if from.is_call() && !to.is_call() {
            self.release_current();
        }
        if let Some(current) = self.current.as_mut().filter(|_| to.is_call()) {
            if to == Status::Ringing {
                self.events.push_back(Event::CallComing(CallComing {
                    connid: current.connid.clone(),
                    caller: current.caller.clone(),
                    callee: current.callee.clone(),
                    contact_id: current.job_id.clone(),
                    skillgroup_id: current.skill_group_id.clone(),
                }));
            }
            if to == Status::Dialing {
                self.events.push_back(Event::CallDialing(CallDialing {
                    connid: current.connid.clone(),
                    caller: current.caller.clone(),
                    callee: current.callee.clone(),
                    contact_id: current.job_id.clone(),
                }));
            }
            if !current.established && !matches!(to, Status::Ringing | Status::Dialing) {
                current.established = true;
                self.events.push_back(Event::CallEstablish(current.data()));
            }
        }
        match to {
            Status::Unregistered | Status::SignedOut if from.is_signed_in() => {
                // The guide lists every sign-out event, AB_normal too, among onErrorNotify's
                // cases: the platform's are told; this program's own sign-out is not.
                let told = self.sign_out_reason.take();
                let reason = told.unwrap_or(SignOutReason::AbNormal);
                self.events.push_back(Event::LogOut { reason });
                if let Some(reason) = told {
                    self.events
                        .push_back(Event::ErrorNotify(ErrorNotify::sign_out(reason)));
                }
            }
            Status::Ready => self.events.push_back(Event::Ready {
                kind: if self.off_site {
                    ReadyKind::Offline
                } else {
                    ReadyKind::Normal
                },
            }),
            Status::Break => {
                let code = self.user.as_ref().and_then(|u| u.break_code.clone());
                self.events.push_back(Event::Break { code });
            }
            _ => {}
        }
        if to.is_signed_in() && !from.is_signed_in() {
            self.events.push_back(Event::LogIn);
        }
        self.sign_out_reason = None;
        self.set_timers(now, from, to);
    }

    fn release_current(&mut self) {
        if let Some(call) = self.current.take() {
            report_release(&mut self.events, &call);
        }
    }

    fn set_timers(&mut self, now: Instant, from: Status, to: Status) {
        let t = &mut self.timers;
        if from == Status::Ringing {
            t.ring_timeout = None;
            t.auto_answer = None;
            self.auto_answer_pending = false;
        }
        if from == Status::AfterCallWork {
            t.after_call = None;
        }
        match to {
            Status::Ringing => {
                t.ring_timeout = Some(now + self.rules.ring_timeout);
                // On mobile the phone answers, not this device.
                t.auto_answer = self
                    .rules
                    .auto_answer
                    .filter(|_| !self.off_site)
                    .map(|after| now + after);
            }
            Status::AfterCallWork => {
                t.after_call = match self.rules.after_call {
                    AfterCallRule::After(after) => Some(now + after),
                    AfterCallRule::Manual => None,
                };
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
