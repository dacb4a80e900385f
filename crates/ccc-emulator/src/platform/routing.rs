//! Skill-group queues, the choice of agent for a queued call, and who hears whom.

use std::time::Instant;

use ccc_core::model::{CallType, Text, UserState, WorkMode};

use super::call::{Call, Device, Party, Role};
use super::{AgentId, MixLeg, NewChannel, Platform};

impl Platform {
    /// Puts a call in its skill group's queue (at the head when it comes back from an
    /// agent who did not answer).
    pub(super) fn enqueue(&mut self, now: Instant, job: &Text, front: bool) {
        let Some(call) = self.calls.get_mut(job) else {
            return;
        };
        call.queued_since.get_or_insert(now);
        self.queue.retain(|j| j != job);
        if front {
            self.queue.push_front(job.clone());
        } else {
            self.queue.push_back(job.clone());
        }
        self.touch(job);
    }

    pub(super) fn dequeue(&mut self, job: &Text) {
        self.queue.retain(|j| j != job);
        if let Some(call) = self.calls.get_mut(job) {
            call.queued_since = None;
        }
    }

    /// How the platform reaches the agent now, if it can.
    pub(super) fn device_for(&self, agent: AgentId) -> Option<Device> {
        let a = &self.agents[agent.0];
        match a.work_mode {
            WorkMode::OffSite => {
                let number = a.mobile.clone().or_else(|| a.default_mobile.clone())?;
                let script = self.scenario.customer_script(&number).clone();
                Some(Device::Mobile { number, script })
            }
            _ if a.sip_device.is_some() => Some(Device::Sip),
            _ if self.rules.virtual_devices => Some(Device::Virtual),
            _ => None,
        }
    }

    /// Whether a queued call of `group` may be offered to the agent now.
    fn can_take(&self, agent: AgentId, group: &str) -> bool {
        let a = &self.agents[agent.0];
        a.state == UserState::Ready
            && a.job.is_none()
            && !a.outbound_only
            && a.signed_groups.iter().any(|g| &**g == group)
            && self.device_for(agent).is_some()
    }

    /// The agent to offer a call of `group` to: the highest skill level, then the one
    /// idle longest.
    fn pick_agent(&self, group: &str) -> Option<AgentId> {
        (0..self.agents.len())
            .map(AgentId)
            .filter(|&a| self.can_take(a, group))
            .max_by(|&x, &y| {
                let (ax, ay) = (&self.agents[x.0], &self.agents[y.0]);
                ax.level_in(group)
                    .cmp(&ay.level_in(group))
                    .then(ay.idle_since.cmp(&ax.idle_since))
                    .then(y.0.cmp(&x.0))
            })
    }

    /// Asks for queued calls to be offered once the snapshots of what just happened
    /// are out (so an agent who goes ready is seen ready before the next call rings).
    pub(super) fn route(&mut self, _now: Instant) {
        self.route_due = true;
    }

    /// Offers queued calls, oldest first, to the agents who can take them.
    pub(super) fn route_now(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.queue.len() {
            let job = self.queue[i].clone();
            let group = self.calls.get(&job).and_then(|c| c.skill_group.clone());
            match group.and_then(|g| self.pick_agent(&g).map(|a| (a, g))) {
                Some((agent, group)) => {
                    self.dequeue(&job);
                    self.offer(now, &job, agent, Some(group), CallType::Inbound);
                }
                None => i += 1,
            }
        }
    }

    /// Rings the agent with a new leg of the call (an offer, a transfer or a
    /// consultation), as the callee.
    pub(super) fn offer(
        &mut self,
        now: Instant,
        job: &Text,
        agent: AgentId,
        group: Option<Text>,
        call_type: CallType,
    ) -> Option<super::LegId> {
        let device = self.device_for(agent)?;
        let (originator, group) = {
            let call = self.calls.get(job)?;
            let customer = call
                .parties()
                .find(|c| c.agent().is_none())
                .map_or_else(|| call.calling.clone(), |c| c.originator.clone());
            (customer, group.or_else(|| call.skill_group.clone()))
        };
        let extension = self.agents[agent.0].extension.clone();
        let leg = self.add_channel(
            now,
            job,
            NewChannel {
                party: Party::Agent { agent, device },
                role: Role::Callee,
                call_type,
                originator,
                destination: extension,
                skill_group: group,
            },
        );
        let ms = self.unix_ms(now);
        let a = &mut self.agents[agent.0];
        a.job = Some(job.clone());
        a.reserved = Some(ms);
        self.ring_agent(now, leg);
        Some(leg)
    }
}

/// Who hears whom: held legs hear music and are not heard; muted legs are not heard;
/// a monitoring supervisor hears everyone and is heard by nobody; a coach is heard
/// only by the coached agent; a customer alone in a queue hears music.
pub(super) fn mix(call: &Call) -> Vec<MixLeg> {
    let answered: Vec<_> = call.live().filter(|c| c.is_answered()).collect();
    let coached = answered.iter().find(|c| c.flags.coached).map(|c| c.leg);
    answered
        .iter()
        .map(|me| {
            let hears = if me.flags.hold {
                Vec::new()
            } else {
                answered
                    .iter()
                    .filter(|other| other.leg != me.leg && !other.flags.hold && !other.flags.muted)
                    .filter(|other| match other.call_type {
                        CallType::Monitor => false,
                        CallType::Coach => Some(me.leg) == coached,
                        _ => true,
                    })
                    .map(|other| other.leg)
                    .collect()
            };
            let alone_in_queue = call.queued_since.is_some() && hears.is_empty();
            MixLeg {
                leg: me.leg,
                music: me.flags.hold || alone_in_queue,
                hears,
            }
        })
        .collect()
}

impl Call {
    /// Whether the call only waits for someone to pick it up from a queue.
    pub(crate) fn is_queued(&self) -> bool {
        self.queued_since.is_some()
    }

    /// The agent legs still in the call.
    pub(crate) fn agent_legs(&self) -> impl Iterator<Item = (AgentId, &super::Channel)> {
        self.live().filter_map(|c| c.agent().map(|a| (a, c)))
    }
}
