//! One agent's live state on the platform, and its `UserContext`.

use std::time::{Duration, Instant};

use ccc_core::model::{Text, UserContext, UserState, WorkMode};

use crate::scenario;

/// Time spent in each state, for the statistics report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StateTimes {
    pub(crate) logged_in: Duration,
    pub(crate) ready: Duration,
    pub(crate) breaks: Duration,
    pub(crate) work: Duration,
}

/// An agent as the platform tracks it.
#[derive(Debug, Clone)]
pub(crate) struct AgentState {
    pub(crate) user_id: Text,
    pub(crate) extension: Text,
    pub(crate) supervisor: bool,
    pub(crate) admin: bool,
    /// The skill groups the agent belongs to, with levels.
    pub(crate) skills: Vec<(Text, u8)>,
    pub(crate) default_mobile: Option<Text>,

    pub(crate) state: UserState,
    pub(crate) break_code: Option<Text>,
    pub(crate) signed_groups: Vec<Text>,
    pub(crate) work_mode: WorkMode,
    pub(crate) mobile: Option<Text>,
    pub(crate) outbound_only: bool,
    /// The device of the current sign-in (`DeviceId`).
    pub(crate) device: Option<Text>,
    /// The device registered over SIP, if any.
    pub(crate) sip_device: Option<Text>,
    pub(crate) idle_since: Instant,
    pub(crate) reserved: Option<i64>,
    pub(crate) heartbeat: Option<i64>,
    /// The live call the agent is in.
    pub(crate) job: Option<Text>,
    /// The call the agent was last in.
    pub(crate) last_job: Option<Text>,
    /// The next snapshot shows the call the agent just left.
    pub(crate) show_last: bool,
    /// The state before a supervisor leg, to go back to.
    pub(crate) before_supervising: Option<(UserState, Option<Text>)>,
    pub(crate) state_since: Instant,
    pub(crate) times: StateTimes,
    /// A snapshot is due (something about the agent changed).
    pub(crate) dirty: bool,
}

impl AgentState {
    pub(crate) fn new(spec: &scenario::Agent, now: Instant) -> Self {
        Self {
            user_id: spec.user_id.as_str().into(),
            extension: spec.extension.as_str().into(),
            supervisor: spec.is_supervisor(),
            admin: spec.is_admin(),
            skills: spec
                .skills
                .iter()
                .map(|s| (Text::from(s.skill_group.as_str()), s.level))
                .collect(),
            default_mobile: spec.mobile.as_deref().map(Text::from),
            state: UserState::Offline,
            break_code: None,
            signed_groups: Vec::new(),
            work_mode: WorkMode::OnSite,
            mobile: None,
            outbound_only: false,
            device: None,
            sip_device: None,
            idle_since: now,
            reserved: None,
            heartbeat: None,
            job: None,
            last_job: None,
            show_last: false,
            before_supervising: None,
            state_since: now,
            times: StateTimes::default(),
            dirty: false,
        }
    }

    pub(crate) fn level_in(&self, group: &str) -> Option<u8> {
        self.skills
            .iter()
            .find(|(g, _)| &**g == group)
            .map(|(_, level)| *level)
    }

    pub(crate) fn is_signed_in(&self) -> bool {
        self.state != UserState::Offline
    }

    pub(crate) fn in_call(&self) -> bool {
        matches!(
            self.state,
            UserState::Ringing | UserState::Dialing | UserState::Talking
        )
    }

    /// Moves to `state` (with a break code for `BREAK`), keeping the time books.
    pub(crate) fn set_state(&mut self, now: Instant, state: UserState, code: Option<Text>) {
        let spent = now.saturating_duration_since(self.state_since);
        if self.state != UserState::Offline {
            self.times.logged_in += spent;
        }
        match self.state {
            UserState::Ready => self.times.ready += spent,
            UserState::Break => self.times.breaks += spent,
            UserState::Working => self.times.work += spent,
            _ => {}
        }
        if state == UserState::Ready && self.state != UserState::Ready {
            self.idle_since = now;
        }
        self.state_since = now;
        self.state = state;
        self.break_code = code;
        self.dirty = true;
    }

    /// The `UserContext` of this agent.
    pub(crate) fn context(&self, instance: &Text) -> UserContext {
        let mut u = UserContext::default();
        u.break_code = Some(self.break_code.clone().unwrap_or_else(|| "".into()));
        u.device_id = Some(self.device.clone().unwrap_or_else(|| "".into()));
        u.extension = Some(self.extension.clone());
        u.heartbeat = self.heartbeat;
        u.instance_id = Some(instance.clone());
        u.job_id = Some(
            self.job
                .clone()
                .or_else(|| self.last_job.clone())
                .unwrap_or_else(|| "".into()),
        );
        u.mobile = Some(self.mobile.clone().unwrap_or_else(|| "".into()));
        u.outbound_scenario = Some(self.outbound_only);
        u.parallel_job_list = Some(Vec::new());
        u.reserved = Some(self.reserved.unwrap_or(0));
        u.signed_skill_group_id_list = Some(self.signed_groups.clone());
        u.user_id = Some(self.user_id.clone());
        u.user_state = Some(self.state.clone());
        u.work_mode = Some(self.work_mode.clone());
        u
    }
}
