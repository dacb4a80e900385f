//! [`Workbench`]: `window.workbench` of the guide, with every method M2-M35 as an
//! `async fn` named after it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ccc_core::config::Config;
use ccc_core::helpers::{BreakId, DtmfDigits, LoginSkillGroup, SkillGroupOfUser, Volume};
use ccc_core::{ErrorCode, ErrorNotify, StatusDescription};
use ccc_media::access_point::{
    AccessPoint, ProbeOptions, RegionReport, TurnCredentials, test_access_points,
};
use ccc_media::check::{NetworkCheckOptions, NetworkReport, Target, check_network};
use ccc_openapi::{Client, v2017};
use tokio::sync::{broadcast, oneshot, watch};

use crate::api::Api;
use crate::builder::{Settings, WorkbenchBuilder};
use crate::driver::command::{Command, Op, Output};
use crate::driver::session::{Access, View, access_points_of, skill_groups_of};
use crate::driver::{Driver, Handle};
use crate::error::Error;
use crate::event::{Event, EventStream};
use crate::types::{CallLogPage, CallRequest, Dialed, EnvironmentReport, Recording, StatusCode};

/// One agent's workbench: `new WorkbenchSdk(config)` of the guide. Cheap to clone; the
/// agent is released (signed out at the platform's pace, links closed) when the last
/// clone is dropped, or at once with [`Workbench::shutdown`].
///
/// Every method is checked against table K first: in a status that does not allow it,
/// it returns [`Error::NotAllowed`] naming the status and the method, without a request.
/// Every method settles with a result, an error, or [`Error::Timeout`].
#[derive(Clone)]
pub struct Workbench {
    inner: Arc<Inner>,
}

struct Inner {
    commands: tokio::sync::mpsc::Sender<Box<Command>>,
    status: watch::Receiver<StatusCode>,
    view: watch::Receiver<Arc<View>>,
    events: broadcast::Receiver<Event>,
    api: Api,
    settings: Arc<Settings>,
}

impl std::fmt::Debug for Workbench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workbench")
            .field("user_id", &self.inner.settings.user_id)
            .field("status", &*self.inner.status.borrow())
            .finish_non_exhaustive()
    }
}

impl Workbench {
    /// A builder: the typed config (C2-C41), the OpenAPI client (its transport: direct,
    /// the integrator's proxy, or a custom function) and the agent (`agent@instance`).
    pub fn builder(config: Config, client: Client, user_id: impl Into<String>) -> WorkbenchBuilder {
        WorkbenchBuilder::new(config, client, user_id)
    }

    pub(crate) fn start(
        settings: Arc<Settings>,
        client: Client,
        events: broadcast::Sender<Event>,
    ) -> Self {
        let api = Api::new(client, settings.config.instance_id(), &settings.user_id);
        let template = events.subscribe();
        let Handle {
            commands,
            status,
            view,
        } = Driver::start(Arc::clone(&settings), api.clone(), events);
        Self {
            inner: Arc::new(Inner {
                commands,
                status,
                view,
                events: template,
                api,
                settings,
            }),
        }
    }

    /// The events (H21-H34) from now on. Any number of streams may be taken.
    pub fn events(&self) -> EventStream {
        EventStream::new(self.inner.events.resubscribe())
    }

    /// The agent this workbench signs in.
    pub fn user_id(&self) -> &str {
        &self.inner.settings.user_id
    }

    /// The device id it signs in on.
    pub fn device_id(&self) -> &str {
        &self.inner.settings.device_id
    }

    /// The access point (TURN region) calls relay through: `default` until one is
    /// chosen at `register` or with `switch_access_point`.
    pub fn access_point(&self) -> String {
        match self.view().access_point.as_str() {
            "" => "default".to_owned(),
            ap => ap.to_owned(),
        }
    }

