//! Digits to telephone-event packets, on the audio clock.

use std::collections::VecDeque;

use super::payload::{EventPayload, event_code};
use super::{DtmfError, MAX_QUEUED_DIGITS};

/// How digits are played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfTiming {
    /// Tone length in ms (default 100).
    pub tone_ms: u32,
    /// Silence after each digit in ms (default 60).
    pub gap_ms: u32,
    /// Power level, dBm0 below zero (default 10).
    pub volume: u8,
}

impl Default for DtmfTiming {
    fn default() -> Self {
        Self {
            tone_ms: 100,
            gap_ms: 60,
            volume: 10,
        }
    }
}

/// A packet to send in place of the audio packet of this tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    /// The payload.
    pub payload: EventPayload,
    /// The RTP timestamp: the event's start, the same in all its packets.
    pub timestamp: u32,
    /// The RTP marker bit: set on the event's first packet.
    pub marker: bool,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Idle,
    /// Playing `event` since `start`; `elapsed` clock units so far.
    Tone {
        event: u8,
        start: u32,
        elapsed: u32,
    },
    /// Sending the end packet; `left` more times after this one.
    Ending {
        event: u8,
        start: u32,
        duration: u16,
        left: u8,
    },
    /// Silence until `ticks` more ticks passed.
    Gap {
        ticks: u32,
    },
}

/// Turns queued digits into RFC 4733 packets: the first with the marker bit, one per
/// 20 ms tick with a growing duration, then the end packet three times (section
/// 2.5.1.4), then a gap of audio before the next digit.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    clock_rate: u32,
    timing: DtmfTiming,
    queue: VecDeque<u8>,
    state: State,
}

impl DtmfSender {
    /// A sender for a telephone-event payload type of `clock_rate` Hz (the negotiated
    /// codec's rate: 8000 with PCMU/PCMA, 48000 with Opus).
    pub fn new(clock_rate: u32, timing: DtmfTiming) -> Self {
        Self {
            clock_rate,
            timing,
            queue: VecDeque::new(),
            state: State::Idle,
        }
    }

    /// Queues digits (0-9, `*`, `#`, A-D); nothing is queued if one is not a digit, or
    /// if more than [`MAX_QUEUED_DIGITS`] would then wait.
    pub fn send(&mut self, digits: &str) -> Result<(), DtmfError> {
        let mut codes = Vec::new();
        for digit in digits.chars() {
            codes.push(event_code(digit)?);
            if self.queue.len() + codes.len() > MAX_QUEUED_DIGITS {
                return Err(DtmfError::TooMany);
            }
        }
        self.queue.extend(codes);
        Ok(())
    }

    /// Whether digits are queued or playing.
    pub fn is_busy(&self) -> bool {
        !self.queue.is_empty() || !matches!(self.state, State::Idle)
    }

    fn units(&self, ms: u32) -> u32 {
        // Saturating: the timing is the caller's, and may be anything.
        self.clock_rate.saturating_mul(ms) / 1000
    }

    /// Called on every 20 ms tick with the RTP timestamp the audio packet would carry:
    /// the packet to send instead, or `None` to send audio.
    pub fn tick(&mut self, timestamp: u32) -> Option<DtmfPacket> {
        let frame = self.units(crate::audio::FRAME_MS);
        loop {
            match self.state {
                State::Idle => {
                    let event = self.queue.pop_front()?;
                    self.state = State::Tone {
                        event,
                        start: timestamp,
                        elapsed: 0,
                    };
                }
                State::Tone {
                    event,
                    start,
                    elapsed,
                } => {
                    let elapsed = elapsed.saturating_add(frame);
                    let duration = u16::try_from(elapsed).unwrap_or(u16::MAX);
                    let packet = DtmfPacket {
                        payload: EventPayload {
                            event,
                            end: false,
                            volume: self.timing.volume,
                            duration,
                        },
                        timestamp: start,
                        marker: elapsed == frame,
                    };
                    self.state = if elapsed >= self.units(self.timing.tone_ms) {
                        State::Ending {
                            event,
                            start,
                            duration,
                            left: 3,
                        }
                    } else {
                        State::Tone {
                            event,
                            start,
                            elapsed,
                        }
                    };
                    return Some(packet);
                }
                State::Ending {
                    event,
                    start,
                    duration,
                    left,
                } => {
                    self.state = if left > 1 {
                        State::Ending {
                            event,
                            start,
                            duration,
                            left: left - 1,
                        }
                    } else {
                        State::Gap {
                            ticks: self.timing.gap_ms.div_ceil(crate::audio::FRAME_MS),
                        }
                    };
                    return Some(DtmfPacket {
                        payload: EventPayload {
                            event,
                            end: true,
                            volume: self.timing.volume,
                            duration,
                        },
                        timestamp: start,
                        marker: false,
                    });
                }
                State::Gap { ticks } => {
                    if ticks == 0 {
                        self.state = State::Idle;
                        continue;
                    }
                    self.state = State::Gap { ticks: ticks - 1 };
                    return None;
                }
            }
        }
    }
}
