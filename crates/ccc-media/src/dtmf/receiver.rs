//! Telephone-event packets back to digits.

use super::DtmfError;
use super::payload::{EventPayload, digit_of};

/// Reports each digit once: an event is known by its RTP timestamp, so its repeated
/// packets and the three end packets count once, and a lost first packet does not lose
/// the digit.
#[derive(Debug, Clone, Default)]
pub struct DtmfReceiver {
    /// The event being received: its timestamp, code, and the longest duration seen.
    last_event: Option<(u32, u8, u16)>,
}

/// What one telephone-event packet says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventPacket {
    /// The digit, if this packet starts a new event.
    pub digit: Option<char>,
    /// How many clock units of the telephone-event's rate the event grew by with this
    /// packet: the time its packets stand for in place of audio (0 for the repeated end
    /// packets).
    pub grew_by: u16,
}

impl DtmfReceiver {
    /// A receiver that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one packet of the telephone-event payload type: the digit if this packet
    /// starts a new event, `None` if it continues one, an error if it is malformed.
    pub fn receive(&mut self, timestamp: u32, payload: &[u8]) -> Result<Option<char>, DtmfError> {
        self.take(timestamp, payload).map(|p| p.digit)
    }

    /// Takes one packet as [`Self::receive`] does, and says how long it stands for.
    pub fn take(&mut self, timestamp: u32, payload: &[u8]) -> Result<EventPacket, DtmfError> {
        let event = EventPayload::decode(payload)?;
        let digit = digit_of(event.event)?;
        match self.last_event {
            Some((ts, code, longest)) if ts == timestamp && code == event.event => {
                let grew_by = event.duration.saturating_sub(longest);
                self.last_event = Some((ts, code, longest.max(event.duration)));
                Ok(EventPacket {
                    digit: None,
                    grew_by,
                })
            }
            _ => {
                self.last_event = Some((timestamp, event.event, event.duration));
                Ok(EventPacket {
                    digit: Some(digit),
                    grew_by: event.duration,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtmf::{DtmfSender, DtmfTiming};

    /// Plays digits through a sender, ticking the audio clock, into a receiver.
    fn play(
        digits: &str,
        clock_rate: u32,
        lose_first: bool,
    ) -> (String, Vec<crate::dtmf::DtmfPacket>) {
        let mut sender = DtmfSender::new(clock_rate, DtmfTiming::default());
        sender.send(digits).unwrap();
        let mut receiver = DtmfReceiver::new();
        let mut heard = String::new();
        let mut packets = Vec::new();
        let mut timestamp = 1000u32;
        for _ in 0..400 {
            if let Some(packet) = sender.tick(timestamp) {
                packets.push(packet);
                let lost = lose_first && packet.marker;
                let digit = if lost {
                    None
                } else {
                    receiver
                        .receive(packet.timestamp, &packet.payload.encode())
                        .unwrap()
                };
                heard.extend(digit);
            }
            timestamp = timestamp.wrapping_add(clock_rate / 50);
            if !sender.is_busy() {
                break;
            }
        }
        (heard, packets)
    }

    #[test]
    fn digits_arrive_once_and_in_order() {
        for rate in [8000, 48000] {
            let (heard, _) = play("0123456789*#ABCD", rate, false);
            assert_eq!(heard, "0123456789*#ABCD", "at {rate} Hz");
        }
    }

    #[test]
    fn a_lost_first_packet_loses_no_digit() {
        let (heard, _) = play("12#", 8000, true);
        assert_eq!(heard, "12#");
    }

    #[test]
    fn packets_follow_rfc_4733() {
        let (_, packets) = play("5", 8000, false);
        // 100 ms at 20 ms a tick: 5 tone packets, then the end packet three times.
        assert_eq!(packets.len(), 8);
        assert!(packets[0].marker && packets[1..].iter().all(|p| !p.marker));
        assert!(packets.iter().all(|p| p.timestamp == packets[0].timestamp));
        let durations: Vec<u16> = packets.iter().map(|p| p.payload.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800, 800]);
        let ends = packets.iter().filter(|p| p.payload.end).count();
        assert_eq!(ends, 3);
        assert!(
            packets
                .iter()
                .all(|p| p.payload.event == 5 && p.payload.volume == 10)
        );
    }

    #[test]
    fn digits_are_separated_by_audio() {
        let mut sender = DtmfSender::new(8000, DtmfTiming::default());
        sender.send("11").unwrap();
        let ticks: Vec<bool> = (0..30u32).map(|i| sender.tick(i * 160).is_some()).collect();
        let first_gap = ticks.iter().position(|sent| !sent).unwrap();
        assert_eq!(first_gap, 8);
        assert_eq!(
            &ticks[8..11],
            [false, false, false],
            "60 ms of audio between digits"
        );
        assert!(ticks[11], "the second digit");
    }

    #[test]
    fn each_packet_says_how_long_it_stands_for() {
        let (_, packets) = play("5", 8000, false);
        let mut receiver = DtmfReceiver::new();
        let grown: Vec<u16> = packets
            .iter()
            .map(|p| {
                receiver
                    .take(p.timestamp, &p.payload.encode())
                    .unwrap()
                    .grew_by
            })
            .collect();
        // 20 ms a packet while the tone lasts; the repeated end packets take no time.
        assert_eq!(grown, [160, 160, 160, 160, 160, 0, 0, 0]);
    }

    #[test]
    fn bad_input() {
        let mut sender = DtmfSender::new(8000, DtmfTiming::default());
        assert!(sender.send("12x").is_err());
        assert!(!sender.is_busy(), "nothing queued from a bad string");
        // A runaway string: refused whole, the queue stays bounded.
        assert_eq!(
            sender.send(&"1".repeat(1_000_000)),
            Err(crate::dtmf::DtmfError::TooMany)
        );
        assert!(!sender.is_busy());
        sender.send(&"2".repeat(256)).unwrap();
        // Timing from a caller may be anything: no overflow.
        let mut wild = DtmfSender::new(
            u32::MAX,
            DtmfTiming {
                tone_ms: u32::MAX,
                gap_ms: u32::MAX,
                volume: 255,
            },
        );
        wild.send("1").unwrap();
        for i in 0..100 {
            let _ = wild.tick(i);
        }
        assert_eq!(sender.send("3"), Err(crate::dtmf::DtmfError::TooMany));
        let mut receiver = DtmfReceiver::new();
        assert!(receiver.receive(0, &[99, 0, 0, 1]).is_err());
        assert!(receiver.receive(0, &[1]).is_err());
    }
}
