//! The SIP link: ccc-sip's server (registrar with digest, call legs over each agent's
//! WebSocket flow) under the platform, and the WebRTC session the emulator runs for
//! each agent leg (ccc-media).
//!
//! The platform asks for an agent's device to ring ([`Output::RingDevice`]): the shell
//! makes the leg's media session, offers its SDP in an INVITE to the extension's
//! registered flow, and reports back what the device does (answered, refused, hung
//! up). Registrations become the platform's device inputs. The SIP domain is the host
//! of the SIP URL (`127.0.0.1` on loopback), the digest user is the extension and the
//! password the agent's (`GetLoginDetails` hands it out as `Signature2`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ccc_core::model::Text;
use ccc_media::call::{CallAudio, CallConfig, MediaEvent, MediaSession};
use ccc_sip::server::{FlowFault, FlowId, Leg, ServerEvent, ServerEvents, SipServer};
use ccc_sip::ua::{EndReason, UaEvent};
use tokio::sync::{mpsc, watch};

use super::engine::Engine;
use super::faults::{LinkFault, LinkKind};
use super::media::{CustomerDtmf, MediaHub};
use crate::platform::{Input, LegId, MixLeg};
use crate::scenario::CustomerScript;

/// What the platform's outputs ask of the SIP and media shell, in order.
#[derive(Debug)]
pub(crate) enum LegCommand {
    Ring {
        leg: LegId,
        job: Text,
        extension: Text,
        caller: Text,
    },
    Down {
        leg: LegId,
        job: Text,
    },
    Mix {
        job: Text,
        legs: Vec<MixLeg>,
    },
    LineUp {
        leg: LegId,
        job: Text,
        number: Text,
        script: CustomerScript,
    },
    Dtmf {
        leg: LegId,
        digits: Text,
    },
    CallEnded {
        job: Text,
    },
    SignedOut {
        user: Text,
        device: Option<Text>,
    },
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One agent leg over SIP.
struct SipLeg {
    sip: Option<Leg>,
    session: Option<Arc<MediaSession>>,
    answered: bool,
    /// The platform ended the leg before the INVITE went out.
    cancelled: bool,
}

/// The agent legs and flows the shell knows.
#[derive(Default)]
struct Registry {
    legs: HashMap<LegId, SipLeg>,
    by_sip: HashMap<Leg, LegId>,
    /// Each agent's flows, with the device (instance) each registered as.
    flows: HashMap<Text, Vec<(FlowId, Text)>>,
    /// Events of legs whose INVITE is out but not yet filed (the device can answer
    /// before `invite` returns): replayed once the leg is known.
    early: HashMap<Leg, Vec<UaEvent>>,
}

/// At most this many legs with early events are kept (older ones are dropped).
const MAX_EARLY: usize = 4_096;

/// The running SIP link.
pub(crate) struct SipShell {
    pub(crate) server: SipServer,
    pub(crate) domain: String,
    registry: Mutex<Registry>,
    media: Arc<MediaHub>,
    media_config: CallConfig,
}

impl std::fmt::Debug for SipShell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipShell")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

/// The device id of a registration: its `+sip.instance` without `<urn:...>` brackets
/// (the id a workbench also gives as `DeviceId`), else the flow.
fn device_of(instance: Option<&str>, flow: &dyn std::fmt::Display) -> Text {
    match instance {
        Some(i) => i.trim_matches(['<', '>']).into(),
        None => flow.to_string().into(),
    }
}

/// The SIP server's form of a link fault.
fn flow_fault(fault: LinkFault) -> FlowFault {
    if fault.black_hole {
        FlowFault::BlackHole
    } else if fault.delay.is_zero() {
        FlowFault::None
    } else {
        FlowFault::Delay(fault.delay)
    }
}

fn user_part(aor: &str) -> &str {
    let rest = aor.strip_prefix("sip:").unwrap_or(aor);
    rest.split('@').next().unwrap_or(rest)
}

/// The digits of an INFO body (`application/dtmf-relay`'s `Signal=5`, or
/// `application/dtmf`'s bare digit).
fn info_digits(content_type: &str, body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let digits: String = if content_type.eq_ignore_ascii_case("application/dtmf-relay") {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("signal")
                .then(|| v.trim().to_owned())
        })?
    } else if content_type.eq_ignore_ascii_case("application/dtmf") {
        text.trim().to_owned()
    } else {
        return None;
    };
    (!digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'*' | b'#' | b'A'..=b'D')))
    .then_some(digits)
}

