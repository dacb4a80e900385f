//! The tokio shell of a call: one webrtc-rs peer connection, one audio transceiver, and
//! one task that paces the media [`Pipeline`] every 20 ms.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::sync::{mpsc, oneshot, watch};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceGatheringState, RTCIceServer, RTCIceTransportPolicy,
    RTCPeerConnectionState, RTCSessionDescription, Registry, SettingEngineBuilder,
};
use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit, RtpTransceiver};

use super::config::{AnswerDtlsRole, CallConfig, ConnectProfile, HostCandidates, IcePolicy};
use super::pipeline::{OutsideFigures, Pipeline, PipelineEvent, ReceiveSetup, SendSetup};
use super::rtcp::{RtcpWatch, SharedReport};
use super::sdp::{
    answer_direction, candidate_addresses, has_bundle_group, ice_ufrag, mids, offered_direction,
    setup, with_answer_setup, with_bundle_group, with_media_level_setup, with_mids,
    without_bundle_group, without_candidates_at, without_duplicate_formats,
};
use super::{CallAudio, DtmfMode, FailReason, MediaError, MediaEvent, MediaEvents};
use crate::audio::{AudioSink, AudioSource, CallRecorder};
use crate::codec::Codec;
use crate::quality::CallStats;

/// telephone-event at 8 kHz (with G.711) and at 48 kHz (with Opus), as browsers offer.
const TELEPHONE_EVENT: [(u8, u32); 2] = [(101, 8000), (110, 48_000)];
const TELEPHONE_EVENT_MIME: &str = "audio/telephone-event";
/// Received packets waiting for the media task; more are dropped (and counted lost).
const RTP_QUEUE: usize = 256;
/// Events waiting for the program.
const EVENT_QUEUE: usize = 512;
/// Places in the event queue kept for the events that matter (DTMF, failure, the end):
/// stats and quality alerts are dropped once fewer are left.
const RESERVED_EVENTS: usize = 64;

/// Whether `event` may take a place when `room` places are left: a program that stops
/// reading loses its stats first, and still finds its digits, failures and `Ended`.
fn keeps_room(event: &MediaEvent, room: usize) -> bool {
    match event {
        MediaEvent::Stats(_) | MediaEvent::Quality(_) => room > RESERVED_EVENTS,
        _ => true,
    }
}
/// At most an hour of one-second stats are kept for upload.
const MAX_KEPT_STATS: usize = 3600;

enum Input {
    State(RTCPeerConnectionState),
    Negotiated {
        send: Option<SendSetup>,
        receive: ReceiveSetup,
        sending: bool,
        receiving: bool,
    },
    RemoteApplied,
    Dtmf(
        String,
        oneshot::Sender<Result<bool, crate::dtmf::DtmfError>>,
    ),
    Mute(bool),
    Volume(f32),
    Source(Box<dyn AudioSource>),
    Sink(Box<dyn AudioSink>),
    Close(oneshot::Sender<()>),
}

/// State shared by the handle, the webrtc-rs callbacks and the media task.
struct Shared {
    /// (completed gatherings, gathering complete now).
    gathering: watch::Sender<(u64, bool)>,
    /// When negotiation started, for the setup time in [`MediaEvent::Connected`].
    negotiation_started: std::sync::Mutex<Option<Instant>>,
    dtmf_mode: std::sync::Mutex<Option<DtmfMode>>,
    kept: std::sync::Mutex<Vec<CallStats>>,
    /// The far end's ICE user fragment, to see its ICE restarts.
    remote_ufrag: std::sync::Mutex<Option<String>>,
}

struct Handler {
    shared: Arc<Shared>,
    inputs: mpsc::Sender<Input>,
    rtp: mpsc::Sender<rtp::Packet>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        // Every completion counts, not only a change of state: webrtc-rs 0.21.1 reports
        // the gathering of an ICE restart as Complete again without a Gathering between.
        let complete = state == RTCIceGatheringState::Complete;
        self.shared.gathering.send_modify(|(count, now)| {
            if complete {
                *count += 1;
            }
            *now = complete;
        });
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.inputs.send(Input::State(state)).await;
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let rtp = self.rtp.clone();
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                match event {
                    TrackRemoteEvent::OnRtpPacket(packet) => match rtp.try_send(packet) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Closed(_)) => break,
                        // The media task is that far behind: the packet is dropped, and
                        // the receive figures count it lost.
                        Err(mpsc::error::TrySendError::Full(_)) => {}
                    },
                    TrackRemoteEvent::OnEnded => break,
                    _ => {}
                }
            }
        });
    }
}

/// One audio call over WebRTC: builds SDP offers and answers, applies the far end's,
/// and runs the audio both ways once connected. Events arrive on the
/// [`MediaEvents`] returned with it.
///
/// Every method settles within [`CallConfig::operation_timeout`] (SDP methods also
/// wait at most [`CallConfig::gathering_timeout`] for candidates).
pub struct MediaSession {
    pc: Arc<dyn PeerConnection>,
    transceiver: Arc<dyn RtpTransceiver>,
    inputs: mpsc::Sender<Input>,
    shared: Arc<Shared>,
    config: CallConfig,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    local_hold: std::sync::atomic::AtomicBool,
    /// Set once [`Self::close`] has released everything; `Drop` then has nothing to do.
    closed: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for MediaSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaSession")
            .field("dtmf_mode", &self.dtmf_mode())
            .finish_non_exhaustive()
    }
}

