//! How a call is set up: ICE servers and policy, timers, codecs, DTMF, quality,
//! recording.

use std::path::PathBuf;
use std::time::Duration;

use crate::codec::Codec;
use crate::dtmf::DtmfTiming;
use crate::quality::Thresholds;

/// A STUN or TURN server for ICE (an access point's relay, C39).
#[derive(Clone, PartialEq, Eq)]
pub struct IceServer {
    /// `stun:host:port` or `turn:host:port?transport=udp` URLs. webrtc-rs 0.21 relays over
    /// UDP only: `turns:` and `?transport=tcp` URLs are skipped by it.
    pub urls: Vec<String>,
    /// The TURN user.
    pub username: String,
    /// The TURN password (never printed).
    pub credential: String,
}

impl std::fmt::Debug for IceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceServer")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .field("credential", &"<redacted>")
            .finish()
    }
}

impl IceServer {
    /// A TURN server with long-term credentials.
    pub fn turn(
        url: impl Into<String>,
        username: impl Into<String>,
        credential: impl Into<String>,
    ) -> Self {
        Self {
            urls: vec![url.into()],
            username: username.into(),
            credential: credential.into(),
        }
    }

    /// A STUN server.
    pub fn stun(url: impl Into<String>) -> Self {
        Self {
            urls: vec![url.into()],
            username: String::new(),
            credential: String::new(),
        }
    }
}

/// Which candidates ICE may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IcePolicy {
    /// Host, server-reflexive and relay candidates.
    #[default]
    All,
    /// Only relay candidates: media always goes through the TURN server.
    RelayOnly,
}

/// Where the local UDP sockets are bound, which decides the host candidates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HostCandidates {
    /// Every interface of the machine except loopback and link-local (webrtc-rs's
    /// wildcard expansion).
    #[default]
    AllInterfaces,
    /// 127.0.0.1 only: the host candidate is on loopback, so two peers on one machine
    /// reach each other without any network. webrtc-rs offers loopback candidates only
    /// when bound to it explicitly (its `include_loopback_candidate` setting is read by
    /// nothing in 0.21.1).
    Loopback,
    /// These addresses exactly (`ip:port`, port 0 for any).
    Bind(Vec<String>),
}

/// Which DTLS role this side takes when it answers (the offer says `a=setup:actpass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AnswerDtlsRole {
    /// `a=setup:active`: this side starts the handshake, in parallel with the answer
    /// reaching the far end (RFC 8842's recommendation, and the fastest).
    #[default]
    Active,
    /// `a=setup:passive`: the far end starts it, for gateways that insist on being the
    /// DTLS client.
    Passive,
}

/// How hard ICE works to connect fast. webrtc-rs 0.21.1's defaults take about 200 ms on
/// a direct path and 3.2-3.4 s through a relay even on loopback (see
/// `docs/media.md`, "Call setup"); both profiles here fix that in different measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConnectProfile {
    /// For real networks: connectivity checks every 20 ms (up to 250 per pair, 5 s,
    /// so slow paths and TURN permissions still succeed), relay, server-reflexive and
    /// peer-reflexive pairs nominated without the 2 s / 0.5 s / 1 s waits when the policy
    /// is relay-only, and after 100 ms with policy all (a direct pair still wins if it
    /// answers that soon). Keepalives stay at webrtc-rs's 2 s. The 20 ms audio pacing,
    /// which starts with the local description, wakes webrtc-rs's driver so relayed
    /// packets do not wait for its 200 ms tick.
    #[default]
    Production,
    /// For loopback and lab tests: checks every 10 ms, no nomination wait, and a 10 ms
    /// ICE keepalive, which shortens every relayed DTLS flight to 10 ms at the cost of
    /// 100 STUN consent requests a second per call for the call's whole life.
    Loopback,
}

