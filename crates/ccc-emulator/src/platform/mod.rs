//! The call center itself, without I/O: agents, skill-group queues, calls and their
//! legs, and the records they leave.
//!
//! Sans-IO in the quinn-proto / str0m manner: the shell feeds what the links report
//! with [`Platform::handle`], runs the agent-control actions with
//! [`Platform::command`], fires timers with [`Platform::handle_timeout`] when
//! [`Platform::poll_timeout`] says, and drains [`Platform::poll_output`] after each
//! of those: agent-link snapshots to push, devices to ring, legs to hang up, who hears
//! whom. Time is always an argument, so every rule (the 30 s ring timeout, scripted
//! customers) runs on simulated time in the tests.
//!
//! ```
//! use std::time::Instant;
//! use ccc_emulator::Scenario;
//! use ccc_emulator::platform::{Command, InboundCall, Platform, Principal};
//!
//! let t0 = Instant::now();
//! let mut platform = Platform::new(Scenario::default(), t0, 1_700_000_000_000).unwrap();
//! let sign_in = Command::SignInGroup {
//!     device_id: "dev-1".into(),
//!     groups: vec!["sales@ccc-emulator".into()],
//!     additivity: false,
//! };
//! platform.command(t0, Principal::Admin, Some("bob@ccc-emulator"), sign_in).unwrap();
//! let ready = Command::ReadyForService { outbound_only: None };
//! platform.command(t0, Principal::Admin, Some("bob@ccc-emulator"), ready).unwrap();
//! let job = platform.place_inbound_call(t0, InboundCall::new("13800000009", "02150000001")).unwrap();
//! let snapshot = platform.snapshot("bob@ccc-emulator").unwrap();
//! let status = ccc_core::derive_status(
//!     snapshot.user_context.as_ref().unwrap(),
//!     snapshot.call_context.as_ref(),
//! );
//! assert_eq!(status.map(|s| s.code()), Some(6)); // ringing
//! assert_eq!(snapshot.call_context.unwrap().job_id.as_deref(), Some(&*job));
//! ```

mod agent;
mod call;
mod call_ops;
mod data_ops;
mod error;
mod io;
mod lines;
mod records;
mod routing;
mod state_ops;
#[cfg(test)]
mod tests;
mod timers;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use ccc_core::SignOutReason;
use ccc_core::model::{AgentSnapshot, CallType, ChannelState, Text, UserState};

use crate::scenario::{Scenario, ScenarioError};

use agent::AgentState;
pub use call::{AgentId, LegId};
use call::{Call, Channel, Party, Role};
pub use data_ops::SMS_SCENARIO_SATISFACTION;
pub use error::PlatformError;
pub use io::{Command, InboundCall, Input, MixLeg, Output, Principal, Reply, TransfereeType};
pub use records::{
    AgentPart, Appraisal, CallRecord, MAX_RECORDS, Recording, Records, SmsKind, SmsMessage,
};
use timers::{Timer, Timers};

/// The platform's timing rules, from the scenario.
#[derive(Debug, Clone, Copy)]
struct Rules {
    ring_timeout: Duration,
    no_answer: Duration,
    virtual_devices: bool,
    record_calls: bool,
}

/// How long a simulated busy line takes to say so, and the survey IVR to take a rating.
const LINE_BUSY_AFTER: Duration = Duration::from_millis(200);
const SURVEY_TAKES: Duration = Duration::from_millis(1_000);

/// What an agent is doing, for the admin API and the load harness.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentInfo {
    /// The agent.
    pub user_id: Text,
    /// The extension.
    pub extension: Text,
    /// `UserState`.
    pub state: UserState,
    /// The break code.
    pub break_code: Option<Text>,
    /// The call the agent is in.
    pub job_id: Option<Text>,
    /// The skill groups signed in to.
    pub signed_groups: Vec<Text>,
    /// The signed-in device.
    pub device: Option<Text>,
    /// Whether a SIP device is registered.
    pub sip_registered: bool,
}

/// One leg of a live call, for the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LegInfo {
    /// The leg.
    pub leg: LegId,
    /// `ChannelId`.
    pub channel_id: Text,
    /// The agent, or `None` for a line.
    pub user_id: Option<Text>,
    /// The line's number, or the agent's extension.
    pub party: Text,
    /// `ChannelState`.
    pub state: ChannelState,
    /// `CallType` of the leg.
    pub call_type: CallType,
    /// DTMF digits the leg received from the platform.
    pub dtmf_received: Text,
}