fn webrtc_error(what: &'static str) -> impl FnOnce(webrtc::error::Error) -> MediaError {
    move |e| MediaError::WebRtc {
        what,
        message: e.to_string(),
    }
}

fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    #[allow(clippy::cast_possible_truncation)]
    let x = h.finish() as u32;
    x
}

fn codec_parameters(codec: Codec) -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: codec.mime_type().to_owned(),
            clock_rate: codec.clock_rate(),
            channels: codec.sdp_channels(),
            sdp_fmtp_line: codec.sdp_fmtp().to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type: codec.payload_type(),
    }
}

fn telephone_event_parameters(payload_type: u8, clock_rate: u32) -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: TELEPHONE_EVENT_MIME.to_owned(),
            clock_rate,
            channels: 0,
            sdp_fmtp_line: "0-16".to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type,
    }
}

/// Our codecs in order, then telephone-event at [`CallConfig::telephone_event`]'s
/// rate.
///
/// Only one telephone-event: webrtc-rs 0.21 matches codec preferences against its media
/// engine on MIME type and fmtp alone, not the clock rate, so a second
/// `telephone-event` (say /48000 beside /8000) collapses into the first and the offer
/// carries `telephone-event/8000` twice. A remote offer's telephone-event of another
/// rate is still accepted (the answer takes the offer's payload type and rate), and
/// the DTMF sender then uses that rate.
fn preferences(config: &CallConfig) -> Vec<RTCRtpCodecParameters> {
    let mut codecs: Vec<Codec> = Vec::new();
    for codec in &config.codecs {
        if !codecs.contains(codec) {
            codecs.push(*codec);
        }
    }
    let mut list: Vec<RTCRtpCodecParameters> =
        codecs.iter().map(|c| codec_parameters(*c)).collect();
    if let Some(rate) = config.telephone_event {
        let pt = TELEPHONE_EVENT
            .into_iter()
            .find(|(_, r)| *r == rate)
            .map_or(101, |(pt, _)| pt);
        list.push(telephone_event_parameters(pt, rate));
    }
    list
}

fn setting_engine(config: &CallConfig) -> webrtc::peer_connection::SettingEngine {
    let builder = SettingEngineBuilder::new();
    let builder = match config.connect_profile {
        ConnectProfile::Loopback => builder
            .with_relay_acceptance_min_wait(Some(Duration::ZERO))
            .with_srflx_acceptance_min_wait(Some(Duration::ZERO))
            .with_prflx_acceptance_min_wait(Some(Duration::ZERO))
            .with_ice_connection_attempts(Some(Duration::from_millis(10)), Some(200))
            .with_ice_timeouts(
                Some(config.ice_disconnected_timeout),
                Some(config.ice_failed_timeout),
                Some(Duration::from_millis(10)),
            ),
        ConnectProfile::Production => {
            let wait = match config.ice_policy {
                IcePolicy::RelayOnly => Duration::ZERO,
                IcePolicy::All => Duration::from_millis(100),
            };
            // webrtc-rs's keepalive is 2 s: a shorter disconnected timeout needs them
            // more often, or a quiet path would count as lost.
            let disconnected = config.ice_disconnected_timeout;
            let keepalive = (!disconnected.is_zero() && disconnected < Duration::from_secs(4))
                .then(|| disconnected / 2);
            builder
                .with_relay_acceptance_min_wait(Some(wait))
                .with_srflx_acceptance_min_wait(Some(wait))
                .with_prflx_acceptance_min_wait(Some(wait))
                .with_ice_connection_attempts(Some(Duration::from_millis(20)), Some(250))
                .with_ice_timeouts(
                    Some(disconnected),
                    Some(config.ice_failed_timeout),
                    keepalive,
                )
        }
    };
    // An ICE restart binds new sockets and gathers anew (a new TURN allocation too):
    // a restart is for a path that broke, and the old sockets and allocation may be
    // what broke (a NAT binding gone, a relay that stopped relaying, a new network).
    // webrtc-rs keeps the old ones by default, so a restart would retry the same path.
    let builder = builder.with_discard_local_candidates_during_ice_restart(true);
    let role = match config.answer_dtls_role {
        AnswerDtlsRole::Active => rtc::peer_connection::transport::RTCDtlsRole::Client,
        AnswerDtlsRole::Passive => rtc::peer_connection::transport::RTCDtlsRole::Server,
    };
    builder.with_answering_dtls_role(role).build()
}