/// Everything a call needs to know before it starts.
#[derive(Debug, Clone)]
pub struct CallConfig {
    /// STUN/TURN servers.
    pub ice_servers: Vec<IceServer>,
    /// Which candidates may be used.
    pub ice_policy: IcePolicy,
    /// Where to bind, i.e. which host candidates to offer.
    pub host_candidates: HostCandidates,
    /// The ICE tuning.
    pub connect_profile: ConnectProfile,
    /// The DTLS role of our answers (as offerer the far end's answer decides).
    pub answer_dtls_role: AnswerDtlsRole,
    /// Longest wait for candidate gathering before an offer or answer goes out with the
    /// candidates found so far (default 3 s).
    pub gathering_timeout: Duration,
    /// Longest wait from the remote description to a connected call before the call
    /// fails with [`super::FailReason::ConnectTimeout`] (default 10 s).
    pub connect_timeout: Duration,
    /// Longest wait for any one operation on the peer connection (default 5 s).
    pub operation_timeout: Duration,
    /// How long a connected call may hear nothing on its ICE path (no media, no
    /// keepalive answer) before [`super::MediaEvent::Disconnected`] (default 5 s, as
    /// browsers and webrtc-rs have it). Zero: never. With
    /// [`ConnectProfile::Production`] a value under 4 s also brings the keepalive (2 s)
    /// down to half of it, so a quiet but live path does not count as lost.
    pub ice_disconnected_timeout: Duration,
    /// How much longer, after that, before the call fails for good with
    /// [`super::FailReason::IceFailed`] (default 25 s, webrtc-rs's). An ICE restart that
    /// finds no working pair fails after both timeouts too. Zero: never.
    pub ice_failed_timeout: Duration,
    /// Codecs offered and accepted, best first (default Opus, PCMU, PCMA).
    pub codecs: Vec<Codec>,
    /// Opus encoder complexity, 0-10 (default [`crate::codec::opus::COMPLEXITY`], 2):
    /// lower saves CPU where many calls share a machine, higher is a little better sound.
    pub opus_complexity: u8,
    /// The clock rate of the telephone-event (RFC 4733) offered, or `None` for none (DTMF
    /// then goes by SIP INFO). Default 8000: every SIP gateway and browser takes it, with
    /// Opus too; 48000 matches Opus's clock as RFC 4733 prefers, but G.711-only gateways
    /// refuse it.
    pub telephone_event: Option<u32>,
    /// How DTMF digits are played.
    pub dtmf_timing: DtmfTiming,
    /// Quality warning thresholds.
    pub thresholds: Thresholds,
    /// How often [`super::MediaEvent::Stats`] comes (default 1 s).
    pub stats_interval: Duration,
    /// Keep each interval's stats for upload after the call (C37 `disableSaveStats` =
    /// false); at most an hour's worth are kept.
    pub keep_stats: bool,
    /// Record the call (C12) into this stereo WAV: the agent left, the far end right.
    pub recording: Option<PathBuf>,
    /// The recording's sample rate (default 16 kHz).
    pub recording_rate: u32,
    /// Received packets buffered before playout starts (default 2, at most 20): 40 ms at
    /// the usual 20 ms packet time, more when the far end sends longer packets.
    pub jitter_depth: usize,
}

impl Default for CallConfig {
    fn default() -> Self {
        Self {
            ice_servers: Vec::new(),
            ice_policy: IcePolicy::All,
            host_candidates: HostCandidates::AllInterfaces,
            connect_profile: ConnectProfile::Production,
            answer_dtls_role: AnswerDtlsRole::Active,
            gathering_timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(5),
            ice_disconnected_timeout: Duration::from_secs(5),
            ice_failed_timeout: Duration::from_secs(25),
            codecs: Codec::ALL.to_vec(),
            opus_complexity: crate::codec::opus::COMPLEXITY,
            telephone_event: Some(8000),
            dtmf_timing: DtmfTiming::default(),
            thresholds: Thresholds::default(),
            stats_interval: Duration::from_secs(1),
            keep_stats: false,
            recording: None,
            recording_rate: 16_000,
            jitter_depth: 2,
        }
    }
}

impl CallConfig {
    /// The settings for two peers on one machine: loopback host candidates and the
    /// loopback connect profile.
    pub fn loopback() -> Self {
        Self {
            host_candidates: HostCandidates::Loopback,
            connect_profile: ConnectProfile::Loopback,
            ..Self::default()
        }
    }
}
