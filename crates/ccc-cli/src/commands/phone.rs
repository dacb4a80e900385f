//! `ccc phone`: a plain SIP WebRTC phone for any SIP-over-WebSocket server, on
//! ccc-sip's [`SipClient`] and ccc-media's [`MediaSession`]. It prints one JSON object
//! per line for each event: `registered`, `incoming`, `ringing`, `established`,
//! `media`, `dtmf`, `held`, `stats`, `ended` (with the reason) and `error`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use ccc_media::audio::{AudioSource, Silence, Tone, WavSource};
use ccc_media::call::{
    CallAudio, CallConfig, Discard, DtmfMode, HostCandidates, IcePolicy, IceServer, MediaEvent,
    MediaSession,
};
use ccc_sip::client::{ClientEvent, SipClient};
use ccc_sip::link::{LinkConfig, LinkEvent};
use ccc_sip::transport::WsConnect;
use ccc_sip::ua::{CallHandle, EndReason, UaConfig, UaEvent};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Arguments of `ccc phone`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("audio").args(["tone", "play"])))]
pub(crate) struct Args {
    /// The SIP-over-WebSocket server, `ws://host:port` or `wss://host:port`.
    #[arg(long, value_name = "URL")]
    ws: String,
    /// The SIP user.
    #[arg(long)]
    user: String,
    /// The SIP password.
    #[arg(long)]
    password: String,
    /// The SIP domain (default: the server's host).
    #[arg(long)]
    domain: Option<String>,
    /// Answer incoming calls by themselves.
    #[arg(long)]
    auto_answer: bool,
    /// Call this target once registered: a user (completed with the domain) or a SIP URI.
    #[arg(long, value_name = "TARGET")]
    call: Option<String>,
    /// Play a sine tone of this frequency (Hz) into the call.
    #[arg(long, value_name = "HZ")]
    tone: Option<f64>,
    /// Play this WAV file (looped) into the call.
    #[arg(long, value_name = "FILE.wav")]
    play: Option<PathBuf>,
    /// Record each call into this stereo WAV (this side left, the far end right).
    #[arg(long, value_name = "FILE.wav")]
    record: Option<PathBuf>,
    /// Send these DTMF digits once the call is up (RFC 4733 when negotiated, else SIP INFO).
    #[arg(long, value_name = "DIGITS")]
    dtmf: Option<String>,
    /// Put the call on hold this many seconds after it is established.
    #[arg(long, value_name = "S")]
    hold_after: Option<f64>,
    /// Hang up this many seconds after the call is established.
    #[arg(long, value_name = "S")]
    hangup_after: Option<f64>,
    /// A TURN server for the media, `turn:host:port?transport=udp`.
    #[arg(long, value_name = "URL", requires = "turn_user")]
    turn: Option<String>,
    /// The TURN user.
    #[arg(long, value_name = "U", requires = "turn")]
    turn_user: Option<String>,
    /// The TURN password.
    #[arg(long, value_name = "P", requires = "turn")]
    turn_password: Option<String>,
    /// Relay all media through the TURN server.
    #[arg(long, requires = "turn")]
    relay_only: bool,
    /// Offer host candidates on 127.0.0.1 (for peers on this machine).
    #[arg(long)]
    loopback: bool,
    /// Give up on the media if it is not connected this many seconds after the SDP
    /// exchange (the call itself goes on).
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    media_timeout: f64,
    /// Exit after this many calls have ended.
    #[arg(long, value_name = "N")]
    max_calls: Option<u32>,
    /// Do not print the per-second `stats` lines.
    #[arg(long)]
    no_stats: bool,
}

fn emit(value: Value) {
    println!("{value}");
}

fn error(call: Option<u32>, kind: &str, message: impl std::fmt::Display) {
    emit(json!({"event": "error", "call": call, "kind": kind, "message": message.to_string()}));
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::from_secs(3600))
}

/// The host of a `ws(s)://host[:port][/path]` URL.
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (!host.is_empty()).then_some(host)
}