impl MediaSession {
    /// Builds the peer connection (sockets bound, nothing sent yet) and starts the media
    /// task. Must run inside a tokio runtime.
    pub async fn new(
        config: CallConfig,
        audio: CallAudio,
    ) -> Result<(Self, MediaEvents), MediaError> {
        if config.codecs.is_empty() {
            return Err(MediaError::NoCodec);
        }
        let ssrc = random_u32();
        let mut media_engine = MediaEngine::default();
        for parameters in preferences(&config) {
            media_engine
                .register_codec(parameters, RtpCodecKind::Audio)
                .map_err(webrtc_error("register a codec"))?;
        }
        let report = SharedReport::default();
        let registry = register_default_interceptors(Registry::new(), &mut media_engine)
            .map_err(webrtc_error("set up the interceptors"))?
            .with(
                rtc::interceptor::Slot::Custom(500),
                RtcpWatch::new(ssrc, Arc::clone(&report)),
            );
        let ice_servers = config
            .ice_servers
            .iter()
            .map(|s| RTCIceServer {
                urls: s.urls.clone(),
                username: s.username.clone(),
                credential: s.credential.clone(),
            })
            .collect();
        let configuration = RTCConfigurationBuilder::new()
            .with_ice_servers(ice_servers)
            .with_ice_transport_policy(match config.ice_policy {
                IcePolicy::All => RTCIceTransportPolicy::All,
                IcePolicy::RelayOnly => RTCIceTransportPolicy::Relay,
            })
            .build();
        let addrs: Vec<String> = match &config.host_candidates {
            HostCandidates::AllInterfaces => vec!["0.0.0.0:0".into()],
            HostCandidates::Loopback => vec!["127.0.0.1:0".into()],
            HostCandidates::Bind(addrs) => addrs.clone(),
        };
        let (inputs_tx, inputs_rx) = mpsc::channel(64);
        let (rtp_tx, rtp_rx) = mpsc::channel(RTP_QUEUE);
        let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
        let shared = Arc::new(Shared {
            gathering: watch::Sender::new((0, false)),
            negotiation_started: std::sync::Mutex::new(None),
            dtmf_mode: std::sync::Mutex::new(None),
            kept: std::sync::Mutex::new(Vec::new()),
            remote_ufrag: std::sync::Mutex::new(None),
        });
        let handler = Handler {
            shared: Arc::clone(&shared),
            inputs: inputs_tx.clone(),
            rtp: rtp_tx,
        };
        let timeout = config.operation_timeout;
        let pc = tokio::time::timeout(
            timeout,
            PeerConnectionBuilder::new()
                .with_configuration(configuration)
                .with_media_engine(media_engine)
                .with_setting_engine(setting_engine(&config))
                .with_interceptor_registry(registry)
                .with_handler(Arc::new(handler))
                .with_udp_addrs(addrs)
                .build(),
        )
        .await
        .map_err(|_| MediaError::Timeout("build the peer connection"))?
        .map_err(webrtc_error("build the peer connection"))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let first = config.codecs[0];
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            format!("ccc-{ssrc:08x}"),
            format!("audio-{ssrc:08x}"),
            "audio".to_owned(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: codec_parameters(first).rtp_codec,
                ..Default::default()
            }],
        )));
        let transceiver = tokio::time::timeout(
            timeout,
            pc.add_transceiver_from_track(
                Arc::clone(&track) as Arc<dyn TrackLocal>,
                Some(RTCRtpTransceiverInit {
                    direction: RTCRtpTransceiverDirection::Sendrecv,
                    streams: vec![],
                    send_encodings: vec![],
                }),
            ),
        )
        .await
        .map_err(|_| MediaError::Timeout("add the audio transceiver"))?
        .map_err(webrtc_error("add the audio transceiver"))?;
        transceiver
            .set_codec_preferences(preferences(&config))
            .await
            .map_err(webrtc_error("set the codec preferences"))?;
        let recorder = match &config.recording {
            Some(path) => Some(CallRecorder::create(path, config.recording_rate)?),
            None => None,
        };
        let now = Instant::now();
        let mut pipeline = Pipeline::new(
            now,
            ssrc,
            audio.source,
            audio.sink,
            recorder,
            config.dtmf_timing,
            config.thresholds,
            config.jitter_depth,
        );
        pipeline.set_opus_complexity(config.opus_complexity);
        let task = MediaTask {
            pipeline,
            inputs: inputs_rx,
            rtp: rtp_rx,
            track,
            events: events_tx,
            shared: Arc::clone(&shared),
            report,
            config: config.clone(),
            connected: false,
            ever_connected: false,
            deadline: None,
            send: None,
            direction: None,
        };
        let handle = tokio::spawn(task.run());
        Ok((
            Self {
                pc,
                transceiver,
                inputs: inputs_tx,
                shared,
                config,
                task: std::sync::Mutex::new(Some(handle)),
                local_hold: std::sync::atomic::AtomicBool::new(false),
                closed: std::sync::atomic::AtomicBool::new(false),
            },
            MediaEvents { rx: events_rx },
        ))
    }

    async fn bounded<T>(
        &self,
        what: &'static str,
        future: impl std::future::Future<Output = webrtc::error::Result<T>>,
    ) -> Result<T, MediaError> {
        tokio::time::timeout(self.config.operation_timeout, future)
            .await
            .map_err(|_| MediaError::Timeout(what))?
            .map_err(webrtc_error(what))
    }

    fn mark_negotiation(&self) {
        if let Ok(mut started) = self.shared.negotiation_started.lock()
            && started.is_none()
        {
            *started = Some(Instant::now());
        }
    }

    /// Waits until gathering is complete (after a restart: a new gathering), at most the
    /// gathering timeout, then gives the local description with every candidate found.
    ///
    /// After a restart, the candidates at `closed` (the sockets it replaced) are left
    /// out, and a completion that brought no new candidate does not count: it may be a
    /// late one of an earlier gathering (seen on loopback after an offer made just
    /// before the restart), and the offer would have gone out with dead candidates only.
    async fn complete_local(
        &self,
        gathered_before: Option<u64>,
        closed: &[(String, String)],
    ) -> Result<String, MediaError> {
        let deadline =
            crate::time::tokio_after(tokio::time::Instant::now(), self.config.gathering_timeout);
        let mut gathering = self.shared.gathering.subscribe();
        let mut after = gathered_before;
        loop {
            let wait = gathering.wait_for(|(count, complete)| {
                *complete && after.is_none_or(|before| *count > before)
            });
            let timed_out = tokio::time::timeout_at(deadline, wait).await.is_err();
            if timed_out {
                tracing::warn!(
                    "ICE gathering not complete after {:?}; sending the candidates found so far",
                    self.config.gathering_timeout
                );
            }
            let description =
                tokio::time::timeout(self.config.operation_timeout, self.pc.local_description())
                    .await
                    .map_err(|_| MediaError::Timeout("read the local description"))?
                    .ok_or(MediaError::Sdp("no local description".into()))?;
            let sdp = without_candidates_at(&description.sdp, closed);
            let fresh = closed.is_empty() || !candidate_addresses(&sdp).is_empty();
            if fresh || timed_out {
                return Ok(without_duplicate_formats(&sdp));
            }
            after = Some(gathering.borrow().0);
        }
    }

    /// The addresses of our candidates in the local description now.
    async fn local_candidates(&self) -> Vec<(String, String)> {
        match tokio::time::timeout(self.config.operation_timeout, self.pc.local_description()).await
        {
            Ok(Some(local)) => candidate_addresses(&local.sdp),
            _ => Vec::new(),
        }
    }

    async fn make_offer(&self, restart: bool) -> Result<String, MediaError> {
        self.mark_negotiation();
        let before = restart.then(|| self.shared.gathering.borrow().0);
        let mut closed = Vec::new();
        if restart {
            // The restart binds new sockets: the old candidates go out of the offer.
            closed = self.local_candidates().await;
            self.bounded("restart ICE", self.pc.restart_ice()).await?;
        }
        let offer = self
            .bounded("create an offer", self.pc.create_offer(None))
            .await?;
        self.bounded("set the local offer", self.pc.set_local_description(offer))
            .await?;
        self.complete_local(before, &closed).await
    }

    /// A complete SDP offer (every candidate in it, no trickle) to send in an INVITE.
    pub async fn offer(&self) -> Result<String, MediaError> {
        self.make_offer(false).await
    }

    /// Applies the far end's offer (a first INVITE's, or a re-INVITE's: hold, unhold,
    /// ICE restart) and gives the complete SDP answer.
    pub async fn answer(&self, remote_offer: &str) -> Result<String, MediaError> {
        self.mark_negotiation();
        let offered = offered_direction(remote_offer);
        // webrtc-rs 0.21 stops a transceiver for good when the far end offers a=inactive
        // (both sides on hold); it sees sendonly instead, and the answer is set inactive
        // below, so nothing flows, as the offer asks.
        let sdp = if offered == RTCRtpTransceiverDirection::Inactive {
            remote_offer.replace("a=inactive", "a=sendonly")
        } else {
            remote_offer.to_owned()
        };
        // A gateway's offer may have no a=mid, which webrtc-rs requires: section i is
        // given "i" (the same in every re-INVITE, so the transceiver stays the same).
        let taken = mids(&sdp);
        let sdp = with_mids(&sdp, |i| {
            let mid = i.to_string();
            if taken.iter().flatten().any(|m| *m == mid) {
                format!("ccc{i}")
            } else {
                mid
            }
        });
        // And webrtc-rs rejects (port 0) every section of an offer without a BUNDLE
        // group; such an offer gets one, and our answer goes out without it.
        let bundled = has_bundle_group(&sdp);
        let sdp = if bundled {
            sdp
        } else {
            with_bundle_group(&sdp)
        };
        let offered_setup = setup(&sdp);
        let sdp = with_media_level_setup(&sdp);
        let offer =
            RTCSessionDescription::offer(sdp).map_err(|e| MediaError::Sdp(e.to_string()))?;
        let before = self.shared.gathering.borrow().0;
        // A far end's ICE restart makes us bind new sockets too: our old candidates go
        // out of the answer.
        let ufrag = ice_ufrag(remote_offer);
        let restart_offered = self
            .shared
            .remote_ufrag
            .lock()
            .map(|last| last.is_some() && *last != ufrag)
            .unwrap_or(false);
        let closed = if restart_offered {
            self.local_candidates().await
        } else {
            Vec::new()
        };
        self.bounded(
            "apply the remote offer",
            self.pc.set_remote_description(offer),
        )
        .await?;
        let _ = self.input(Input::RemoteApplied).await;
        // webrtc-rs 0.21 answers a=sendrecv to a=sendonly; the answer's direction is set
        // here as RFC 3264 section 6.1 has it, from the offer's and our own hold.
        let direction = answer_direction(offered, self.local_hold.load(Ordering::Relaxed));
        self.bounded(
            "set the direction",
            self.transceiver.set_direction(direction),
        )
        .await?;
        let answer = self
            .bounded("create an answer", self.pc.create_answer(None))
            .await?;
        self.bounded(
            "set the local answer",
            self.pc.set_local_description(answer),
        )
        .await?;
        // A remote ICE restart (new credentials) makes us gather again; otherwise what
        // we have is complete.
        let restarting = self
            .shared
            .remote_ufrag
            .lock()
            .map(|mut last| {
                let changed = last.is_some() && *last != ufrag;
                *last = ufrag;
                changed
            })
            .unwrap_or(false);
        let sdp = self
            .complete_local(restarting.then_some(before), &closed)
            .await?;
        self.apply_negotiation(offered == RTCRtpTransceiverDirection::Inactive)
            .await?;
        let sdp = with_answer_setup(&sdp, offered_setup.as_deref());
        Ok(if bundled {
            sdp
        } else {
            without_bundle_group(&sdp)
        })
    }

    /// Applies the far end's answer to our last offer.
    pub async fn set_remote(&self, remote_answer: &str) -> Result<(), MediaError> {
        if let Ok(mut last) = self.shared.remote_ufrag.lock() {
            *last = ice_ufrag(remote_answer);
        }
        let inactive = offered_direction(remote_answer) == RTCRtpTransceiverDirection::Inactive;
        // webrtc-rs 0.21 stops a transceiver for good when the far end says a=inactive;
        // an inactive answer (to our hold) reaches it as recvonly, and nothing flows
        // anyway: we hold.
        let sdp = if inactive {
            remote_answer.replace("a=inactive", "a=recvonly")
        } else {
            remote_answer.to_owned()
        };
        // An answer without a=mid (a gateway's, a SIP phone's): each section takes the
        // mid of our offer's section in the same place.
        let ours =
            match tokio::time::timeout(self.config.operation_timeout, self.pc.local_description())
                .await
            {
                Ok(Some(local)) => mids(&local.sdp),
                _ => Vec::new(),
            };
        let sdp = with_mids(&sdp, |i| {
            ours.get(i)
                .cloned()
                .flatten()
                .unwrap_or_else(|| i.to_string())
        });
        let sdp = with_media_level_setup(&sdp);
        let answer =
            RTCSessionDescription::answer(sdp).map_err(|e| MediaError::Sdp(e.to_string()))?;
        self.bounded(
            "apply the remote answer",
            self.pc.set_remote_description(answer),
        )
        .await?;
        let _ = self.input(Input::RemoteApplied).await;
        self.apply_negotiation(inactive).await
    }

    /// Puts the call on hold: an offer with `a=sendonly` to send in a re-INVITE; our
    /// audio stops too. Apply the answer with [`Self::set_remote`].
    pub async fn hold(&self) -> Result<String, MediaError> {
        self.change_hold(true, RTCRtpTransceiverDirection::Sendonly)
            .await
    }

    /// Takes the call off hold: an offer with `a=sendrecv`.
    pub async fn unhold(&self) -> Result<String, MediaError> {
        self.change_hold(false, RTCRtpTransceiverDirection::Sendrecv)
            .await
    }

    /// Holds or unholds and makes the offer. If the direction cannot be set, the hold
    /// state stays what it was (so a later answer to the far end's offer is not held by
    /// mistake); if the offer fails after, [`Self::cancel_offer`] puts both back.
    async fn change_hold(
        &self,
        hold: bool,
        direction: RTCRtpTransceiverDirection,
    ) -> Result<String, MediaError> {
        let was = self.local_hold.swap(hold, Ordering::Relaxed);
        if let Err(e) = self
            .bounded(
                "set the direction",
                self.transceiver.set_direction(direction),
            )
            .await
        {
            self.local_hold.store(was, Ordering::Relaxed);
            return Err(e);
        }
        self.offer().await
    }

    /// An offer with fresh ICE credentials and freshly gathered candidates, for a
    /// reconnect after the network changed (send it in a re-INVITE).
    pub async fn restart_ice(&self) -> Result<String, MediaError> {
        self.make_offer(true).await
    }

    /// Withdraws our last offer when the far end refused it (a re-INVITE answered 491 or
    /// 488): the session goes back to what was last negotiated, hold state included.
    pub async fn cancel_offer(&self) -> Result<(), MediaError> {
        let rollback =
            RTCSessionDescription::rollback(None).map_err(|e| MediaError::Sdp(e.to_string()))?;
        self.bounded(
            "roll back the offer",
            self.pc.set_local_description(rollback),
        )
        .await?;
        // The direction we asked for is undone too: back to what is in effect.
        let current = self
            .bounded("read the direction", self.transceiver.current_direction())
            .await?;
        let held = matches!(
            current,
            RTCRtpTransceiverDirection::Sendonly | RTCRtpTransceiverDirection::Inactive
        );
        self.local_hold.store(held, Ordering::Relaxed);
        let wanted = if held {
            RTCRtpTransceiverDirection::Sendonly
        } else {
            RTCRtpTransceiverDirection::Sendrecv
        };
        self.bounded("set the direction", self.transceiver.set_direction(wanted))
            .await
    }

    /// Reads what the last offer/answer exchange settled and hands it to the media task.
    /// webrtc-rs gives no sender parameters while the direction has no send (and no
    /// receiver ones without receive); what is missing keeps its last value.
    async fn apply_negotiation(&self, remote_inactive: bool) -> Result<(), MediaError> {
        let sender = self
            .bounded("read the sender", self.transceiver.sender())
            .await?;
        let sent = match sender {
            Some(sender) => self
                .bounded("read the send parameters", sender.get_parameters())
                .await
                .map(|p| p.rtp_parameters.codecs)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let receiver = self
            .bounded("read the receiver", self.transceiver.receiver())
            .await?;
        let received = match receiver {
            Some(receiver) => self
                .bounded("read the receive parameters", receiver.get_parameters())
                .await
                .map(|p| p.rtp_parameters.codecs)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let direction = self
            .bounded("read the direction", self.transceiver.current_direction())
            .await?;
        let send_codec = sent.iter().find_map(|p| {
            Codec::from_mime_type(&p.rtp_codec.mime_type)
                .filter(|c| self.config.codecs.contains(c))
                .map(|c| (c, p.payload_type))
        });
        let telephone_events: Vec<(u8, u32)> = sent
            .iter()
            .filter(|p| {
                p.rtp_codec
                    .mime_type
                    .eq_ignore_ascii_case(TELEPHONE_EVENT_MIME)
            })
            .map(|p| (p.payload_type, p.rtp_codec.clock_rate))
            .collect();
        let send = send_codec.map(|(codec, payload_type)| SendSetup {
            codec,
            payload_type,
            dtmf: telephone_events
                .iter()
                .find(|(_, rate)| *rate == codec.clock_rate())
                .or(telephone_events.first())
                .copied(),
        });
        let mut receive = ReceiveSetup::default();
        for p in received.iter().chain(&sent) {
            if let Some(codec) = Codec::from_mime_type(&p.rtp_codec.mime_type) {
                receive.codecs.entry(p.payload_type).or_insert(codec);
            } else if p
                .rtp_codec
                .mime_type
                .eq_ignore_ascii_case(TELEPHONE_EVENT_MIME)
                && !receive.dtmf.iter().any(|(pt, _)| *pt == p.payload_type)
            {
                receive.dtmf.push((p.payload_type, p.rtp_codec.clock_rate));
            }
        }
        if let Some(send) = send {
            let mode = match send.dtmf {
                Some((payload_type, clock_rate)) => DtmfMode::Rfc4733 {
                    payload_type,
                    clock_rate,
                },
                None => DtmfMode::SipInfo,
            };
            if let Ok(mut m) = self.shared.dtmf_mode.lock() {
                *m = Some(mode);
            }
        }
        let (can_send, receiving) = match direction {
            RTCRtpTransceiverDirection::Sendrecv => (true, true),
            RTCRtpTransceiverDirection::Sendonly => (true, false),
            RTCRtpTransceiverDirection::Recvonly => (false, true),
            _ => (false, false),
        };
        let sending = can_send && !remote_inactive && !self.local_hold.load(Ordering::Relaxed);
        let receiving = receiving && !remote_inactive;
        self.input(Input::Negotiated {
            send,
            receive,
            sending,
            receiving,
        })
        .await
    }

    /// How DTMF goes on this call, once negotiated: RFC 4733 in the RTP stream, or SIP
    /// INFO (by the SIP layer) when the far end did not accept telephone-event.
    pub fn dtmf_mode(&self) -> Option<DtmfMode> {
        self.shared.dtmf_mode.lock().ok().and_then(|m| *m)
    }

    /// Plays digits (0-9, `*`, `#`, A-D) as RFC 4733 events when negotiated. Gives the
    /// mode: with [`DtmfMode::SipInfo`] nothing was sent and the caller sends SIP INFO.
    pub async fn send_dtmf(&self, digits: &str) -> Result<DtmfMode, MediaError> {
        let (tx, rx) = oneshot::channel();
        self.input(Input::Dtmf(digits.to_owned(), tx)).await?;
        let sent = tokio::time::timeout(self.config.operation_timeout, rx)
            .await
            .map_err(|_| MediaError::Timeout("queue DTMF"))?
            .map_err(|_| MediaError::Closed)??;
        Ok(if sent {
            self.dtmf_mode().unwrap_or(DtmfMode::SipInfo)
        } else {
            DtmfMode::SipInfo
        })
    }

    async fn input(&self, input: Input) -> Result<(), MediaError> {
        tokio::time::timeout(self.config.operation_timeout, self.inputs.send(input))
            .await
            .map_err(|_| MediaError::Timeout("reach the media task"))?
            .map_err(|_| MediaError::Closed)
    }

    /// Mutes the microphone (M31): silence is sent instead of the source.
    pub async fn set_muted(&self, muted: bool) -> Result<(), MediaError> {
        self.input(Input::Mute(muted)).await
    }

    /// Sets the playback volume (M30), 0 to 1 (clamped; the recording is not affected).
    pub async fn set_volume(&self, volume: f32) -> Result<(), MediaError> {
        self.input(Input::Volume(volume)).await
    }

    /// Takes outgoing audio from another source from the next frame on.
    pub async fn set_source(&self, source: Box<dyn AudioSource>) -> Result<(), MediaError> {
        self.input(Input::Source(source)).await
    }

    /// Plays incoming audio into another sink from the next frame on.
    pub async fn set_sink(&self, sink: Box<dyn AudioSink>) -> Result<(), MediaError> {
        self.input(Input::Sink(sink)).await
    }

    /// The stats kept so far (only with [`CallConfig::keep_stats`]).
    pub fn kept_stats(&self) -> Vec<CallStats> {
        self.shared
            .kept
            .lock()
            .map(|k| k.clone())
            .unwrap_or_default()
    }

    /// Hangs up the media: stops the audio, closes the recording, releases TURN
    /// allocations and sockets. [`MediaEvent::Ended`] is the last event. A session
    /// dropped without it is closed all the same, in the background.
    pub async fn close(&self) -> Result<(), MediaError> {
        let (tx, rx) = oneshot::channel();
        if self.input(Input::Close(tx)).await.is_ok() {
            let _ = tokio::time::timeout(self.config.operation_timeout, rx).await;
        }
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = tokio::time::timeout(self.config.operation_timeout, task).await;
        }
        self.bounded("close the peer connection", self.pc.close())
            .await?;
        self.closed.store(true, Ordering::Release);
        Ok(())
    }
}

