//! Calls: placing, answering, releasing, holding, DTMF, transfers, conferences,
//! supervisors, surveys; and what happens to a call when one of its legs goes.

use std::time::Instant;

use ccc_core::model::{CallType, ChannelState, Text, UserState};

use super::call::{Call, Consult, Device, Disposition, Party, Role};
use super::lines::reason;
use super::records::{AgentPart, CallRecord, Recording};
use super::{
    AgentId, InboundCall, LegId, NewChannel, Output, Platform, PlatformError, TransfereeType,
};
use crate::scenario::NumberUsage;

const OUTSIDE_CALLS: &str = "READY,BREAK,WORKING";

fn ms_between(from: Instant, to: Instant) -> u64 {
    u64::try_from(to.saturating_duration_since(from).as_millis()).unwrap_or(u64::MAX)
}

fn is_dtmf(digits: &str) -> bool {
    !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'*' | b'#' | b'A'..=b'D'))
}

/// Who a transfer or conference reaches.
enum Target {
    Agent(AgentId),
    Group(Text),
    Number(Text),
}

impl Platform {
    // ----- lookups -----

    /// The call and the agent's live leg in it.
    fn my_leg(&self, agent: AgentId, job: &str) -> Result<LegId, PlatformError> {
        let call = self
            .calls
            .get(job)
            .filter(|c| !c.ended)
            .ok_or_else(|| PlatformError::no_job(job))?;
        call.leg_of(agent)
            .map(|c| c.leg)
            .ok_or_else(|| PlatformError::call_state("the user is not in this call"))
    }

    fn my_answered_leg(&self, agent: AgentId, job: &str) -> Result<LegId, PlatformError> {
        let leg = self.my_leg(agent, job)?;
        match self.channel(leg).map(|c| c.state.clone()) {
            Some(ChannelState::Answered) => Ok(leg),
            Some(state) => Err(PlatformError::channel_state(state.as_str(), "ANSWERED")),
            None => Err(PlatformError::no_job(job)),
        }
    }

    fn leg_by_channel_id(&self, job: &str, channel_id: &str) -> Result<LegId, PlatformError> {
        self.calls
            .get(job)
            .and_then(|c| c.by_channel_id(channel_id))
            .map(|c| c.leg)
            .ok_or_else(|| PlatformError::no_channel(channel_id))
    }

    /// The outbound numbers of the agent's skill groups, signed-in groups first.
    pub fn outbound_numbers(&self, agent: AgentId) -> Vec<Text> {
        let a = &self.agents[agent.0];
        let mut groups: Vec<&Text> = a.signed_groups.iter().collect();
        groups.extend(a.skills.iter().map(|(g, _)| g));
        let mut numbers: Vec<Text> = Vec::new();
        for group in groups {
            let Some(g) = self.scenario.skill_group(group) else {
                continue;
            };
            for n in &g.outbound_numbers {
                if !numbers.iter().any(|x| &**x == n) {
                    numbers.push(n.as_str().into());
                }
            }
        }
        numbers
    }

    fn check_outside_call(&self, agent: AgentId) -> Result<(), PlatformError> {
        let a = &self.agents[agent.0];
        if matches!(
            a.state,
            UserState::Ready | UserState::Break | UserState::Working
        ) && a.job.is_none()
        {
            Ok(())
        } else {
            Err(PlatformError::user_state(a.state.as_str(), OUTSIDE_CALLS))
        }
    }

    fn target(&self, who: &str, kind: Option<TransfereeType>) -> Result<Target, PlatformError> {
        let agent = self.agent_id(who).or_else(|| self.agent_by_extension(who));
        let group = self
            .scenario
            .skill_group(who)
            .map(|g| Text::from(g.id.as_str()));
        let number =
            (!who.is_empty() && who.bytes().all(|b| b.is_ascii_digit())).then(|| Text::from(who));
        match kind {
            Some(TransfereeType::Agent) => agent
                .map(Target::Agent)
                .ok_or_else(|| PlatformError::no_user(who, &self.instance)),
            Some(TransfereeType::SkillGroup) => group
                .map(Target::Group)
                .ok_or_else(|| PlatformError::no_skill_group(who)),
            Some(TransfereeType::ExternalNumber) => number
                .map(Target::Number)
                .ok_or_else(|| PlatformError::invalid("Transferee", "not a phone number")),
            None => agent
                .map(Target::Agent)
                .or(group.map(Target::Group))
                .or(number.map(Target::Number))
                .ok_or_else(|| {
                    PlatformError::invalid("Transferee", "not an agent, skill group or number")
                }),
        }
    }

    /// Whether an agent can be called now (signed in, free, with a device).
    fn reachable(&self, agent: AgentId) -> bool {
        let a = &self.agents[agent.0];
        a.is_signed_in() && a.job.is_none() && !a.in_call() && self.device_for(agent).is_some()
    }

    // ----- new calls -----

    fn new_call(
        &mut self,
        now: Instant,
        call_type: CallType,
        calling: Text,
        called: Text,
        skill_group: Option<Text>,
    ) -> Text {
        let job = self.new_job_id(now);
        let started_ms = self.unix_ms(now);
        self.calls.insert(
            job.clone(),
            Call {
                job_id: job.clone(),
                call_type: call_type.clone(),
                base_type: call_type,
                variables: None,
                channels: Vec::new(),
                started_at: now,
                started_ms,
                skill_group,
                queued_since: None,
                consult: None,
                calling,
                called,
                disposition: None,
                satisfaction: None,
                in_survey: false,
                parts: Vec::new(),
                first_release: None,
                ended: false,
            },
        );
        job
    }

