//! The workbench bridge: carries each [`Command`] out on the [`Workbench`] (or the
//! embedded emulator) in a task of its own and sends its [`Outcome`] back, so the panel
//! never waits on the network. Every workbench method settles (a result, an error or
//! its own timeout), so every command gets its outcome.

use std::sync::Arc;

use ccc_emulator::Emulator;
use ccc_emulator::platform::InboundCall;
use ccc_workbench::{CallRequest, Error, LoginSkillGroup, Workbench};
use tokio::sync::mpsc;

use crate::command::{Command, DeviceCheck, Failure, Outcome, Payload};

/// How many outcomes may wait for the panel.
pub const OUTCOMES: usize = 64;

/// Carries commands out.
#[derive(Clone)]
pub struct Bridge {
    workbench: Workbench,
    emulator: Option<Arc<Emulator>>,
    access_point: String,
    groups: Option<Vec<LoginSkillGroup>>,
    outcomes: mpsc::Sender<Outcome>,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("workbench", &self.workbench)
            .field("embedded", &self.emulator.is_some())
            .finish_non_exhaustive()
    }
}

impl Bridge {
    /// A bridge to `workbench` (and the embedded `emulator`), registering to
    /// `access_point` with `groups`; the outcomes come out of the receiver.
    pub fn new(
        workbench: Workbench,
        emulator: Option<Arc<Emulator>>,
        access_point: String,
        groups: Option<Vec<LoginSkillGroup>>,
    ) -> (Self, mpsc::Receiver<Outcome>) {
        let (outcomes, rx) = mpsc::channel(OUTCOMES);
        (
            Self {
                workbench,
                emulator,
                access_point,
                groups,
                outcomes,
            },
            rx,
        )
    }

    /// The workbench.
    pub fn workbench(&self) -> &Workbench {
        &self.workbench
    }

    /// Starts `command`; its outcome comes out of the receiver.
    pub fn perform(&self, command: Command) {
        let bridge = self.clone();
        tokio::spawn(async move {
            let result = bridge.run(&command).await;
            let _ = bridge.outcomes.send(Outcome { command, result }).await;
        });
    }

