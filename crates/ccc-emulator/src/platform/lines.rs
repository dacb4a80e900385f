//! Ringing legs, scripted customer lines, devices, and the timers that drive them.

use std::time::{Duration, Instant};

use ccc_core::model::{
    BREAK_CODE_REJECT_CALL, BREAK_CODE_RINGING_TIMEOUT, ChannelState, Text, UserState,
};

use super::call::{Device, Disposition, Party, Role};
use super::{LINE_BUSY_AFTER, LegId, Output, Platform, SURVEY_TAKES, Timer};
use crate::scenario::Outcome;

/// Why a leg was released, as the wire's `ReleaseReason` spells it.
pub(super) mod reason {
    pub(crate) const NORMAL: &str = "200 - Normal call clearing";
    pub(crate) const RING_TIMEOUT: &str = "408 - Ringing timeout";
    pub(crate) const NO_ANSWER: &str = "480 - Temporarily unavailable";
    pub(crate) const BUSY: &str = "486 - Busy here";
    pub(crate) const DECLINED: &str = "603 - Decline";
    pub(crate) const CANCELLED: &str = "487 - Request terminated";
    pub(crate) const NO_DEVICE: &str = "404 - No destination";
}

impl Platform {
    /// Starts ringing an agent's leg on its device.
    pub(super) fn ring_agent(&mut self, now: Instant, leg: LegId) {
        self.set_leg_state(now, leg, ChannelState::Ringing);
        let Some(job) = self.call_of_leg(leg).cloned() else {
            return;
        };
        let Some(ch) = self.channel(leg) else {
            return;
        };
        let (Party::Agent { agent, device }, role) = (ch.party.clone(), ch.role) else {
            return;
        };
        let caller = ch.originator.clone();
        match device {
            Device::Sip => self.outputs.push_back(Output::RingDevice {
                leg,
                job_id: job.clone(),
                user_id: self.agents[agent.0].user_id.clone(),
                extension: self.agents[agent.0].extension.clone(),
                caller,
            }),
            Device::Virtual if role != Role::Callee => {
                self.timers.at(now, Timer::VirtualAnswer(leg));
            }
            Device::Virtual => {}
            Device::Mobile { script, .. } => {
                self.schedule_line(now, leg, script.outcome, script.answer_after_ms);
            }
        }
        if role == Role::Callee {
            self.timers
                .at(now + self.rules.ring_timeout, Timer::RingTimeout(leg));
        } else {
            self.timers
                .at(now + self.rules.no_answer, Timer::NoAnswer(leg));
        }
        self.sync_states(now, &job);
    }

    /// Starts ringing a simulated line.
    pub(super) fn ring_line(&mut self, now: Instant, leg: LegId) {
        self.set_leg_state(now, leg, ChannelState::Ringing);
        let Some(script) = self.channel(leg).and_then(|c| c.script().cloned()) else {
            return;
        };
        self.schedule_line(now, leg, script.outcome, script.answer_after_ms);
        self.timers
            .at(now + self.rules.no_answer, Timer::NoAnswer(leg));
        if let Some(job) = self.call_of_leg(leg).cloned() {
            self.sync_states(now, &job);
        }
    }

    fn schedule_line(&mut self, now: Instant, leg: LegId, outcome: Outcome, answer_after_ms: u64) {
        let after = Duration::from_millis(answer_after_ms);
        match outcome {
            Outcome::Answer => self.timers.at(now + after, Timer::LineAnswer(leg)),
            Outcome::Reject => self.timers.at(now + after, Timer::LineReject(leg)),
            Outcome::Busy => self.timers.at(now + LINE_BUSY_AFTER, Timer::LineBusy(leg)),
            Outcome::NoAnswer => {}
        }
    }

    /// Schedules the scripted hang-up of every connected line in the call that has
    /// one and has not had it scheduled yet.
    pub(super) fn arm_hangups(&mut self, now: Instant, job: &Text) {
        let Some(call) = self.calls.get_mut(job) else {
            return;
        };
        let mut due = Vec::new();
        for ch in call
            .channels
            .iter_mut()
            .filter(|c| c.is_answered() && !c.hangup_armed)
        {
            if let Some(ms) = ch.script().and_then(|s| s.hangup_after_ms) {
                ch.hangup_armed = true;
                due.push((ch.leg, ms));
            }
        }
        for (leg, ms) in due {
            self.timers
                .at(now + Duration::from_millis(ms), Timer::LineHangUp(leg));
        }
    }

    fn leg_state(&self, leg: LegId) -> Option<ChannelState> {
        self.channel(leg).map(|c| c.state.clone())
    }

    fn ringing(&self, leg: LegId) -> bool {
        matches!(
            self.leg_state(leg),
            Some(ChannelState::Ringing | ChannelState::EarlyMedia)
        )
    }

    pub(super) fn fire(&mut self, now: Instant, timer: Timer) {
        match timer {
            Timer::RingTimeout(leg) if self.ringing(leg) => self.ring_timeout(now, leg),
            Timer::NoAnswer(leg) if self.ringing(leg) => {
                self.leg_failed(now, leg, reason::NO_ANSWER, Disposition::NoAnswer);
            }
            Timer::LineAnswer(leg) | Timer::VirtualAnswer(leg) if self.ringing(leg) => {
                self.leg_answered(now, leg);
            }
            Timer::LineBusy(leg) if self.ringing(leg) => {
                self.leg_failed(now, leg, reason::BUSY, Disposition::Busy);
            }
            Timer::LineReject(leg) if self.ringing(leg) => {
                self.leg_failed(now, leg, reason::DECLINED, Disposition::Rejected);
            }
            Timer::LineHangUp(leg) if self.leg_state(leg) == Some(ChannelState::Answered) => {
                let initiator = self.line_number(leg);
                self.release_leg(now, leg, initiator, reason::NORMAL, None);
            }
            Timer::SurveyDone(leg) if self.leg_state(leg) == Some(ChannelState::Answered) => {
                self.survey_done(now, leg);
            }
            _ => {}
        }
    }