/// A user completed with the domain, or a SIP URI as given.
fn target_uri(target: &str, domain: &str) -> String {
    if target.starts_with("sip:") || target.starts_with("sips:") {
        target.to_owned()
    } else if target.contains('@') {
        format!("sip:{target}")
    } else {
        format!("sip:{target}@{domain}")
    }
}

fn end_reason(reason: &EndReason) -> Value {
    match reason {
        EndReason::RemoteHangup => json!({"reason": "remote_hangup"}),
        EndReason::LocalHangup => json!({"reason": "local_hangup"}),
        EndReason::Cancelled => json!({"reason": "cancelled"}),
        EndReason::Rejected(code) => json!({"reason": "rejected", "code": code}),
        EndReason::NoAck => json!({"reason": "no_ack"}),
        EndReason::FlowLost => json!({"reason": "flow_lost"}),
        EndReason::Failed(code, text) => json!({"reason": "failed", "code": code, "text": text}),
        EndReason::Timeout => json!({"reason": "timeout"}),
        other => json!({"reason": format!("{other:?}")}),
    }
}

/// The DTMF digit of an `application/dtmf-relay` or `application/dtmf` INFO body.
fn info_digit(content_type: &str, body: &[u8]) -> Option<char> {
    let text = std::str::from_utf8(body).ok()?;
    let value = if content_type.eq_ignore_ascii_case("application/dtmf-relay") {
        text.lines()
            .find_map(|l| {
                let (k, v) = l.split_once('=')?;
                k.trim().eq_ignore_ascii_case("signal").then_some(v.trim())
            })?
            .to_owned()
    } else if content_type.eq_ignore_ascii_case("application/dtmf") {
        text.trim().to_owned()
    } else {
        return None;
    };
    let digit = value.chars().next()?;
    ccc_media::dtmf::event_code(digit)
        .ok()
        .map(|_| digit.to_ascii_uppercase())
}

/// Things that happen later to a call.
#[derive(Debug)]
enum Timer {
    Hold,
    HangUp,
}

struct Call {
    id: u32,
    handle: Option<CallHandle>,
    session: MediaSession,
    media_up: bool,
    dtmf_sent: bool,
    established: bool,
}

struct Phone {
    args: Args,
    domain: String,
    client: SipClient,
    calls: HashMap<u32, Call>,
    by_handle: HashMap<CallHandle, u32>,
    next_id: u32,
    ended: u32,
    media_tx: mpsc::Sender<(u32, MediaEvent)>,
    timer_tx: mpsc::Sender<(u32, Timer)>,
}

impl Phone {
    fn source(&self) -> Result<Box<dyn AudioSource>, String> {
        if let Some(path) = &self.args.play {
            let wav = WavSource::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            return Ok(Box::new(wav.looping()));
        }
        Ok(match self.args.tone {
            Some(hz) => Box::new(Tone::new(hz, 0.3)),
            None => Box::new(Silence),
        })
    }

    fn media_config(&self, id: u32) -> CallConfig {
        let mut config = CallConfig {
            connect_timeout: seconds(self.args.media_timeout),
            ..CallConfig::default()
        };
        if self.args.loopback {
            config.host_candidates = HostCandidates::Loopback;
        }
        if let Some(url) = &self.args.turn {
            config.ice_servers = vec![IceServer::turn(
                url.clone(),
                self.args.turn_user.clone().unwrap_or_default(),
                self.args.turn_password.clone().unwrap_or_default(),
            )];
            if self.args.relay_only {
                config.ice_policy = IcePolicy::RelayOnly;
            }
        }
        config.recording = self.args.record.as_ref().map(|path| {
            if id == 1 {
                path.clone()
            } else {
                // Each further call gets its own file: name-2.wav, name-3.wav, ...
                let stem = path
                    .file_stem()
                    .map_or("call".into(), |s| s.to_string_lossy());
                path.with_file_name(format!("{stem}-{id}.wav"))
            }
        });
        config
    }