    async fn ask(
        &self,
        command: impl FnOnce(crate::driver::command::Reply) -> Command,
    ) -> Result<Output, Error> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .commands
            .send(Box::new(command(reply)))
            .await
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    async fn op(&self, op: Op) -> Result<Output, Error> {
        self.ask(|reply| Command::Op { op, reply }).await
    }

    async fn unit(&self, op: Op) -> Result<(), Error> {
        self.op(op).await.map(|_| ())
    }

    fn view(&self) -> Arc<View> {
        Arc::clone(&self.inner.view.borrow())
    }

    /// Reports an operation error to the subscribers (`onErrorNotify`).
    async fn report(&self, notify: ErrorNotify) {
        let _ = self
            .inner
            .commands
            .send(Box::new(Command::Report(notify)))
            .await;
    }

    // ----- M2-M8 -----

    /// M2 `register(loginSkillGroupArray, accessPoint)`: the first sign-in: login info,
    /// SIP registration on the access point, the agent link, sign-in and ready. Settles
    /// at ready (3). `None` signs in to all of the agent's skill groups (at most 20);
    /// `access_point` is a region of `GetTurnServerList`, or `default`.
    pub async fn register(
        &self,
        login_skill_groups: Option<Vec<LoginSkillGroup>>,
        access_point: &str,
    ) -> Result<(), Error> {
        let access_point = access_point.trim();
        let access_point = if access_point.is_empty() {
            "default"
        } else {
            access_point
        }
        .to_owned();
        self.ask(|reply| Command::Register {
            groups: login_skill_groups,
            access_point,
            reply,
        })
        .await
        .map(|_| ())
    }

    /// M3 `logIn(skillGroupsList)`: sign in again from signed out (1); `None` signs in
    /// to the groups of `register`. Settles at ready.
    pub async fn log_in(&self, skill_groups: Option<Vec<LoginSkillGroup>>) -> Result<(), Error> {
        self.unit(Op::LogIn(skill_groups)).await
    }

    /// M4 `logOut()`: sign out (status 1; the links stay up for `log_in`).
    pub async fn log_out(&self) -> Result<(), Error> {
        self.unit(Op::LogOut).await
    }

    /// M5 `ready()`: become ready (end a break or after-call work).
    pub async fn ready(&self) -> Result<(), Error> {
        self.unit(Op::Ready).await
    }

    /// M6 `applyForBreak(breakId, breakName)`: a break of kind 1-5, named (the name is
    /// the break code the platform keeps; the id when the name is empty).
    pub async fn apply_for_break(&self, break_id: i64, break_name: &str) -> Result<(), Error> {
        let id = BreakId::new(break_id).map_err(|e| Error::input("applyForBreak", e))?;
        let code = match break_name.trim() {
            "" => id.get().to_string(),
            name => name.to_owned(),
        };
        self.unit(Op::Break { code }).await
    }

    /// M7 `hangUp()`.
    pub async fn hang_up(&self) -> Result<(), Error> {
        self.unit(Op::HangUp).await
    }

    /// M8 `answer()`: answers the ringing call on this device (or through the platform
    /// when the call rings elsewhere); settles when the call is connected.
    pub async fn answer(&self) -> Result<(), Error> {
        self.unit(Op::Answer).await
    }

    /// M9 `getStatus()`: the status's word (`ready`, `inCall`, ...).
    pub async fn status(&self) -> StatusDescription {
        self.inner.status.borrow().code.description()
    }

    /// M10 `getStatusCode()`: `{code, lastCode}`.
    pub async fn status_code(&self) -> StatusCode {
        *self.inner.status.borrow()
    }

    /// The status now, without waiting (what [`status_code`](Self::status_code) says).
    pub fn status_now(&self) -> StatusCode {
        *self.inner.status.borrow()
    }

    /// A watch of the status: every change, without buffering (the latest wins).
    pub fn status_watch(&self) -> watch::Receiver<StatusCode> {
        self.inner.status.clone()
    }

    // ----- M11-M18 -----

