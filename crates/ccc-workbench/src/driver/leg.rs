//! The agent's call leg on this device: the SIP call the platform places to the
//! extension (inbound calls, and the agent's own leg of every call it dials) and its
//! WebRTC media.
//!
//! An INVITE is answered at once when it is the agent's own leg (the status shows a
//! call the agent placed or joined, or one of its dialing requests is in flight), and
//! otherwise rings until `answer` (or the auto-answer timer). SDP goes from the INVITE
//! and re-INVITEs to the media session and back; ICE uses the chosen access point's
//! TURN servers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ccc_core::{ErrorCode, ErrorNotify, Input, Status};
use ccc_media::call::{CallConfig, IceServer, MediaError, MediaEvent, MediaEvents, MediaSession};
use ccc_sip::client::ClientEvent;
use ccc_sip::link::LinkEvent as SipLinkEvent;
use ccc_sip::ua::{CallHandle, EndReason, UaEvent};

use super::command::{Output, Reply, Until};
use super::{Done, Driver, OpDone, ops};
use crate::audio::CallAudioInfo;
use crate::error::Error;
use crate::event::Event;

/// How long one SIP command may take. The client answers from its own task within
/// microseconds; the driver awaits it in place (a job would have to borrow the client),
/// bounded so that a client stuck on a full event queue cannot stall the driver.
const SIP_COMMAND: Duration = Duration::from_secs(2);

/// The agent's SIP call and its media.
pub(crate) struct Leg {
    pub(crate) handle: CallHandle,
    /// `From` of the INVITE.
    pub(crate) from: String,
    /// The INVITE's offer, until it is answered.
    pub(crate) offer: Option<Vec<u8>>,
    /// The media is being set up.
    pub(crate) answering: bool,
    pub(crate) media: Option<Arc<MediaSession>>,
    pub(crate) media_events: Option<MediaEvents>,
    /// The file this call is recorded to (C12).
    pub(crate) recording: Option<PathBuf>,
    /// When the leg started, ms since the epoch (for fault reports).
    pub(crate) started_ms: i64,
    /// This device hung it up; its end is on the way.
    pub(crate) hanging_up: bool,
    /// The SIP flow went down during the call and the SIP client keeps the call until
    /// it moves to the next flow (`CallRecovered`) or is given up (`FlowLost`).
    pub(crate) recovering: bool,
    pub(crate) job_id: Option<Arc<str>>,
}

impl Leg {
    /// Stops the media (bounded).
    pub(crate) async fn close(self) {
        if let Some(media) = self.media {
            let _ = tokio::time::timeout(Duration::from_secs(5), media.close()).await;
        }
    }
}

/// A media session's answer to an offer.
pub(crate) struct MediaAnswer {
    handle: CallHandle,
    /// A new session (first INVITE), or `None` for a re-INVITE of the existing one.
    session: Option<(MediaSession, MediaEvents)>,
    result: Result<String, MediaError>,
    /// Why the call goes unrecorded although C12 asks for it.
    recording_error: Option<String>,
}

/// A media session's offer (ICE restart).
pub(crate) struct MediaOffer {
    handle: CallHandle,
    result: Result<String, MediaError>,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Statuses of a connected call (whose leg a new INVITE must not replace).
fn connected(status: Status) -> bool {
    own_leg_status(status) && status != Status::Dialing
}

/// Statuses in which an arriving INVITE is the agent's own leg.
fn own_leg_status(status: Status) -> bool {
    !matches!(
        status,
        Status::Unregistered
            | Status::Registering
            | Status::SignedOut
            | Status::SignedIn
            | Status::Ready
            | Status::Break
            | Status::AfterCallWork
            | Status::Ringing
    )
}

impl Driver {
    /// The media settings of the next call: the template, the access point's TURN
    /// servers (C39), statistics (C37), recording (C12).
    fn call_config(&self, job: Option<&str>) -> CallConfig {
        let mut config = self.s.call.clone();
        if let Some(s) = &self.session {
            if self.s.config.enable_switch_adapter()
                && let Some(urls) = s.access.urls(&s.access_point)
            {
                config.ice_servers.extend(urls.iter().map(|url| {
                    if url.starts_with("stun:") {
                        IceServer::stun(url.clone())
                    } else {
                        IceServer::turn(
                            url.clone(),
                            s.access.username.clone(),
                            s.access.password.clone(),
                        )
                    }
                }));
            }
            if self.s.config.enable_record() {
                let dir = self.s.record_dir.clone().unwrap_or_else(std::env::temp_dir);
                let name = format!(
                    "ccc-{}-{}-{}.wav",
                    s.login.extension,
                    job.unwrap_or("call"),
                    now_ms()
                );
                config.recording = Some(dir.join(name));
            }
        }
        config.keep_stats = !self.s.config.disable_save_stats();
        config
    }