    fn line(&self, number: &Text) -> Party {
        Party::Line {
            number: number.clone(),
            script: self.scenario.customer_script(number).clone(),
        }
    }

    pub(super) fn inbound(
        &mut self,
        now: Instant,
        call: InboundCall,
    ) -> Result<Text, PlatformError> {
        if call.caller.trim().is_empty() {
            return Err(PlatformError::blank("caller"));
        }
        let hotline = self.scenario.number(&call.callee);
        if hotline.is_some_and(|n| n.usage == NumberUsage::Outbound) {
            return Err(PlatformError::invalid("callee", "an outbound-only number"));
        }
        let group = call
            .skill_group
            .clone()
            .or_else(|| hotline.and_then(|n| n.inbound_skill_group.clone()))
            .ok_or_else(|| PlatformError::invalid("callee", "not a hotline of the instance"))?;
        if self.scenario.skill_group(&group).is_none() {
            return Err(PlatformError::no_skill_group(&group));
        }
        let caller: Text = call.caller.as_str().into();
        let callee: Text = call.callee.as_str().into();
        let group: Text = group.as_str().into();
        let job = self.new_call(
            now,
            CallType::Inbound,
            caller.clone(),
            callee.clone(),
            Some(group.clone()),
        );
        if let Some(c) = self.calls.get_mut(&job) {
            c.variables = call.variables.map(Text::from);
        }
        let script = call
            .script
            .unwrap_or_else(|| self.scenario.customer_script(&caller).clone());
        let leg = self.add_channel(
            now,
            &job,
            NewChannel {
                party: Party::Line {
                    number: caller.clone(),
                    script: script.clone(),
                },
                role: Role::Caller,
                call_type: CallType::Inbound,
                originator: caller.clone(),
                destination: callee,
                skill_group: Some(group),
            },
        );
        self.set_leg_state(now, leg, ChannelState::Answered);
        self.outputs.push_back(Output::LineUp {
            leg,
            job_id: job.clone(),
            number: caller,
            script,
        });
        self.enqueue(now, &job, false);
        self.route(now);
        Ok(job)
    }

    pub(super) fn make_call(
        &mut self,
        now: Instant,
        agent: AgentId,
        callee: &str,
        caller: Option<&str>,
    ) -> Result<Text, PlatformError> {
        self.check_outside_call(agent)?;
        let callee = callee.trim();
        if callee.is_empty() {
            return Err(PlatformError::blank("Callee"));
        }
        let device = self
            .device_for(agent)
            .ok_or_else(|| PlatformError::call_state("the user has no registered device"))?;
        let me = self.agents[agent.0].extension.clone();
        let group = self.agents[agent.0]
            .signed_groups
            .first()
            .cloned()
            .or_else(|| self.agents[agent.0].skills.first().map(|(g, _)| g.clone()));
        let internal = self
            .agent_by_extension(callee)
            .or_else(|| self.agent_id(callee));
        let job = match internal {
            Some(target) if target == agent => {
                return Err(PlatformError::invalid("Callee", "the user's own extension"));
            }
            Some(target) => {
                let ext = self.agents[target.0].extension.clone();
                let job = self.new_call(now, CallType::Internal, me.clone(), ext.clone(), group);
                let target_device = self.device_for(target).unwrap_or(Device::Virtual);
                self.add_channel(
                    now,
                    &job,
                    NewChannel {
                        party: Party::Agent {
                            agent: target,
                            device: target_device,
                        },
                        role: Role::Callee,
                        call_type: CallType::Internal,
                        originator: me.clone(),
                        destination: ext,
                        skill_group: None,
                    },
                );
                self.start_caller_leg(now, &job, agent, device, CallType::Internal, me.clone());
                job
            }
            None => {
                let numbers = self.outbound_numbers(agent);
                let from: Text = match caller.map(str::trim).filter(|c| !c.is_empty()) {
                    Some(c) if numbers.iter().any(|n| &**n == c) => c.into(),
                    Some(c) => return Err(PlatformError::no_number(c)),
                    None => numbers
                        .first()
                        .cloned()
                        .ok_or_else(|| PlatformError::no_number("(none)"))?,
                };
                let to: Text = callee.into();
                let job = self.new_call(now, CallType::Outbound, from.clone(), to.clone(), group);
                let party = self.line(&to);
                self.add_channel(
                    now,
                    &job,
                    NewChannel {
                        party,
                        role: Role::Callee,
                        call_type: CallType::Outbound,
                        originator: from.clone(),
                        destination: to,
                        skill_group: None,
                    },
                );
                self.start_caller_leg(now, &job, agent, device, CallType::Outbound, from);
                job
            }
        };
        Ok(job)
    }

    /// Adds and rings the leg of the agent who places a call; the other legs wait in
    /// `CREATED` until it answers.
    fn start_caller_leg(
        &mut self,
        now: Instant,
        job: &Text,
        agent: AgentId,
        device: Device,
        call_type: CallType,
        originator: Text,
    ) -> LegId {
        let ext = self.agents[agent.0].extension.clone();
        let group = self.calls.get(job).and_then(|c| c.skill_group.clone());
        let leg = self.add_channel(
            now,
            job,
            NewChannel {
                party: Party::Agent { agent, device },
                role: Role::Caller,
                call_type,
                originator,
                destination: ext,
                skill_group: group,
            },
        );
        self.agents[agent.0].job = Some(job.clone());
        self.ring_agent(now, leg);
        leg
    }