/// A session dropped without [`MediaSession::close`] (an early return, a panic, a
/// program that forgot) must not keep running: webrtc-rs's driver task, which holds the
/// sockets and any TURN allocation, runs until its peer connection is closed, and the
/// media task would go on pacing the call every 20 ms. So the media task is told to
/// stop (it closes the recording and sends `Ended`) and the peer connection is closed
/// on the runtime in the background.
impl Drop for MediaSession {
    fn drop(&mut self) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        let (done, _) = oneshot::channel();
        if self.inputs.try_send(Input::Close(done)).is_err()
            && let Some(task) = self.task.lock().ok().and_then(|mut t| t.take())
        {
            // The task's queue is full or it is gone: stop it where it is (the
            // recording is still closed, by the recorder's own drop).
            task.abort();
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let pc = Arc::clone(&self.pc);
            let limit = self.config.operation_timeout;
            runtime.spawn(async move {
                let _ = tokio::time::timeout(limit, pc.close()).await;
            });
        }
    }
}

struct MediaTask {
    pipeline: Pipeline,
    inputs: mpsc::Receiver<Input>,
    rtp: mpsc::Receiver<rtp::Packet>,
    track: Arc<TrackLocalStaticRTP>,
    events: mpsc::Sender<MediaEvent>,
    shared: Arc<Shared>,
    report: SharedReport,
    config: CallConfig,
    connected: bool,
    ever_connected: bool,
    deadline: Option<tokio::time::Instant>,
    send: Option<SendSetup>,
    direction: Option<(bool, bool)>,
}