    /// Starts the media answer of the leg's pending offer.
    fn start_answer(&mut self) {
        let status = self.agent.status();
        let job = self.agent.call_context().and_then(|c| c.job_id.clone());
        let config = self.call_config(job.as_deref());
        let Some(leg) = self.session.as_mut().and_then(|s| s.leg.as_mut()) else {
            return;
        };
        let Some(offer) = leg.offer.take() else {
            return;
        };
        leg.answering = true;
        leg.recording.clone_from(&config.recording);
        leg.job_id.clone_from(&job);
        let info = CallAudioInfo {
            job_id: job,
            remote: leg.from.clone(),
            status,
        };
        let factory = Arc::clone(&self.s.audio.0);
        let handle = leg.handle;
        self.spawn(async move {
            let offer = String::from_utf8_lossy(&offer).into_owned();
            let mut config = config;
            let mut recording_error = None;
            if let Some(dir) = config
                .recording
                .as_deref()
                .and_then(std::path::Path::parent)
                && let Err(e) = tokio::fs::create_dir_all(dir).await
            {
                recording_error = Some(format!("{}: {e}", dir.display()));
                config.recording = None;
            }
            let mut made = MediaSession::new(config.clone(), factory.audio(&info)).await;
            if made.is_err() && config.recording.is_some() {
                // A recording that cannot be written must not cost the call.
                if let Err(e) = &made {
                    recording_error = Some(e.to_string());
                }
                config.recording = None;
                made = MediaSession::new(config, factory.audio(&info)).await;
            }
            let (session, result) = match made {
                Ok((session, events)) => {
                    let result = session.answer(&offer).await;
                    (Some((session, events)), result)
                }
                Err(e) => (None, Err(e)),
            };
            Done::MediaAnswer(Box::new(MediaAnswer {
                handle,
                session,
                result,
                recording_error,
            }))
        });
    }

    /// `answer()` (reply `Some`) or the auto-answer timer (`None`).
    pub(super) fn answer_now(&mut self, reply: Option<Reply>) {
        // A leg this device is hanging up belongs to the call before: the ringing one's
        // INVITE may still be on its way (answered by a bot the moment the last call
        // ended, this waited for that old leg to be talking and never took the new one).
        let pending = self
            .session
            .as_ref()
            .and_then(|s| s.leg.as_ref())
            .filter(|l| !l.hanging_up)
            .map(|l| (l.offer.is_some(), l.answering));
        match pending {
            Some((true, _)) => self.start_answer(),
            Some((false, _)) => {}
            None => {
                let off_site = self
                    .agent
                    .user_context()
                    .and_then(|u| u.work_mode.as_ref())
                    .is_some_and(|m| *m == ccc_core::model::WorkMode::OffSite);
                if self.s.sip_device && !off_site {
                    // This device is the agent's phone: the call is answered here, on
                    // the platform's INVITE, which may come after the status showed
                    // the ring. Answered through the platform instead, it would
                    // connect the customer to no audio.
                    if let Some((_, Some(earlier))) = self.invite_wait.take() {
                        let _ = earlier.send(Err(Error::unavailable(
                            "answer",
                            "another answer() took over",
                        )));
                    }
                    let deadline = crate::time::after(self.s.method_timeout);
                    self.invite_wait = Some((deadline, reply));
                    return;
                }
                self.answer_through_platform(reply);
                return;
            }
        }
        if let Some(reply) = reply {
            self.wait("answer", Until::Talking, reply, Output::Unit);
        }
    }