    pub(super) fn redial(
        &mut self,
        now: Instant,
        agent: AgentId,
        job_id: Option<String>,
        callee: Option<String>,
        caller: Option<String>,
    ) -> Result<Text, PlatformError> {
        let callee = match callee.filter(|c| !c.is_empty()) {
            Some(c) => c,
            None => {
                let job = job_id
                    .map(Text::from)
                    .or_else(|| self.agents[agent.0].last_job.clone())
                    .ok_or_else(|| PlatformError::blank("Callee"))?;
                let record = self
                    .records
                    .call(&job)
                    .ok_or_else(|| PlatformError::no_job(&job))?;
                let other = if record.contact_type == "Inbound" {
                    &record.calling
                } else {
                    &record.called
                };
                other.to_string()
            }
        };
        self.make_call(now, agent, &callee, caller.as_deref())
    }

    // ----- answering and releasing -----

    pub(super) fn answer(
        &mut self,
        now: Instant,
        agent: AgentId,
        job: &str,
    ) -> Result<Text, PlatformError> {
        let leg = self.my_leg(agent, job)?;
        match self.channel(leg).map(|c| c.state.clone()) {
            Some(ChannelState::Ringing | ChannelState::EarlyMedia) => {}
            Some(state) => return Err(PlatformError::channel_state(state.as_str(), "RINGING")),
            None => return Err(PlatformError::no_job(job)),
        }
        self.leg_answered(now, leg);
        Ok(job.into())
    }

    /// A leg was answered: start the line's media, dial what waited for the caller's
    /// leg, start the scripted hang-ups once two parties talk.
    pub(super) fn leg_answered(&mut self, now: Instant, leg: LegId) {
        self.set_leg_state(now, leg, ChannelState::Answered);
        let Some(job) = self.call_of_leg(leg).cloned() else {
            return;
        };
        let Some(ch) = self.channel(leg) else {
            return;
        };
        let line = match &ch.party {
            Party::Line { number, script }
            | Party::Agent {
                device: Device::Mobile { number, script },
                ..
            } => Some((number.clone(), script.clone())),
            Party::Agent { .. } => None,
        };
        let caller_agent = ch.agent().is_some() && ch.role == Role::Caller;
        if let Some((number, script)) = line {
            self.outputs.push_back(Output::LineUp {
                leg,
                job_id: job.clone(),
                number,
                script,
            });
        }
        if caller_agent {
            self.dial_waiting(now, &job);
        }
        let talking = self.calls.get(&job).is_some_and(|c| {
            let answered = c.parties().filter(|l| l.is_answered()).count();
            answered >= 2 && c.parties().any(|l| l.agent().is_some() && l.is_answered())
        });
        if talking {
            self.arm_hangups(now, &job);
        }
        self.sync_states(now, &job);
    }

    /// Rings the legs that waited for the calling agent to pick up.
    fn dial_waiting(&mut self, now: Instant, job: &Text) {
        let waiting: Vec<(LegId, Option<AgentId>)> = match self.calls.get(job) {
            Some(call) => call
                .channels
                .iter()
                .filter(|c| c.state == ChannelState::Created)
                .map(|c| (c.leg, c.agent()))
                .collect(),
            None => return,
        };
        for (leg, agent) in waiting {
            match agent {
                None => self.ring_line(now, leg),
                Some(target) if self.reachable(target) => {
                    let device = self.device_for(target).unwrap_or(Device::Virtual);
                    if let Some(Party::Agent { device: d, .. }) =
                        self.channel_mut(leg).map(|c| &mut c.party)
                    {
                        *d = device;
                    }
                    let ms = self.unix_ms(now);
                    self.agents[target.0].job = Some(job.clone());
                    self.agents[target.0].reserved = Some(ms);
                    self.ring_agent(now, leg);
                }
                Some(target) => {
                    let (why, disposition) = if self.agents[target.0].is_signed_in() {
                        (reason::BUSY, Disposition::Busy)
                    } else {
                        (reason::NO_ANSWER, Disposition::NoAnswer)
                    };
                    if let Some(call) = self.calls.get_mut(job) {
                        call.disposition.get_or_insert(disposition);
                    }
                    let initiator = Some(self.agents[target.0].user_id.clone());
                    self.release_leg(now, leg, initiator, why, None);
                }
            }
        }
    }

    /// Sets every agent of the call to the `UserState` its leg gives.
    pub(super) fn sync_states(&mut self, now: Instant, job: &Text) {
        let Some(call) = self.calls.get(job) else {
            return;
        };
        let someone_answered = |me: LegId| {
            call.parties()
                .any(|other| other.leg != me && other.is_answered())
        };
        let wanted: Vec<(AgentId, UserState)> = call
            .agent_legs()
            .filter(|(_, leg)| leg.state != ChannelState::Created)
            .map(|(agent, leg)| {
                let state = match (leg.is_answered(), leg.role) {
                    (false, Role::Callee) => UserState::Ringing,
                    (false, _) => UserState::Dialing,
                    (true, Role::Caller) if !someone_answered(leg.leg) => UserState::Dialing,
                    (true, _) => UserState::Talking,
                };
                (agent, state)
            })
            .collect();
        for (agent, state) in wanted {
            if self.agents[agent.0].state != state {
                self.set_agent_state(now, agent, state, None);
            }
        }
    }