impl MediaTask {
    fn emit(&self, event: MediaEvent) {
        if !keeps_room(&event, self.events.capacity()) || self.events.try_send(event).is_err() {
            tracing::debug!("media event dropped: the program does not read its events");
        }
    }

    async fn run(mut self) {
        let frame = Duration::from_millis(u64::from(crate::audio::FRAME_MS));
        let mut ticker = tokio::time::interval(frame);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut stats =
            tokio::time::interval(self.config.stats_interval.max(Duration::from_millis(100)));
        stats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        stats.tick().await;
        loop {
            tokio::select! {
                biased;
                input = self.inputs.recv() => match input {
                    None => break,
                    Some(Input::Close(done)) => {
                        self.finish();
                        let _ = done.send(());
                        return;
                    }
                    Some(input) => self.handle(input),
                },
                Some(packet) = self.rtp.recv() => self.pipeline.on_rtp(Instant::now(), &packet),
                due = ticker.tick() => {
                    let now = Instant::now();
                    let lateness = now.saturating_duration_since(due.into_std());
                    if let Some(packet) = self.pipeline.tick(now, lateness) {
                        // Before the track is bound this fails, harmlessly; the write
                        // still wakes webrtc-rs's driver, which speeds up connecting.
                        let _ = self.track.write_rtp(packet).await;
                    }
                    self.drain();
                }
                _ = stats.tick(), if self.connected => self.measure(),
                () = sleep_until(self.deadline), if self.deadline.is_some() && !self.connected => {
                    self.deadline = None;
                    self.emit(MediaEvent::Failed { reason: FailReason::ConnectTimeout(self.config.connect_timeout) });
                }
            }
        }
        self.finish();
    }

