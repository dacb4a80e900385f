//! Round-trip time from RTCP (RFC 3550 section 6.4.1): a receiver report about our
//! stream names our last sender report (LSR, the middle 32 bits of its NTP time) and how
//! long the receiver held it (DLSR, in 1/65536 s). RTT = arrival - LSR - DLSR.
//!
//! webrtc-rs 0.21 reports 0 here ("RTT calculation would require additional
//! tracking"), so this does the tracking: the send instant of every sender report we
//! sent is remembered by its LSR, and the RTT is measured on our own monotonic clock,
//! not on wall-clock NTP.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How many recent sender reports are remembered (one a second is sent).
const REMEMBERED: usize = 16;

/// Matches receiver reports to the sender reports they answer. Sans-IO.
#[derive(Debug, Clone, Default)]
pub struct RttEstimator {
    sent: VecDeque<(u32, Instant)>,
    latest: Option<Duration>,
    samples: u64,
}

impl RttEstimator {
    /// Nothing sent yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A sender report with 64-bit NTP time `ntp` left at `now`.
    pub fn on_sender_report_sent(&mut self, ntp: u64, now: Instant) {
        // The middle 32 bits, as the receiver echoes them.
        #[allow(clippy::cast_possible_truncation)]
        let lsr = (ntp >> 16) as u32;
        if self.sent.len() == REMEMBERED {
            self.sent.pop_front();
        }
        self.sent.push_back((lsr, now));
    }

    /// A report block about our stream arrived at `now` with `lsr` and `dlsr`; gives the
    /// RTT it measures, if it answers a report we remember.
    pub fn on_report_block(&mut self, lsr: u32, dlsr: u32, now: Instant) -> Option<Duration> {
        if lsr == 0 {
            return None;
        }
        let sent = self.sent.iter().rev().find(|(l, _)| *l == lsr)?.1;
        let held = Duration::from_secs_f64(f64::from(dlsr) / 65_536.0);
        let rtt = now.saturating_duration_since(sent).saturating_sub(held);
        self.latest = Some(rtt);
        self.samples += 1;
        Some(rtt)
    }

    /// The latest RTT measured.
    pub fn latest(&self) -> Option<Duration> {
        self.latest
    }

    /// How many RTTs were measured.
    pub fn samples(&self) -> u64 {
        self.samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtt_is_arrival_minus_send_minus_hold() {
        let t0 = Instant::now();
        let mut e = RttEstimator::new();
        let ntp: u64 = 0xE000_1234_8000_0000;
        e.on_sender_report_sent(ntp, t0);
        #[allow(clippy::cast_possible_truncation)]
        let lsr = (ntp >> 16) as u32;
        // Held 0.5 s (32768/65536), back 620 ms after sending: RTT 120 ms.
        let rtt = e
            .on_report_block(lsr, 32_768, t0 + Duration::from_millis(620))
            .unwrap();
        assert_eq!(rtt, Duration::from_millis(120));
        assert_eq!(e.latest(), Some(rtt));
        // No report sent yet (LSR 0) or an unknown one: nothing.
        assert_eq!(e.on_report_block(0, 0, t0), None);
        assert_eq!(e.on_report_block(lsr ^ 1, 0, t0), None);
        assert_eq!(e.samples(), 1);
    }

    #[test]
    fn remembers_a_bounded_number() {
        let t0 = Instant::now();
        let mut e = RttEstimator::new();
        for i in 0..100u64 {
            e.on_sender_report_sent(i << 16, t0);
        }
        assert_eq!(e.sent.len(), REMEMBERED);
        assert!(e.on_report_block(1, 0, t0).is_none());
        assert!(e.on_report_block(99, 0, t0).is_some());
    }
}