/// A live call, for the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallInfo {
    /// The call.
    pub job_id: Text,
    /// Its type.
    pub call_type: CallType,
    /// The calling number.
    pub calling: Text,
    /// The called number.
    pub called: Text,
    /// Whether it waits in a queue.
    pub queued: bool,
    /// Its legs.
    pub legs: Vec<LegInfo>,
}

/// The emulated call center (see the [module docs](self)).
#[derive(Debug)]
pub struct Platform {
    /// Shared, so an answer can read it while the platform changes (it never changes).
    scenario: std::sync::Arc<Scenario>,
    instance: Text,
    rules: Rules,
    epoch: Instant,
    epoch_ms: i64,
    agents: Vec<AgentState>,
    names: Vec<Text>,
    by_user: HashMap<Text, AgentId>,
    by_extension: HashMap<Text, AgentId>,
    calls: HashMap<Text, Call>,
    leg_calls: HashMap<LegId, Text>,
    queue: VecDeque<Text>,
    timers: Timers,
    outputs: VecDeque<Output>,
    records: Records,
    snapshots: Vec<Option<AgentSnapshot>>,
    mix_due: Vec<Text>,
    route_due: bool,
    ended: Vec<Text>,
    context_seq: i64,
    job_seq: u64,
    leg_seq: u64,
    sms_seq: u64,
}

impl Platform {
    /// A platform for `scenario` (checked first), starting at `now`, which is
    /// `unix_ms` on the wall clock (for the timestamps of contexts and records).
    pub fn new(scenario: Scenario, now: Instant, unix_ms: i64) -> Result<Self, ScenarioError> {
        scenario.validate()?;
        let agents: Vec<AgentState> = scenario
            .agents
            .iter()
            .map(|a| AgentState::new(a, now))
            .collect();
        let by_user = agents
            .iter()
            .enumerate()
            .map(|(i, a)| (a.user_id.clone(), AgentId(i)))
            .collect();
        let by_extension = agents
            .iter()
            .enumerate()
            .map(|(i, a)| (a.extension.clone(), AgentId(i)))
            .collect();
        let p = &scenario.platform;
        Ok(Self {
            instance: scenario.instance.id.as_str().into(),
            rules: Rules {
                ring_timeout: Duration::from_millis(p.ring_timeout_ms),
                no_answer: Duration::from_millis(p.no_answer_timeout_ms),
                virtual_devices: p.virtual_devices,
                record_calls: p.record_calls,
            },
            epoch: now,
            epoch_ms: unix_ms,
            snapshots: vec![None; agents.len()],
            names: scenario
                .agents
                .iter()
                .map(|a| Text::from(a.display_name.as_str()))
                .collect(),
            agents,
            by_user,
            by_extension,
            calls: HashMap::new(),
            leg_calls: HashMap::new(),
            queue: VecDeque::new(),
            timers: Timers::default(),
            outputs: VecDeque::new(),
            records: Records::default(),
            mix_due: Vec::new(),
            route_due: false,
            ended: Vec::new(),
            context_seq: 0,
            job_seq: 0,
            leg_seq: 0,
            sms_seq: 0,
            scenario: std::sync::Arc::new(scenario),
        })
    }

    /// The scenario the platform runs.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The same, shared: a reference that outlives a borrow of the platform.
    pub fn shared_scenario(&self) -> std::sync::Arc<Scenario> {
        std::sync::Arc::clone(&self.scenario)
    }

    /// The instance id.
    pub fn instance_id(&self) -> &str {
        &self.instance
    }

    /// The wall-clock time of `now`, milliseconds since the Unix epoch.
    pub fn unix_ms(&self, now: Instant) -> i64 {
        let since = now.saturating_duration_since(self.epoch).as_millis();
        self.epoch_ms
            .saturating_add(i64::try_from(since).unwrap_or(i64::MAX))
    }

    /// The agent with this id.
    pub fn agent_id(&self, user_id: &str) -> Option<AgentId> {
        self.by_user.get(user_id).copied()
    }

    /// The agent with this extension.
    pub fn agent_by_extension(&self, extension: &str) -> Option<AgentId> {
        self.by_extension.get(extension).copied()
    }