    /// M11 `call(callee, caller, publicKey, useVirNumCall)`: dial. H25 is asked first;
    /// the caller is chosen ('' the first of the agent's numbers, 'auto' by the callee's
    /// region, or the one given); `CheckNumberAvaliable` is asked (not for an encrypted
    /// callee); with `useVirNumCall` and a virtual number bound to the caller, the call
    /// goes through it (`CallOnlinePrivacyNumber`, `ModifyPrivacyNumberCallDetail`).
    pub async fn call(&self, request: impl Into<CallRequest>) -> Result<Dialed, Error> {
        match self.op(Op::Call(request.into())).await? {
            Output::Dialed(d) => Ok(d),
            _ => Err(Error::unavailable(
                "call",
                "the driver answered something else",
            )),
        }
    }

    /// Table K5's "redial": the last call's number again (`RedialCall`).
    pub async fn redial(&self) -> Result<(), Error> {
        self.unit(Op::Redial).await
    }

    /// M12 `sendDtmf(number)`: `0`-`9`, `*`, `#` (several at once are sent in order).
    pub async fn send_dtmf(&self, digits: &str) -> Result<(), Error> {
        let digits = DtmfDigits::parse(digits).map_err(|e| Error::input("sendDtmf", e))?;
        self.unit(Op::SendDtmf(digits.as_str().to_owned())).await
    }

    /// M13 `callHold()`: the customer hears music.
    pub async fn call_hold(&self) -> Result<(), Error> {
        self.unit(Op::Hold).await
    }

    /// M14 `callRetrieve()`: back from hold; during a consultation (16, 17), back to the
    /// first party.
    pub async fn call_retrieve(&self) -> Result<(), Error> {
        self.unit(Op::Retrieve).await
    }

    /// M15 `offline(mobileNumber, caller)`: answer on the mobile; status becomes ready
    /// with `onReady('offline')`. The platform picks the number that calls the mobile
    /// (2020's `ChangeWorkMode` takes none), so `caller` is informational.
    pub async fn offline(&self, mobile_number: &str, caller: Option<&str>) -> Result<(), Error> {
        let mobile = mobile_number.trim();
        if mobile.is_empty() {
            return Err(Error::input(
                "offline",
                ccc_core::helpers::InputError::NoCallee,
            ));
        }
        self.unit(Op::Offline {
            mobile: mobile.to_owned(),
            caller: caller.map(str::to_owned),
        })
        .await
    }

    /// M16 `online()`: answer on this device again.
    pub async fn online(&self) -> Result<(), Error> {
        self.unit(Op::Online).await
    }

    /// M17 `transferStatisfic()`: the customer goes to the voice satisfaction survey
    /// (`GetServiceExtensions`, `LaunchAppraise`) and the agent leaves the call.
    pub async fn transfer_satisfaction(&self) -> Result<(), Error> {
        self.unit(Op::TransferSatisfaction).await
    }

    /// M18 `downloadRecord(contactId, onlyPlay)`: the call's recordings with their
    /// signed addresses (`ListRecordingsByContactId`, `DownloadRecording`); unless
    /// `only_play`, their bytes too. Agents get their own calls only.
    pub async fn download_record(
        &self,
        contact_id: &str,
        only_play: bool,
    ) -> Result<Vec<Recording>, Error> {
        match crate::records::download(&self.inner.api, contact_id, only_play).await {
            Err(Error::Operation(e)) => {
                self.report(e.clone()).await;
                Err(Error::Operation(e))
            }
            other => other,
        }
    }

    /// M18 into files: each recording of the call streamed into `dir` under its file
    /// name (nothing held in memory, no size limit); the files written.
    pub async fn download_record_to(
        &self,
        contact_id: &str,
        dir: &Path,
    ) -> Result<Vec<PathBuf>, Error> {
        let mut paths = Vec::new();
        for recording in self.download_record(contact_id, true).await? {
            let name = Path::new(&recording.file_name)
                .file_name()
                .map(std::ffi::OsStr::to_owned)
                .ok_or_else(|| {
                    Error::unavailable("downloadRecord", "a recording without a file name")
                })?;
            let path = dir.join(name);
            let io = |source| Error::Io {
                what: format!("writing {}", path.display()),
                source,
            };
            let mut file = tokio::fs::File::create(&path).await.map_err(io)?;
            if let Err(e) = self.fetch_recording(&recording, &mut file).await {
                drop(file);
                let _ = tokio::fs::remove_file(&path).await;
                return Err(e);
            }
            file.sync_all().await.map_err(io)?;
            paths.push(path);
        }
        Ok(paths)
    }