    fn finish(&mut self) {
        if let Err(e) = self.pipeline.finish_recording() {
            self.emit(MediaEvent::RecordingFailed {
                message: e.to_string(),
            });
        }
        self.emit(MediaEvent::Ended);
    }

    fn measure(&mut self) {
        let outside = self
            .report
            .lock()
            .map(|r| OutsideFigures {
                rtt: r.rtt.latest(),
                remote_loss_percent: r.loss_percent,
                remote_jitter_units: r.jitter_units,
            })
            .unwrap_or_default();
        let stats = self.pipeline.measure(Instant::now(), outside);
        if self.config.keep_stats
            && let Ok(mut kept) = self.shared.kept.lock()
            && kept.len() < MAX_KEPT_STATS
        {
            kept.push(stats);
        }
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(event) = self.pipeline.poll_event() {
            self.emit(match event {
                PipelineEvent::Dtmf(digit) => MediaEvent::Dtmf { digit },
                PipelineEvent::Stats(stats) => MediaEvent::Stats(stats),
                PipelineEvent::Quality(alert) => MediaEvent::Quality(alert),
            });
        }
    }

    fn handle(&mut self, input: Input) {
        match input {
            Input::State(state) => self.on_state(state),
            Input::Negotiated {
                send,
                receive,
                sending,
                receiving,
            } => {
                if let Some(send) = send {
                    if let Err(e) = self.pipeline.set_send(send) {
                        self.emit(MediaEvent::Failed {
                            reason: FailReason::Codec(e.to_string()),
                        });
                    }
                    self.send = Some(send);
                }
                if !receive.codecs.is_empty() {
                    self.pipeline.set_receive(receive);
                }
                self.pipeline.set_sending(sending);
                if self.direction.is_some_and(|d| d != (sending, receiving)) {
                    self.emit(MediaEvent::Direction { sending, receiving });
                }
                self.direction = Some((sending, receiving));
            }
            Input::RemoteApplied => {
                if !self.ever_connected && self.deadline.is_none() {
                    self.deadline = Some(crate::time::tokio_after(
                        tokio::time::Instant::now(),
                        self.config.connect_timeout,
                    ));
                }
            }
            Input::Dtmf(digits, reply) => {
                let _ = reply.send(self.pipeline.send_dtmf(&digits));
            }
            Input::Mute(muted) => self.pipeline.set_muted(muted),
            Input::Volume(volume) => self.pipeline.set_volume(volume),
            Input::Source(source) => self.pipeline.set_source(source),
            Input::Sink(sink) => self.pipeline.set_sink(sink),
            Input::Close(_) => {}
        }
    }

