//! The platform on simulated time, checked through ccc-core's agent machine: every
//! snapshot the platform pushes is fed to a `ccc_core::Agent`, and the tests compare
//! the status codes it reports with the guide's sequences.

mod calls;
mod proptests;
mod state;
mod supervise;
mod transfer;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ccc_core::config::Config;
use ccc_core::model::AgentSnapshot;
use ccc_core::{Event, Operation};

use super::*;

pub(super) const ALICE: &str = "alice@ccc-emulator";
pub(super) const BOB: &str = "bob@ccc-emulator";
pub(super) const CAROL: &str = "carol@ccc-emulator";
pub(super) const SAM: &str = "sam@ccc-emulator";
pub(super) const SALES: &str = "sales@ccc-emulator";
pub(super) const SUPPORT: &str = "support@ccc-emulator";
pub(super) const SALES_LINE: &str = "02150000001";
pub(super) const SUPPORT_LINE: &str = "057150000003";
pub(super) const CUSTOMER: &str = "13800000009";

/// A platform and one ccc-core agent machine per agent, on simulated time.
pub(super) struct World {
    pub(super) p: Platform,
    pub(super) now: Instant,
    machines: HashMap<String, ccc_core::Agent>,
    statuses: HashMap<String, Vec<i8>>,
    pub(super) outputs: Vec<Output>,
    last_context: HashMap<String, i64>,
}

impl World {
    pub(super) fn new() -> Self {
        Self::with(Scenario::default())
    }

    pub(super) fn with(scenario: Scenario) -> Self {
        let now = Instant::now();
        let p = Platform::new(scenario, now, 1_700_000_000_000).unwrap();
        let config = Config::builder("ccc-emulator", true)
            .after_call_rule_manual()
            .build()
            .unwrap();
        let mut world = Self {
            p,
            now,
            machines: HashMap::new(),
            statuses: HashMap::new(),
            outputs: Vec::new(),
            last_context: HashMap::new(),
        };
        let users: Vec<String> = world
            .p
            .scenario()
            .agents
            .iter()
            .map(|a| a.user_id.clone())
            .collect();
        for user in users {
            let mut agent = ccc_core::Agent::new(&config);
            agent.request(now, Operation::Register).unwrap();
            agent.handle(now, ccc_core::Input::SipRegistered);
            let first = world.p.snapshot(&user).unwrap();
            agent.handle(now, ccc_core::Input::Snapshot(first));
            world.machines.insert(user.clone(), agent);
            world.statuses.insert(user.clone(), Vec::new());
            world.collect(&user);
            world.seq(&user);
        }
        world
    }

    fn collect(&mut self, user: &str) {
        let machine = self.machines.get_mut(user).unwrap();
        let list = self.statuses.get_mut(user).unwrap();
        while let Some(event) = machine.poll_event() {
            if let Event::StatusChange(change) = event {
                list.push(change.code.code());
            }
        }
        while machine.poll_action().is_some() {}
    }

    fn feed(&mut self, user: &str, snapshot: AgentSnapshot) {
        let id = snapshot.context_id.unwrap();
        let last = self.last_context.insert(user.to_owned(), id);
        assert!(
            last.is_none_or(|l| l < id),
            "ContextId must rise: {last:?} then {id}"
        );
        let now = self.now;
        self.machines
            .get_mut(user)
            .unwrap()
            .handle(now, ccc_core::Input::Snapshot(snapshot));
        self.collect(user);
    }

    /// Drains the platform's outputs, feeding snapshots to the machines.
    pub(super) fn drain(&mut self) {
        while let Some(out) = self.p.poll_output() {
            if let Output::Snapshot { user_id, snapshot } = &out {
                self.feed(user_id, (**snapshot).clone());
            }
            self.outputs.push(out);
        }
    }

    /// Runs a command as the administrator, for `user`.
    pub(super) fn cmd(&mut self, user: &str, command: Command) -> Result<Reply, PlatformError> {
        let r = self
            .p
            .command(self.now, Principal::Admin, Some(user), command);
        self.drain();
        r
    }

    pub(super) fn ok(&mut self, user: &str, command: Command) -> Reply {
        let action = command.action();
        self.cmd(user, command)
            .unwrap_or_else(|e| panic!("{action} for {user}: {e}"))
    }

    pub(super) fn input(&mut self, input: Input) {
        self.p.handle(self.now, input);
        self.drain();
    }

    /// Moves the clock forward, firing each timer at its own deadline.
    pub(super) fn advance(&mut self, ms: u64) {
        let end = self.now + Duration::from_millis(ms);
        loop {
            match self.p.poll_timeout() {
                Some(due) if due <= end => {
                    self.now = self.now.max(due);
                    self.p.handle_timeout(self.now);
                    self.drain();
                }
                _ => break,
            }
        }
        self.now = end;
        self.p.handle_timeout(self.now);
        self.drain();
    }

    /// The status codes the agent's machine went through since the last call.
    pub(super) fn seq(&mut self, user: &str) -> Vec<i8> {
        std::mem::take(self.statuses.get_mut(user).unwrap())
    }

    pub(super) fn status(&self, user: &str) -> i8 {
        self.machines[user].status().code()
    }

    pub(super) fn sign_in(&mut self, user: &str, groups: &[&str]) {
        self.ok(
            user,
            Command::SignInGroup {
                device_id: format!("dev-{user}"),
                groups: groups.iter().map(|g| (*g).to_owned()).collect(),
                additivity: false,
            },
        );
    }

    pub(super) fn ready(&mut self, user: &str, groups: &[&str]) {
        self.sign_in(user, groups);
        self.ok(
            user,
            Command::ReadyForService {
                outbound_only: None,
            },
        );
        assert_eq!(self.seq(user), [2, 3], "{user} signs in and goes ready");
    }

    pub(super) fn inbound(&mut self, caller: &str, hotline: &str) -> Text {
        let job = self
            .p
            .place_inbound_call(self.now, InboundCall::new(caller, hotline))
            .unwrap();
        self.drain();
        job
    }

    pub(super) fn job_of(&mut self, user: &str) -> String {
        self.p
            .agents()
            .into_iter()
            .find(|a| &*a.user_id == user)
            .and_then(|a| a.job_id)
            .map(|j| j.to_string())
            .unwrap_or_else(|| panic!("{user} is in no call"))
    }

    /// The agent's own channel id in its call.
    pub(super) fn my_channel(&mut self, user: &str) -> String {
        let job = self.job_of(user);
        self.p
            .calls()
            .into_iter()
            .find(|c| *c.job_id == *job)
            .and_then(|c| {
                c.legs
                    .into_iter()
                    .rev()
                    .find(|l| l.user_id.as_deref() == Some(user) && l.state.is_live())
            })
            .map(|l| l.channel_id.to_string())
            .unwrap()
    }

    pub(super) fn answer(&mut self, user: &str) {
        let job_id = self.job_of(user);
        self.ok(user, Command::AnswerCall { job_id });
    }

    pub(super) fn release(&mut self, user: &str) {
        let job_id = self.job_of(user);
        self.ok(
            user,
            Command::ReleaseCall {
                job_id,
                channel_id: None,
            },
        );
    }

    pub(super) fn record(&self, job: &str) -> CallRecord {
        self.p.records().call(job).cloned().expect("a call record")
    }
}