    /// M18 as a byte stream: the recording's bytes (from [`download_record`] with
    /// `only_play`) written to `out` as they arrive: a file, a socket, a pipe to a
    /// player. The bytes written; an error also goes to `onErrorNotify`.
    ///
    /// [`download_record`]: Self::download_record
    pub async fn fetch_recording<W>(&self, recording: &Recording, out: &mut W) -> Result<u64, Error>
    where
        W: tokio::io::AsyncWrite + Unpin + ?Sized,
    {
        let answer = crate::records::fetch_into(&recording.url, out).await;
        self.reported(answer).await
    }

    // ----- M19-M22 -----

    /// M19 `isAvailBroswer()`: whether this process can run the softphone: WebRTC
    /// sockets, and with the `device` feature a microphone and speaker. What stands in
    /// the way also goes to `onErrorNotify` as `browser error`.
    pub async fn check_environment(&self) -> EnvironmentReport {
        let mut problems = Vec::new();
        let config = ccc_media::call::CallConfig::loopback();
        let audio =
            ccc_media::call::CallAudio::new(ccc_media::audio::Silence, ccc_media::call::Discard);
        match ccc_media::call::MediaSession::new(config, audio).await {
            Ok((session, _events)) => {
                if let Err(e) = session.offer().await {
                    problems.push(format!("WebRTC cannot make an offer: {e}"));
                }
                let _ = session.close().await;
            }
            Err(e) => problems.push(format!("WebRTC cannot start: {e}")),
        }
        let sound_device = sound_device_problem().map(|problem| match problem {
            Some(p) => {
                problems.push(p);
                false
            }
            None => true,
        });
        if !problems.is_empty() {
            self.report(ErrorNotify::new(
                "isAvailBroswer",
                ErrorCode::BrowserError,
                problems.join("; "),
            ))
            .await;
        }
        EnvironmentReport {
            problems,
            sound_device,
        }
    }

    /// M20 `checkNetwork()`: whether the SIP, agent-link and TURN addresses can be
    /// reached (or a firewall blocks them), all at once within 5 s.
    pub async fn check_network(&self) -> Result<NetworkReport, Error> {
        let (urls, access) = self.addresses().await?;
        let mut targets = Vec::new();
        if !urls.0.is_empty() {
            targets.push(Target::sip(urls.0));
        }
        // The agent link answers its upgrade only with the login token; the report
        // names the address without it.
        let with_token = self.view().link_check.clone();
        let plain_link = urls.1.clone();
        targets.push(Target::agent_link(
            with_token.as_ref().map_or(urls.1, |u| u.0.clone()),
        ));
        targets.extend(
            access
                .points
                .iter()
                .flat_map(|p| p.urls.iter())
                .map(|u| Target::turn(u.clone())),
        );
        let options = NetworkCheckOptions {
            roots: media_roots(&self.inner.settings.links.roots),
            ..NetworkCheckOptions::default()
        };
        let mut report = check_network(&targets, &options).await;
        for t in &mut report.targets {
            if t.target.service == ccc_media::check::Service::AgentLink {
                t.target.url.clone_from(&plain_link);
            }
        }
        Ok(report)
    }

