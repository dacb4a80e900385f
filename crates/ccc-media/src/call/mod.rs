//! Audio calls over WebRTC: [`MediaSession`], driven by the SIP layer through SDP
//! offers and answers, reporting on [`MediaEvents`].
//!
//! ```no_run
//! # async fn example(remote_offer: &str) -> Result<(), ccc_media::call::MediaError> {
//! use ccc_media::audio::{Silence, Tone};
//! use ccc_media::call::{CallAudio, CallConfig, MediaEvent, MediaSession};
//!
//! let audio = CallAudio::new(Tone::new(440.0, 0.3), ccc_media::call::Discard);
//! let (session, mut events) = MediaSession::new(CallConfig::default(), audio).await?;
//! let answer = session.answer(remote_offer).await?; // into the SIP 200 OK
//! # let _ = answer;
//! while let Some(event) = events.recv().await {
//!     match event {
//!         MediaEvent::Connected { after, codec, .. } => println!("audio up after {after:?} with {codec:?}"),
//!         MediaEvent::Dtmf { digit } => println!("digit {digit}"),
//!         MediaEvent::Failed { reason } => { eprintln!("{reason}"); break }
//!         _ => {}
//!     }
//! }
//! session.close().await?;
//! # Ok(()) }
//! ```
//!
//! The parts: [`pipeline`](self) (sans-IO media: pacing, codecs, jitter buffer, DTMF,
//! recording, measuring), an RTCP interceptor for the round-trip time, and the tokio
//! shell around webrtc-rs's peer connection.

mod config;
mod jitter;
mod pipeline;
mod rtcp;
mod sdp;
mod session;

pub use config::{
    AnswerDtlsRole, CallConfig, ConnectProfile, HostCandidates, IcePolicy, IceServer,
};
pub use jitter::{JitterBuffer, JitterCounters, Playout};
pub use session::MediaSession;

use std::time::Duration;

use crate::audio::{AudioFrame, AudioSink, AudioSource};
use crate::codec::Codec;
use crate::quality::{CallStats, QualityAlert};

/// The audio a call plays and where it puts what it hears. The source is asked for
/// frames at the negotiated codec's PCM rate; the sink gets frames at that rate too.
pub struct CallAudio {
    /// What the far end hears.
    pub source: Box<dyn AudioSource>,
    /// What the far end says.
    pub sink: Box<dyn AudioSink>,
}

impl std::fmt::Debug for CallAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallAudio").finish_non_exhaustive()
    }
}

impl CallAudio {
    /// A source and a sink.
    pub fn new(source: impl AudioSource + 'static, sink: impl AudioSink + 'static) -> Self {
        Self {
            source: Box::new(source),
            sink: Box::new(sink),
        }
    }
}

/// A sink that drops what it hears.
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl AudioSink for Discard {
    fn write(&mut self, _frame: &AudioFrame) {}
}

/// How DTMF digits travel on a call, decided by the SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DtmfMode {
    /// RFC 4733 telephone events in the RTP stream.
    Rfc4733 {
        /// The negotiated payload type.
        payload_type: u8,
        /// Its clock rate (the codec's: 8000 with G.711, 48000 with Opus).
        clock_rate: u32,
    },
    /// The far end did not accept telephone-event: the SIP layer sends INFO.
    SipInfo,
}

/// Why a call's media failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FailReason {
    /// No connected state within the connect timeout after the remote description (the
    /// far end does no ICE, or no candidate pair works).
    #[error("media did not connect within {0:?} (no ICE answer from the far end)")]
    ConnectTimeout(Duration),
    /// ICE tried every candidate pair and none worked, or consent was lost.
    #[error("ICE failed: no candidate pair works")]
    IceFailed,
    /// The negotiated codec could not be started.
    #[error("codec: {0}")]
    Codec(String),
}

/// What a call reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// ICE and DTLS are up: audio flows. `after` is the time since the first offer or
    /// answer was started.
    Connected {
        /// Setup time.
        after: Duration,
        /// The codec we send.
        codec: Option<Codec>,
        /// How DTMF goes.
        dtmf: DtmfMode,
    },
    /// The path was lost; ICE is trying to get it back (restart ICE if it does not).
    Disconnected,
    /// The path is back after [`MediaEvent::Disconnected`].
    Reconnected,
    /// The media failed for good.
    Failed {
        /// Why.
        reason: FailReason,
    },
    /// A renegotiation changed the direction (hold and unhold, ours or theirs).
    Direction {
        /// Whether we send audio.
        sending: bool,
        /// Whether the far end sends.
        receiving: bool,
    },
    /// The far end pressed a key (RFC 4733).
    Dtmf {
        /// The digit.
        digit: char,
    },
    /// This interval's figures.
    Stats(CallStats),
    /// A quality warning, or its end.
    Quality(QualityAlert),
    /// The recording could not be written to the end.
    RecordingFailed {
        /// What went wrong.
        message: String,
    },
    /// The media is closed; the last event.
    Ended,
}

/// The events of one call, in order. A program that stops reading loses stats and
/// quality alerts first (once 448 events wait); the others keep 64 places of their own.
#[derive(Debug)]
pub struct MediaEvents {
    rx: tokio::sync::mpsc::Receiver<MediaEvent>,
}

impl MediaEvents {
    /// The next event; `None` after [`MediaEvent::Ended`] once the session is gone.
    pub async fn recv(&mut self) -> Option<MediaEvent> {
        self.rx.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<MediaEvent> {
        self.rx.try_recv().ok()
    }
}

impl futures_core::Stream for MediaEvents {
    type Item = MediaEvent;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<MediaEvent>> {
        self.rx.poll_recv(cx)
    }
}

/// What can go wrong when driving a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// webrtc-rs refused an operation.
    #[error("WebRTC: cannot {what}: {message}")]
    WebRtc {
        /// What was being done.
        what: &'static str,
        /// webrtc-rs's message.
        message: String,
    },
    /// An operation did not finish in time.
    #[error("timed out: {0}")]
    Timeout(&'static str),
    /// An SDP could not be used.
    #[error("SDP: {0}")]
    Sdp(String),
    /// No codec is configured.
    #[error("no codec configured")]
    NoCodec,
    /// The session was closed.
    #[error("the call's media is closed")]
    Closed,
    /// Audio files (the recording).
    #[error(transparent)]
    Audio(#[from] crate::audio::AudioError),
    /// Bad DTMF digits.
    #[error(transparent)]
    Dtmf(#[from] crate::dtmf::DtmfError),
}