    pub(super) fn release(
        &mut self,
        now: Instant,
        agent: AgentId,
        job: &str,
        channel_id: Option<&str>,
    ) -> Result<Text, PlatformError> {
        let mine = self.my_leg(agent, job)?;
        let leg = match channel_id.filter(|c| !c.is_empty()) {
            Some(id) => self.leg_by_channel_id(job, id)?,
            None => mine,
        };
        let Some(state) = self.channel(leg).map(|c| c.state.clone()) else {
            return Err(PlatformError::no_job(job));
        };
        if !state.is_live() {
            return Err(PlatformError::channel_state(
                state.as_str(),
                "RINGING,ANSWERED",
            ));
        }
        let why = if state == ChannelState::Answered {
            reason::NORMAL
        } else {
            reason::CANCELLED
        };
        let initiator = Some(self.agents[agent.0].user_id.clone());
        self.release_leg(now, leg, initiator, why, None);
        Ok(job.into())
    }

    /// Releases a leg; an agent's leg takes the agent out of the call into `after`
    /// (or after-call work, or back where a supervisor was). Then the call goes on, or
    /// ends when fewer than two parties are left.
    pub(super) fn release_leg(
        &mut self,
        now: Instant,
        leg: LegId,
        initiator: Option<Text>,
        why: &'static str,
        after: Option<(UserState, Option<Text>)>,
    ) {
        let ms = self.unix_ms(now);
        let Some(job) = self.call_of_leg(leg).cloned() else {
            return;
        };
        let Some(call) = self.calls.get_mut(&job) else {
            return;
        };
        let started_at = call.started_at;
        let skill_group = call.skill_group.clone();
        let Some(ch) = call.channel_mut(leg) else {
            return;
        };
        if !ch.is_live() {
            return;
        }
        let was_answered = ch.is_answered();
        // A leg that never rang (it waited for the caller) never reached its agent.
        let reached = ch.state != ChannelState::Created;
        ch.state = ChannelState::Released;
        ch.timestamp = ms;
        ch.released_at = Some(now);
        ch.release_initiator = initiator;
        ch.release_reason = Some(why.into());
        if let Some(since) = ch.held_since.take() {
            ch.hold_ms += ms_between(since, now);
        }
        let ch = ch.clone();
        if call.first_release.is_none() {
            call.first_release = Some(ch.release_initiator.clone());
        }
        self.outputs.push_back(Output::LegDown {
            leg,
            job_id: job.clone(),
        });
        if let Some(agent) = ch.agent().filter(|_| reached) {
            let part = AgentPart {
                user_id: self.agents[agent.0].user_id.clone(),
                display_name: self.names[agent.0].clone(),
                skill_group: ch.skill_group.clone().or(skill_group),
                start_ms: self.unix_ms(ch.created_at),
                queue_ms: if ch.role == Role::Callee {
                    ms_between(started_at, ch.created_at)
                } else {
                    0
                },
                ring_ms: ms_between(ch.created_at, ch.answered_at.unwrap_or(now)),
                talk_ms: ch.answered_at.map_or(0, |t| ms_between(t, now)),
                hold_ms: ch.hold_ms,
                work_ms: 0,
                answered: ch.answered_at.is_some(),
                outbound: ch.role == Role::Caller,
            };
            if ch.role != Role::Supervisor
                && let Some(call) = self.calls.get_mut(&job)
            {
                call.parts.push(part);
            }
            if ch.role == Role::Supervisor {
                self.clear_supervision(&job);
            }
            let next = after.unwrap_or_else(|| match ch.role {
                Role::Supervisor => self.agents[agent.0]
                    .before_supervising
                    .take()
                    .unwrap_or((UserState::Ready, None)),
                Role::Caller => (UserState::Working, None),
                Role::Callee if was_answered => (UserState::Working, None),
                Role::Callee => (UserState::Ready, None),
            });
            let a = &mut self.agents[agent.0];
            a.job = None;
            a.last_job = Some(job.clone());
            a.show_last = true;
            a.reserved = None;
            self.set_agent_state(now, agent, next.0, next.1);
        }
        self.touch(&job);
        self.settle(now, &job);
        self.sync_states(now, &job);
        self.route(now);
    }

    fn clear_supervision(&mut self, job: &Text) {
        let Some(call) = self.calls.get_mut(job) else {
            return;
        };
        let still = call
            .live()
            .any(|c| matches!(c.call_type, CallType::Monitor | CallType::Coach));
        if !still {
            for c in &mut call.channels {
                c.flags.monitored = false;
                c.flags.coached = false;
            }
        }
    }

    /// After a leg went: finish or undo a consultation, shrink a conference, or end
    /// the call when it has fewer than two parties left.
    fn settle(&mut self, now: Instant, job: &Text) {
        let Some(call) = self.calls.get(job) else {
            return;
        };
        if call.ended {
            return;
        }
        if let Some(k) = call.consult {
            let live = |leg| call.channel(leg).is_some_and(super::call::Channel::is_live);
            let answered = |leg| {
                call.channel(leg)
                    .is_some_and(super::call::Channel::is_answered)
            };
            if !live(k.third) {
                self.end_consult(now, job, k);
            } else if !live(k.by) {
                if answered(k.third) {
                    self.end_consult(now, job, k);
                } else {
                    self.end_consult(now, job, k);
                    let initiator = None;
                    self.release_leg(now, k.third, initiator, reason::CANCELLED, None);
                    return;
                }
            }
        }
        let Some(call) = self.calls.get_mut(job) else {
            return;
        };
        let parties = call.parties().count();
        let goes_on = parties >= 2 || (parties == 1 && (call.is_queued() || call.in_survey));
        if goes_on {
            if call.call_type == CallType::Conference && parties <= 2 {
                call.call_type = call.base_type.clone();
            }
            return;
        }
        self.end_call(now, job);
    }