    /// `AnswerCall`: the platform answers the ringing call (without a SIP device: a
    /// desk phone, the mobile); an INVITE that follows is then the agent's own leg.
    pub(super) fn answer_through_platform(&mut self, reply: Option<Reply>) {
        if self.agent.status() != Status::Ringing {
            if let Some(reply) = reply {
                let _ = reply.send(Err(Error::unavailable("answer", "no call rings")));
            }
            return;
        }
        let job = self.agent.call_context().and_then(|c| c.job_id.clone());
        let Some(job) = job else {
            if let Some(reply) = reply {
                let _ = reply.send(Err(Error::unavailable("answer", "no call rings")));
            }
            return;
        };
        let api = self.api.clone();
        let device = self.s.device_id.clone();
        let request = ccc_openapi::v2020::AnswerCall::new(api.instance(), job.to_string())
            .user_id(api.user())
            .device_id(device);
        let mut done = OpDone::new("answer", reply);
        done.until = Some(Until::Talking);
        self.spawn(ops::act(api, request, done, ops::snapshot));
    }

    /// Answers `reply` once `until` holds (or at once if it does).
    pub(super) fn wait(
        &mut self,
        method: &'static str,
        until: Until,
        reply: Reply,
        output: Output,
    ) {
        if until.reached(self.agent.status()) {
            let _ = reply.send(Ok(output));
            return;
        }
        self.waiters.push(super::Waiter {
            method,
            until,
            deadline: crate::time::after(self.s.method_timeout),
            reply,
            result: Some(output),
        });
    }

    /// A leg this device answered, of a call the status shows over (its BYE not here
    /// yet, or never sent): hung up here, so that it keeps no later call out.
    pub(super) async fn end_stale_leg(&mut self) {
        let status = self.agent.status();
        if own_leg_status(status) || status == Status::Ringing {
            return;
        }
        let Some(s) = &mut self.session else { return };
        if s.own_dials > 0 {
            // A dialing request in flight: its leg may be here before its status.
            return;
        }
        let Some(leg) = s
            .leg
            .as_mut()
            .filter(|l| (l.answering || l.media.is_some()) && !l.hanging_up)
        else {
            return;
        };
        leg.hanging_up = true;
        let handle = leg.handle;
        if let Some(sip) = &s.sip {
            tracing::debug!(user = %self.s.user_id, %status, "hanging up a leg of a call that is over");
            let _ = tokio::time::timeout(SIP_COMMAND, sip.hang_up(handle)).await;
        }
    }

    /// A status change may make a pending INVITE the agent's own leg.
    pub(super) fn leg_status_changed(&mut self, status: Status) {
        let own_dial = self.session.as_ref().is_some_and(|s| s.own_dials > 0);
        let waiting = self
            .session
            .as_ref()
            .and_then(|s| s.leg.as_ref())
            .is_some_and(|l| l.offer.is_some() && !l.answering);
        if waiting && (own_leg_status(status) || own_dial) {
            self.start_answer();
        }
    }

    pub(super) async fn sip_event(&mut self, event: Option<ClientEvent>) {
        let Some(event) = event else {
            // The SIP client stopped.
            if let Some(s) = &mut self.session {
                s.sip = None;
            }
            self.feed([Input::LinkDown(ccc_core::Link::Sip)]);
            return;
        };
        match event {
            ClientEvent::Link(SipLinkEvent::Connected { local, .. }) => {
                if let Some(s) = &mut self.session {
                    s.sip_local = Some(local);
                    s.device_local.get_or_insert(local);
                }
                self.report_device();
                self.publish_view();
            }
            ClientEvent::Link(SipLinkEvent::Disconnected(why)) => {
                tracing::info!(user = %self.s.user_id, ?why, "SIP link down");
                if let Some(s) = &mut self.session {
                    s.sip_registered = false;
                }
                // A call goes on: the SIP client keeps its dialog for the grace period
                // (`CallRecovering`), and the media does not ride on this flow.
                self.feed([Input::LinkDown(ccc_core::Link::Sip)]);
            }
            ClientEvent::Link(_) => {}
            ClientEvent::Ua(event) => self.ua_event(event).await,
            _ => {}
        }
    }

