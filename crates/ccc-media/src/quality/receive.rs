//! Receive-side figures of one RTP stream as RFC 3550 (appendix A.3 and A.8) defines
//! them: packets expected and lost from the sequence numbers, and the interarrival
//! jitter, kept in clock units as the RFC does and given in milliseconds.

use std::time::Instant;

use super::sequence::{Place, Sequence};

/// Counts one incoming stream. Sans-IO: the arrival time is passed in.
#[derive(Debug, Clone)]
pub struct ReceiveStats {
    clock_rate: u32,
    sequence: Sequence,
    /// The lowest and highest extended number of the current numbering.
    span: Option<(u64, u64)>,
    /// Packets expected in the numberings before the current one (the far end's
    /// source or numbering changed).
    expected_before: u64,
    received: u64,
    bytes: u64,
    /// (arrival, RTP timestamp) of the previous timed packet.
    previous: Option<(Instant, u32)>,
    /// The jitter estimate J in clock units, times 16 (A.8's integer form).
    jitter_x16: u64,
    /// Expected and received at the last interval mark, for interval loss.
    mark: (u64, u64),
}

impl ReceiveStats {
    /// Figures of a stream on a clock of `clock_rate` Hz.
    pub fn new(clock_rate: u32) -> Self {
        Self {
            clock_rate: clock_rate.max(1),
            sequence: Sequence::default(),
            span: None,
            expected_before: 0,
            received: 0,
            bytes: 0,
            previous: None,
            jitter_x16: 0,
            mark: (0, 0),
        }
    }

    /// Changes the clock (another codec was negotiated); the jitter estimate restarts.
    pub fn set_clock_rate(&mut self, clock_rate: u32) {
        if clock_rate.max(1) != self.clock_rate {
            self.clock_rate = clock_rate.max(1);
            self.previous = None;
            self.jitter_x16 = 0;
        }
    }

    /// The far end's stream starts again (another SSRC): its numbering and timestamps
    /// are new; the counts so far are kept.
    pub fn restart(&mut self) {
        self.expected_before = self.expected();
        self.span = None;
        self.sequence.reset();
        self.previous = None;
    }

    /// Takes a packet: its sequence number, RTP timestamp, payload size, arrival time.
    pub fn on_packet(&mut self, seq: u16, timestamp: u32, bytes: usize, arrival: Instant) {
        if !self.count(seq, bytes) {
            return;
        }
        if let Some((previous_arrival, previous_ts)) = self.previous {
            // D(i-1, i) = (Rj - Ri) - (Sj - Si), in clock units.
            let arrival_units = arrival
                .saturating_duration_since(previous_arrival)
                .as_secs_f64()
                * f64::from(self.clock_rate);
            let sent_units = f64::from(timestamp.wrapping_sub(previous_ts) as i32);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let d = (arrival_units - sent_units).abs().min(f64::from(u32::MAX)) as u64;
            // J += (|D| - J) / 16, in the x16 form: J16 += |D| - J16 / 16.
            self.jitter_x16 = self.jitter_x16 + d - (self.jitter_x16 >> 4);
        }
        self.previous = Some((arrival, timestamp));
    }

    /// Takes a packet that counts for loss but not for jitter: an RFC 4733 event,
    /// whose packets all carry the timestamp of the event's start (and may be on
    /// another clock than the audio's).
    pub fn on_untimed_packet(&mut self, seq: u16, bytes: usize) {
        self.count(seq, bytes);
    }

    /// Counts a packet in the numbering; false for a stray that may start a new one.
    fn count(&mut self, seq: u16, bytes: usize) -> bool {
        let ext = match self.sequence.place(seq) {
            Place::InSequence(ext) => ext,
            Place::Restart(ext) => {
                // The far end numbers anew: close the old numbering's count.
                self.expected_before = self.expected();
                self.span = None;
                self.previous = None;
                ext
            }
            Place::Stray => return false,
        };
        self.span = Some(match self.span {
            None => (ext, ext),
            Some((low, high)) => (low.min(ext), high.max(ext)),
        });
        self.received += 1;
        self.bytes += bytes as u64;
        true
    }

    /// Packets received.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Payload bytes received.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Packets expected from the sequence numbers (0 before the first).
    pub fn expected(&self) -> u64 {
        self.expected_before + self.span.map_or(0, |(low, high)| high - low + 1)
    }