    fn end_consult(&mut self, now: Instant, job: &Text, k: Consult) {
        if let Some(call) = self.calls.get_mut(job) {
            call.consult = None;
            for held in k.held.into_iter().flatten() {
                if let Some(c) = call.channel_mut(held) {
                    c.flags.hold = false;
                }
            }
            if let Some(by) = call.channel_mut(k.by)
                && let Some(since) = by.held_since.take()
            {
                by.hold_ms += ms_between(since, now);
            }
        }
        self.touch(job);
    }

    fn end_call(&mut self, now: Instant, job: &Text) {
        let Some(call) = self.calls.get_mut(job) else {
            return;
        };
        call.ended = true;
        let live: Vec<(LegId, bool)> = call.live().map(|c| (c.leg, c.is_answered())).collect();
        for (leg, answered) in live {
            let why = if answered {
                reason::NORMAL
            } else {
                reason::CANCELLED
            };
            self.release_leg(now, leg, None, why, None);
        }
        self.dequeue(job);
        if let Some(call) = self.calls.get_mut(job) {
            let agent_answered = call.parts.iter().any(|p| p.answered);
            let other_answered = call
                .channels
                .iter()
                .any(|c| c.agent().is_none() && c.answered_at.is_some())
                || call.parts.iter().filter(|p| p.answered).count() >= 2;
            let fallback = if call.base_type == CallType::Inbound {
                Disposition::Abandoned
            } else {
                Disposition::Failure
            };
            call.disposition = Some(if agent_answered && other_answered {
                Disposition::Success
            } else {
                call.disposition.unwrap_or(fallback)
            });
        }
        self.touch(job);
        if !self.ended.contains(job) {
            self.ended.push(job.clone());
        }
    }

    /// Turns an ended call into its record and forgets it.
    pub(super) fn retire(&mut self, now: Instant, job: &Text) {
        let Some(call) = self.calls.remove(job) else {
            return;
        };
        for ch in &call.channels {
            self.leg_calls.remove(&ch.leg);
        }
        let contact_type = match call.base_type {
            CallType::Inbound => "Inbound",
            CallType::Internal => "Internal",
            _ => "Outbound",
        };
        let duration_s = i64::try_from(now.saturating_duration_since(call.started_at).as_secs())
            .unwrap_or(i64::MAX);
        let talked = call.parts.iter().find(|p| p.answered);
        let recording = match talked {
            Some(part) if self.rules.record_calls => Some(Recording {
                file_name: format!("{}.wav", call.job_id).into(),
                contact_id: call.job_id.clone(),
                agent_id: part.user_id.clone(),
                agent_name: part.display_name.clone(),
                calling: call.calling.clone(),
                called: call.called.clone(),
                contact_type,
                start_ms: part.start_ms,
                duration_s: i64::try_from(part.talk_ms / 1_000).unwrap_or(i64::MAX),
            }),
            _ => None,
        };
        let mut groups: Vec<Text> = Vec::new();
        for g in call
            .skill_group
            .iter()
            .chain(call.parts.iter().filter_map(|p| p.skill_group.as_ref()))
        {
            if !groups.contains(g) {
                groups.push(g.clone());
            }
        }
        let release_initiator = call.first_release.clone().flatten();
        let file = recording.as_ref().map(|r| r.file_name.clone());
        self.records.add_call(CallRecord {
            contact_id: call.job_id.clone(),
            contact_type,
            disposition: call.disposition.unwrap_or(Disposition::Failure).as_str(),
            calling: call.calling.clone(),
            called: call.called.clone(),
            start_ms: call.started_ms,
            duration_s,
            skill_groups: groups,
            agents: call.parts,
            satisfaction: call.satisfaction,
            release_initiator,
            recording,
        });
        self.outputs.push_back(Output::CallEnded {
            job_id: call.job_id,
            recording: file,
        });
    }

    // ----- in-call controls -----

    pub(super) fn hold(
        &mut self,
        now: Instant,
        agent: AgentId,
        job: &str,
        channel_id: &str,
        on: bool,
    ) -> Result<Text, PlatformError> {
        let mine = self.my_answered_leg(agent, job)?;
        let named = if channel_id.is_empty() {
            mine
        } else {
            self.leg_by_channel_id(job, channel_id)?
        };
        let job_text: Text = job.into();
        if !on
            && self
                .calls
                .get(job)
                .and_then(|c| c.consult)
                .is_some_and(|k| k.by == mine)
        {
            // Retrieving during a consultation goes back to the customer (M26).
            return self.cancel_consult(now, agent, job);
        }
        let Some(call) = self.calls.get_mut(job) else {
            return Err(PlatformError::no_job(job));
        };
        let targets: Vec<LegId> = if named == mine {
            call.parties()
                .filter(|c| c.leg != mine && (c.is_answered() || c.flags.hold))
                .map(|c| c.leg)
                .collect()
        } else {
            vec![named]
        };
        let mut changed = false;
        for leg in targets {
            if let Some(c) = call.channel_mut(leg)
                && c.is_live()
                && c.flags.hold != on
            {
                c.flags.hold = on;
                changed = true;
            }
        }
        if !changed {
            let (actual, expected) = if on {
                ("HOLD", "ANSWERED")
            } else {
                ("ANSWERED", "HOLD")
            };
            return Err(PlatformError::channel_state(actual, expected));
        }
        if let Some(me) = call.channel_mut(mine) {
            if on {
                me.held_since.get_or_insert(now);
            } else if let Some(since) = me.held_since.take() {
                me.hold_ms += ms_between(since, now);
            }
        }
        self.touch(&job_text);
        Ok(job_text)
    }

