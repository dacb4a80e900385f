//! Call quality: the figures of a call each second ([`CallStats`]), how they are
//! measured ([`ReceiveStats`] after RFC 3550, [`RttEstimator`] from RTCP SR/RR), the
//! ITU-T G.107 E-model for the MOS, and the warnings when they cross thresholds
//! ([`QualityMonitor`]).

mod emodel;
mod monitor;
mod receive;
mod rtt;
pub(crate) mod sequence;

pub use emodel::{CodecImpairment, mos_from_r, r_factor};
pub use monitor::{Metric, QualityAlert, QualityMonitor, Thresholds};
pub use receive::{ReceiveStats, units_to_ms};
pub use rtt::RttEstimator;

/// One second of a call, as reported in `MediaEvent::Stats` and kept for upload (C37).
/// Counters are totals since the call started; rates and levels are over the last
/// second.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CallStats {
    /// Milliseconds since the session started.
    pub at_ms: u64,
    /// The codec sent, once negotiated.
    pub codec: Option<crate::codec::Codec>,
    /// RTP packets sent (audio and DTMF).
    pub packets_sent: u64,
    /// RTP payload bytes sent.
    pub bytes_sent: u64,
    /// RTP packets received.
    pub packets_received: u64,
    /// RTP payload bytes received.
    pub bytes_received: u64,
    /// Packets lost on the way to us (expected minus received, RFC 3550).
    pub packets_lost: u64,
    /// Loss towards us over the last second, percent.
    pub loss_percent: f64,
    /// Interarrival jitter towards us, ms (RFC 3550 A.8, converted from clock units).
    pub jitter_ms: f64,
    /// Loss towards the far end as its receiver reports say, percent.
    pub remote_loss_percent: Option<f64>,
    /// Jitter towards the far end as its receiver reports say, ms.
    pub remote_jitter_ms: Option<f64>,
    /// Round-trip time from RTCP SR/RR, ms.
    pub rtt_ms: Option<f64>,
    /// RMS level of what was sent over the last second, dBFS (-inf when silent).
    pub level_sent_dbfs: f64,
    /// RMS level of what was received over the last second, dBFS.
    pub level_received_dbfs: f64,
    /// Frames the jitter buffer concealed (missing at their turn).
    pub concealed_frames: u64,
    /// Packets that came too late to play.
    pub late_packets: u64,
    /// Times playout ran dry while audio was flowing (a gap heard as silence).
    pub underruns: u64,
    /// Send ticks that ran more than one frame late (an overloaded machine).
    pub late_ticks: u64,
    /// The E-model rating R.
    pub r_factor: f64,
    /// The MOS the E-model predicts, 1 to 4.5.
    pub mos: f64,
}

impl CallStats {
    /// The E-model's R and MOS for `codec` at these figures. The one-way delay is half
    /// the RTT (or 20 ms unknown), plus the playout buffer, twice the jitter, and the
    /// codec's frame and look-ahead.
    pub fn estimate(
        codec: crate::codec::Codec,
        loss_percent: f64,
        jitter_ms: f64,
        rtt_ms: Option<f64>,
        buffer_ms: f64,
    ) -> (f64, f64) {
        let delay = rtt_ms.map_or(20.0, |r| r / 2.0) + buffer_ms + 2.0 * jitter_ms + 25.0;
        let r = r_factor(codec.impairment(), loss_percent, delay);
        (r, mos_from_r(r))
    }
}
