//! The playout buffer of received packets: packets in, in sequence-number order, and
//! out one at a time when the player needs the next (a payload, or a gap to conceal).
//! Sans-IO: the call's media loop pushes what arrives and pops as its 20 ms clock
//! consumes the audio; a packet may hold any duration (20, 30, 60 ms...), the player
//! pops again only once it has played what the last one held.
//!
//! Playout starts once `depth` packets are queued, so that much jitter is absorbed; a
//! packet that arrives after its turn is counted late and dropped; when the buffer runs
//! dry (the far end stopped sending, e.g. on hold) it waits for `depth` packets again.
//! A jump in the numbering (RFC 3550 A.1: the far end restarted, or a gateway switched
//! its source) starts the buffer afresh instead of taking every later packet as late.

use std::collections::BTreeMap;

use crate::quality::sequence::{Place, Sequence};

/// What the buffer gives when the player needs the next packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// Times the far end's numbering started again (a new source, a restarted sender).
    pub restarts: u64,
}

/// A playout buffer of payloads `P`.
#[derive(Debug, Clone)]
pub struct JitterBuffer<P> {
    depth: usize,
    max: usize,
    queue: BTreeMap<u64, P>,
    /// Extended sequence number due next, once playing.
    next: Option<u64>,
    /// The numbering of the stream, for unwrapping and restarts.
    sequence: Sequence,
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
            sequence: Sequence::default(),
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

    /// Takes a packet with sequence number `seq`.
    pub fn push(&mut self, seq: u16, payload: P) {
        let ext = match self.sequence.place(seq) {
            Place::InSequence(ext) => ext,
            Place::Restart(ext) => {
                self.start_again();
                ext
            }
            Place::Stray => return,
        };
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

    /// The far end's stream starts again (another SSRC): what is queued is dropped and
    /// the next packets are numbered afresh.
    pub fn restart(&mut self) {
        self.sequence.reset();
        self.start_again();
    }

    fn start_again(&mut self) {
        self.queue.clear();
        self.next = None;
        self.counters.restarts += 1;
    }

    /// The next packet to play: its payload, a gap to conceal, or nothing.
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
        if let Some((&first, _)) = self.queue.first_key_value()
            && first.saturating_sub(next) > self.max as u64
        {
            // More missing than the buffer could ever hold: concealing each would only
            // delay what is here. Go on from the first packet that came.
            if let Some((first, payload)) = self.queue.pop_first() {
                self.next = Some(first + 1);
                return Playout::Packet(payload);
            }
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
    fn a_jump_in_the_numbering_starts_again_instead_of_dropping_all() {
        // The far end's numbering jumps back by 25000 (a gateway switched its source):
        // taken as late, every packet would be dropped for minutes.
        let mut b = JitterBuffer::new(1, 10);
        for seq in 30_000..30_010u16 {
            b.push(seq, seq);
            assert_eq!(b.pop(), Playout::Packet(seq));
        }
        for seq in 5_000..5_010u16 {
            b.push(seq, seq);
            let _ = b.pop();
        }
        b.push(5_010, 5_010);
        assert_eq!(b.pop(), Playout::Packet(5_010));
        assert_eq!(b.counters().restarts, 1);
        assert_eq!(b.counters().late, 0);
        // A new source announced by the call: numbered afresh at once.
        b.restart();
        b.push(100, 100);
        assert_eq!(b.pop(), Playout::Packet(100));
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