    pub(super) fn mute(
        &mut self,
        _now: Instant,
        agent: AgentId,
        job: &str,
        channel_id: Option<&str>,
        on: bool,
    ) -> Result<Text, PlatformError> {
        let mine = self.my_answered_leg(agent, job)?;
        let leg = match channel_id.filter(|c| !c.is_empty()) {
            Some(id) => self.leg_by_channel_id(job, id)?,
            None => mine,
        };
        if let Some(c) = self.channel_mut(leg) {
            c.flags.muted = on;
        }
        let job: Text = job.into();
        self.touch(&job);
        Ok(job)
    }

    pub(super) fn send_dtmf(
        &mut self,
        _now: Instant,
        agent: AgentId,
        job: &str,
        channel_id: &str,
        digits: &str,
    ) -> Result<Text, PlatformError> {
        if digits.is_empty() {
            return Err(PlatformError::blank("Dtmf"));
        }
        if !is_dtmf(digits) {
            return Err(PlatformError::invalid("Dtmf", "only 0-9, *, # and A-D"));
        }
        let mine = self.my_answered_leg(agent, job)?;
        if !channel_id.is_empty() {
            self.leg_by_channel_id(job, channel_id)?;
        }
        let Some(call) = self.calls.get_mut(job) else {
            return Err(PlatformError::no_job(job));
        };
        let mut to = Vec::new();
        for c in call
            .channels
            .iter_mut()
            .filter(|c| c.leg != mine && c.is_answered() && c.role != Role::Supervisor)
        {
            c.dtmf_received.push_str(digits);
            to.push(c.leg);
        }
        for leg in to {
            self.outputs.push_back(Output::Dtmf {
                leg,
                digits: digits.into(),
            });
        }
        Ok(job.into())
    }

    // ----- transfers and conferences -----

    /// Adds a leg for `target` to the call (ringing, or queued for a skill group).
    fn reach(
        &mut self,
        now: Instant,
        job: &Text,
        target: &Target,
        call_type: CallType,
        transferor: Option<String>,
    ) -> Result<Option<LegId>, PlatformError> {
        match target {
            Target::Agent(agent) => {
                if self
                    .calls
                    .get(job)
                    .is_some_and(|c| c.leg_of(*agent).is_some())
                {
                    return Err(PlatformError::call_state(
                        "the transferee is already in the call",
                    ));
                }
                if !self.reachable(*agent) {
                    return Err(PlatformError::user_state(
                        self.agents[agent.0].state.as_str(),
                        "READY,BREAK,WORKING",
                    ));
                }
                Ok(self.offer(now, job, *agent, None, call_type))
            }
            Target::Group(group) if call_type == CallType::Inbound => {
                if let Some(call) = self.calls.get_mut(job) {
                    call.skill_group = Some(group.clone());
                }
                self.enqueue(now, job, false);
                Ok(None)
            }
            Target::Group(group) => {
                let agent = (0..self.agents.len())
                    .map(AgentId)
                    .filter(|&a| {
                        self.agents[a.0].signed_groups.contains(group)
                            && self.agents[a.0].state == UserState::Ready
                            && self.reachable(a)
                    })
                    .max_by_key(|a| {
                        (
                            self.agents[a.0].level_in(group),
                            std::cmp::Reverse(self.agents[a.0].idle_since),
                        )
                    })
                    .ok_or_else(|| {
                        PlatformError::call_state("no agent of the skill group is available")
                    })?;
                Ok(self.offer(now, job, agent, Some(group.clone()), call_type))
            }
            Target::Number(number) => {
                let from: Text = match transferor.filter(|t| !t.is_empty()) {
                    Some(t) => t.into(),
                    None => self
                        .calls
                        .get(job)
                        .map(|c| c.calling.clone())
                        .unwrap_or_default(),
                };
                let party = self.line(number);
                let leg = self.add_channel(
                    now,
                    job,
                    NewChannel {
                        party,
                        role: Role::Callee,
                        call_type,
                        originator: from,
                        destination: number.clone(),
                        skill_group: None,
                    },
                );
                self.ring_line(now, leg);
                Ok(Some(leg))
            }
        }
    }

    pub(super) fn blind_transfer(
        &mut self,
        now: Instant,
        agent: AgentId,
        job: &str,
        transferee: &str,
        kind: Option<TransfereeType>,
        transferor: Option<String>,
    ) -> Result<Text, PlatformError> {
        let mine = self.my_answered_leg(agent, job)?;
        if transferee.is_empty() {
            return Err(PlatformError::blank("Transferee"));
        }
        let target = self.target(transferee, kind)?;
        if matches!(target, Target::Agent(a) if a == agent) {
            return Err(PlatformError::invalid("Transferee", "the user itself"));
        }
        let job: Text = job.into();
        let call_type = match target {
            Target::Number(_) => CallType::Outbound,
            _ => CallType::Inbound,
        };
        self.reach(now, &job, &target, call_type, transferor)?;
        if let Some(call) = self.calls.get_mut(&job) {
            for c in &mut call.channels {
                c.flags.hold = false;
            }
        }
        let initiator = Some(self.agents[agent.0].user_id.clone());
        self.release_leg(now, mine, initiator, reason::NORMAL, None);
        Ok(job)
    }

