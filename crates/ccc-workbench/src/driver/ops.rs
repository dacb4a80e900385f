//! The state-bound methods (table K) as requests, and the requests of `register`.
//!
//! Each method is checked on the machine first (a wrong status is an `Err` naming it),
//! then its requests run as a job; the contexts the answers carry go back into the
//! machine, whose events tell the subscribers what happened.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ccc_core::helpers::{CallerChoice, InputError, NumberRegion, OutboundNumber, choose_caller};
use ccc_core::model::{AgentSnapshot, CallType, Text, UserContext, WorkMode};
use ccc_core::{CallView, ErrorCode, ErrorNotify, Input, Status};
use ccc_openapi::{Action, Envelope, v2017, v2020};
use ccc_sip::client::SipClient;
use ccc_sip::link::LinkConfig;
use ccc_sip::transport::WsConnect;
use ccc_sip::ua::UaConfig;
use tokio::sync::watch;

use super::command::{Op, Output, Reply, Until};
use super::session::{Number, Prepared, Token};
use super::{Done, Driver, OpDone, Registering, Session};
use crate::agent_link::{self, AgentLink};
use crate::api::Api;
use crate::builder::{Settings, SipAuth};
use crate::error::Error;
use crate::event::RegisterInfo;
use crate::hook::BeforeCallDialing;
use crate::types::{CallRequest, Dialed};

// ----- helpers for jobs -----

/// The value, or the error answered to `reply` and a return.
macro_rules! need {
    ($reply:ident, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => {
                let _ = $reply.send(Err(e));
                return;
            }
        }
    };
}

/// The snapshot a 2020 call-control answer carries.
pub(super) fn snapshot(answer: Envelope<AgentSnapshot>) -> Vec<Input> {
    answer.data.map(Input::Snapshot).into_iter().collect()
}

/// The user context a 2020 state answer carries.
pub(super) fn user_context(answer: Envelope<UserContext>) -> Vec<Input> {
    answer.data.map(Input::UserContext).into_iter().collect()
}

/// One request as a method's job.
pub(super) async fn act<A, F>(api: Api, request: A, done: OpDone, feed: F) -> Done
where
    A: Action,
    F: FnOnce(A::Response) -> Vec<Input> + Send,
{
    let outcome = api.send(request).await.map(feed).map_err(Error::Operation);
    Done::Op(done.outcome(outcome))
}

/// `ReadyForService`, keeping outbound-only (M29) as the platform has it: the action
/// without `OutboundScenario` would turn it off.
pub(super) fn ready_job(
    api: Api,
    s: &Settings,
    outbound_only: bool,
    reply: Option<Reply>,
    method: &'static str,
) -> impl Future<Output = Done> + Send + 'static {
    let mut request = v2020::ReadyForService::new(api.instance())
        .user_id(api.user())
        .device_id(s.device_id.clone());
    if outbound_only {
        request = request.outbound_scenario(true);
    }
    act(api, request, OpDone::new(method, reply), user_context)
}

/// `PollUserStatus`: the state as the platform has it now.
pub(super) fn poll_job(api: Api, s: &Settings) -> impl Future<Output = Done> + Send + 'static {
    let request = v2020::PollUserStatus::new(api.instance())
        .user_id(api.user())
        .device_id(s.device_id.clone());
    act(api, request, OpDone::new("PollUserStatus", None), snapshot)
}

/// The ring timeout's break: release the offered call (if it still rings), then
/// `TakeBreak` with the code.
pub(super) fn ring_timeout_job(
    api: Api,
    s: &Settings,
    ringing: Option<Arc<str>>,
    code: String,
) -> impl Future<Output = Done> + Send + 'static {
    let device = s.device_id.clone();
    async move {
        let mut done = OpDone::new("applyForBreak", None);
        if let Some(job) = ringing {
            let release = v2020::ReleaseCall::new(api.instance(), job.to_string())
                .user_id(api.user())
                .device_id(device.clone());
            match api.send(release).await {
                Ok(answer) => done.feed.extend(snapshot(answer)),
                Err(e) => done.fail(Error::Operation(e)),
            }
        }
        let request = v2020::TakeBreak::new(api.instance(), code)
            .user_id(api.user())
            .device_id(device);
        match api.send(request).await {
            Ok(answer) => done.feed.extend(user_context(answer)),
            Err(e) => done.fail(Error::Operation(e)),
        }
        Done::Op(done)
    }
}

pub(super) fn break_job(
    api: Api,
    s: &Settings,
    code: String,
    reply: Option<Reply>,
) -> impl Future<Output = Done> + Send + 'static {
    let request = v2020::TakeBreak::new(api.instance(), code)
        .user_id(api.user())
        .device_id(s.device_id.clone());
    act(
        api,
        request,
        OpDone::new("applyForBreak", reply),
        user_context,
    )
}

pub(super) fn sign_in_job(
    api: Api,
    s: &Settings,
    groups: Vec<String>,
    method: &'static str,
    reply: Option<Reply>,
) -> impl Future<Output = Done> + Send + 'static {
    let request =
        v2020::SignInGroup::new(api.instance(), s.device_id.clone(), groups).user_id(api.user());
    let mut done = OpDone::new(method, reply);
    done.until = Some(Until::Ready);
    act(api, request, done, user_context)
}

/// 64 random bits from std's per-process random hasher keys and the clock (no
/// cryptographic use: SIP identifiers, a random outbound number).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

