//! An interceptor in webrtc-rs's chain, next to the wire, that watches RTCP for the
//! figures webrtc-rs does not give: the send time of each of our sender reports and
//! the report blocks the far end sends about our stream (RTT, its loss and jitter).
//! It only looks; every packet passes on unchanged.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rtc::interceptor::{Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::reception_report::ReceptionReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::sansio::Protocol;

use crate::quality::RttEstimator;

/// What the far end says about our stream, and the RTT.
#[derive(Debug, Clone, Default)]
pub(crate) struct RemoteReport {
    pub(crate) rtt: RttEstimator,
    /// Fraction lost in the last report, percent.
    pub(crate) loss_percent: Option<f64>,
    /// Jitter in the last report, RTP clock units.
    pub(crate) jitter_units: Option<u32>,
}

/// Shared between the interceptor (inside the peer connection) and the media loop.
pub(crate) type SharedReport = Arc<Mutex<RemoteReport>>;

/// The watching interceptor. `ssrc` is the SSRC we send with.
pub(crate) struct RtcpWatch {
    ssrc: u32,
    report: SharedReport,
    reads: VecDeque<TaggedPacket>,
    writes: VecDeque<TaggedPacket>,
}

impl RtcpWatch {
    pub(crate) fn new(ssrc: u32, report: SharedReport) -> Self {
        Self {
            ssrc,
            report,
            reads: VecDeque::new(),
            writes: VecDeque::new(),
        }
    }

    fn with_report(&self, f: impl FnOnce(&mut RemoteReport)) {
        if let Ok(mut report) = self.report.lock() {
            f(&mut report);
        }
    }

    fn on_block(&self, block: &ReceptionReport, now: Instant) {
        if block.ssrc != self.ssrc {
            return;
        }
        self.with_report(|r| {
            r.rtt
                .on_report_block(block.last_sender_report, block.delay, now);
            r.loss_percent = Some(f64::from(block.fraction_lost) * 100.0 / 256.0);
            r.jitter_units = Some(block.jitter);
        });
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for RtcpWatch {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            for packet in packets {
                let any = packet.as_any();
                let blocks = if let Some(rr) = any.downcast_ref::<ReceiverReport>() {
                    &rr.reports
                } else if let Some(sr) = any.downcast_ref::<SenderReport>() {
                    &sr.reports
                } else {
                    continue;
                };
                for block in blocks {
                    self.on_block(block, msg.now);
                }
            }
        }
        // Bounded by the chain: each read is polled out before the next comes in.
        self.reads.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.reads.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            for packet in packets {
                if let Some(sr) = packet.as_any().downcast_ref::<SenderReport>()
                    && sr.ssrc == self.ssrc
                {
                    let (ntp, now) = (sr.ntp_time, msg.now);
                    self.with_report(|r| r.rtt.on_sender_report_sent(ntp, now));
                }
            }
        }
        self.writes.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.writes.pop_front()
    }

    fn handle_timeout(&mut self, _now: Instant) -> Result<(), Self::Error> {
        Ok(())
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }
}

impl Interceptor for RtcpWatch {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