    /// The agent `UserId` names, as `principal` may act on it: an agent's own key acts
    /// only on itself; without `UserId` the key's own agent.
    pub fn resolve(
        &self,
        principal: Principal,
        user_id: Option<&str>,
    ) -> Result<AgentId, PlatformError> {
        let named = user_id.filter(|u| !u.is_empty());
        match (principal, named) {
            (Principal::Admin, None) => Err(PlatformError::blank("UserId")),
            (Principal::Agent(me), None) => Ok(me),
            (principal, Some(user)) => {
                let id = self
                    .agent_id(user)
                    .ok_or_else(|| PlatformError::no_user(user, &self.instance))?;
                match principal {
                    Principal::Agent(me) if me != id && !self.agents[me.0].admin => {
                        Err(PlatformError::forbidden(format_args!("acting as {user}")))
                    }
                    _ => Ok(id),
                }
            }
        }
    }

    /// Whether `principal` may read every agent's data (the administrator, or an
    /// agent with the Admin role).
    pub fn is_admin(&self, principal: Principal) -> bool {
        match principal {
            Principal::Admin => true,
            Principal::Agent(me) => self.agents[me.0].admin,
        }
    }

    /// The user id of an agent.
    pub fn user_id(&self, agent: AgentId) -> &Text {
        &self.agents[agent.0].user_id
    }

    /// Runs an agent-control action for the agent `user_id` names (see
    /// [`Platform::resolve`]) and answers with its new contexts.
    pub fn command(
        &mut self,
        now: Instant,
        principal: Principal,
        user_id: Option<&str>,
        command: Command,
    ) -> Result<Reply, PlatformError> {
        let agent = self.resolve(principal, user_id)?;
        self.agents[agent.0].heartbeat = Some(self.unix_ms(now));
        let result = self.run(now, agent, command);
        self.emit();
        let reply = result.map(|job| self.reply(agent, job.as_deref()));
        self.flush(now);
        reply
    }

    fn run(
        &mut self,
        now: Instant,
        agent: AgentId,
        command: Command,
    ) -> Result<Option<Text>, PlatformError> {
        match command {
            Command::SignInGroup {
                device_id,
                groups,
                additivity,
            } => self
                .sign_in(now, agent, &device_id, groups, additivity)
                .map(|()| None),
            Command::SignOutGroup => self.sign_out(now, agent).map(|()| None),
            Command::ReadyForService { outbound_only } => {
                self.ready(now, agent, outbound_only).map(|()| None)
            }
            Command::TakeBreak { code } => self.take_break(now, agent, &code).map(|()| None),
            Command::ChangeWorkMode {
                mode,
                mobile,
                groups,
            } => self
                .change_work_mode(now, agent, mode, mobile, groups)
                .map(|()| None),
            Command::ResetAgentState => self.reset(now, agent).map(|()| None),
            Command::MakeCall { callee, caller } => self
                .make_call(now, agent, &callee, caller.as_deref())
                .map(Some),
            Command::RedialCall {
                job_id,
                callee,
                caller,
            } => self.redial(now, agent, job_id, callee, caller).map(Some),
            Command::AnswerCall { job_id } => self.answer(now, agent, &job_id).map(Some),
            Command::ReleaseCall { job_id, channel_id } => self
                .release(now, agent, &job_id, channel_id.as_deref())
                .map(Some),
            Command::HoldCall { job_id, channel_id } => {
                self.hold(now, agent, &job_id, &channel_id, true).map(Some)
            }
            Command::RetrieveCall { job_id, channel_id } => {
                self.hold(now, agent, &job_id, &channel_id, false).map(Some)
            }
            Command::MuteCall { job_id, channel_id } => self
                .mute(now, agent, &job_id, channel_id.as_deref(), true)
                .map(Some),
            Command::UnmuteCall { job_id, channel_id } => self
                .mute(now, agent, &job_id, channel_id.as_deref(), false)
                .map(Some),
            Command::SendDtmf {
                job_id,
                channel_id,
                digits,
            } => self
                .send_dtmf(now, agent, &job_id, &channel_id, &digits)
                .map(Some),
            Command::BlindTransfer {
                job_id,
                transferee,
                kind,
                transferor,
            } => self
                .blind_transfer(now, agent, &job_id, &transferee, kind, transferor)
                .map(Some),
            Command::InitiateAttendedTransfer {
                job_id,
                transferee,
                kind,
                transferor,
            } => self
                .consult(now, agent, &job_id, &transferee, kind, transferor)
                .map(Some),
            Command::CompleteAttendedTransfer { job_id } => {
                self.complete_consult(now, agent, &job_id).map(Some)
            }
            Command::CancelAttendedTransfer { job_id } => {
                self.cancel_consult(now, agent, &job_id).map(Some)
            }
            Command::StartConference { participants } => {
                self.conference(now, agent, &participants).map(Some)
            }
            Command::MonitorCall { monitored_user } => self
                .supervise(now, agent, None, &monitored_user, CallType::Monitor)
                .map(Some),
            Command::BargeInCall {
                job_id,
                barged_user,
            } => self
                .supervise(now, agent, Some(&job_id), &barged_user, CallType::Barge)
                .map(Some),
            Command::InterceptCall {
                job_id,
                intercepted_user,
            } => self
                .supervise(
                    now,
                    agent,
                    Some(&job_id),
                    &intercepted_user,
                    CallType::Intercept,
                )
                .map(Some),
            Command::CoachCall {
                job_id,
                coached_user,
            } => self
                .supervise(now, agent, Some(&job_id), &coached_user, CallType::Coach)
                .map(Some),
            Command::LaunchSurvey { job_id } => self.survey(now, agent, &job_id).map(Some),
        }
    }

