//! RTP sequence numbers extended past their 16-bit wrap, with the restart rule of
//! RFC 3550 appendix A.1: a jump of more than [`MAX_DROPOUT`] ahead or
//! [`MAX_MISORDER`] behind is a new numbering only once the packet after it follows on
//! (a gateway that switched its source, a sender that restarted); a lone stray is
//! ignored. Shared by the receive figures and the jitter buffer, so both see one
//! stream the same way.

/// A jump ahead larger than this is not taken as loss (RFC 3550 A.1).
pub(crate) const MAX_DROPOUT: u64 = 3000;
/// A packet further behind than this is not taken as reordering (RFC 3550 A.1).
pub(crate) const MAX_MISORDER: u64 = 100;

/// Where a packet falls in the numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// In the current numbering (ahead, or reordered behind), at this extended number.
    InSequence(u64),
    /// The second packet of a new numbering: the numbering starts again; this packet
    /// is at this extended number, above every number given before.
    Restart(u64),
    /// A jump that may start a new numbering (if the next packet follows it); not
    /// counted for now.
    Stray,
}

/// The extended numbering of one stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sequence {
    highest: Option<u64>,
    /// After a stray: the number that would confirm a new numbering.
    probation: Option<u16>,
}

impl Sequence {
    /// Where `seq` falls.
    pub(crate) fn place(&mut self, seq: u16) -> Place {
        let Some(highest) = self.highest else {
            // Start high enough that a reordered earlier packet cannot go below zero.
            let ext = (1u64 << 32) | u64::from(seq);
            self.highest = Some(ext);
            return Place::InSequence(ext);
        };
        let cycle = highest & !0xFFFF;
        let ext = [
            cycle.wrapping_sub(0x1_0000) | u64::from(seq),
            cycle | u64::from(seq),
            (cycle + 0x1_0000) | u64::from(seq),
        ]
        .into_iter()
        .min_by_key(|c| c.abs_diff(highest))
        .unwrap_or(cycle | u64::from(seq));
        let jumped = if ext > highest {
            ext - highest > MAX_DROPOUT
        } else {
            highest - ext > MAX_MISORDER
        };
        if !jumped {
            self.probation = None;
            self.highest = Some(highest.max(ext));
            return Place::InSequence(ext);
        }
        if self.probation == Some(seq) {
            // Two in a row: a new numbering, placed two cycles above the old one.
            self.probation = None;
            let ext = (cycle + 0x2_0000) | u64::from(seq);
            self.highest = Some(ext);
            return Place::Restart(ext);
        }
        self.probation = Some(seq.wrapping_add(1));
        Place::Stray
    }

    /// Forgets the numbering: the next packet starts a new one.
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_reorders_and_restarts() {
        let mut s = Sequence::default();
        let Place::InSequence(first) = s.place(65_534) else {
            panic!()
        };
        assert_eq!(s.place(65_535), Place::InSequence(first + 1));
        assert_eq!(s.place(1), Place::InSequence(first + 3));
        assert_eq!(s.place(0), Place::InSequence(first + 2), "reordered");
        // A jump to 30000: a stray, then the numbering restarts when 30001 follows.
        assert_eq!(s.place(30_000), Place::Stray);
        assert_eq!(
            s.place(2),
            Place::InSequence(first + 4),
            "the old stream goes on"
        );
        assert_eq!(s.place(30_000), Place::Stray);
        let Place::Restart(restart) = s.place(30_001) else {
            panic!()
        };
        assert!(restart > first + 4);
        assert_eq!(s.place(30_002), Place::InSequence(restart + 1));
        s.reset();
        assert!(matches!(s.place(7), Place::InSequence(_)));
    }
}
