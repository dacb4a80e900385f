//! The platform's timers: a heap of deadlines, checked when they fire.
//!
//! Nothing is ever removed from the heap: a timer whose leg moved on is simply found
//! stale when it fires (each kind says what it expects), which keeps cancelling free.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use super::call::LegId;

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// An offered call rang too long at an agent: break and requeue.
    RingTimeout(LegId),
    /// A dialed party did not answer in time.
    NoAnswer(LegId),
    /// A simulated line answers.
    LineAnswer(LegId),
    /// A simulated line declines.
    LineReject(LegId),
    /// A simulated line is busy.
    LineBusy(LegId),
    /// A simulated line hangs up.
    LineHangUp(LegId),
    /// A virtual device answers the leg its agent placed.
    VirtualAnswer(LegId),
    /// The surveyed customer has given a rating.
    SurveyDone(LegId),
}

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64, Timer)>>,
    seq: u64,
}

impl Timers {
    pub(crate) fn at(&mut self, when: Instant, timer: Timer) {
        self.seq += 1;
        self.heap.push(Reverse((when, self.seq, timer)));
    }

    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((when, _, _))| *when)
    }

    /// The next timer due at `now`, if any.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        match self.heap.peek() {
            Some(Reverse((when, _, _))) if *when <= now => {
                self.heap.pop().map(|Reverse((_, _, timer))| timer)
            }
            _ => None,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}