    pub(super) fn consult(
        &mut self,
        now: Instant,
        agent: AgentId,
        job: &str,
        transferee: &str,
        kind: Option<TransfereeType>,
        transferor: Option<String>,
    ) -> Result<Text, PlatformError> {
        let mine = self.my_answered_leg(agent, job)?;
        if transferee.is_empty() {
            return Err(PlatformError::blank("Transferee"));
        }
        if self.calls.get(job).is_some_and(|c| c.consult.is_some()) {
            return Err(PlatformError::call_state(
                "a consultation is already in progress",
            ));
        }
        let target = self.target(transferee, kind)?;
        if matches!(target, Target::Agent(a) if a == agent) {
            return Err(PlatformError::invalid("Transferee", "the user itself"));
        }
        let job: Text = job.into();
        let third = self
            .reach(now, &job, &target, CallType::Consultant, transferor)?
            .ok_or_else(|| PlatformError::call_state("no agent of the skill group is available"))?;
        let Some(call) = self.calls.get_mut(&job) else {
            return Err(PlatformError::no_job(&job));
        };
        let held: Vec<LegId> = call
            .parties()
            .filter(|c| c.leg != mine && c.leg != third && c.is_answered())
            .map(|c| c.leg)
            .take(2)
            .collect();
        for &leg in &held {
            if let Some(c) = call.channel_mut(leg) {
                c.flags.hold = true;
            }
        }
        if let Some(me) = call.channel_mut(mine) {
            me.held_since.get_or_insert(now);
        }
        call.consult = Some(Consult {
            by: mine,
            third,
            held: [held.first().copied(), held.get(1).copied()],
        });
        self.touch(&job);
        Ok(job)
    }

    fn my_consult(&self, agent: AgentId, job: &str) -> Result<(LegId, Consult), PlatformError> {
        let mine = self.my_leg(agent, job)?;
        match self.calls.get(job).and_then(|c| c.consult) {
            Some(k) if k.by == mine => Ok((mine, k)),
            _ => Err(PlatformError::call_state(
                "no consultation of the user is in progress",
            )),
        }
    }

    pub(super) fn complete_consult(
        &mut self,
        now: Instant,
        agent: AgentId,
        job: &str,
    ) -> Result<Text, PlatformError> {
        let (mine, k) = self.my_consult(agent, job)?;
        match self.channel(k.third).map(|c| c.state.clone()) {
            Some(ChannelState::Answered) => {}
            Some(state) => return Err(PlatformError::channel_state(state.as_str(), "ANSWERED")),
            None => return Err(PlatformError::no_job(job)),
        }
        let initiator = Some(self.agents[agent.0].user_id.clone());
        self.release_leg(now, mine, initiator, reason::NORMAL, None);
        Ok(job.into())
    }

    pub(super) fn cancel_consult(
        &mut self,
        now: Instant,
        agent: AgentId,
        job: &str,
    ) -> Result<Text, PlatformError> {
        let (_, k) = self.my_consult(agent, job)?;
        let answered = self
            .channel(k.third)
            .is_some_and(super::call::Channel::is_answered);
        let why = if answered {
            reason::NORMAL
        } else {
            reason::CANCELLED
        };
        let initiator = Some(self.agents[agent.0].user_id.clone());
        self.release_leg(now, k.third, initiator, why, None);
        Ok(job.into())
    }

