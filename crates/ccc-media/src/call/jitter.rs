//! The playout buffer of received audio: packets in, one 20 ms payload (or a gap to
//! conceal) out per tick. Sans-IO: the call's media loop pushes what arrives and pops on
//! its own 20 ms clock.
//!
//! Packets are ordered by RTP sequence number (each carries 20 ms, the packet time this
//! crate negotiates). Playout starts once `depth` packets are queued, so that much
//! jitter is absorbed; a packet that arrives after its turn is counted late and
//! dropped; when the buffer runs dry (the far end stopped sending, e.g. on hold) it
//! waits for `depth` packets again.

use std::collections::BTreeMap;

/// What one tick plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout<P> {
    /// The payload due now.
    Packet(P),
    /// The packet due now is missing while later ones are here: conceal it.
    Lost,
    /// Nothing to play: not started, or run dry.
    Empty,
}

/// Counters of what the buffer has done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterCounters {
    /// Packets that came after their turn and were dropped.
    pub late: u64,
    /// Packets played as concealment because they were missing at their turn.
    pub concealed: u64,
    /// Packets dropped because the buffer was full (a burst beyond `max`).
    pub overflow: u64,
    /// Packets seen twice.
    pub duplicate: u64,
    /// Times the buffer ran dry while playing.
    pub underruns: u64,
}

/// A playout buffer of payloads `P`.
#[derive(Debug, Clone)]
pub struct JitterBuffer<P> {
    depth: usize,
    max: usize,
    queue: BTreeMap<u64, P>,
    /// Extended sequence number due next, once playing.
    next: Option<u64>,
    /// The highest extended sequence number seen, for unwrapping.
    highest: Option<u64>,
    counters: JitterCounters,
}

impl<P> JitterBuffer<P> {
    /// A buffer that starts playing with `depth` packets queued (at least 1) and holds at
    /// most `max` (at least `depth`).
    pub fn new(depth: usize, max: usize) -> Self {
        let depth = depth.max(1);
        Self {
            depth,
            max: max.max(depth),
            queue: BTreeMap::new(),
            next: None,
            highest: None,
            counters: JitterCounters::default(),
        }
    }

    /// The counters so far.
    pub fn counters(&self) -> JitterCounters {
        self.counters
    }

    /// Packets queued now.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The 16-bit sequence number extended past wraps, relative to the highest seen.
    fn extend(&mut self, seq: u16) -> u64 {
        let Some(highest) = self.highest else {
            // Start high enough that a reordered earlier packet cannot go below zero.
            let ext = (1u64 << 32) + u64::from(seq);
            self.highest = Some(ext);
            return ext;
        };
        let cycle = highest & !0xFFFF;
        let candidates = [
            cycle.wrapping_sub(0x1_0000) | u64::from(seq),
            cycle | u64::from(seq),
            (cycle + 0x1_0000) | u64::from(seq),
        ];
        let ext = candidates
            .into_iter()
            .min_by_key(|c| c.abs_diff(highest))
            .unwrap_or(cycle | u64::from(seq));
        if ext > highest {
            self.highest = Some(ext);
        }
        ext
    }

    /// Takes a packet with sequence number `seq`.
    pub fn push(&mut self, seq: u16, payload: P) {
        let ext = self.extend(seq);
        if self.next.is_some_and(|next| ext < next) {
            self.counters.late += 1;
            return;
        }
        if self.queue.contains_key(&ext) {
            self.counters.duplicate += 1;
            return;
        }
        self.queue.insert(ext, payload);
        while self.queue.len() > self.max {
            // Too far behind: drop the oldest and move the playout point on.
            if let Some((oldest, _)) = self.queue.pop_first() {
                self.counters.overflow += 1;
                self.next = Some(oldest + 1);
            }
        }
    }

    /// What plays this tick.
    pub fn pop(&mut self) -> Playout<P> {
        let Some(next) = self.next else {
            if self.queue.len() < self.depth {
                return Playout::Empty;
            }
            let Some((first, payload)) = self.queue.pop_first() else {
                return Playout::Empty;
            };
            self.next = Some(first + 1);
            return Playout::Packet(payload);
        };
        if let Some(payload) = self.queue.remove(&next) {
            self.next = Some(next + 1);
            return Playout::Packet(payload);
        }
        if self.queue.is_empty() {
            // Run dry: wait for `depth` packets again (a late one is then still played).
            self.counters.underruns += 1;
            self.next = None;
            return Playout::Empty;
        }
        self.counters.concealed += 1;
        self.next = Some(next + 1);
        Playout::Lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(buffer: &mut JitterBuffer<u16>, ticks: usize) -> Vec<Playout<u16>> {
        (0..ticks).map(|_| buffer.pop()).collect()
    }

    #[test]
    fn waits_for_depth_then_plays_in_order() {
        let mut b = JitterBuffer::new(2, 10);
        b.push(11, 11);
        assert_eq!(b.pop(), Playout::Empty);
        b.push(10, 10);
        assert_eq!(
            drain(&mut b, 3),
            [Playout::Packet(10), Playout::Packet(11), Playout::Empty]
        );
        assert_eq!(b.counters().underruns, 1);
    }

    #[test]
    fn a_gap_is_concealed_and_a_late_packet_dropped() {
        let mut b = JitterBuffer::new(1, 10);
        b.push(1, 1);
        b.push(3, 3);
        assert_eq!(
            drain(&mut b, 3),
            [Playout::Packet(1), Playout::Lost, Playout::Packet(3)]
        );
        b.push(2, 2);
        assert_eq!(b.counters().late, 1);
        assert_eq!(b.counters().concealed, 1);
        b.push(4, 4);
        b.push(4, 4);
        assert_eq!(b.counters().duplicate, 1);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut b = JitterBuffer::new(3, 10);
        for seq in [65534u16, 65535, 0, 1] {
            b.push(seq, seq);
        }
        assert_eq!(
            drain(&mut b, 4),
            [
                Playout::Packet(65534),
                Playout::Packet(65535),
                Playout::Packet(0),
                Playout::Packet(1)
            ]
        );
    }

    #[test]
    fn a_burst_beyond_max_drops_the_oldest() {
        let mut b = JitterBuffer::new(1, 3);
        for seq in 0..6u16 {
            b.push(seq, seq);
        }
        assert_eq!(b.len(), 3);
        assert_eq!(b.counters().overflow, 3);
        assert_eq!(b.pop(), Playout::Packet(3));
    }

    #[test]
    fn arbitrary_input_never_panics_and_stays_bounded() {
        let mut b = JitterBuffer::new(2, 8);
        let mut x = 12345u32;
        for _ in 0..10_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if x.is_multiple_of(3) {
                let _ = b.pop();
            } else {
                #[allow(clippy::cast_possible_truncation)]
                b.push((x >> 16) as u16, 0);
            }
            assert!(b.len() <= 8);
        }
    }
}