    /// Carries `command` out and waits for its result.
    pub async fn run(&self, command: &Command) -> Result<Payload, Failure> {
        let wb = &self.workbench;
        let done = |r: Result<(), Error>| r.map(|()| Payload::Done).map_err(failure);
        match command {
            Command::Register => done(wb.register(self.groups.clone(), &self.access_point).await),
            Command::LogIn => done(wb.log_in(None).await),
            Command::LogOut => done(wb.log_out().await),
            Command::Ready => done(wb.ready().await),
            Command::Break { id, name } => done(wb.apply_for_break(*id, name).await),
            Command::Answer => done(wb.answer().await),
            Command::HangUp => done(wb.hang_up().await),
            Command::Call { callee, caller } => wb
                .call(CallRequest::new(callee.clone()).caller(caller.clone()))
                .await
                .map(Payload::Dialed)
                .map_err(failure),
            Command::Redial => done(wb.redial().await),
            Command::Dtmf(digits) => done(wb.send_dtmf(digits).await),
            Command::Hold => done(wb.call_hold().await),
            Command::Retrieve => done(wb.call_retrieve().await),
            Command::ToggleMute => wb
                .toggle_mute_in_call()
                .await
                .map(Payload::Muted)
                .map_err(failure),
            Command::Volume(v) => done(wb.change_volume_in_call(*v).await),
            Command::Offline { mobile } => done(wb.offline(mobile, None).await),
            Command::Online => done(wb.online().await),
            Command::CallOnly(on) => done(wb.apply_for_call_only(*on).await),
            Command::Transfer {
                target,
                skill_group,
            } => done(
                wb.third_call_transfer(target, "", false, skill_group.as_deref())
                    .await,
            ),
            Command::Consult { target } => done(wb.conference_init(target, "").await),
            Command::FinishTransfer => done(wb.third_call_transfer_finished().await),
            Command::CancelConsult => done(wb.third_call_retrieve().await),
            Command::Conference => done(wb.conference_finished().await),
            Command::DropThird { party } => done(wb.third_call_hangup_third(party).await),
            Command::AgentToAgent { extension } => wb
                .agent_to_agent(extension)
                .await
                .map(Payload::Dialed)
                .map_err(failure),
            Command::Monitor { extension } => done(wb.monitor(extension).await),
            Command::Survey => done(wb.transfer_satisfaction().await),
            Command::SmsSurvey => done(wb.launch_short_message_appraise().await),
            Command::SmsMissedCall => done(wb.launch_short_message_missed_call().await),
            Command::Reset => done(wb.reset_user_status().await),
            Command::Recordings { contact_id } => wb
                .download_record(contact_id, true)
                .await
                .map(Payload::Recordings)
                .map_err(failure),
            Command::LoadCallLog { page } => wb
                .recent_call_records(*page, crate::app::CALL_LOG_PAGE)
                .await
                .map(Payload::CallLog)
                .map_err(failure),
            Command::LoadCallers => wb
                .outbound_numbers()
                .await
                .map(|numbers| {
                    Payload::Callers(
                        numbers
                            .into_iter()
                            .filter(|n| n.allow_outbound != Some(false))
                            .filter_map(|n| n.number)
                            .collect(),
                    )
                })
                .map_err(failure),
            Command::LoadAgents => wb
                .real_time_agents()
                .await
                .map(Payload::Agents)
                .map_err(failure),
            Command::LoadGroups => wb
                .skill_groups()
                .await
                .map(Payload::Groups)
                .map_err(failure),
            Command::LoadStates => wb
                .agent_states(1, 100)
                .await
                .map(Payload::States)
                .map_err(failure),
            Command::LoadMyWork => wb
                .my_work_report()
                .await
                .map(|r| Payload::MyWork(Box::new(r)))
                .map_err(failure),
            Command::DeviceCheck => Ok(Payload::DeviceCheck(Box::new(self.device_check().await))),
            Command::TestAccessPoints => match wb.test_turn_servers(None, Some(1)).await {
                Ok(reports) => Ok(Payload::AccessPoints(reports)),
                // Asked for every access point, `Unavailable` says there is none:
                // calls connect directly, which the panel shows as an empty list.
                Err(Error::Unavailable {
                    method: "testTurnServers",
                    ..
                }) => Ok(Payload::AccessPoints(Vec::new())),
                Err(e) => Err(failure(e)),
            },
            Command::SwitchAccessPoint(region) => wb
                .switch_access_point(region)
                .await
                .map(|()| Payload::AccessPoint(wb.access_point()))
                .map_err(failure),
            Command::CustomerCallsIn { caller, hotline } => self.customer_calls_in(caller, hotline),
        }
    }

    async fn device_check(&self) -> DeviceCheck {
        let wb = &self.workbench;
        let (environment, network, devices) = tokio::join!(
            wb.check_environment(),
            wb.check_network(),
            crate::audio::check_devices()
        );
        DeviceCheck {
            environment,
            network: network.map_err(|e| e.to_string()),
            devices,
        }
    }

    fn customer_calls_in(&self, caller: &str, hotline: &str) -> Result<Payload, Failure> {
        let Some(emulator) = &self.emulator else {
            return Err(Failure {
                message: "customers call in only with the embedded emulator".into(),
                notify: None,
            });
        };
        emulator
            .with_platform(|p, now| p.place_inbound_call(now, InboundCall::new(caller, hotline)))
            .map(|job| Payload::CustomerCall(job.to_string()))
            .map_err(|e| Failure {
                message: e.to_string(),
                notify: None,
            })
    }
}

fn failure(e: Error) -> Failure {
    let notify = match &e {
        Error::Operation(n) => Some(n.clone()),
        _ => None,
    };
    Failure {
        message: e.to_string(),
        notify,
    }
}