fn random_index(len: usize) -> usize {
    usize::try_from(random_u64() % u64::try_from(len.max(1)).unwrap_or(1)).unwrap_or(0)
}

/// The agent's RAM id (what `CreateFault`, `ResetUserStatus` and `ListAgentDevices`
/// name agents by), found by extension in `ListRealTimeAgent`.
async fn ram_id(api: &Api, extension: &str) -> Result<String, ErrorNotify> {
    let agents = api
        .send(v2017::ListRealTimeAgent::new(api.instance()))
        .await?;
    agents
        .data
        .into_iter()
        .find(|u| u.dn.as_deref() == Some(extension))
        .and_then(|u| u.ram_id)
        .ok_or_else(|| {
            ErrorNotify::new(
                "ListRealTimeAgent",
                ErrorCode::AgentIdNotExist,
                format!("no agent with extension {extension}"),
            )
        })
}

// ----- register -----

/// `register`'s first step: the machine-wide lock, then what the links need.
pub(super) async fn prepare_register(
    api: Api,
    s: Arc<Settings>,
    access_point: String,
) -> Result<Box<Prepared>, Error> {
    #[cfg(unix)]
    let local = lock(&s).await?;
    let mut prepared = super::session::prepare(&api, s.sip_device).await?;
    prepared.access_point = access_point;
    #[cfg(unix)]
    {
        prepared.local = local;
    }
    Ok(Box::new(prepared))
}

/// One registered workbench per agent per machine (section 10).
#[cfg(unix)]
async fn lock(s: &Settings) -> Result<Option<crate::local::LocalLock>, Error> {
    use crate::local::{LocalDir, LocalLock};
    if s.local.disabled {
        return Ok(None);
    }
    let dir = match &s.local.dir {
        Some(path) => LocalDir::at(path.clone())?,
        None => LocalDir::default_for_user()?,
    };
    let instance = s.config.instance_id();
    let lock = if s.local.take_over {
        LocalLock::take_over(
            &dir,
            instance,
            &s.user_id,
            std::time::Duration::from_secs(10),
        )
        .await?
    } else {
        LocalLock::acquire(&dir, instance, &s.user_id)?
    };
    Ok(Some(lock))
}