    fn line_number(&self, leg: LegId) -> Option<Text> {
        match &self.channel(leg)?.party {
            Party::Line { number, .. } => Some(number.clone()),
            Party::Agent { agent, .. } => Some(self.agents[agent.0].user_id.clone()),
        }
    }

    /// The agent did not answer an offered call in time: break (`RingingTimeout`), and
    /// the call goes back to the head of its queue.
    fn ring_timeout(&mut self, now: Instant, leg: LegId) {
        let Some(job) = self.call_of_leg(leg).cloned() else {
            return;
        };
        let back_to_queue = self
            .calls
            .get(&job)
            .is_some_and(|c| c.skill_group.is_some() && c.consult.is_none_or(|k| k.third != leg));
        if back_to_queue {
            self.enqueue(now, &job, true);
        }
        let after = Some((
            UserState::Break,
            Some(Text::from(BREAK_CODE_RINGING_TIMEOUT)),
        ));
        self.release_leg(now, leg, None, reason::RING_TIMEOUT, after);
        self.route(now);
    }

    /// A dialed leg failed (busy, declined, not answered, no device).
    fn leg_failed(
        &mut self,
        now: Instant,
        leg: LegId,
        why: &'static str,
        disposition: Disposition,
    ) {
        let Some(ch) = self.channel(leg) else {
            return;
        };
        let is_agent = ch.agent().is_some();
        let role = ch.role;
        let Some(job) = self.call_of_leg(leg).cloned() else {
            return;
        };
        if let Some(call) = self.calls.get_mut(&job) {
            call.disposition.get_or_insert(disposition);
        }
        if is_agent && role == Role::Callee {
            // An agent who refused an offered call goes on break; the call goes back.
            let back_to_queue = self
                .calls
                .get(&job)
                .is_some_and(|c| c.skill_group.is_some());
            if back_to_queue {
                self.enqueue(now, &job, true);
            }
            let after = match why {
                reason::BUSY | reason::DECLINED => {
                    Some((UserState::Break, Some(Text::from(BREAK_CODE_REJECT_CALL))))
                }
                _ => None,
            };
            self.release_leg(now, leg, None, why, after);
            self.route(now);
        } else {
            let initiator = self.line_number(leg);
            self.release_leg(now, leg, initiator, why, None);
        }
    }

    // ----- what the devices report -----

    pub(super) fn device_answered(&mut self, now: Instant, leg: LegId) {
        if self.ringing(leg) {
            self.leg_answered(now, leg);
        }
    }

    pub(super) fn device_failed(&mut self, now: Instant, leg: LegId, status: u16) {
        if !self.ringing(leg) {
            return self.device_hung_up(now, leg);
        }
        let (why, disposition) = match status {
            486 | 600 => (reason::BUSY, Disposition::Busy),
            603 => (reason::DECLINED, Disposition::Rejected),
            404 | 410 | 484 => (reason::NO_DEVICE, Disposition::Failure),
            487 => (reason::CANCELLED, Disposition::Failure),
            _ => (reason::NO_ANSWER, Disposition::Failure),
        };
        self.leg_failed(now, leg, why, disposition);
    }

    pub(super) fn device_hung_up(&mut self, now: Instant, leg: LegId) {
        let live = self.channel(leg).is_some_and(super::call::Channel::is_live);
        if live {
            let initiator = self.line_number(leg);
            self.release_leg(now, leg, initiator, reason::NORMAL, None);
        }
    }

    pub(super) fn customer_hang_up(&mut self, now: Instant, job: &str) {
        let legs: Vec<(LegId, Option<Text>)> = match self.calls.get(job) {
            Some(call) => call
                .live()
                .filter(|c| c.agent().is_none())
                .map(|c| (c.leg, Some(c.originator.clone())))
                .collect(),
            None => return,
        };
        for (leg, number) in legs {
            let initiator = self.line_number(leg).or(number);
            self.release_leg(now, leg, initiator, reason::NORMAL, None);
        }
    }

    /// The surveyed customer gave the script's rating and leaves.
    fn survey_done(&mut self, now: Instant, leg: LegId) {
        let rating = self
            .channel(leg)
            .and_then(|c| c.script().map(|s| s.survey_rating));
        let job = self.call_of_leg(leg).cloned();
        if let (Some(rating), Some(job)) = (rating, job) {
            if let Some(call) = self.calls.get_mut(&job) {
                call.satisfaction = Some(rating);
                call.in_survey = false;
            }
            let at_ms = self.unix_ms(now);
            self.records.add_appraisal(super::Appraisal {
                contact_id: job,
                rating,
                channel: "IVR",
                at_ms,
            });
        }
        let initiator = self.line_number(leg);
        self.release_leg(now, leg, initiator, reason::NORMAL, None);
    }

    /// Sends the customer to the survey IVR; it rates after a moment.
    pub(super) fn start_survey(&mut self, now: Instant, customer: LegId) {
        if let Some(job) = self.call_of_leg(customer).cloned()
            && let Some(call) = self.calls.get_mut(&job)
        {
            call.in_survey = true;
        }
        self.timers
            .at(now + SURVEY_TAKES, Timer::SurveyDone(customer));
    }
}