    /// A media session for a new call, its events forwarded to the main loop.
    async fn new_call(&mut self) -> Result<u32, String> {
        self.next_id += 1;
        let id = self.next_id;
        let audio = CallAudio {
            source: self.source()?,
            sink: Box::new(Discard),
        };
        let (session, mut events) = MediaSession::new(self.media_config(id), audio)
            .await
            .map_err(|e| e.to_string())?;
        let tx = self.media_tx.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if tx.send((id, event)).await.is_err() {
                    break;
                }
            }
        });
        self.calls.insert(
            id,
            Call {
                id,
                handle: None,
                session,
                media_up: false,
                dtmf_sent: false,
                established: false,
            },
        );
        Ok(id)
    }

    fn later(&self, id: u32, after: Option<f64>, timer: Timer) {
        if let Some(after) = after {
            let tx = self.timer_tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(seconds(after)).await;
                let _ = tx.send((id, timer)).await;
            });
        }
    }

    async fn place_call(&mut self, target: &str) {
        let uri = target_uri(target, &self.domain);
        let id = match self.new_call().await {
            Ok(id) => id,
            Err(e) => return error(None, "media", e),
        };
        let offer = match self.calls[&id].session.offer().await {
            Ok(offer) => offer,
            Err(e) => return error(Some(id), "media", e),
        };
        match self.client.invite(uri.clone(), offer.into_bytes()).await {
            Some(handle) => {
                self.by_handle.insert(handle, id);
                if let Some(call) = self.calls.get_mut(&id) {
                    call.handle = Some(handle);
                }
                emit(json!({"event": "calling", "call": id, "to": uri}));
            }
            None => error(Some(id), "sip", "the SIP client has stopped"),
        }
    }

    async fn on_incoming(&mut self, handle: CallHandle, from: String, sdp: Vec<u8>) {
        let id = match self.new_call().await {
            Ok(id) => id,
            Err(e) => {
                error(None, "media", &e);
                self.client
                    .reject(handle, 500, "Server Internal Error")
                    .await;
                return;
            }
        };
        self.by_handle.insert(handle, id);
        if let Some(call) = self.calls.get_mut(&id) {
            call.handle = Some(handle);
        }
        emit(json!({"event": "incoming", "call": id, "from": from}));
        if self.client.ringing(handle).await {
            emit(json!({"event": "ringing", "call": id}));
        }
        if !self.args.auto_answer {
            return;
        }
        let offer = String::from_utf8_lossy(&sdp).into_owned();
        match self.calls[&id].session.answer(&offer).await {
            Ok(answer) => {
                if !self.client.answer(handle, answer.into_bytes()).await {
                    error(Some(id), "sip", "the answer could not be sent");
                }
            }
            Err(e) => {
                // Not a WebRTC offer we can take (no ICE, no DTLS-SRTP, no common codec).
                error(Some(id), "media", format!("cannot answer the offer: {e}"));
                self.client.reject(handle, 488, "Not Acceptable Here").await;
            }
        }
    }

    /// Sends `--dtmf` once: RFC 4733 when negotiated, else SIP INFO.
    async fn send_dtmf(&mut self, id: u32) {
        let Some(digits) = self.args.dtmf.clone() else {
            return;
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.dtmf_sent {
            return;
        }
        call.dtmf_sent = true;
        let mode = if call.media_up {
            match call.session.send_dtmf(&digits).await {
                Ok(mode) => mode,
                Err(e) => return error(Some(id), "dtmf", e),
            }
        } else {
            DtmfMode::SipInfo
        };
        if mode == DtmfMode::SipInfo
            && let Some(handle) = call.handle
        {
            for digit in digits.chars() {
                let body = format!("Signal={digit}\r\nDuration=160\r\n");
                self.client
                    .send_info(handle, "application/dtmf-relay", body.into_bytes())
                    .await;
            }
        }
        let via = if mode == DtmfMode::SipInfo {
            "sip_info"
        } else {
            "rfc4733"
        };
        emit(json!({"event": "dtmf_sent", "call": id, "digits": digits, "via": via}));
    }

    async fn on_established(&mut self, handle: CallHandle) {
        let Some(&id) = self.by_handle.get(&handle) else {
            return;
        };
        if let Some(call) = self.calls.get_mut(&id) {
            call.established = true;
        }
        emit(json!({"event": "established", "call": id}));
        self.later(id, self.args.hold_after, Timer::Hold);
        self.later(id, self.args.hangup_after, Timer::HangUp);
        let media_up = self.calls.get(&id).is_some_and(|c| c.media_up);
        if media_up {
            self.send_dtmf(id).await;
        }
    }

    async fn on_ended(&mut self, handle: CallHandle, reason: &EndReason) {
        let Some(id) = self.by_handle.remove(&handle) else {
            return;
        };
        if let Some(call) = self.calls.remove(&id)
            && let Err(e) = call.session.close().await
        {
            error(Some(id), "media", e);
        }
        let mut line = json!({"event": "ended", "call": id});
        if let (Some(map), Value::Object(extra)) = (line.as_object_mut(), end_reason(reason)) {
            map.extend(extra);
        }
        emit(line);
        self.ended += 1;
    }

    async fn on_sip(&mut self, event: ClientEvent) -> Result<(), String> {
        match event {
            ClientEvent::Link(LinkEvent::Connected { peer, .. }) => {
                emit(json!({"event": "connected", "server": peer.to_string()}));
            }
            ClientEvent::Link(LinkEvent::Disconnected(reason)) => {
                emit(json!({"event": "disconnected", "reason": format!("{reason:?}")}));
            }
            ClientEvent::Link(LinkEvent::ConnectFailed { error: e, retry_in }) => {
                error(None, "connect", format!("{e} (retrying in {retry_in:?})"));
            }
            ClientEvent::Ua(UaEvent::Registered { expires }) => {
                emit(json!({"event": "registered", "expires": expires}));
                if let Some(target) = self.args.call.take() {
                    self.place_call(&target).await;
                }
            }
            ClientEvent::Ua(UaEvent::RegistrationFailed(e)) => {
                error(None, "registration", &e);
                return Err(format!("registration failed: {e}"));
            }
            ClientEvent::Ua(UaEvent::IncomingCall {
                call, from, sdp, ..
            }) => {
                self.on_incoming(call, from, sdp).await;
            }
            ClientEvent::Ua(UaEvent::CallProgress { call, code, .. }) => {
                if let Some(&id) = self.by_handle.get(&call)
                    && (code == 180 || code == 183)
                {
                    emit(json!({"event": "ringing", "call": id, "code": code}));
                }
            }
            ClientEvent::Ua(UaEvent::CallAnswered { call, sdp }) => {
                if let Some(&id) = self.by_handle.get(&call) {
                    let answer = String::from_utf8_lossy(&sdp).into_owned();
                    if let Err(e) = self.calls[&id].session.set_remote(&answer).await {
                        error(Some(id), "media", format!("cannot use the answer: {e}"));
                    }
                }
                self.on_established(call).await;
            }
            ClientEvent::Ua(UaEvent::CallEstablished { call }) => self.on_established(call).await,
            ClientEvent::Ua(UaEvent::CallUpdate { call, sdp }) => {
                let Some(&id) = self.by_handle.get(&call) else {
                    return Ok(());
                };
                let offer = String::from_utf8_lossy(&sdp).into_owned();
                match self.calls[&id].session.answer(&offer).await {
                    Ok(answer) => {
                        self.client.answer(call, answer.into_bytes()).await;
                    }
                    Err(e) => {
                        error(
                            Some(id),
                            "media",
                            format!("cannot answer the re-INVITE: {e}"),
                        );
                        self.client.reject(call, 488, "Not Acceptable Here").await;
                    }
                }
            }
            ClientEvent::Ua(UaEvent::CallUpdated { call, sdp }) => {
                // The `held` line follows from the media's new direction.
                if let Some(&id) = self.by_handle.get(&call) {
                    let answer = String::from_utf8_lossy(&sdp).into_owned();
                    if let Err(e) = self.calls[&id].session.set_remote(&answer).await {
                        error(Some(id), "media", e);
                    }
                }
            }
            ClientEvent::Ua(UaEvent::CallUpdateFailed { call, code }) => {
                if let Some(&id) = self.by_handle.get(&call) {
                    error(
                        Some(id),
                        "sip",
                        format!("the re-INVITE was refused with {code}"),
                    );
                    if let Err(e) = self.calls[&id].session.cancel_offer().await {
                        error(Some(id), "media", e);
                    }
                }
            }
            ClientEvent::Ua(UaEvent::Info {
                call,
                content_type,
                body,
            }) => {
                if let Some(&id) = self.by_handle.get(&call)
                    && let Some(digit) = info_digit(&content_type, &body)
                {
                    emit(
                        json!({"event": "dtmf", "call": id, "digit": digit.to_string(), "via": "sip_info"}),
                    );
                }
            }
            ClientEvent::Ua(UaEvent::CallRecovering { call }) => {
                if let Some(&id) = self.by_handle.get(&call) {
                    emit(json!({"event": "call_recovering", "call": id}));
                }
            }
            ClientEvent::Ua(UaEvent::CallRecovered { call }) => {
                if let Some(&id) = self.by_handle.get(&call) {
                    emit(json!({"event": "call_recovered", "call": id}));
                }
            }
            ClientEvent::Ua(UaEvent::CallEnded { call, reason }) => {
                self.on_ended(call, &reason).await;
            }
            ClientEvent::Ua(UaEvent::Malformed(message)) => error(None, "sip", message),
            _ => {}
        }
        Ok(())
    }

    async fn on_media(&mut self, id: u32, event: MediaEvent) {
        match event {
            MediaEvent::Connected { after, codec, dtmf } => {
                if let Some(call) = self.calls.get_mut(&id) {
                    call.media_up = true;
                }
                let dtmf = match dtmf {
                    DtmfMode::Rfc4733 { .. } => "rfc4733",
                    _ => "sip_info",
                };
                emit(json!({
                    "event": "media", "call": id, "state": "connected",
                    "after_ms": after.as_secs_f64() * 1000.0,
                    "codec": codec.map(ccc_media::codec::Codec::name), "dtmf": dtmf,
                }));
                if self.calls.get(&id).is_some_and(|c| c.established) {
                    self.send_dtmf(id).await;
                }
            }
            MediaEvent::Failed { reason } => {
                let kind = match reason {
                    ccc_media::call::FailReason::ConnectTimeout(_) => "media_timeout",
                    _ => "media_failed",
                };
                error(Some(id), kind, reason);
                // The call is signalled on; DTMF can still go by SIP INFO.
                let established = self.calls.get(&id).is_some_and(|c| c.established);
                if established {
                    self.send_dtmf(id).await;
                }
            }
            MediaEvent::Disconnected => {
                emit(json!({"event": "media", "call": id, "state": "disconnected"}));
            }
            MediaEvent::Reconnected => {
                emit(json!({"event": "media", "call": id, "state": "reconnected"}));
            }
            MediaEvent::Direction { sending, receiving } => {
                let held = !(sending && receiving);
                emit(
                    json!({"event": "held", "call": id, "held": held, "sending": sending, "receiving": receiving}),
                );
            }
            MediaEvent::Dtmf { digit } => {
                emit(
                    json!({"event": "dtmf", "call": id, "digit": digit.to_string(), "via": "rfc4733"}),
                );
            }
            MediaEvent::Stats(stats) if !self.args.no_stats => {
                let mut line = json!({"event": "stats", "call": id});
                if let (Some(map), Ok(Value::Object(figures))) =
                    (line.as_object_mut(), serde_json::to_value(&stats))
                {
                    map.extend(figures);
                }
                emit(line);
            }
            MediaEvent::Quality(alert) => {
                emit(json!({"event": "quality", "call": id, "alert": alert}));
            }
            MediaEvent::RecordingFailed { message } => error(Some(id), "recording", message),
            _ => {}
        }
    }

    async fn on_timer(&mut self, id: u32, timer: Timer) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(handle) = call.handle else {
            return;
        };
        match timer {
            Timer::Hold => match call.session.hold().await {
                Ok(offer) => {
                    if !self.client.update(handle, offer.into_bytes()).await {
                        error(Some(id), "sip", "the hold re-INVITE could not be sent");
                    }
                }
                Err(e) => error(Some(id), "media", e),
            },
            Timer::HangUp => {
                self.client.hang_up(handle).await;
            }
        }
    }

    fn done(&self) -> bool {
        self.args.max_calls.is_some_and(|max| self.ended >= max)
    }

    /// Hangs up what is still up and unregisters.
    async fn finish(mut self) {
        for (_, call) in self.calls.drain() {
            if let Some(handle) = call.handle {
                self.client.hang_up(handle).await;
            }
            let _ = call.session.close().await;
            let _ = call.id;
        }
        self.client.shutdown().await;
    }
}