/// The device id as the SIP registration's `+sip.instance` (RFC 5626): itself when it is
/// a URN (the default ids are), else a `urn:uuid:` made from it.
fn instance_urn(device_id: &str) -> String {
    if device_id.starts_with("urn:") {
        return device_id.to_owned();
    }
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in device_id.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    let hex = format!("{h:032x}");
    format!(
        "urn:uuid:{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

impl Driver {
    /// `register` has the login info: start the SIP and agent links.
    pub(super) fn start_session(&mut self, prepared: Prepared) {
        let now = Self::now();
        if let Some(merged) = super::merged_config(&self.s.config, &prepared.platform_config) {
            // The platform's settings rank below the integrator's: a machine with the
            // merged rules takes over, in the same status (registering).
            let mut agent = ccc_core::Agent::new(&merged);
            let _ = agent.request(now, ccc_core::Operation::Register);
            while agent.poll_event().is_some() {}
            while agent.poll_action().is_some() {}
            self.agent = agent;
        }
        let Prepared {
            login,
            token,
            platform_config,
            access_point,
            #[cfg(unix)]
            local,
        } = prepared;
        // The second step, beside the links: groups, numbers, access points.
        let chosen = self.registering.as_mut().and_then(|r| r.groups.take());
        let api = self.api.clone();
        let user_name = login.user_name.clone();
        let asked = access_point.clone();
        self.spawn(async move {
            let data = super::session::gather(&api, chosen, user_name, &asked).await;
            Done::Data(data.map(Box::new))
        });
        let info = Arc::new(RegisterInfo {
            user_id: self.s.user_id.clone(),
            instance_id: self.s.config.instance_id().to_owned(),
            user_name: login.user_name.clone(),
            display_name: login.display_name.clone(),
            extension: login.extension.clone(),
            region: login.region.clone(),
            roles: login.roles.clone(),
            web_rtc_url: login.web_rtc_url.clone(),
            agent_server_url: login.agent_server_url.clone(),
            device_id: self.s.device_id.clone(),
            access_point: access_point.clone(),
            // Filled in with the second step, before `onRegister`.
            skill_groups: Vec::new(),
            platform_config,
        });
        let (token_tx, token_rx) = watch::channel(token.clone());
        let sip = self.s.sip_device.then(|| self.spawn_sip(&login, &token));
        let params = agent_link::Params {
            url: login.agent_server_url.clone(),
            user_id: self.s.user_id.clone(),
            device_id: self.s.device_id.clone(),
            options: self.s.links.clone(),
        };
        let (link, link_rx) = AgentLink::spawn(params, token_rx, self.api.clone());
        #[cfg(unix)]
        let local = local.map(|lock| {
            let handler = Arc::new(crate::local::Handler::new(
                self.control.clone(),
                self.status.subscribe(),
                self.s.config.use_local_storage_to_call(),
            ));
            let server = match crate::local::ControlServer::bind(&lock, handler) {
                Ok(server) => Some(server),
                Err(e) => {
                    tracing::warn!(error = %e, "the local control channel is not served");
                    None
                }
            };
            (lock, server)
        });
        self.session = Some(Session {
            login: Arc::new(login),
            token: token_tx,
            groups: Arc::new(Vec::new()),
            numbers: Arc::new(Vec::new()),
            access: Arc::new(super::session::Access::default()),
            access_point,
            info,
            sip,
            link: Some(link),
            link_rx: Some(link_rx),
            leg: None,
            sip_registered: false,
            link_up: false,
            data_ready: false,
            agent_device_id: None,
            device_reported: false,
            device_local: None,
            sip_local: None,
            next_refresh: crate::time::after(self.s.token_refresh),
            refreshing: false,
            muted: false,
            volume: 1.0,
            own_dials: 0,
            last_job: None,
            last_customer: None,
            last_inbound: false,
            #[cfg(unix)]
            local,
        });
        if let Some(r) = &mut self.registering {
            r.signing_in = false;
        } else {
            self.registering = Some(Registering {
                reply: None,
                deadline: crate::time::after(self.s.register_timeout),
                groups: None,
                signing_in: false,
                signed_in: false,
            });
        }
    }

    fn spawn_sip(&self, login: &super::session::Login, token: &Token) -> SipClient {
        let links = &self.s.links;
        let connect = WsConnect::new(login.web_rtc_url.clone())
            .with_roots(links.roots.clone())
            .with_timeout(links.connect_timeout);
        let mut link = LinkConfig::new(connect);
        link.min_backoff = links.min_backoff;
        link.max_backoff = links.max_backoff;
        link.dead_after = links.dead_after;
        // The same heartbeat as the agent link's, so that a short `dead_after` never
        // takes a quiet but healthy flow for a dead one.
        link.keepalive = links.heartbeat_every.min(links.dead_after / 2);
        let domain = url::Url::parse(&login.web_rtc_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "invalid".to_owned());
        let password = match &links.sip_auth {
            SipAuth::Password(p) => p.clone(),
            _ => token
                .sip_password
                .clone()
                .unwrap_or_else(|| token.signature.clone()),
        };
        let mut ua = UaConfig::new(
            login.extension.clone(),
            password,
            domain,
            instance_urn(&self.s.device_id),
        );
        ua.expires = links.sip_expires;
        ua.flow_grace = links.sip_call_grace;
        let seed = random_u64();
        SipClient::spawn(link, ua, seed)
    }

    // ----- the methods -----

    /// A state-bound method: checked against table K, then carried out.
    pub(super) async fn op(&mut self, op: Op, reply: Reply) {
        let method = op.method();
        if let Err(e) = self.agent.request(Self::now(), op.operation()) {
            let _ = reply.send(Err(e.into()));
            return;
        }
        if self.session.is_none() {
            let _ = reply.send(Err(Error::unavailable(method, "not registered")));
            return;
        }
        let api = self.api.clone();
        let device = self.s.device_id.clone();
        let call = CallRef::of(&self.agent);
        let status = self.agent.status();
        match op {
            Op::LogIn(groups) => {
                let groups = match groups {
                    Some(g) if g.len() > ccc_core::helpers::MAX_LOGIN_SKILL_GROUPS => {
                        let _ = reply.send(Err(Error::input(
                            method,
                            InputError::TooManySkillGroups(g.len()),
                        )));
                        return;
                    }
                    Some(g) if !g.is_empty() => g,
                    _ => self
                        .session
                        .as_ref()
                        .map(|s| s.groups.as_ref().clone())
                        .unwrap_or_default(),
                };
                let ids: Vec<String> = groups.iter().map(|g| g.group_name.clone()).collect();
                self.spawn(sign_in_job(api, &self.s, ids, method, Some(reply)));
            }
            Op::LogOut => {
                let request = v2020::SignOutGroup::new(api.instance())
                    .user_id(api.user())
                    .device_id(device);
                self.spawn(act(
                    api,
                    request,
                    OpDone::new(method, Some(reply)),
                    user_context,
                ));
            }
            Op::Ready => {
                let outbound_only = self.outbound_only();
                self.spawn(ready_job(api, &self.s, outbound_only, Some(reply), method));
            }
            Op::Break { code } => self.spawn(break_job(api, &self.s, code, Some(reply))),
            Op::HangUp => {
                let job = need!(reply, call.job(method));
                let request = v2020::ReleaseCall::new(api.instance(), job)
                    .user_id(api.user())
                    .device_id(device);
                self.spawn(act(
                    api,
                    request,
                    OpDone::new(method, Some(reply)),
                    snapshot,
                ));
            }
            Op::Answer => self.answer_now(Some(reply)),
            Op::Call(request) => self.dial(request, reply),
            Op::Redial => {
                let last = self
                    .session
                    .as_ref()
                    .and_then(|s| s.last_job.clone())
                    .map(|j| j.to_string());
                let mut request = v2020::RedialCall::new(api.instance())
                    .user_id(api.user())
                    .device_id(device);
                if let Some(job) = last {
                    request = request.job_id(job);
                }
                let mut done = OpDone::new(method, Some(reply));
                done.own_dial = true;
                self.own_dial();
                self.spawn(act(api, request, done, snapshot));
            }
            Op::SendDtmf(digits) => {
                let (job, channel) = need!(reply, call.mine(method));
                let request = v2020::SendDtmfSignaling::new(api.instance(), channel, digits, job)
                    .user_id(api.user())
                    .device_id(device);
                self.spawn(act(
                    api,
                    request,
                    OpDone::new(method, Some(reply)),
                    snapshot,
                ));
            }
            Op::Hold => {
                let (job, channel) = need!(reply, call.mine(method));
                let request = v2020::HoldCall::new(api.instance(), channel, job)
                    .user_id(api.user())
                    .device_id(device);
                self.spawn(act(
                    api,
                    request,
                    OpDone::new(method, Some(reply)),
                    snapshot,
                ));
            }
            Op::Retrieve if status == Status::Hold => {
                let (job, channel) = need!(reply, call.mine(method));
                let request = v2020::RetrieveCall::new(api.instance(), channel, job)
                    .user_id(api.user())
                    .device_id(device);
                self.spawn(act(
                    api,
                    request,
                    OpDone::new(method, Some(reply)),
                    snapshot,
                ));
            }
            Op::Retrieve | Op::ThirdCallRetrieve => {
                // K16/K17 "retrieve": back to the first party (M26).
                let job = need!(reply, call.job(method));
                let request = v2020::CancelAttendedTransfer::new(api.instance(), job)
                    .user_id(api.user())
                    .device_id(device);
                self.spawn(act(
                    api,
                    request,
                    OpDone::new(method, Some(reply)),
                    snapshot,
                ));
            }
            Op::Offline { mobile, caller } => {
                let s = Arc::clone(&self.s);
                self.spawn(async move {
                    let mut done = OpDone::new(method, Some(reply));
                    // The guide's `caller` (the number that calls the mobile) has no
                    // place in ChangeWorkMode: the platform picks it.
                    let _ = caller;
                    let request = v2020::ChangeWorkMode::new(api.instance(), WorkMode::OffSite)
                        .mobile(mobile)
                        .user_id(api.user())
                        .device_id(s.device_id.clone());
                    match api.send(request).await {
                        Ok(answer) => {
                            let ready = answer.data.as_ref().and_then(|u| u.user_state.clone())
                                == Some(ccc_core::model::UserState::Ready);
                            done.feed.extend(user_context(answer));
                            if !ready {
                                // M15: answering on mobile is status 3.
                                let request = v2020::ReadyForService::new(api.instance())
                                    .user_id(api.user())
                                    .device_id(s.device_id.clone());
                                match api.send(request).await {
                                    Ok(answer) => done.feed.extend(user_context(answer)),
                                    Err(e) => done.fail(Error::Operation(e)),
                                }
                            }
                        }
                        Err(e) => done.fail(Error::Operation(e)),
                    }
                    Done::Op(done)
                });
            }
            Op::Online => {
                let request = v2020::ChangeWorkMode::new(api.instance(), WorkMode::OnSite)
                    .user_id(api.user())
                    .device_id(device);
                self.spawn(act(
                    api,
                    request,
                    OpDone::new(method, Some(reply)),
                    user_context,
                ));
            }
            Op::TransferSatisfaction => {
                let job = need!(reply, call.job(method));
                self.spawn(async move {
                    let mut done = OpDone::new(method, Some(reply));
                    let survey = api
                        .send(v2017::GetServiceExtensions::new(
                            api.instance(),
                            "Satisfaction",
                        ))
                        .await;
                    match survey {
                        Ok(s) if s.service_extensions.is_empty() => done.fail(Error::unavailable(
                            method,
                            "the voice satisfaction survey is not set up on the platform",
                        )),
                        Ok(_) => {
                            if let Err(e) = api
                                .send(v2017::LaunchAppraise::new(api.instance(), job))
                                .await
                            {
                                done.fail(Error::Operation(e));
                            }
                        }
                        Err(e) => done.fail(Error::Operation(e)),
                    }
                    Done::Op(done)
                });
            }
            Op::ThirdCallTransfer {
                callee,
                caller,
                use_vir_num_call,
                skill_group_name,
            } => {
                let job = need!(reply, call.job(method));
                let ctx = self.dial_context();
                self.spawn(async move {
                    let mut done = OpDone::new(method, Some(reply));
                    let result = async {
                        let mut request =
                            v2020::BlindTransfer::new(api.instance(), job, callee.clone())
                                .user_id(api.user())
                                .device_id(ctx.device.clone());
                        if let Some(name) = skill_group_name.filter(|n| !n.is_empty()) {
                            let group = ctx.group_by_name(&name).unwrap_or_else(|| callee.clone());
                            request = request.transferee_type("SKILL_GROUP").skill_group_id(group);
                        } else if let Some(transferor) =
                            transferor(&api, &ctx, &caller, &callee, use_vir_num_call).await?
                        {
                            request = request.transferor(transferor);
                        }
                        api.send(request)
                            .await
                            .map(snapshot)
                            .map_err(Error::Operation)
                    }
                    .await;
                    done = done.outcome(result);
                    Done::Op(done)
                });
            }
            Op::ConferenceInit { callee, caller } => {
                let job = need!(reply, call.job(method));
                let ctx = self.dial_context();
                self.spawn(async move {
                    let done = OpDone::new(method, Some(reply));
                    let result = async {
                        let mut request = v2020::InitiateAttendedTransfer::new(
                            api.instance(),
                            job,
                            callee.clone(),
                        )
                        .user_id(api.user())
                        .device_id(ctx.device.clone());
                        if let Some(transferor) =
                            transferor(&api, &ctx, &caller, &callee, false).await?
                        {
                            request = request.transferor(transferor);
                        }
                        api.send(request)
                            .await
                            .map(snapshot)
                            .map_err(Error::Operation)
                    }
                    .await;
                    Done::Op(done.outcome(result))
                });
            }
            Op::ThirdCallTransferFinished => {
                let job = need!(reply, call.job(method));
                let request = v2020::CompleteAttendedTransfer::new(api.instance(), job)
                    .user_id(api.user())
                    .device_id(device);
                self.spawn(act(
                    api,
                    request,
                    OpDone::new(method, Some(reply)),
                    snapshot,
                ));
            }
            Op::ConferenceFinished => {
                let Some(third) = call.third_party() else {
                    let _ = reply.send(Err(Error::unavailable(
                        method,
                        "no consulted party in the call",
                    )));
                    return;
                };
                let request =
                    v2020::StartConference::new(api.instance(), [third]).user_id(api.user());
                self.spawn(act(
                    api,
                    request,
                    OpDone::new(method, Some(reply)),
                    snapshot,
                ));
            }
            Op::AgentToAgent(extension) => {
                let request = v2020::MakeCall::new(api.instance(), extension.clone())
                    .user_id(api.user())
                    .device_id(device);
                let mut done = OpDone::new(method, Some(reply));
                done.own_dial = true;
                done.result = Ok(Output::Dialed(Dialed {
                    job_id: None,
                    caller: String::new(),
                    callee: extension,
                    virtual_number: None,
                }));
                self.own_dial();
                self.spawn(async move {
                    let outcome = api.send(request).await.map_err(Error::Operation);
                    let mut done = done;
                    match outcome {
                        Ok(answer) => {
                            if let Ok(Output::Dialed(d)) = &mut done.result {
                                d.job_id = job_of(answer.data.as_ref());
                            }
                            done.feed.extend(snapshot(answer));
                        }
                        Err(e) => done.fail(e),
                    }
                    Done::Op(done)
                });
            }
            Op::ThirdCallHangupThird(callee) => {
                let job = need!(reply, call.job(method));
                let Some(channel) = call.channel_of(&callee) else {
                    let _ = reply.send(Err(Error::unavailable(
                        method,
                        format!("{callee} is not a party of the conference"),
                    )));
                    return;
                };
                let request = v2020::ReleaseCall::new(api.instance(), job)
                    .channel_id(channel)
                    .user_id(api.user())
                    .device_id(device);
                self.spawn(act(
                    api,
                    request,
                    OpDone::new(method, Some(reply)),
                    snapshot,
                ));
            }
            Op::CallOnly(on) => {
                let request = v2020::ReadyForService::new(api.instance())
                    .outbound_scenario(on)
                    .user_id(api.user())
                    .device_id(device);
                self.spawn(act(
                    api,
                    request,
                    OpDone::new(method, Some(reply)),
                    user_context,
                ));
            }
            Op::Volume(volume) => {
                let media = self.session.as_mut().and_then(|s| {
                    s.volume = volume;
                    s.leg.as_ref().and_then(|l| l.media.clone())
                });
                if let Some(media) = media {
                    let _ = media.set_volume(volume).await;
                }
                let _ = reply.send(Ok(Output::Unit));
            }
            Op::ToggleMute => {
                let (job, channel) = need!(reply, call.mine(method));
                let Some(session) = self.session.as_mut() else {
                    return;
                };
                let muted = !session.muted;
                session.muted = muted;
                if let Some(media) = session.leg.as_ref().and_then(|l| l.media.clone()) {
                    let _ = media.set_muted(muted).await;
                }
                let mut done = OpDone::new(method, Some(reply));
                done.result = Ok(Output::Muted(muted));
                if muted {
                    let request = v2020::MuteCall::new(api.instance(), job)
                        .channel_id(channel)
                        .user_id(api.user())
                        .device_id(device);
                    self.spawn(act(api, request, done, snapshot));
                } else {
                    let request = v2020::UnmuteCall::new(api.instance())
                        .job_id(job)
                        .channel_id(channel)
                        .user_id(api.user())
                        .device_id(device);
                    self.spawn(act(api, request, done, snapshot));
                }
            }
            Op::Monitor(target) => {
                let mut done = OpDone::new(method, Some(reply));
                done.own_dial = true;
                self.own_dial();
                self.spawn(async move {
                    let result = async {
                        let user = monitored_user(&api, &target).await?;
                        let request = v2020::MonitorCall::new(api.instance(), user)
                            .user_id(api.user())
                            .device_id(device);
                        api.send(request)
                            .await
                            .map(snapshot)
                            .map_err(Error::Operation)
                    }
                    .await;
                    Done::Op(done.outcome(result))
                });
            }
            Op::ResetUserStatus => {
                let extension = self
                    .session
                    .as_ref()
                    .map(|s| s.login.extension.clone())
                    .unwrap_or_default();
                self.spawn(async move {
                    let result = async {
                        let ram = ram_id(&api, &extension).await?;
                        let request = v2017::ResetUserStatus::new(api.instance());
                        let request = match ram.trim().parse::<i64>() {
                            Ok(id) => request.ram_id_list([id]),
                            Err(_) => request,
                        };
                        api.send(request).await?;
                        // Read the state the reset left, rather than guess it.
                        let polled = api
                            .send(
                                v2020::PollUserStatus::new(api.instance())
                                    .user_id(api.user())
                                    .device_id(device),
                            )
                            .await?;
                        Ok(snapshot(polled))
                    }
                    .await
                    .map_err(Error::Operation);
                    Done::Op(OpDone::new(method, Some(reply)).outcome(result))
                });
            }
        }
    }

    /// Whether the platform has the agent outbound-only (M29).
    pub(super) fn outbound_only(&self) -> bool {
        self.agent
            .user_context()
            .and_then(|u| u.outbound_scenario)
            .unwrap_or(false)
    }

    fn own_dial(&mut self) {
        if let Some(s) = &mut self.session {
            s.own_dials += 1;
        }
    }

    fn dial_context(&self) -> DialContext {
        let s = self.session.as_ref();
        DialContext {
            numbers: s.map(|s| Arc::clone(&s.numbers)).unwrap_or_default(),
            groups: s
                .map(|s| {
                    s.groups
                        .iter()
                        .map(|g| (g.group_name.clone(), g.skill_group_name.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            user_name: s
                .and_then(|s| s.login.user_name.clone())
                .unwrap_or_else(|| self.s.user_id.clone()),
            device: self.s.device_id.clone(),
        }
    }

    /// M11 `call`.
    fn dial(&mut self, request: CallRequest, reply: Reply) {
        let api = self.api.clone();
        let s = Arc::clone(&self.s);
        let ctx = self.dial_context();
        self.own_dial();
        self.spawn(async move {
            let mut done = OpDone::new("call", Some(reply));
            done.own_dial = true;
            match dial(&api, &s, &ctx, request).await {
                Ok((dialed, feed)) => {
                    done.feed = feed;
                    done.result = Ok(Output::Dialed(dialed));
                }
                Err(e) => done.fail(e),
            }
            Done::Op(done)
        });
    }
}

/// What a dialing job needs of the session.
#[derive(Debug, Clone)]
struct DialContext {
    numbers: Arc<Vec<Number>>,
    /// Signed-in skill groups: id and name.
    groups: Vec<(String, String)>,
    user_name: String,
    device: String,
}

impl DialContext {
    fn outbound(&self) -> Vec<OutboundNumber> {
        self.numbers.iter().map(|n| n.number.clone()).collect()
    }

    fn group_by_name(&self, name: &str) -> Option<String> {
        self.groups
            .iter()
            .find(|(id, n)| n == name || id == name)
            .map(|(id, _)| id.clone())
    }

    /// The calling number for `choice`: '' the first, explicit one of the agent's,
    /// 'auto' of the callee's city, then province (`PickGlobalOutboundNumbers` and
    /// `GetNumberRegionInfo`), else a random one.
    async fn caller(
        &self,
        api: &Api,
        choice: &CallerChoice,
        callee: &str,
        encrypted: bool,
    ) -> Result<String, Error> {
        let mut numbers = self.outbound();
        let mut region = None;
        if *choice == CallerChoice::Auto && !encrypted {
            let groups: Vec<String> = self.groups.iter().map(|(id, _)| id.clone()).collect();
            let count = i64::try_from(numbers.len().clamp(1, 100)).unwrap_or(1);
            let pick = api.send(
                v2017::PickGlobalOutboundNumbers::new(api.instance(), callee, groups).count(count),
            );
            let lookup = api.send(v2017::GetNumberRegionInfo::new(api.instance(), callee));
            let (pick, lookup) = tokio::join!(pick, lookup);
            if let Ok(pick) = &pick {
                for pair in &pick.dial_number_pairs {
                    let Some(c) = &pair.caller else { continue };
                    if let Some(known) = numbers
                        .iter_mut()
                        .find(|n| Some(&n.number) == c.number.as_ref())
                        && known.region.city.is_none()
                    {
                        known.region = NumberRegion {
                            province: c.province.clone(),
                            city: c.city.clone(),
                        };
                    }
                }
                region = pick
                    .dial_number_pairs
                    .iter()
                    .find_map(|p| p.callee.as_ref())
                    .map(|c| NumberRegion {
                        province: c.province.clone(),
                        city: c.city.clone(),
                    });
            }
            if let Ok(info) = lookup
                && let Some(p) = info.phone_number
            {
                region = Some(NumberRegion {
                    province: p.province,
                    city: p.city,
                });
            }
        }
        choose_caller(choice, None, &numbers, region.as_ref(), &mut random_index)
            .map(str::to_owned)
            .map_err(|e| Error::input("call", e))
    }
}

fn job_of(snapshot: Option<&AgentSnapshot>) -> Option<Arc<str>> {
    let snapshot = snapshot?;
    snapshot
        .call_context
        .as_ref()
        .and_then(|c| c.job_id.clone())
        .or_else(|| {
            snapshot
                .user_context
                .as_ref()
                .and_then(|u| u.job_id.clone())
        })
}

/// M11 `call`: H25, the caller, `CheckNumberAvaliable`, the virtual number, `MakeCall`.
async fn dial(
    api: &Api,
    s: &Settings,
    ctx: &DialContext,
    request: CallRequest,
) -> Result<(Dialed, Vec<Input>), Error> {
    let callee = request.callee.trim().to_owned();
    if callee.is_empty() {
        return Err(Error::input("call", InputError::NoCallee));
    }
    let encrypted = request.public_key.as_deref().is_some_and(|k| !k.is_empty());
    let callee = match &s.hook {
        Some(hook) => {
            hook.ask(BeforeCallDialing {
                callee,
                user_name: ctx.user_name.clone(),
            })
            .await?
        }
        None => callee,
    };
    let choice = CallerChoice::parse(&request.caller);
    let caller = ctx.caller(api, &choice, &callee, encrypted).await?;
    if !encrypted {
        // A28: blacklists and number rules, before anything rings.
        let check = api
            .send(
                v2017::CheckNumberAvaliable::new(api.instance(), callee.clone())
                    .caller(caller.clone()),
            )
            .await
            .map_err(Error::Operation)?;
        let refused = [
            (
                "callee",
                check
                    .callee_available
                    .as_ref()
                    .and_then(|c| c.available.map(|a| (a, c.reason.clone()))),
            ),
            (
                "caller",
                check
                    .caller_available
                    .as_ref()
                    .and_then(|c| c.available.map(|a| (a, c.reason.clone()))),
            ),
        ];
        for (which, outcome) in refused {
            if let Some((false, reason)) = outcome {
                return Err(Error::Operation(ErrorNotify::new(
                    "CheckNumberAvaliable",
                    ErrorCode::Other(format!("{which} not available").into()),
                    reason.unwrap_or_else(|| format!("the {which} may not be called")),
                )));
            }
        }
    }
    let privacy = request
        .use_vir_num_call
        .then(|| ctx.numbers.iter().find(|n| n.number.number == caller))
        .flatten()
        .and_then(|n| n.privacy.clone());
    let (dial_to, virtual_number, privacy_call) = match privacy {
        Some(_) => {
            // A18: bind caller (A) and callee (B) through the virtual number X; the call
            // goes to X, which reaches B showing X.
            let bound = api
                .send(v2017::CallOnlinePrivacyNumber::new(
                    api.instance(),
                    caller.clone(),
                    callee.clone(),
                ))
                .await
                .map_err(Error::Operation)?;
            let data = bound.data.unwrap_or_default();
            let x = data.tel_x.filter(|x| !x.is_empty()).ok_or_else(|| {
                Error::Operation(ErrorNotify::new(
                    "CallOnlinePrivacyNumber",
                    ErrorCode::CallerOutOfRange,
                    "no virtual number in the answer",
                ))
            })?;
            (x.clone(), Some(x), data.call_id)
        }
        None => (callee.clone(), None, None),
    };
    let mut make = v2020::MakeCall::new(api.instance(), dial_to)
        .caller(caller.clone())
        .user_id(api.user())
        .device_id(ctx.device.clone());
    match (
        request.masked_callee.filter(|m| !m.trim().is_empty()),
        encrypted,
    ) {
        (Some(masked), _) => make = make.masked_callee(masked),
        // A ciphertext has no digits to keep: the agent sees none.
        (None, true) => make = make.masked_callee("****"),
        (None, false) => {}
    }
    let answer = api.send(make).await.map_err(Error::Operation)?;
    let job_id = job_of(answer.data.as_ref());
    let mut feed = snapshot(answer);
    if let (Some(call_id), Some(job)) = (privacy_call, &job_id) {
        // A19: the privacy call's record names the contact.
        if let Err(e) = api
            .send(v2017::ModifyPrivacyNumberCallDetail::new(
                api.instance(),
                call_id,
                job.to_string(),
            ))
            .await
        {
            feed.push(Input::Error(e));
        }
    }
    Ok((
        Dialed {
            job_id,
            caller,
            callee,
            virtual_number,
        },
        feed,
    ))
}

/// The number shown to an outside transfer target: '' none (the platform's), 'auto'
/// by the target's region, or the one given; with `virtual`, the virtual number bound
/// to it when there is one.
async fn transferor(
    api: &Api,
    ctx: &DialContext,
    caller: &str,
    callee: &str,
    virtual_number: bool,
) -> Result<Option<String>, Error> {
    let choice = CallerChoice::parse(caller);
    if choice == CallerChoice::Default {
        return Ok(None);
    }
    let number = ctx.caller(api, &choice, callee, false).await?;
    let bound = virtual_number
        .then(|| ctx.numbers.iter().find(|n| n.number.number == number))
        .flatten()
        .and_then(|n| n.privacy.clone());
    Ok(Some(bound.unwrap_or(number)))
}

/// The user id of the agent with extension (or id) `target` (M32 takes an extension).
async fn monitored_user(api: &Api, target: &str) -> Result<String, Error> {
    if target.contains('@') {
        return Ok(target.to_owned());
    }
    let states = api
        .send(v2017::ListAgentStates::new(api.instance()).page_size(100))
        .await
        .map_err(Error::Operation)?;
    let found = states
        .data
        .map(|d| d.list)
        .unwrap_or_default()
        .into_iter()
        .find(|a| a.dn.as_deref() == Some(target));
    Ok(match found.and_then(|a| a.login_name) {
        Some(login) => format!("{login}@{}", api.instance),
        None => target.to_owned(),
    })
}

/// The agent's view of its call, for the requests that name it.
#[derive(Debug, Clone, Default)]
struct CallRef {
    job: Option<String>,
    mine: Option<String>,
    /// The other live legs: channel id, and the numbers that name the party.
    others: Vec<(String, Option<CallType>, Vec<Text>)>,
}

impl CallRef {
    fn of(agent: &ccc_core::Agent) -> Self {
        let (Some(user), call) = (agent.user_context(), agent.call_context()) else {
            return Self::default();
        };
        let job = call
            .and_then(|c| c.job_id.clone())
            .or_else(|| user.job_id.clone())
            .map(|j| j.to_string());
        let Some(view) = call.and_then(|c| CallView::new(user, c)) else {
            return Self {
                job,
                ..Self::default()
            };
        };
        let others = view
            .others()
            .filter_map(|leg| {
                let names = [
                    &leg.user_extension,
                    &leg.destination,
                    &leg.originator,
                    &leg.user_id,
                ]
                .into_iter()
                .flatten()
                .cloned()
                .collect();
                Some((
                    leg.channel_id.as_ref()?.to_string(),
                    leg.call_type.clone(),
                    names,
                ))
            })
            .collect();
        Self {
            job,
            mine: view.mine.channel_id.as_ref().map(ToString::to_string),
            others,
        }
    }

    fn job(&self, method: &'static str) -> Result<String, Error> {
        self.job
            .clone()
            .ok_or_else(|| Error::unavailable(method, "no call in progress"))
    }

    /// The call and the agent's own leg in it.
    fn mine(&self, method: &'static str) -> Result<(String, String), Error> {
        let job = self.job(method)?;
        let mine = self
            .mine
            .clone()
            .ok_or_else(|| Error::unavailable(method, "the agent has no leg in the call"))?;
        Ok((job, mine))
    }

    /// The consulted (or joined) third party: its extension or number.
    fn third_party(&self) -> Option<String> {
        self.others
            .iter()
            .find(|(_, t, _)| *t == Some(CallType::Consultant))
            .or_else(|| self.others.last())
            .and_then(|(_, _, names)| names.first().map(ToString::to_string))
    }

    fn channel_of(&self, party: &str) -> Option<String> {
        self.others
            .iter()
            .find(|(_, _, names)| names.iter().any(|n| &**n == party))
            .map(|(c, _, _)| c.clone())
    }
}

// ----- side requests -----

/// A23: the device record marked logged out (bounded: a session's release waits for it).
pub(super) async fn device_logged_out(api: &Api, id: i64) {
    let request = v2017::ModifyAgentDevice::new(api.instance())
        .agent_device_id(id)
        .is_login(0);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(3), api.send(request)).await;
}

/// A22: the device record at sign-in, with the client's address.
pub(super) async fn add_device(api: Api, browser: String, local: SocketAddr) -> Done {
    let request = v2017::AddAgentDevice::new(api.instance(), browser, local.ip().to_string())
        .client_port(local.port().to_string());
    match api.send(request).await {
        Ok(answer) => Done::Device(answer.agent_device_id),
        Err(e) => {
            tracing::info!(error = %e, "AddAgentDevice failed");
            Done::Device(None)
        }
    }
}

/// A24: why the platform signed the agent out: the other device's address and time.
pub(super) async fn explain_kick_out(api: Api, extension: String) -> Done {
    let mut done = OpDone::new("onLogOut", None);
    let found = async {
        let ram = ram_id(&api, &extension).await.ok()?;
        let devices = api
            .send(v2017::ListAgentDevices::new(api.instance()).ram_ids(ram))
            .await
            .ok()?;
        devices
            .agent_device_list
            .into_iter()
            .filter(|d| d.is_login == Some(1))
            .max_by_key(|d| d.login_time.unwrap_or(0))
    }
    .await;
    if let Some(device) = found {
        let msg = format!(
            "signed in elsewhere: {}:{} ({}) at {} ms",
            device.client_ip.unwrap_or_default(),
            device.client_port.unwrap_or_default(),
            device.browser_version.unwrap_or_default(),
            device.login_time.unwrap_or(0)
        );
        done.feed.push(Input::Error(ErrorNotify::new(
            "ListAgentDevices",
            ErrorCode::LoggedInElsewhere,
            msg,
        )));
    }
    Done::Op(done)
}

/// A21: a fault of this device (media or link).
pub(super) async fn create_fault(
    api: Api,
    extension: String,
    connect_id: String,
    started_ms: i64,
    description: String,
    local: Option<SocketAddr>,
    browser: String,
) -> Done {
    let Ok(ram) = ram_id(&api, &extension).await else {
        return Done::Nothing;
    };
    let Ok(agent) = ram.trim().parse::<i64>() else {
        return Done::Nothing;
    };
    let mut request = v2017::CreateFault::new(
        api.instance(),
        agent,
        connect_id,
        super::leg::now_ms(),
        started_ms,
    )
    .description(description)
    .browser_version(browser)
    .operating_system_version(std::env::consts::OS);
    if let Some(local) = local {
        request = request
            .client_ip(local.ip().to_string())
            .client_port(local.port().to_string());
    }
    if let Err(e) = api.send(request).await {
        tracing::info!(error = %e, "CreateFault failed");
    }
    Done::Nothing
}

/// C12: upload an agent-side recording through A20 `GetRecordOssUploadParam`. The file
/// is removed once uploaded; a failed upload keeps it and says where it is.
pub(super) async fn upload_recording(api: Api, path: PathBuf) -> Done {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut done = OpDone::new("enableRecord", None);
    match crate::records::upload(&api, &path, &name).await {
        Ok(()) => {
            let _ = tokio::fs::remove_file(&path).await;
        }
        Err(mut e) => {
            e.msg = format!("{}; the recording is kept at {}", e.msg, path.display()).into();
            done.feed.push(Input::Error(e));
        }
    }
    Done::Op(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_urns_are_uuids() {
        let urn = instance_urn("ccc-rs-0123456789abcdef");
        assert_eq!(urn, instance_urn("ccc-rs-0123456789abcdef"));
        assert_eq!(instance_urn("urn:uuid:1-2"), "urn:uuid:1-2");
        let uuid = urn.strip_prefix("urn:uuid:").unwrap();
        let parts: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12]);
        assert_ne!(urn, instance_urn("ccc-rs-other"));
    }
}