    async fn ua_event(&mut self, event: UaEvent) {
        match event {
            UaEvent::Registered { .. } => {
                if let Some(s) = &mut self.session {
                    s.sip_registered = true;
                }
                self.feed([Input::LinkUp(ccc_core::Link::Sip)]);
                self.registered();
                self.try_sign_in();
            }
            UaEvent::RegistrationFailed(e) => {
                let notify =
                    ErrorNotify::new("register", ErrorCode::NetworkError, format!("SIP: {e}"));
                if self.registering.is_some() {
                    self.register_failed(Error::Operation(notify));
                } else {
                    self.feed([Input::Error(notify), Input::LinkDown(ccc_core::Link::Sip)]);
                }
            }
            UaEvent::RegistrationLost => {
                if let Some(s) = &mut self.session {
                    s.sip_registered = false;
                }
                self.feed([Input::LinkDown(ccc_core::Link::Sip)]);
            }
            UaEvent::IncomingCall {
                call, from, sdp, ..
            } => self.incoming(call, from, sdp).await,
            UaEvent::CallUpdate { call, sdp } => self.reoffer(call, sdp).await,
            UaEvent::CallUpdated { call, sdp } => {
                let media = self.media_of(call);
                if let Some(media) = media {
                    self.spawn(async move {
                        let sdp = String::from_utf8_lossy(&sdp).into_owned();
                        if let Err(e) = media.set_remote(&sdp).await {
                            tracing::warn!(error = %e, "the answer to our re-INVITE does not apply");
                        }
                        Done::Nothing
                    });
                }
            }
            UaEvent::CallUpdateFailed { call, code } => self.media_update_failed(call, code),
            UaEvent::Info {
                call,
                content_type,
                body,
            } if self.is_leg(call) => {
                for digit in dtmf_of_info(&content_type, &body) {
                    let _ = self.events.send(Event::Dtmf { digit });
                }
            }
            UaEvent::CallRecovering { call } => self.leg_recovering(call, true),
            UaEvent::CallRecovered { call } => self.leg_recovering(call, false),
            UaEvent::CallEnded { call, reason } => self.leg_ended(call, reason),
            _ => {}
        }
    }

    fn is_leg(&self, call: CallHandle) -> bool {
        self.session
            .as_ref()
            .and_then(|s| s.leg.as_ref())
            .is_some_and(|l| l.handle == call)
    }

    fn media_of(&self, call: CallHandle) -> Option<Arc<MediaSession>> {
        self.session
            .as_ref()
            .and_then(|s| s.leg.as_ref())
            .filter(|l| l.handle == call)
            .and_then(|l| l.media.clone())
    }

    async fn incoming(&mut self, call: CallHandle, from: String, sdp: Vec<u8>) {
        let status = self.agent.status();
        tracing::debug!(user = %self.s.user_id, %status, ?call, %from, "an INVITE");
        let Some(s) = &mut self.session else { return };
        let Some(sip) = &s.sip else { return };
        let mut carry_answer = false;
        if let Some(leg) = &s.leg {
            let live = (leg.answering || leg.media.is_some()) && !leg.hanging_up;
            if live && connected(status) {
                // One call per device: the platform's legs of one call reuse it.
                let _ = tokio::time::timeout(SIP_COMMAND, sip.reject(call, 486, "Busy Here")).await;
                return;
            }
            // The platform offers a new leg while this device still holds one of a
            // call it has let go (its BYE or CANCEL not here yet, or an INVITE that
            // came after its call ended): the old one must not keep the new one out.
            // An answer begun for the ringing call goes on with the new leg.
            carry_answer = live && status == Status::Ringing;
            if let Some(old) = s.leg.take() {
                let _ = tokio::time::timeout(SIP_COMMAND, async {
                    if live {
                        sip.hang_up(old.handle).await
                    } else {
                        sip.reject(old.handle, 480, "Temporarily Unavailable").await
                    }
                })
                .await;
                tokio::spawn(old.close());
            }
            self.feed([Input::SipCallEnded]);
        }
        let Some(s) = &mut self.session else { return };
        let Some(sip) = &s.sip else { return };
        let _ = tokio::time::timeout(SIP_COMMAND, sip.ringing(call)).await;
        s.leg = Some(Leg {
            handle: call,
            from,
            offer: Some(sdp),
            answering: false,
            media: None,
            media_events: None,
            recording: None,
            started_ms: now_ms(),
            job_id: None,
            hanging_up: false,
            recovering: false,
        });
        self.feed([Input::SipIncoming]);
        if carry_answer {
            self.start_answer();
            return;
        }
        if let Some((deadline, reply)) = self.invite_wait.take() {
            // `answer()` was waiting for this INVITE: it settles when the call is
            // connected, within the time it had.
            self.start_answer();
            if let Some(reply) = reply {
                self.waiters.push(super::Waiter {
                    method: "answer",
                    until: Until::Talking,
                    deadline,
                    reply,
                    result: Some(Output::Unit),
                });
            }
            return;
        }
        let status = self.agent.status();
        self.leg_status_changed(status);
    }