    /// The SIP and agent-link URLs and the access points: the session's, or fetched.
    async fn addresses(&self) -> Result<((String, String), Arc<Access>), Error> {
        let view = self.view();
        if let (Some(login), Some(access)) = (&view.login, &view.access) {
            return Ok((
                (login.web_rtc_url.clone(), login.agent_server_url.clone()),
                Arc::clone(access),
            ));
        }
        let api = &self.inner.api;
        let login = api
            .send(v2017::RequestLoginInfo::new(api.instance()).user_id(api.user()))
            .await
            .map_err(Error::Operation)?
            .login_info
            .unwrap_or_default();
        let access = self.fetch_access(login.user_name.as_deref()).await?;
        Ok((
            (
                login.web_rtc_url.unwrap_or_default(),
                login.agent_server_url.unwrap_or_default(),
            ),
            Arc::new(access),
        ))
    }

    async fn fetch_access(&self, user_name: Option<&str>) -> Result<Access, Error> {
        let api = &self.inner.api;
        let list = api
            .send(v2017::GetTURNServerList::new(api.instance()))
            .await
            .map_err(Error::Operation)?;
        let credentials = api
            .send(v2017::GetTURNCredentials::new(
                api.instance(),
                user_name.map_or_else(|| api.user(), str::to_owned),
            ))
            .await
            .map_err(Error::Operation)?;
        Ok(Access {
            points: list
                .turn_server_list_config
                .as_deref()
                .map(access_points_of)
                .unwrap_or_default(),
            username: credentials.username.unwrap_or_default(),
            password: credentials
                .password
                .map(|p| p.expose().to_owned())
                .unwrap_or_default(),
        })
    }

    /// M21 `launchShortMessageAppraise()`: the SMS satisfaction survey to the customer
    /// of the current (or last) call (`GetSmsConfig`, `LaunchShortMessageAppraise`).
    pub async fn launch_short_message_appraise(&self) -> Result<(), Error> {
        const METHOD: &str = "launchShortMessageAppraise";
        let view = self.view();
        let (Some(job), Some(customer)) = (view.job_id.clone(), view.customer.clone()) else {
            return Err(Error::unavailable(METHOD, "no call with a customer yet"));
        };
        let api = &self.inner.api;
        self.sms_config(METHOD, SMS_SATISFACTION).await?;
        let contact_type = if view.inbound { 1 } else { 2 };
        let request = v2017::LaunchShortMessageAppraise::new(
            api.instance(),
            job.to_string(),
            contact_type,
            customer.to_string(),
        );
        self.reported(api.send(request).await).await.map(|_| ())
    }

    /// M22 `launchShortMessageMissedCall()`: the missed-call SMS to the customer of the
    /// last call (`GetSmsConfig`, `SendPredefinedShortMessage`).
    pub async fn launch_short_message_missed_call(&self) -> Result<(), Error> {
        const METHOD: &str = "launchShortMessageMissedCall";
        let view = self.view();
        let Some(customer) = view.customer.clone() else {
            return Err(Error::unavailable(METHOD, "no call with a customer yet"));
        };
        let config = self.sms_config(METHOD, SMS_MISSED_CALL).await?;
        let api = &self.inner.api;
        let request =
            v2017::SendPredefinedShortMessage::new(api.instance(), config, customer.to_string())
                .template_param(format!("{{\"time\":\"{}\"}}", clock_now()));
        self.reported(api.send(request).await).await.map(|_| ())
    }

    /// The id of the platform's SMS configuration of `scenario`.
    async fn sms_config(&self, method: &'static str, scenario: i64) -> Result<i64, Error> {
        let api = &self.inner.api;
        let configs = self
            .reported(
                api.send(v2017::GetSmsConfig::new(api.instance(), [scenario]))
                    .await,
            )
            .await?;
        configs
            .sms_configs
            .iter()
            .find(|c| c.scenario == Some(scenario))
            .and_then(|c| c.id)
            .ok_or_else(|| {
                Error::unavailable(
                    method,
                    format!("the platform has no SMS configuration of scenario {scenario}"),
                )
            })
    }

