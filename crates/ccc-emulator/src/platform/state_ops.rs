//! Agent state: sign in and out, ready, break, work mode, reset, devices.

use std::time::Instant;

use ccc_core::SignOutReason;
use ccc_core::model::{BREAK_CODE_WARM_UP, Text, UserState, WorkMode};

use ccc_core::model::ChannelState;

use super::call::{Device, Party, Role};
use super::lines::reason;
use super::{AgentId, LegId, Output, Platform, PlatformError};

const OUTSIDE_CALLS: &str = "READY,BREAK,WORKING";

impl Platform {
    /// Moves the agent to `state`, booking the after-call work it leaves to its call.
    pub(super) fn set_agent_state(
        &mut self,
        now: Instant,
        agent: AgentId,
        state: UserState,
        code: Option<Text>,
    ) {
        let a = &self.agents[agent.0];
        if a.state == UserState::Working && state != UserState::Working {
            let work_ms = u64::try_from(now.saturating_duration_since(a.state_since).as_millis())
                .unwrap_or(u64::MAX);
            if let Some(job) = a.last_job.clone() {
                let user = a.user_id.clone();
                let live_part = self
                    .calls
                    .get_mut(&job)
                    .and_then(|c| c.parts.iter_mut().rev().find(|p| p.user_id == user));
                match live_part {
                    Some(part) => part.work_ms += work_ms,
                    None => self.records.add_work(&job, &user, work_ms),
                }
            }
        }
        self.agents[agent.0].set_state(now, state, code);
    }

    fn groups_of(&self, agent: AgentId, groups: Vec<String>) -> Result<Vec<Text>, PlatformError> {
        let a = &self.agents[agent.0];
        let mut out: Vec<Text> = Vec::new();
        for g in groups {
            let g = g.trim();
            if a.level_in(g).is_none() {
                return Err(PlatformError::no_skill_group(g));
            }
            if !out.iter().any(|x| &**x == g) {
                out.push(g.into());
            }
        }
        Ok(out)
    }

    fn outside_call(&self, agent: AgentId) -> Result<(), PlatformError> {
        let a = &self.agents[agent.0];
        match a.state {
            UserState::Ready | UserState::Break | UserState::Working if a.job.is_none() => Ok(()),
            _ => Err(PlatformError::user_state(a.state.as_str(), OUTSIDE_CALLS)),
        }
    }

    pub(super) fn sign_in(
        &mut self,
        now: Instant,
        agent: AgentId,
        device: &str,
        groups: Vec<String>,
        additivity: bool,
    ) -> Result<(), PlatformError> {
        let device = device.trim();
        if device.is_empty() {
            return Err(PlatformError::blank("DeviceId"));
        }
        if groups.iter().all(|g| g.trim().is_empty()) {
            return Err(PlatformError::blank("SignedSkillGroupIdList"));
        }
        let groups = self.groups_of(agent, groups)?;
        let a = &self.agents[agent.0];
        let other_device = a
            .device
            .as_ref()
            .filter(|d| a.is_signed_in() && &***d != device)
            .cloned();
        if let Some(old) = other_device {
            if a.job.is_some() {
                return Err(PlatformError::agent_in_call(&a.user_id));
            }
            // One live sign-in per agent: the first device is signed out (KA_register).
            self.outputs.push_back(Output::SignedOut {
                user_id: a.user_id.clone(),
                device: Some(old.clone()),
                reason: SignOutReason::KaRegister,
            });
            let a = &mut self.agents[agent.0];
            if a.sip_device.as_ref() == Some(&old) {
                a.sip_device = None;
            }
        }
        let a = &mut self.agents[agent.0];
        if additivity && a.is_signed_in() {
            for g in groups {
                if !a.signed_groups.contains(&g) {
                    a.signed_groups.push(g);
                }
            }
        } else {
            a.signed_groups = groups;
        }
        a.device = Some(device.into());
        a.dirty = true;
        if a.job.is_none() {
            self.set_agent_state(
                now,
                agent,
                UserState::Break,
                Some(BREAK_CODE_WARM_UP.into()),
            );
        }
        Ok(())
    }

    pub(super) fn sign_out(&mut self, now: Instant, agent: AgentId) -> Result<(), PlatformError> {
        self.outside_call(agent)?;
        self.set_agent_state(now, agent, UserState::Offline, None);
        let a = &mut self.agents[agent.0];
        a.signed_groups.clear();
        a.outbound_only = false;
        a.device = None;
        Ok(())
    }

    pub(super) fn ready(
        &mut self,
        now: Instant,
        agent: AgentId,
        outbound_only: Option<bool>,
    ) -> Result<(), PlatformError> {
        self.outside_call(agent)?;
        self.agents[agent.0].outbound_only = outbound_only.unwrap_or(false);
        self.set_agent_state(now, agent, UserState::Ready, None);
        self.route(now);
        Ok(())
    }