    fn reply(&mut self, agent: AgentId, job: Option<&str>) -> Reply {
        let snapshot = self.current_snapshot(agent);
        let call = match job {
            Some(job) => self
                .calls
                .get(job)
                .map(|c| self.call_context(c))
                .or_else(|| snapshot.call_context.clone()),
            None => None,
        };
        Reply {
            context_id: snapshot.context_id.unwrap_or(0),
            user: snapshot.user_context.clone().unwrap_or_default(),
            call,
        }
    }

    /// The agent's latest snapshot (`PollUserStatus`); its heartbeat is refreshed.
    pub fn poll_user_status(
        &mut self,
        now: Instant,
        principal: Principal,
        user_id: Option<&str>,
    ) -> Result<AgentSnapshot, PlatformError> {
        let agent = self.resolve(principal, user_id)?;
        self.agents[agent.0].heartbeat = Some(self.unix_ms(now));
        Ok(self.current_snapshot(agent))
    }

    /// The agent's latest snapshot, as pushed last (or a first one).
    pub fn snapshot(&mut self, user_id: &str) -> Option<AgentSnapshot> {
        let agent = self.agent_id(user_id)?;
        Some(self.current_snapshot(agent))
    }

    fn current_snapshot(&mut self, agent: AgentId) -> AgentSnapshot {
        if let Some(snapshot) = &self.snapshots[agent.0] {
            return snapshot.clone();
        }
        self.take_snapshot(agent)
    }

    fn take_snapshot(&mut self, agent: AgentId) -> AgentSnapshot {
        self.context_seq += 1;
        let state = &mut self.agents[agent.0];
        let user = state.context(&self.instance);
        // The call the agent is in; or, once, the call it just left (its legs show
        // how it ended).
        let job = match (&state.job, state.show_last) {
            (Some(job), _) => Some(job.clone()),
            (None, true) => state.last_job.clone(),
            (None, false) => None,
        };
        state.show_last = false;
        let call = job
            .and_then(|job| self.calls.get(&job))
            .map(|call| self.call_context(call));
        let snapshot = AgentSnapshot::new(Some(self.context_seq), user, call);
        self.snapshots[agent.0] = Some(snapshot.clone());
        snapshot
    }

    fn call_context(&self, call: &Call) -> ccc_core::model::CallContext {
        let agents = &self.agents;
        call.context(
            &|id: AgentId| {
                let a = &agents[id.0];
                (a.user_id.clone(), a.extension.clone())
            },
            &self.instance,
        )
    }