impl SipShell {
    pub(crate) fn new(
        server: SipServer,
        domain: String,
        media: Arc<MediaHub>,
        media_config: CallConfig,
    ) -> Self {
        Self {
            server,
            domain,
            registry: Mutex::new(Registry::default()),
            media,
            media_config,
        }
    }

    /// The WAV file of what a customer leg hears, while its call runs.
    pub(crate) fn heard_file(&self, job: &Text, leg: LegId) -> Option<std::path::PathBuf> {
        self.media.heard_file(job, leg)
    }

    /// Closes every SIP flow of `user` (of `device` only, when given).
    pub(crate) async fn close_flows(&self, user: &str, device: Option<&str>) -> usize {
        let flows: Vec<FlowId> = lock(&self.registry)
            .flows
            .get(user)
            .map(|list| {
                list.iter()
                    .filter(|(_, d)| device.is_none_or(|want| &**d == want))
                    .map(|(f, _)| *f)
                    .collect()
            })
            .unwrap_or_default();
        for flow in &flows {
            self.server.close_flow(*flow).await;
        }
        flows.len()
    }

    /// Puts `fault` on every SIP flow `user` has registered (see
    /// [`SipServer::set_flow_fault`]); how many flows took it.
    pub(crate) async fn set_fault(&self, user: &str, fault: LinkFault) -> usize {
        let flows: Vec<FlowId> = lock(&self.registry)
            .flows
            .get(user)
            .map(|list| list.iter().map(|(f, _)| *f).collect())
            .unwrap_or_default();
        let mut set = 0;
        for flow in flows {
            if self.server.set_flow_fault(flow, flow_fault(fault)).await {
                set += 1;
            }
        }
        set
    }