    /// A re-INVITE (hold music, unhold, ICE restart from the far end).
    async fn reoffer(&mut self, call: CallHandle, sdp: Vec<u8>) {
        let Some(media) = self.media_of(call) else {
            // No media yet: nothing to renegotiate; refuse, the platform keeps the old.
            if let Some(sip) = self.session.as_ref().and_then(|s| s.sip.as_ref()) {
                let _ = tokio::time::timeout(SIP_COMMAND, sip.reject(call, 491, "Request Pending"))
                    .await;
            }
            return;
        };
        self.spawn(async move {
            let sdp = String::from_utf8_lossy(&sdp).into_owned();
            let result = media.answer(&sdp).await;
            Done::MediaAnswer(Box::new(MediaAnswer {
                handle: call,
                session: None,
                result,
                recording_error: None,
            }))
        });
    }

    pub(super) async fn media_answered(&mut self, answer: MediaAnswer) {
        let MediaAnswer {
            handle,
            session,
            result,
            recording_error,
        } = answer;
        if let Some(message) = recording_error {
            if let Some(leg) = self
                .session
                .as_mut()
                .and_then(|s| s.leg.as_mut())
                .filter(|l| l.handle == handle)
            {
                leg.recording = None;
            }
            self.feed([Input::Error(recording_failed(format!(
                "the call is not recorded: {message}"
            )))]);
        }
        let user = self.s.user_id.clone();
        let Some(s) = &mut self.session else {
            if let Some((media, _)) = session {
                tokio::spawn(async move { media.close().await });
            }
            return;
        };
        let leg_here = s.leg.as_ref().is_some_and(|l| l.handle == handle);
        let Some(sip) = &s.sip else { return };
        match result {
            Ok(sdp) if leg_here => {
                let answered =
                    tokio::time::timeout(SIP_COMMAND, sip.answer(handle, sdp.into_bytes()))
                        .await
                        .unwrap_or(false);
                if let Some(leg) = s.leg.as_mut() {
                    leg.answering = false;
                    if let Some((media, events)) = session {
                        media.set_volume(s.volume).await.ok();
                        if s.muted {
                            media.set_muted(true).await.ok();
                        }
                        leg.media = Some(Arc::new(media));
                        leg.media_events = Some(events);
                    }
                }
                if !answered {
                    tracing::warn!(%user, "the SIP client did not take the answer");
                }
            }
            Ok(_) => {
                // The call ended while the media was set up.
                if let Some((media, _)) = session {
                    tokio::spawn(async move { media.close().await });
                }
            }
            Err(e) => {
                tracing::warn!(%user, error = %e, "media answer failed");
                let _ = tokio::time::timeout(
                    SIP_COMMAND,
                    sip.reject(handle, 488, "Not Acceptable Here"),
                )
                .await;
                if let Some(leg) = s.leg.as_mut()
                    && leg.handle == handle
                {
                    leg.answering = false;
                }
                if let Some((media, _)) = session {
                    tokio::spawn(async move { media.close().await });
                }
                let notify =
                    ErrorNotify::new("answer", ErrorCode::GetLocalMediaFailed, e.to_string());
                self.feed([Input::Error(notify)]);
                self.report_fault(format!("media answer failed: {e}"));
            }
        }
    }