    /// An answer, its error also sent to `onErrorNotify`.
    async fn reported<T>(&self, answer: Result<T, ErrorNotify>) -> Result<T, Error> {
        match answer {
            Ok(v) => Ok(v),
            Err(e) => {
                self.report(e.clone()).await;
                Err(Error::Operation(e))
            }
        }
    }

    // ----- M23-M32 -----

    /// M23 `thirdCallTransfer(callee, caller, useVirNumCall, accSkillGroupName)`: blind
    /// transfer to an agent (extension), an outside number (`caller` may be 'auto'), or
    /// a skill group (named by `acc_skill_group_name`).
    pub async fn third_call_transfer(
        &self,
        callee: &str,
        caller: &str,
        use_vir_num_call: bool,
        acc_skill_group_name: Option<&str>,
    ) -> Result<(), Error> {
        let callee = nonempty("thirdCallTransfer", callee)?;
        self.unit(Op::ThirdCallTransfer {
            callee,
            caller: caller.to_owned(),
            use_vir_num_call,
            skill_group_name: acc_skill_group_name.map(str::to_owned),
        })
        .await
    }

    /// M24 `conferenceInit(callee, caller)`: consult C while the first party waits on
    /// hold: 9/10 -> 12 -> 16, and 17 when C answers.
    pub async fn conference_init(&self, callee: &str, caller: &str) -> Result<(), Error> {
        let callee = nonempty("conferenceInit", callee)?;
        self.unit(Op::ConferenceInit {
            callee,
            caller: caller.to_owned(),
        })
        .await
    }

    /// M25 `thirdCallTransferFinished()`: the first party and C talk; the agent leaves.
    pub async fn third_call_transfer_finished(&self) -> Result<(), Error> {
        self.unit(Op::ThirdCallTransferFinished).await
    }

    /// M26 `thirdCallRetrieve()`: cancel the consultation, back to the first party.
    pub async fn third_call_retrieve(&self) -> Result<(), Error> {
        self.unit(Op::ThirdCallRetrieve).await
    }

    /// M27 `conferenceFinished()`: join the consultation (status 17) into a three-way
    /// conference.
    pub async fn conference_finished(&self) -> Result<(), Error> {
        self.unit(Op::ConferenceFinished).await
    }

    /// M27 `agentToAgent(ext)`: call another agent.
    pub async fn agent_to_agent(&self, extension: &str) -> Result<Dialed, Error> {
        let extension = nonempty("agentToAgent", extension)?;
        match self.op(Op::AgentToAgent(extension)).await? {
            Output::Dialed(d) => Ok(d),
            _ => Err(Error::unavailable(
                "agentToAgent",
                "the driver answered something else",
            )),
        }
    }

    /// M28 `thirdCallHangupThird(callee)`: drop a party (an extension or a number) from
    /// the conference.
    pub async fn third_call_hangup_third(&self, callee: &str) -> Result<(), Error> {
        let callee = nonempty("thirdCallHangupThird", callee)?;
        self.unit(Op::ThirdCallHangupThird(callee)).await
    }

    /// M29 `applyForCallOnly(isCallOnly)`: outbound only (no inbound calls), or back.
    pub async fn apply_for_call_only(&self, is_call_only: bool) -> Result<(), Error> {
        self.unit(Op::CallOnly(is_call_only)).await
    }

    /// M30 `changeVolumeInCall(volumeInCall)`: headset volume, 0 to 1.
    pub async fn change_volume_in_call(&self, volume: f64) -> Result<(), Error> {
        let volume = Volume::new(volume).map_err(|e| Error::input("changeVolumeInCall", e))?;
        self.unit(Op::Volume(volume.get())).await
    }

    /// M31 `toggleMuteInCall()`: mute or unmute the microphone; whether it is muted now.
    pub async fn toggle_mute_in_call(&self) -> Result<bool, Error> {
        match self.op(Op::ToggleMute).await? {
            Output::Muted(m) => Ok(m),
            _ => Ok(false),
        }
    }