    fn on_state(&mut self, state: RTCPeerConnectionState) {
        match state {
            RTCPeerConnectionState::Connected if !self.connected => {
                self.connected = true;
                self.deadline = None;
                self.pipeline.start();
                let first = !self.ever_connected;
                self.ever_connected = true;
                let after = self
                    .shared
                    .negotiation_started
                    .lock()
                    .ok()
                    .and_then(|s| *s)
                    .map_or(Duration::ZERO, |s| s.elapsed());
                let dtmf = self
                    .shared
                    .dtmf_mode
                    .lock()
                    .ok()
                    .and_then(|m| *m)
                    .unwrap_or(DtmfMode::SipInfo);
                if first {
                    self.emit(MediaEvent::Connected {
                        after,
                        codec: self.send.map(|s| s.codec),
                        dtmf,
                    });
                } else {
                    self.emit(MediaEvent::Reconnected);
                }
            }
            RTCPeerConnectionState::Disconnected if self.connected => {
                self.connected = false;
                self.emit(MediaEvent::Disconnected);
            }
            RTCPeerConnectionState::Failed => {
                self.connected = false;
                self.deadline = None;
                self.emit(MediaEvent::Failed {
                    reason: FailReason::IceFailed,
                });
            }
            _ => {}
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_give_way_to_the_events_that_matter() {
        let stats = MediaEvent::Quality(crate::quality::QualityAlert {
            metric: crate::quality::Metric::Jitter,
            value: 50.0,
            threshold: 30.0,
            raised: true,
        });
        assert!(keeps_room(&stats, EVENT_QUEUE));
        assert!(!keeps_room(&stats, RESERVED_EVENTS));
        for event in [
            MediaEvent::Dtmf { digit: '5' },
            MediaEvent::Ended,
            MediaEvent::Failed {
                reason: FailReason::IceFailed,
            },
        ] {
            assert!(keeps_room(&event, 1));
        }
    }
}