    pub(super) async fn media_offered(&mut self, offer: MediaOffer) {
        let Some(s) = &self.session else { return };
        let (Some(sip), true) = (
            &s.sip,
            s.leg.as_ref().is_some_and(|l| l.handle == offer.handle),
        ) else {
            return;
        };
        match offer.result {
            Ok(sdp) => {
                let _ =
                    tokio::time::timeout(SIP_COMMAND, sip.update(offer.handle, sdp.into_bytes()))
                        .await;
            }
            Err(e) => tracing::warn!(error = %e, "ICE restart offer failed"),
        }
    }

    /// Our re-INVITE (an ICE restart) was refused: the offer is withdrawn, so that the
    /// session is back to what was last negotiated. If the path does not come back by
    /// itself, ICE fails and the call is released.
    fn media_update_failed(&mut self, call: CallHandle, code: u16) {
        let Some(media) = self.media_of(call) else {
            return;
        };
        tracing::warn!(user = %self.s.user_id, code, "the ICE restart re-INVITE was refused");
        self.spawn(async move {
            if let Err(e) = media.cancel_offer().await {
                tracing::warn!(error = %e, "the refused ICE restart offer could not be withdrawn");
            }
            Done::Nothing
        });
    }

    pub(super) async fn media_event(&mut self, event: Option<MediaEvent>) {
        let Some(event) = event else {
            if let Some(leg) = self.session.as_mut().and_then(|s| s.leg.as_mut()) {
                leg.media_events = None;
            }
            return;
        };
        match event {
            MediaEvent::Connected { codec, .. } => {
                let _ = self.events.send(Event::MediaConnected {
                    codec: codec.map(|c| c.name().to_owned()),
                });
            }
            MediaEvent::Dtmf { digit } => {
                let _ = self.events.send(Event::Dtmf { digit });
            }
            MediaEvent::Disconnected => {
                // The path broke; ask the far end for a fresh one (re-INVITE).
                let Some(leg) = self.session.as_ref().and_then(|s| s.leg.as_ref()) else {
                    return;
                };
                tracing::info!(user = %self.s.user_id, "call media disconnected; restarting ICE");
                let _ = self.events.send(Event::MediaDisconnected);
                if let Some(media) = leg.media.clone() {
                    let handle = leg.handle;
                    self.spawn(async move {
                        let result = media.restart_ice().await;
                        Done::MediaOffer(MediaOffer { handle, result })
                    });
                }
            }
            MediaEvent::Reconnected => {
                tracing::info!(user = %self.s.user_id, "call media reconnected");
                let _ = self.events.send(Event::MediaReconnected);
            }
            MediaEvent::Failed { reason } => {
                let notify = ErrorNotify::new(
                    "call",
                    ErrorCode::GetLocalMediaFailed,
                    format!("the call's media failed ({reason}); the call was released"),
                );
                self.feed([Input::Error(notify)]);
                self.report_fault(format!("call media failed: {reason}"));
                // Media that failed for good cannot carry the call: hang up the leg.
                if let Some(s) = &self.session
                    && let (Some(sip), Some(leg)) = (&s.sip, &s.leg)
                {
                    let _ = tokio::time::timeout(SIP_COMMAND, sip.hang_up(leg.handle)).await;
                }
            }
            MediaEvent::RecordingFailed { message } => {
                tracing::warn!(%message, "recording failed");
                self.feed([Input::Error(recording_failed(format!(
                    "the recording stopped: {message}"
                )))]);
            }
            MediaEvent::Quality(alert) => {
                tracing::info!(?alert, "call quality");
            }
            _ => {}
        }
    }

    /// The call's SIP flow went down (`true`: the SIP client waits for the next flow,
    /// within `LinkOptions::sip_call_grace`) or the call moved to the new flow
    /// (`false`). Nothing to do meanwhile: a re-INVITE with an ICE restart, if the
    /// media broke too, waits in the client for the new flow.
    fn leg_recovering(&mut self, call: CallHandle, recovering: bool) {
        let user = self.s.user_id.clone();
        if let Some(leg) = self
            .session
            .as_mut()
            .and_then(|s| s.leg.as_mut())
            .filter(|l| l.handle == call)
        {
            leg.recovering = recovering;
            if recovering {
                tracing::info!(%user, "the call waits for the SIP link to come back");
            } else {
                tracing::info!(%user, "the call moved to the new SIP link");
            }
        }
    }