    /// M32 `monitor(monitordn)`: listen to the call of the agent with this extension.
    pub async fn monitor(&self, monitordn: &str) -> Result<(), Error> {
        let target = nonempty("monitor", monitordn)?;
        self.unit(Op::Monitor(target)).await
    }

    // ----- M33-M35 -----

    /// M33 `testTurnServers({accessPoint, currentFrequence})`: time the access points
    /// (all, or one region) over `rounds` rounds (default 1); best first.
    pub async fn test_turn_servers(
        &self,
        access_point: Option<&str>,
        current_frequence: Option<u32>,
    ) -> Result<Vec<RegionReport>, Error> {
        let (_, access) = self.addresses().await?;
        let points: Vec<AccessPoint> = access
            .points
            .iter()
            .filter(|p| access_point.is_none_or(|a| a == p.region))
            .cloned()
            .collect();
        if points.is_empty() {
            return Err(Error::unavailable(
                "testTurnServers",
                match access_point {
                    Some(a) => format!("no access point {a:?}"),
                    None => "GetTurnServerList lists no access point".to_owned(),
                },
            ));
        }
        let credentials = TurnCredentials::Static {
            username: access.username.clone(),
            password: access.password.clone(),
        };
        let options = ProbeOptions::new(
            current_frequence.unwrap_or(1).max(1),
            Duration::from_secs(2),
        )
        .with_roots(media_roots(&self.inner.settings.links.roots));
        Ok(test_access_points(&points, &credentials, &options).await)
    }

    /// M34 `switchAccessPoint(accessPoint)`: the region (of `GetTurnServerList`) the
    /// next calls relay through, or `default`.
    pub async fn switch_access_point(&self, access_point: &str) -> Result<(), Error> {
        let region = access_point.trim().to_owned();
        self.ask(|reply| Command::SwitchAccessPoint { region, reply })
            .await
            .map(|_| ())
    }

    /// M35 `resetUserStatus()`: reset a stuck status (`ResetUserStatus`), then read the
    /// state the platform now has.
    pub async fn reset_user_status(&self) -> Result<(), Error> {
        self.unit(Op::ResetUserStatus).await
    }

    // ----- the data of the panel (A1-A28) -----

    /// A3: the call log, page by page (`ListRecentCallRecords`; the total comes with
    /// page 1 only).
    pub async fn recent_call_records(
        &self,
        page_number: i64,
        page_size: i64,
    ) -> Result<CallLogPage, Error> {
        let api = &self.inner.api;
        let answer = self
            .reported(
                api.send(v2017::ListRecentCallRecords::new(
                    api.instance(),
                    page_number.max(1),
                    page_size.clamp(1, 100),
                ))
                .await,
            )
            .await?;
        let records = answer.call_detail_records.unwrap_or_default();
        Ok(CallLogPage {
            records: records.list,
            total_count: if page_number <= 1 {
                records.total_count
            } else {
                None
            },
            page_number: records.page_number.unwrap_or(page_number),
        })
    }

    /// A2: the agent's skill groups (for `register` and `logIn`).
    pub async fn skill_groups(&self) -> Result<Vec<SkillGroupOfUser>, Error> {
        let api = &self.inner.api;
        let answer = self
            .reported(
                api.send(v2017::ListSkillGroupsOfUser::new(
                    api.instance(),
                    api.user(),
                ))
                .await,
            )
            .await?;
        Ok(skill_groups_of(&answer))
    }

    /// A1: the agent's outbound numbers.
    pub async fn outbound_numbers(
        &self,
    ) -> Result<Vec<v2017::list_outbound_phone_number_of_user::PhoneNumber>, Error> {
        let api = &self.inner.api;
        let answer = self
            .reported(
                api.send(v2017::ListOutboundPhoneNumberOfUser::new(
                    api.instance(),
                    api.user(),
                ))
                .await,
            )
            .await?;
        Ok(answer.outbound_phone_numbers)
    }

