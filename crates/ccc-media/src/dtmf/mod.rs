//! DTMF as RFC 4733 telephone events: the payload, a sender that turns digits into
//! packets on the audio clock, and a receiver that turns packets back into digits.
//!
//! Both are sans-IO: the call's media loop asks the sender on every 20 ms tick whether
//! a DTMF packet replaces the audio packet, and hands the receiver every packet of the
//! telephone-event payload type.

mod payload;
mod receiver;
mod sender;

pub use payload::{EventPayload, digit_of, event_code};
pub use receiver::{DtmfReceiver, EventPacket};
pub use sender::{DtmfPacket, DtmfSender, DtmfTiming};

/// A telephone-event payload that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// A telephone-event payload is 4 bytes (or a multiple, for redundancy).
    #[error("a telephone-event payload is 4 bytes, got {0}")]
    BadLength(usize),
    /// Only events 0-15 (the DTMF digits) are handled.
    #[error("event {0} is not a DTMF digit")]
    NotADigit(u8),
    /// A character that is no DTMF digit.
    #[error("{0:?} is not a DTMF digit (0-9, *, #, A-D)")]
    BadDigit(char),
    /// More digits than [`MAX_QUEUED_DIGITS`] would wait to be played.
    #[error("at most {MAX_QUEUED_DIGITS} DTMF digits may wait to be played")]
    TooMany,
}

/// How many digits may wait in a [`DtmfSender`]: 256, 41 s of digits at the default
/// 160 ms each (far more than any dial string), so a caller's runaway string cannot
/// grow the queue without end.
pub const MAX_QUEUED_DIGITS: usize = 256;