    /// Carries the platform's leg commands out, in order, until the channel closes.
    pub(crate) async fn run_commands(
        self: Arc<Self>,
        engine: Arc<Engine>,
        mut commands: mpsc::UnboundedReceiver<LegCommand>,
        mut customer_dtmf: mpsc::UnboundedReceiver<CustomerDtmf>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.command(&engine, command).await,
                    None => return,
                },
                Some(dtmf) = customer_dtmf.recv() => {
                    self.send_dtmf(dtmf.to, &dtmf.digits);
                }
                _ = shutdown.changed() => return,
            }
        }
    }

    fn send_dtmf(&self, leg: LegId, digits: &str) {
        let session = lock(&self.registry)
            .legs
            .get(&leg)
            .filter(|l| l.answered)
            .and_then(|l| l.session.clone());
        if let Some(session) = session {
            let digits = digits.to_owned();
            tokio::spawn(async move {
                let _ = session.send_dtmf(&digits).await;
            });
        }
    }

    async fn command(self: &Arc<Self>, engine: &Arc<Engine>, command: LegCommand) {
        match command {
            LegCommand::Ring {
                leg,
                job,
                extension,
                caller,
            } => {
                lock(&self.registry).legs.insert(
                    leg,
                    SipLeg {
                        sip: None,
                        session: None,
                        answered: false,
                        cancelled: false,
                    },
                );
                let shell = self.clone();
                let engine = engine.clone();
                tokio::spawn(async move { shell.ring(engine, leg, job, extension, caller).await });
            }
            LegCommand::Down { leg, job } => {
                self.media.remove_leg(&job, leg);
                let gone = {
                    let mut reg = lock(&self.registry);
                    match reg.legs.get_mut(&leg) {
                        Some(state) if state.sip.is_none() => {
                            state.cancelled = true;
                            None
                        }
                        Some(_) => {
                            let state = reg.legs.remove(&leg);
                            if let Some(sip) = state.as_ref().and_then(|s| s.sip) {
                                reg.by_sip.remove(&sip);
                            }
                            state
                        }
                        None => None,
                    }
                };
                if let Some(state) = gone {
                    let server = self.server.clone();
                    tokio::spawn(async move {
                        if let Some(sip) = state.sip {
                            server.hang_up(sip).await;
                        }
                        if let Some(session) = state.session {
                            let _ = session.close().await;
                        }
                    });
                }
            }
            LegCommand::Mix { job, legs } => self.media.set_mix(&job, &legs),
            LegCommand::LineUp {
                leg,
                job,
                number,
                script,
            } => self.media.add_line(&job, leg, &number, &script),
            LegCommand::Dtmf { leg, digits } => self.send_dtmf(leg, &digits),
            LegCommand::CallEnded { job } => self.media.finish(&job),
            LegCommand::SignedOut { user, device } => {
                self.close_flows(&user, device.as_deref()).await;
            }
        }
    }

    /// Makes the leg's media session, offers it to the agent's registered device, and
    /// reports a failure to the platform.
    async fn ring(
        self: Arc<Self>,
        engine: Arc<Engine>,
        leg: LegId,
        job: Text,
        extension: Text,
        caller: Text,
    ) {
        let (source, sink) = self.media.agent_ends(&job, leg);
        let failed = |status| {
            engine.run(|s, now| s.platform.handle(now, Input::LegFailed { leg, status }));
        };
        let Ok((session, mut events)) =
            MediaSession::new(self.media_config.clone(), CallAudio::new(source, sink)).await
        else {
            return failed(500);
        };
        let session = Arc::new(session);
        let Ok(offer) = session.offer().await else {
            let _ = session.close().await;
            return failed(500);
        };
        // What the device's media says: its DTMF goes to the other parties, and once it
        // connects its customer is on the line with someone.
        let dtmf_engine = engine.clone();
        let (hub, media_job) = (Arc::clone(&self.media), job.clone());
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                match event {
                    MediaEvent::Connected { .. } => hub.media_flowing(&media_job, leg),
                    MediaEvent::Dtmf { digit } => {
                        let digits = digit.to_string().into();
                        dtmf_engine.run(|s, now| {
                            s.platform.handle(now, Input::DeviceDtmf { leg, digits });
                        });
                    }
                    MediaEvent::Ended => return,
                    _ => {}
                }
            }
        });
        // Released while its media was made: no INVITE for a leg that is gone.
        let gone = {
            let mut reg = lock(&self.registry);
            let gone = reg.legs.get(&leg).is_none_or(|l| l.cancelled);
            if gone {
                reg.legs.remove(&leg);
            }
            gone
        };
        if gone {
            let _ = session.close().await;
            return;
        }
        let from = format!("\"{caller}\" <sip:{caller}@{}>", self.domain);
        let aor = format!("sip:{extension}@{}", self.domain);
        let invited = self
            .server
            .invite(aor.clone(), from, offer.into_bytes())
            .await;
        tracing::debug!(?leg, %aor, ok = invited.is_ok(), "the leg's INVITE");
        let Ok(sip) = invited else {
            let _ = session.close().await;
            lock(&self.registry).legs.remove(&leg);
            // Nobody registered at the extension: the leg cannot ring.
            return failed(480);
        };
        let cancelled = {
            let mut reg = lock(&self.registry);
            match reg.legs.get_mut(&leg) {
                Some(state) if !state.cancelled => {
                    state.sip = Some(sip);
                    state.session = Some(session.clone());
                    reg.by_sip.insert(sip, leg);
                    false
                }
                _ => {
                    reg.legs.remove(&leg);
                    true
                }
            }
        };
        if cancelled {
            lock(&self.registry).early.remove(&sip);
            self.server.hang_up(sip).await;
            let _ = session.close().await;
            return;
        }
        let early = lock(&self.registry).early.remove(&sip).unwrap_or_default();
        for event in early {
            self.leg_event(&engine, sip.flow, event).await;
        }
    }

    /// Turns what the SIP server reports into the platform's inputs until the server
    /// stops.
    pub(crate) async fn run_events(self: Arc<Self>, engine: Arc<Engine>, mut events: ServerEvents) {
        while let Some(event) = events.next_event().await {
            self.event(&engine, event).await;
        }
    }

    async fn event(self: &Arc<Self>, engine: &Arc<Engine>, event: ServerEvent) {
        match event {
            ServerEvent::Registered {
                flow,
                aor,
                instance,
                ..
            } => {
                // The event carries the instance: asking the server for the bindings
                // here would wait on a server that may itself be waiting for room in
                // this event stream.
                let extension = user_part(&aor).to_owned();
                let device = device_of(instance.as_deref(), &flow);
                let user = engine.run(|s, now| {
                    let agent = s.platform.agent_by_extension(&extension)?;
                    let user = s.platform.user_id(agent).clone();
                    s.platform.handle(
                        now,
                        Input::SipRegistered {
                            user_id: user.clone(),
                            device_id: device.clone(),
                        },
                    );
                    Some(user)
                });
                if let Some(user) = user {
                    let fault = engine.run(|s, _| s.faults.link(LinkKind::Sip, &user));
                    {
                        let mut reg = lock(&self.registry);
                        let list = reg.flows.entry(user).or_default();
                        if !list.iter().any(|(f, _)| *f == flow) {
                            list.push((flow, device));
                        }
                    }
                    // A faulted agent's new flow is faulted too, from its registration on.
                    if fault != LinkFault::default() {
                        self.spawn_server(move |server| async move {
                            server.set_flow_fault(flow, flow_fault(fault)).await;
                        });
                    }
                }
            }
            ServerEvent::Unregistered { flow, aor, .. } => {
                let extension = user_part(&aor).to_owned();
                let found = {
                    let mut reg = lock(&self.registry);
                    let mut found = None;
                    for (user, list) in &mut reg.flows {
                        if let Some(i) = list.iter().position(|(f, _)| *f == flow) {
                            found = Some((user.clone(), list.remove(i).1));
                            break;
                        }
                    }
                    found
                };
                if let Some((user, device)) = found {
                    engine.run(|s, now| {
                        if s.platform.agent_by_extension(&extension).is_some() {
                            s.platform.handle(
                                now,
                                Input::SipUnregistered {
                                    user_id: user,
                                    device_id: device,
                                },
                            );
                        }
                    });
                }
            }
            ServerEvent::Ua { flow, event } => self.leg_event(engine, flow, event).await,
            _ => {}
        }
    }

    /// Runs `job` with the server on a task of its own. The event loop must not wait
    /// for the server: the server waits for room in the event stream (bounded).
    fn spawn_server<F, Fut>(&self, job: F)
    where
        F: FnOnce(SipServer) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(job(self.server.clone()));
    }

    fn leg_of(&self, sip: Leg) -> Option<(LegId, Option<Arc<MediaSession>>, bool)> {
        let reg = lock(&self.registry);
        let leg = *reg.by_sip.get(&sip)?;
        let state = reg.legs.get(&leg)?;
        Some((leg, state.session.clone(), state.answered))
    }

    async fn leg_event(self: &Arc<Self>, engine: &Arc<Engine>, flow: FlowId, event: UaEvent) {
        let call = match &event {
            UaEvent::CallAnswered { call, .. }
            | UaEvent::CallEnded { call, .. }
            | UaEvent::Info { call, .. }
            | UaEvent::CallUpdate { call, .. } => Some(*call),
            _ => None,
        };
        if let Some(call) = call {
            let sip = Leg { flow, call };
            let mut reg = lock(&self.registry);
            let pending = reg.legs.values().any(|l| l.sip.is_none() && !l.cancelled);
            if !reg.by_sip.contains_key(&sip) && pending {
                if reg.early.len() >= MAX_EARLY {
                    reg.early.clear();
                }
                reg.early.entry(sip).or_default().push(event);
                return;
            }
        }
        match event {
            UaEvent::IncomingCall { call, .. } => {
                // Agents place calls with MakeCall; the platform calls their device.
                self.spawn_server(move |server| async move {
                    server.reject(Leg { flow, call }, 403, "Use MakeCall").await;
                });
            }
            UaEvent::CallAnswered { call, sdp } => {
                let sip = Leg { flow, call };
                let Some((leg, session, _)) = self.leg_of(sip) else {
                    return;
                };
                if let Some(state) = lock(&self.registry).legs.get_mut(&leg) {
                    state.answered = true;
                }
                let answer = String::from_utf8_lossy(&sdp).into_owned();
                let media_ok = match session {
                    Some(session) => session.set_remote(&answer).await.is_ok(),
                    None => false,
                };
                if media_ok {
                    engine.run(|s, now| s.platform.handle(now, Input::LegAnswered(leg)));
                } else {
                    // An answer the media cannot use: the call cannot go on.
                    self.spawn_server(move |server| async move {
                        server.hang_up(sip).await;
                    });
                    engine.run(|s, now| s.platform.handle(now, Input::LegHungUp(leg)));
                }
            }
            UaEvent::CallUpdate { call, sdp } => {
                let sip = Leg { flow, call };
                let session = self.leg_of(sip).and_then(|(_, session, _)| session);
                // Answered on a task of its own: the media may take its time over the
                // new offer, and the server may be waiting for room in this stream.
                self.spawn_server(move |server| async move {
                    let Some(session) = session else {
                        server
                            .reject(sip, 481, "Call/Transaction Does Not Exist")
                            .await;
                        return;
                    };
                    match session.answer(&String::from_utf8_lossy(&sdp)).await {
                        Ok(answer) => {
                            server.answer(sip, answer.into_bytes()).await;
                        }
                        Err(_) => {
                            server.reject(sip, 488, "Not Acceptable Here").await;
                        }
                    }
                });
            }
            UaEvent::Info {
                call,
                content_type,
                body,
            } => {
                let Some((leg, _, _)) = self.leg_of(Leg { flow, call }) else {
                    return;
                };
                if let Some(digits) = info_digits(&content_type, &body) {
                    let digits = digits.into();
                    engine.run(|s, now| s.platform.handle(now, Input::DeviceDtmf { leg, digits }));
                }
            }
            UaEvent::CallEnded { call, reason } => {
                let sip = Leg { flow, call };
                let removed = {
                    let mut reg = lock(&self.registry);
                    let leg = reg.by_sip.remove(&sip);
                    leg.and_then(|l| reg.legs.remove(&l).map(|s| (l, s)))
                };
                let Some((leg, state)) = removed else { return };
                if let Some(session) = state.session.clone() {
                    tokio::spawn(async move {
                        let _ = session.close().await;
                    });
                }
                let input = match reason {
                    EndReason::LocalHangup | EndReason::Cancelled => return,
                    EndReason::Failed(code, _) if !state.answered => {
                        Input::LegFailed { leg, status: code }
                    }
                    EndReason::Timeout if !state.answered => Input::LegFailed { leg, status: 408 },
                    _ => Input::LegHungUp(leg),
                };
                engine.run(|s, now| s.platform.handle(now, input));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_bodies() {
        assert_eq!(
            info_digits("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n").as_deref(),
            Some("5")
        );
        assert_eq!(info_digits("application/dtmf", b"#").as_deref(), Some("#"));
        assert_eq!(info_digits("application/dtmf-relay", b"Signal=x\r\n"), None);
        assert_eq!(info_digits("text/plain", b"5"), None);
        assert_eq!(info_digits("application/dtmf-relay", &[0xff, 0xfe]), None);
        assert_eq!(user_part("sip:8001@127.0.0.1"), "8001");
        assert_eq!(
            &*device_of(Some("<urn:uuid:abc>"), &"flow-1"),
            "urn:uuid:abc"
        );
        assert_eq!(&*device_of(None, &"flow-1"), "flow-1");
    }
}