    /// What the links report (see [`Input`]).
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::SipRegistered { user_id, device_id } => {
                self.sip_registered(now, &user_id, device_id);
            }
            Input::SipUnregistered { user_id, device_id } => {
                if let Some(agent) = self.agent_id(&user_id) {
                    let a = &mut self.agents[agent.0];
                    if a.sip_device.as_ref() == Some(&device_id) {
                        a.sip_device = None;
                    }
                }
            }
            Input::Heartbeat { user_id } => {
                let ms = self.unix_ms(now);
                if let Some(agent) = self.agent_id(&user_id) {
                    self.agents[agent.0].heartbeat = Some(ms);
                }
            }
            Input::LegAnswered(leg) => self.device_answered(now, leg),
            Input::LegFailed { leg, status } => self.device_failed(now, leg, status),
            Input::LegHungUp(leg) => self.device_hung_up(now, leg),
            Input::DeviceDtmf { leg, digits } => self.device_dtmf(leg, &digits),
            Input::CustomerHangUp { job_id } => self.customer_hang_up(now, &job_id),
        }
        self.flush(now);
    }

    /// When [`Platform::handle_timeout`] must run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Fires the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_due(now) {
            self.fire(now, timer);
        }
        self.flush(now);
    }

    /// The next thing to report or do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Places a customer's call to a hotline (or straight into a skill group's queue).
    pub fn place_inbound_call(
        &mut self,
        now: Instant,
        call: InboundCall,
    ) -> Result<Text, PlatformError> {
        let result = self.inbound(now, call);
        self.flush(now);
        result
    }

    /// Signs the agent out as the platform would on a kick-out, with `reason`.
    pub fn kick(
        &mut self,
        now: Instant,
        user_id: &str,
        reason: SignOutReason,
    ) -> Result<(), PlatformError> {
        let agent = self
            .agent_id(user_id)
            .ok_or_else(|| PlatformError::no_user(user_id, &self.instance))?;
        let device = self.agents[agent.0].device.clone();
        self.force_sign_out(now, agent);
        self.outputs.push_back(Output::SignedOut {
            user_id: self.agents[agent.0].user_id.clone(),
            device,
            reason,
        });
        self.flush(now);
        Ok(())
    }

    /// What every agent is doing.
    pub fn agents(&self) -> Vec<AgentInfo> {
        self.agents
            .iter()
            .map(|a| AgentInfo {
                user_id: a.user_id.clone(),
                extension: a.extension.clone(),
                state: a.state.clone(),
                break_code: a.break_code.clone(),
                job_id: a.job.clone(),
                signed_groups: a.signed_groups.clone(),
                device: a.device.clone(),
                sip_registered: a.sip_device.is_some(),
            })
            .collect()
    }

    /// The live calls, oldest first.
    pub fn calls(&self) -> Vec<CallInfo> {
        let mut calls: Vec<&Call> = self.calls.values().collect();
        calls.sort_by_key(|c| (c.started_at, c.job_id.clone()));
        calls
            .into_iter()
            .map(|c| CallInfo {
                job_id: c.job_id.clone(),
                call_type: c.call_type.clone(),
                calling: c.calling.clone(),
                called: c.called.clone(),
                queued: c.queued_since.is_some(),
                legs: c
                    .channels
                    .iter()
                    .map(|ch| LegInfo {
                        leg: ch.leg,
                        channel_id: ch.id.clone(),
                        user_id: ch.agent().map(|a| self.agents[a.0].user_id.clone()),
                        party: match &ch.party {
                            Party::Line { number, .. } => number.clone(),
                            Party::Agent { agent, .. } => self.agents[agent.0].extension.clone(),
                        },
                        state: ch.state.clone(),
                        call_type: ch.call_type.clone(),
                        dtmf_received: ch.dtmf_received.as_str().into(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// The records kept so far.
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// The agent's name.
    pub fn display_name(&self, agent: AgentId) -> &Text {
        &self.names[agent.0]
    }

    /// Time spent signed in, ready, on break and in after-call work so far.
    pub fn state_times(&self, now: Instant, agent: AgentId) -> [Duration; 4] {
        let mut a = self.agents[agent.0].clone();
        let state = a.state.clone();
        let code = a.break_code.clone();
        a.set_state(now, state, code);
        [
            a.times.logged_in,
            a.times.ready,
            a.times.breaks,
            a.times.work,
        ]
    }

    /// How long the agent has been in its current state, in seconds.
    pub fn state_seconds(&self, now: Instant, agent: AgentId) -> u64 {
        now.saturating_duration_since(self.agents[agent.0].state_since)
            .as_secs()
    }

    /// How many timers wait (stale ones included), for the load harness.
    pub fn pending_timers(&self) -> usize {
        self.timers.len()
    }

    // ----- internals shared by the operations -----

    fn new_job_id(&mut self, now: Instant) -> Text {
        self.job_seq += 1;
        format!("job-{}{:04}", self.unix_ms(now), self.job_seq % 10_000).into()
    }

    fn new_leg(&mut self) -> LegId {
        self.leg_seq += 1;
        LegId(self.leg_seq)
    }

    /// Marks every agent with a leg in the call for a new snapshot, and the call for a
    /// new media mix.
    fn touch(&mut self, job: &Text) {
        if let Some(call) = self.calls.get(job) {
            for ch in &call.channels {
                if let Some(agent) = ch.agent() {
                    self.agents[agent.0].dirty = true;
                }
            }
        }
        if !self.mix_due.contains(job) {
            self.mix_due.push(job.clone());
        }
    }

    /// Emits the mixes and snapshots that are due.
    fn emit(&mut self) {
        for job in std::mem::take(&mut self.mix_due) {
            if let Some(call) = self.calls.get(&job)
                && !call.ended
            {
                let legs = routing::mix(call);
                self.outputs.push_back(Output::Mix { job_id: job, legs });
            }
        }
        for i in 0..self.agents.len() {
            if self.agents[i].dirty {
                self.agents[i].dirty = false;
                let snapshot = self.take_snapshot(AgentId(i));
                self.outputs.push_back(Output::Snapshot {
                    user_id: self.agents[i].user_id.clone(),
                    snapshot: std::sync::Arc::new(snapshot),
                });
            }
        }
    }

    /// Emits what is due, offers queued calls (and emits again), then retires the
    /// calls that ended.
    fn flush(&mut self, now: Instant) {
        loop {
            self.emit();
            if !std::mem::take(&mut self.route_due) {
                break;
            }
            self.route_now(now);
        }
        for job in std::mem::take(&mut self.ended) {
            self.retire(now, &job);
        }
    }

    fn add_channel(&mut self, now: Instant, job: &Text, spec: NewChannel) -> LegId {
        let leg = self.new_leg();
        let ms = self.unix_ms(now);
        let Some(call) = self.calls.get_mut(job) else {
            return leg;
        };
        let kind = if matches!(spec.party, Party::Agent { .. }) {
            "user"
        } else {
            "customer"
        };
        let id = format!(
            "ch:{kind}:{}->{}:{ms}:{job}",
            spec.originator, spec.destination
        );
        let index = call.next_index();
        call.channels.push(Channel {
            leg,
            id: id.into(),
            party: spec.party,
            role: spec.role,
            call_type: spec.call_type,
            state: ChannelState::Created,
            flags: call::Flags::default(),
            originator: spec.originator,
            destination: spec.destination,
            index,
            timestamp: ms,
            skill_group: spec.skill_group,
            release_initiator: None,
            release_reason: None,
            created_at: now,
            answered_at: None,
            released_at: None,
            held_since: None,
            hold_ms: 0,
            dtmf_received: String::new(),
            hangup_armed: false,
        });
        self.leg_calls.insert(leg, job.clone());
        self.touch(job);
        leg
    }

    fn channel(&self, leg: LegId) -> Option<&Channel> {
        let job = self.leg_calls.get(&leg)?;
        self.calls.get(job)?.channel(leg)
    }

    fn channel_mut(&mut self, leg: LegId) -> Option<&mut Channel> {
        let job = self.leg_calls.get(&leg)?;
        self.calls.get_mut(job)?.channel_mut(leg)
    }

    fn set_leg_state(&mut self, now: Instant, leg: LegId, state: ChannelState) {
        let ms = self.unix_ms(now);
        let Some(job) = self.leg_calls.get(&leg).cloned() else {
            return;
        };
        if let Some(ch) = self.calls.get_mut(&job).and_then(|c| c.channel_mut(leg)) {
            if state == ChannelState::Answered && ch.answered_at.is_none() {
                ch.answered_at = Some(now);
            }
            ch.state = state;
            ch.timestamp = ms;
        }
        self.touch(&job);
    }

    fn call_of_leg(&self, leg: LegId) -> Option<&Text> {
        self.leg_calls.get(&leg)
    }
}

/// What a new leg is.
struct NewChannel {
    party: Party,
    role: Role,
    call_type: CallType,
    originator: Text,
    destination: Text,
    skill_group: Option<Text>,
}