    /// Packets lost so far (expected minus received; duplicates can make it negative,
    /// which counts as 0).
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }

    /// The interarrival jitter in clock units.
    pub fn jitter_units(&self) -> u64 {
        self.jitter_x16 >> 4
    }

    /// The interarrival jitter in milliseconds.
    pub fn jitter_ms(&self) -> f64 {
        units_to_ms(self.jitter_units(), self.clock_rate)
    }

    /// The loss since the last call, in percent (0 when nothing was expected), and sets
    /// the mark for the next interval.
    pub fn interval_loss_percent(&mut self) -> f64 {
        let (expected, received) = (self.expected(), self.received);
        let expected_now = expected.saturating_sub(self.mark.0);
        let received_now = received.saturating_sub(self.mark.1);
        self.mark = (expected, received);
        if expected_now == 0 {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss)]
        let lost = expected_now.saturating_sub(received_now) as f64 * 100.0 / expected_now as f64;
        lost
    }
}

/// RTP clock units to milliseconds (webrtc-rs hands RTCP jitter over in clock units).
pub fn units_to_ms(units: u64, clock_rate: u32) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let ms = units as f64 * 1000.0 / f64::from(clock_rate.max(1));
    ms
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_steady_stream_has_no_jitter_and_no_loss() {
        let t0 = Instant::now();
        let mut s = ReceiveStats::new(8000);
        for i in 0..100u16 {
            let at = t0 + Duration::from_millis(20 * u64::from(i));
            s.on_packet(i, u32::from(i) * 160, 160, at);
        }
        assert_eq!((s.expected(), s.received(), s.lost()), (100, 100, 0));
        assert_eq!(s.jitter_units(), 0);
        assert_eq!(s.bytes(), 16_000);
        assert_eq!(s.interval_loss_percent(), 0.0);
    }

    #[test]
    fn alternating_delay_gives_the_rfc_estimate() {
        // Every other packet 10 ms late: |D| = 10 ms each time, so J tends to 10 ms.
        let t0 = Instant::now();
        let mut s = ReceiveStats::new(48_000);
        for i in 0..400u16 {
            let late = if i % 2 == 1 { 10 } else { 0 };
            let at = t0 + Duration::from_millis(20 * u64::from(i) + late);
            s.on_packet(i, u32::from(i) * 960, 50, at);
        }
        assert!((s.jitter_ms() - 10.0).abs() < 0.2, "{}", s.jitter_ms());
    }

    #[test]
    fn loss_across_a_wrap_and_per_interval() {
        let t0 = Instant::now();
        let mut s = ReceiveStats::new(8000);
        let mut seq = 65_500u16;
        for i in 0..100u32 {
            if i % 10 != 3 {
                s.on_packet(seq, i * 160, 160, t0);
            }
            seq = seq.wrapping_add(1);
        }
        assert_eq!(s.expected(), 100);
        assert_eq!(s.lost(), 10);
        assert!((s.interval_loss_percent() - 10.0).abs() < 1e-9);
        assert_eq!(s.interval_loss_percent(), 0.0);
        assert!((units_to_ms(480, 48_000) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn a_new_numbering_is_not_loss() {
        // A gateway switches its source mid-call: the numbers jump by 20000.
        let t0 = Instant::now();
        let mut s = ReceiveStats::new(8000);
        for i in 0..50u16 {
            s.on_packet(
                i,
                u32::from(i) * 160,
                160,
                t0 + Duration::from_millis(20 * u64::from(i)),
            );
        }
        for i in 0..50u16 {
            let at = t0 + Duration::from_millis(1000 + 20 * u64::from(i));
            s.on_packet(20_000 + i, 900_000 + u32::from(i) * 160, 160, at);
        }
        // The first packet of the new numbering is held as a stray, not counted.
        assert_eq!((s.expected(), s.received(), s.lost()), (99, 99, 0));
        assert!(s.jitter_ms() < 1.0, "{}", s.jitter_ms());
        s.restart();
        s.on_packet(7, 0, 160, t0 + Duration::from_secs(3));
        assert_eq!((s.expected(), s.received(), s.lost()), (100, 100, 0));
    }

    #[test]
    fn events_count_but_do_not_make_jitter() {
        // 100 ms of audio, a digit of six event packets with one timestamp, audio again.
        let t0 = Instant::now();
        let mut s = ReceiveStats::new(8000);
        for i in 0..30u16 {
            let at = t0 + Duration::from_millis(20 * u64::from(i));
            if (10..16).contains(&i) {
                s.on_untimed_packet(i, 4);
            } else {
                s.on_packet(i, u32::from(i) * 160, 160, at);
            }
        }
        assert_eq!((s.received(), s.lost()), (30, 0));
        assert_eq!(s.jitter_units(), 0);
    }
}