    pub(super) fn conference(
        &mut self,
        now: Instant,
        agent: AgentId,
        participants: &[String],
    ) -> Result<Text, PlatformError> {
        let targets: Vec<Target> = participants
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| self.target(p, None))
            .collect::<Result<_, _>>()?;
        if targets.iter().any(|t| matches!(t, Target::Group(_))) {
            return Err(PlatformError::invalid(
                "ParticipantListJson",
                "participants are agents or numbers",
            ));
        }
        if let Some(job) = self.agents[agent.0].job.clone() {
            let mine = self.my_answered_leg(agent, &job)?;
            let consult = self.calls.get(&job).and_then(|c| c.consult);
            if targets.is_empty() && consult.is_none() {
                return Err(PlatformError::blank("ParticipantListJson"));
            }
            if let Some(k) = consult {
                if k.by != mine {
                    return Err(PlatformError::call_state("another agent is consulting"));
                }
                match self.channel(k.third).map(|c| c.state.clone()) {
                    Some(ChannelState::Answered) => self.end_consult(now, &job, k),
                    Some(state) => {
                        return Err(PlatformError::channel_state(state.as_str(), "ANSWERED"));
                    }
                    None => return Err(PlatformError::no_job(&job)),
                }
            }
            for target in &targets {
                let already = match target {
                    Target::Agent(a) => {
                        self.calls.get(&job).is_some_and(|c| c.leg_of(*a).is_some())
                    }
                    Target::Number(n) => self.calls.get(&job).is_some_and(|c| {
                        c.live()
                            .any(|l| matches!(&l.party, Party::Line { number, .. } if number == n))
                    }),
                    Target::Group(_) => false,
                };
                if !already {
                    self.reach(now, &job, target, CallType::Conference, None)?;
                }
            }
            if let Some(call) = self.calls.get_mut(&job) {
                call.call_type = CallType::Conference;
            }
            self.touch(&job);
            return Ok(job);
        }
        self.check_outside_call(agent)?;
        if targets.is_empty() {
            return Err(PlatformError::blank("ParticipantListJson"));
        }
        let device = self
            .device_for(agent)
            .ok_or_else(|| PlatformError::call_state("the user has no registered device"))?;
        let numbers = self.outbound_numbers(agent);
        let me = self.agents[agent.0].extension.clone();
        let from = numbers.first().cloned().unwrap_or_else(|| me.clone());
        let group = self.agents[agent.0].signed_groups.first().cloned();
        let called: Text = participants.join(",").into();
        let job = self.new_call(now, CallType::Conference, from.clone(), called, group);
        if let Some(call) = self.calls.get_mut(&job) {
            call.base_type = CallType::Outbound;
        }
        for target in &targets {
            let (party, destination) = match target {
                Target::Agent(a) => (
                    Party::Agent {
                        agent: *a,
                        device: Device::Virtual,
                    },
                    self.agents[a.0].extension.clone(),
                ),
                Target::Number(n) => (self.line(n), n.clone()),
                Target::Group(_) => continue,
            };
            self.add_channel(
                now,
                &job,
                NewChannel {
                    party,
                    role: Role::Callee,
                    call_type: CallType::Conference,
                    originator: from.clone(),
                    destination,
                    skill_group: None,
                },
            );
        }
        self.start_caller_leg(now, &job, agent, device, CallType::Conference, me);
        Ok(job)
    }

    // ----- supervisors -----

    pub(super) fn supervise(
        &mut self,
        now: Instant,
        agent: AgentId,
        job: Option<&str>,
        target_user: &str,
        kind: CallType,
    ) -> Result<Text, PlatformError> {
        if !self.agents[agent.0].supervisor {
            return Err(PlatformError::forbidden("the user is not a supervisor"));
        }
        self.check_outside_call(agent)?;
        if target_user.is_empty() {
            return Err(PlatformError::blank(match kind {
                CallType::Monitor => "MonitoredUserId",
                CallType::Barge => "BargedUserId",
                CallType::Intercept => "InterceptedUserId",
                _ => "CoachedUserId",
            }));
        }
        let target = self
            .agent_id(target_user)
            .ok_or_else(|| PlatformError::no_user(target_user, &self.instance))?;
        if target == agent {
            return Err(PlatformError::invalid(
                "UserId",
                "a supervisor cannot supervise itself",
            ));
        }
        let their_job = self.agents[target.0]
            .job
            .clone()
            .ok_or_else(|| PlatformError::call_state("the user is not in a call"))?;
        if let Some(job) = job.filter(|j| !j.is_empty())
            && job != &*their_job
        {
            return Err(PlatformError::no_job(job));
        }
        let their_leg = self.my_answered_leg(target, &their_job)?;
        let device = self
            .device_for(agent)
            .ok_or_else(|| PlatformError::call_state("the user has no registered device"))?;
        let customer = self
            .calls
            .get(&their_job)
            .and_then(|c| {
                c.parties()
                    .find(|l| l.agent().is_none())
                    .map(|l| l.originator.clone())
            })
            .unwrap_or_else(|| self.agents[target.0].extension.clone());
        let role = if kind == CallType::Intercept {
            Role::Caller
        } else {
            Role::Supervisor
        };
        let a = &mut self.agents[agent.0];
        if role == Role::Supervisor {
            a.before_supervising = Some((a.state.clone(), a.break_code.clone()));
        }
        let ext = a.extension.clone();
        let group = self
            .calls
            .get(&their_job)
            .and_then(|c| c.skill_group.clone());
        let leg = self.add_channel(
            now,
            &their_job,
            NewChannel {
                party: Party::Agent { agent, device },
                role,
                call_type: kind.clone(),
                originator: customer,
                destination: ext,
                skill_group: group,
            },
        );
        if let Some(call) = self.calls.get_mut(&their_job) {
            if let Some(c) = call.channel_mut(leg) {
                c.flags.monitoring = kind == CallType::Monitor;
                c.flags.coaching = kind == CallType::Coach;
            }
            if let Some(c) = call.channel_mut(their_leg) {
                c.flags.monitored |= kind == CallType::Monitor;
                c.flags.coached |= kind == CallType::Coach;
            }
        }
        self.agents[agent.0].job = Some(their_job.clone());
        self.ring_agent(now, leg);
        if kind == CallType::Intercept {
            let initiator = Some(self.agents[agent.0].user_id.clone());
            self.release_leg(now, their_leg, initiator, reason::NORMAL, None);
        }
        Ok(their_job)
    }

    // ----- survey -----

    pub(super) fn survey(
        &mut self,
        now: Instant,
        agent: AgentId,
        job: &str,
    ) -> Result<Text, PlatformError> {
        let mine = self.my_answered_leg(agent, job)?;
        let customer = self
            .calls
            .get(job)
            .and_then(|c| {
                c.parties()
                    .find(|l| l.agent().is_none() && l.is_answered())
                    .map(|l| l.leg)
            })
            .ok_or_else(|| PlatformError::call_state("no customer is connected"))?;
        self.start_survey(now, customer);
        if let Some(c) = self.channel_mut(customer) {
            c.flags.hold = false;
        }
        let initiator = Some(self.agents[agent.0].user_id.clone());
        self.release_leg(now, mine, initiator, reason::NORMAL, None);
        Ok(job.into())
    }
}