    /// A12: the agents and their real-time state (transfer and conference targets).
    pub async fn real_time_agents(&self) -> Result<Vec<v2017::list_real_time_agent::User>, Error> {
        let api = &self.inner.api;
        let answer = self
            .reported(
                api.send(v2017::ListRealTimeAgent::new(api.instance()))
                    .await,
            )
            .await?;
        Ok(answer.data)
    }

    /// A13: agent states, page by page (monitor targets).
    pub async fn agent_states(
        &self,
        page_number: i64,
        page_size: i64,
    ) -> Result<v2017::list_agent_states::AgentStatePage, Error> {
        let api = &self.inner.api;
        let request = v2017::ListAgentStates::new(api.instance())
            .page_number(page_number.max(1))
            .page_size(page_size.clamp(1, 100));
        let answer = self.reported(api.send(request).await).await?;
        Ok(answer.data.unwrap_or_default())
    }

    /// A15: "my work today" (`GenerateAgentStatisticReport` for today).
    pub async fn my_work_report(
        &self,
    ) -> Result<v2017::GenerateAgentStatisticReportResponse, Error> {
        let api = &self.inner.api;
        let today = today();
        let request =
            v2017::GenerateAgentStatisticReport::new(api.instance(), today.clone(), 1, 10, today)
                .agent_id(api.user());
        self.reported(api.send(request).await).await
    }

    /// A24: the agent devices the platform knows (who signed in from where).
    pub async fn agent_devices(
        &self,
    ) -> Result<Vec<v2017::list_agent_devices::AgentDevice>, Error> {
        let api = &self.inner.api;
        let answer = self
            .reported(api.send(v2017::ListAgentDevices::new(api.instance())).await)
            .await?;
        Ok(answer.agent_device_list)
    }

    /// The guide's reload (destroy, then build anew): signs out if signed in,
    /// unregisters, closes every link, releases the machine-wide lock, and stops the
    /// driver. Other clones of this workbench then answer [`Error::Closed`].
    pub async fn shutdown(self) -> Result<(), Error> {
        let (reply, done) = oneshot::channel();
        if self
            .inner
            .commands
            .send(Box::new(Command::Shutdown { reply }))
            .await
            .is_err()
        {
            return Ok(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(20), done).await;
        Ok(())
    }
}

/// The SMS scenarios of `GetSmsConfig`.
const SMS_SATISFACTION: i64 = 1;
const SMS_MISSED_CALL: i64 = 2;

fn nonempty(method: &'static str, value: &str) -> Result<String, Error> {
    let value = value.trim();
    if value.is_empty() {
        Err(Error::input(
            method,
            ccc_core::helpers::InputError::NoCallee,
        ))
    } else {
        Ok(value.to_owned())
    }
}

fn media_roots(roots: &ccc_sip::transport::TlsRoots) -> ccc_media::access_point::TlsRoots {
    match roots {
        ccc_sip::transport::TlsRoots::Custom(ders) => {
            ccc_media::access_point::TlsRoots::Custom(ders.clone())
        }
        _ => ccc_media::access_point::TlsRoots::Platform,
    }
}

/// Today's date (UTC), `YYYY-MM-DD`.
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `HH:MM` now (UTC), for the missed-call text.
fn clock_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("{:02}:{:02}", secs / 3600 % 24, secs / 60 % 60)
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// Whether a sound device can be used: `None` without the `device` feature.
#[cfg(feature = "device")]
fn sound_device_problem() -> Option<Option<String>> {
    use ccc_media::device::{AudioBackend, CpalBackend, Direction};
    let backend = CpalBackend::new();
    let inputs = backend.devices(Direction::Capture).unwrap_or_default();
    let outputs = backend.devices(Direction::Playback).unwrap_or_default();
    Some(match (inputs.is_empty(), outputs.is_empty()) {
        (false, false) => None,
        (true, _) => Some("no microphone (8001)".to_owned()),
        (_, true) => Some("no speaker (8002)".to_owned()),
    })
}

#[cfg(not(feature = "device"))]
fn sound_device_problem() -> Option<Option<String>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(today().len(), 10);
    }
}