    pub(super) fn take_break(
        &mut self,
        now: Instant,
        agent: AgentId,
        code: &str,
    ) -> Result<(), PlatformError> {
        let code = code.trim();
        if code.is_empty() {
            return Err(PlatformError::blank("Code"));
        }
        self.outside_call(agent)?;
        self.set_agent_state(now, agent, UserState::Break, Some(code.into()));
        Ok(())
    }

    pub(super) fn change_work_mode(
        &mut self,
        now: Instant,
        agent: AgentId,
        mode: WorkMode,
        mobile: Option<String>,
        groups: Option<Vec<String>>,
    ) -> Result<(), PlatformError> {
        if let WorkMode::Other(value) = &mode {
            return Err(PlatformError::invalid(
                "WorkMode",
                format_args!("`{value}` is not ON_SITE, OFF_SITE or OFFICE_PHONE"),
            ));
        }
        if self.agents[agent.0].job.is_some() {
            let a = &self.agents[agent.0];
            return Err(PlatformError::user_state(a.state.as_str(), OUTSIDE_CALLS));
        }
        let mobile = mobile
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        if let Some(m) = &mobile
            && !m.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(PlatformError::invalid("Mobile", "not a phone number"));
        }
        let groups = match groups {
            Some(g) if !g.is_empty() => Some(self.groups_of(agent, g)?),
            _ => None,
        };
        let a = &mut self.agents[agent.0];
        if mode == WorkMode::OffSite {
            let number = mobile
                .map(Text::from)
                .or_else(|| a.mobile.clone())
                .or_else(|| a.default_mobile.clone())
                .ok_or_else(|| PlatformError::blank("Mobile"))?;
            a.mobile = Some(number);
        } else if let Some(m) = mobile {
            a.mobile = Some(m.into());
        }
        a.work_mode = mode;
        if let Some(groups) = groups {
            a.signed_groups = groups;
        }
        a.dirty = true;
        self.route(now);
        Ok(())
    }

    /// Out of every call, and ready (or still signed out).
    pub(super) fn reset(&mut self, now: Instant, agent: AgentId) -> Result<(), PlatformError> {
        let signed_in = self.agents[agent.0].is_signed_in();
        let next = if signed_in {
            UserState::Ready
        } else {
            UserState::Offline
        };
        for leg in self.legs_of(agent) {
            let initiator = Some(self.agents[agent.0].user_id.clone());
            self.release_leg(
                now,
                leg,
                initiator,
                reason::NORMAL,
                Some((next.clone(), None)),
            );
        }
        self.agents[agent.0].job = None;
        self.set_agent_state(now, agent, next, None);
        self.route(now);
        Ok(())
    }

    fn legs_of(&self, agent: AgentId) -> Vec<LegId> {
        self.calls
            .values()
            .flat_map(|c| c.live().filter(|l| l.agent() == Some(agent)).map(|l| l.leg))
            .collect()
    }

    /// Signs the agent out at once, out of every call (a kick-out).
    pub(super) fn force_sign_out(&mut self, now: Instant, agent: AgentId) {
        for leg in self.legs_of(agent) {
            self.release_leg(
                now,
                leg,
                None,
                reason::NORMAL,
                Some((UserState::Offline, None)),
            );
        }
        let a = &mut self.agents[agent.0];
        a.job = None;
        a.signed_groups.clear();
        a.outbound_only = false;
        a.device = None;
        a.sip_device = None;
        self.set_agent_state(now, agent, UserState::Offline, None);
    }

    pub(super) fn sip_registered(&mut self, now: Instant, user_id: &str, device: Text) {
        if let Some(agent) = self.agent_id(user_id) {
            self.agents[agent.0].sip_device = Some(device);
            self.ring_the_new_phone(agent);
            self.route(now);
        }
    }

    /// A call offered to the agent before the platform had seen its phone register (the
    /// REGISTER and the offer crossed) rings on no device; now it rings on the phone.
    fn ring_the_new_phone(&mut self, agent: AgentId) {
        let Some(job) = self.agents[agent.0].job.clone() else {
            return;
        };
        let user_id = self.agents[agent.0].user_id.clone();
        let extension = self.agents[agent.0].extension.clone();
        let Some(call) = self.calls.get_mut(&job) else {
            return;
        };
        for ch in &mut call.channels {
            let waiting = ch.state == ChannelState::Ringing
                && ch.role == Role::Callee
                && ch.party
                    == Party::Agent {
                        agent,
                        device: Device::Virtual,
                    };
            if waiting {
                ch.party = Party::Agent {
                    agent,
                    device: Device::Sip,
                };
                self.outputs.push_back(Output::RingDevice {
                    leg: ch.leg,
                    job_id: job.clone(),
                    user_id: user_id.clone(),
                    extension: extension.clone(),
                    caller: ch.originator.clone(),
                });
            }
        }
    }
}
