//! The 4-byte telephone-event payload (RFC 4733 section 2.3).

use super::DtmfError;

/// The event code of a DTMF digit: `0`-`9` are 0-9, `*` 10, `#` 11, `A`-`D` 12-15.
pub fn event_code(digit: char) -> Result<u8, DtmfError> {
    match digit {
        '0'..='9' => Ok(digit as u8 - b'0'),
        '*' => Ok(10),
        '#' => Ok(11),
        'A'..='D' => Ok(digit as u8 - b'A' + 12),
        'a'..='d' => Ok(digit as u8 - b'a' + 12),
        _ => Err(DtmfError::BadDigit(digit)),
    }
}

/// The digit of an event code 0-15.
pub fn digit_of(code: u8) -> Result<char, DtmfError> {
    Ok(match code {
        0..=9 => char::from(b'0' + code),
        10 => '*',
        11 => '#',
        12..=15 => char::from(b'A' + code - 12),
        _ => return Err(DtmfError::NotADigit(code)),
    })
}

/// One telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPayload {
    /// The event code (0-15 for DTMF).
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// The power level, as dBm0 below zero (0-63; 10 is usual).
    pub volume: u8,
    /// How long the event has lasted so far, in clock units of the payload type.
    pub duration: u16,
}

impl EventPayload {
    /// The 4 bytes on the wire.
    pub fn encode(&self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3F),
            d0,
            d1,
        ]
    }

    /// Reads the first event of a payload (a longer one carries redundant events).
    pub fn decode(bytes: &[u8]) -> Result<Self, DtmfError> {
        if bytes.len() < 4 || !bytes.len().is_multiple_of(4) {
            return Err(DtmfError::BadLength(bytes.len()));
        }
        Ok(Self {
            event: bytes[0],
            end: bytes[1] & 0x80 != 0,
            volume: bytes[1] & 0x3F,
            duration: u16::from_be_bytes([bytes[2], bytes[3]]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_codes() {
        for (digit, code) in [
            ('0', 0),
            ('9', 9),
            ('*', 10),
            ('#', 11),
            ('A', 12),
            ('D', 15),
        ] {
            assert_eq!(event_code(digit), Ok(code));
            assert_eq!(digit_of(code), Ok(digit));
        }
        assert_eq!(event_code('d'), Ok(15));
        assert_eq!(event_code('x'), Err(DtmfError::BadDigit('x')));
        assert_eq!(digit_of(16), Err(DtmfError::NotADigit(16)));
    }

    #[test]
    fn wire_format() {
        // RFC 4733 figure 1: event 5, end, volume 10, duration 800.
        let p = EventPayload {
            event: 5,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(p.encode(), [5, 0x8A, 0x03, 0x20]);
        assert_eq!(EventPayload::decode(&p.encode()), Ok(p));
        assert_eq!(
            EventPayload::decode(&[1, 2, 3]),
            Err(DtmfError::BadLength(3))
        );
        assert_eq!(EventPayload::decode(&[]), Err(DtmfError::BadLength(0)));
        assert!(EventPayload::decode(&[5, 0x8A, 0, 1, 5, 0x8A, 0, 2]).is_ok());
    }
}