    fn leg_ended(&mut self, call: CallHandle, reason: EndReason) {
        let Some(s) = &mut self.session else { return };
        if s.leg.as_ref().is_none_or(|l| l.handle != call) {
            return;
        }
        let Some(leg) = s.leg.take() else { return };
        // Lost with the flow: given up by the SIP client, or ended (by the platform,
        // or hung up here) while it waited for the next flow.
        let flow_lost = (reason == EndReason::FlowLost || leg.recovering) && leg.media.is_some();
        let recording = leg.recording.clone().filter(|_| leg.media.is_some());
        let started = leg.started_ms;
        tokio::spawn(leg.close());
        self.feed([Input::SipCallEnded]);
        if flow_lost {
            self.call_lost_with_the_flow(started);
        }
        if let Some(path) = recording {
            self.spawn(ops::upload_recording(self.api.clone(), path));
        }
    }

    /// The SIP flow went down during a call and the call could not be moved to a new
    /// one (no flow within the grace period, or the server no longer knew the dialog):
    /// `onErrorNotify` says so and the platform gets a fault report.
    fn call_lost_with_the_flow(&mut self, started_ms: i64) {
        let notify = ErrorNotify::new(
            "call",
            ErrorCode::NetworkError,
            "the SIP link went down during the call; the call was released",
        );
        self.feed([Input::Error(notify)]);
        self.report_fault_since(
            "the SIP link went down during the call".to_owned(),
            started_ms,
        );
    }

    /// Reports a fault of this device (A21 `CreateFault`).
    pub(super) fn report_fault(&self, description: String) {
        let started = self
            .session
            .as_ref()
            .and_then(|s| s.leg.as_ref())
            .map_or_else(now_ms, |l| l.started_ms);
        self.report_fault_since(description, started);
    }

    fn report_fault_since(&self, description: String, started_ms: i64) {
        let Some(s) = &self.session else { return };
        let connect = self
            .agent
            .call_context()
            .and_then(|c| c.job_id.clone())
            .or_else(|| s.last_job.clone())
            .map_or_else(String::new, |j| j.to_string());
        self.spawn(ops::create_fault(
            self.api.clone(),
            s.login.extension.clone(),
            connect,
            started_ms,
            description,
            s.sip_local,
            self.s.browser_version.clone(),
        ));
    }
}

/// C12's operation error: the agent-side recording could not be made.
fn recording_failed(message: String) -> ErrorNotify {
    ErrorNotify::new(
        "enableRecord",
        ErrorCode::Other("RecordingFailed".into()),
        message,
    )
}

/// Digits of a SIP INFO: `application/dtmf-relay` (`Signal=5`) or `application/dtmf`.
fn dtmf_of_info(content_type: &str, body: &[u8]) -> Vec<char> {
    let text = String::from_utf8_lossy(body);
    let kind = content_type.to_ascii_lowercase();
    let valid = |c: &char| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D');
    if kind.starts_with("application/dtmf-relay") {
        text.lines()
            .filter_map(|line| {
                let (key, value) = line.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("signal")
                    .then(|| value.trim().chars().next())
                    .flatten()
            })
            .filter(valid)
            .collect()
    } else if kind.starts_with("application/dtmf") {
        text.trim().chars().filter(valid).collect()
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_digits() {
        assert_eq!(
            dtmf_of_info("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n"),
            vec!['5']
        );
        assert_eq!(dtmf_of_info("application/dtmf", b"#"), vec!['#']);
        assert!(dtmf_of_info("text/plain", b"5").is_empty());
        assert!(dtmf_of_info("application/dtmf-relay", b"Signal=x").is_empty());
    }

    #[test]
    fn own_legs() {
        assert!(own_leg_status(Status::Dialing));
        assert!(own_leg_status(Status::Monitoring));
        assert!(!own_leg_status(Status::Ringing));
        assert!(!own_leg_status(Status::Ready));
    }
}