/// Runs the phone until Ctrl-C, a failed registration, or `--max-calls`.
pub(crate) async fn run(args: Args) -> Result<ExitCode, String> {
    let domain = match &args.domain {
        Some(d) => d.clone(),
        None => host_of(&args.ws)
            .ok_or_else(|| format!("{}: not a ws:// or wss:// URL", args.ws))?
            .to_owned(),
    };
    if let Some(digits) = &args.dtmf
        && let Some(bad) = digits
            .chars()
            .find(|c| ccc_media::dtmf::event_code(*c).is_err())
    {
        return Err(format!(
            "--dtmf: {bad:?} is not a DTMF digit (0-9, *, #, A-D)"
        ));
    }
    let link = LinkConfig::new(WsConnect::new(args.ws.clone()));
    let instance = format!(
        "urn:uuid:00000000-0000-4000-8000-{:012x}",
        std::process::id()
    );
    let ua = UaConfig::new(
        args.user.clone(),
        args.password.clone(),
        domain.clone(),
        instance,
    );
    let seed = u64::from(std::process::id())
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
    let client = SipClient::spawn(link, ua, seed);
    let (media_tx, mut media_rx) = mpsc::channel(256);
    let (timer_tx, mut timer_rx) = mpsc::channel(16);
    let mut phone = Phone {
        args,
        domain,
        client,
        calls: HashMap::new(),
        by_handle: HashMap::new(),
        next_id: 0,
        ended: 0,
        media_tx,
        timer_tx,
    };
    let mut status = ExitCode::SUCCESS;
    // One Ctrl-C future for the whole run: a fresh one per turn of the loop would miss a
    // signal that came while an event was being handled. If the handler cannot be
    // installed, the phone runs on (until --max-calls or the SIP client stops).
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            event = phone.client.next_event() => match event {
                Some(event) => {
                    if let Err(e) = phone.on_sip(event).await {
                        eprintln!("ccc phone: {e}");
                        status = ExitCode::FAILURE;
                        break;
                    }
                }
                None => {
                    error(None, "sip", "the SIP client stopped");
                    status = ExitCode::FAILURE;
                    break;
                }
            },
            Some((id, event)) = media_rx.recv() => phone.on_media(id, event).await,
            Some((id, timer)) = timer_rx.recv() => phone.on_timer(id, timer).await,
            () = &mut ctrl_c => break,
        }
        if phone.done() {
            break;
        }
    }
    phone.finish().await;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_hosts() {
        assert_eq!(target_uri("1002", "ccc.test"), "sip:1002@ccc.test");
        assert_eq!(
            target_uri("bob@example.org", "ccc.test"),
            "sip:bob@example.org"
        );
        assert_eq!(
            target_uri("sip:x@1.2.3.4:5060", "ccc.test"),
            "sip:x@1.2.3.4:5060"
        );
        assert_eq!(
            host_of("wss://sip.example.org:8443/ws"),
            Some("sip.example.org")
        );
        assert_eq!(host_of("ws://127.0.0.1:5066"), Some("127.0.0.1"));
        assert_eq!(host_of("ws://[::1]:5066"), Some("::1"));
        assert_eq!(host_of("sip.example.org"), None);
    }

    #[test]
    fn dtmf_in_info_bodies() {
        assert_eq!(
            info_digit("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n"),
            Some('5')
        );
        assert_eq!(
            info_digit("Application/DTMF-Relay", b"signal= #\r\n"),
            Some('#')
        );
        assert_eq!(info_digit("application/dtmf", b"a"), Some('A'));
        assert_eq!(info_digit("application/dtmf-relay", b"Signal=x\r\n"), None);
        assert_eq!(info_digit("text/plain", b"Signal=1"), None);
        assert_eq!(info_digit("application/dtmf-relay", &[0xFF, 0xFE]), None);
    }
}
