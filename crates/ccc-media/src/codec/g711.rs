//! G.711 (ITU-T, 1972): mu-law (PCMU, payload type 0) and A-law (PCMA, payload type 8).
//!
//! Written here rather than taken from a crate: it is a few dozen lines of bit
//! arithmetic, and the crates that offer it pull in dozens of dependencies. Checked
//! against every code word and every 16-bit sample of CPython's `audioop` (see
//! `scripts/gen-g711-vectors.py` and `tests/g711.rs`).

/// Mu-law code word of a 16-bit linear sample.
pub const fn ulaw_encode(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 8159;
    // To 14 bits, as the standard's segment table is defined on.
    let mut value = (sample as i32) >> 2;
    let mask: u8 = if value < 0 {
        value = -value;
        0x7F
    } else {
        0xFF
    };
    if value > CLIP {
        value = CLIP;
    }
    value += BIAS >> 2;
    let segment = segment_of(value, 0x3F);
    if segment >= 8 {
        return 0x7F ^ mask;
    }
    let word = ((segment << 4) | ((value >> (segment + 1)) & 0xF)) as u8;
    word ^ mask
}

/// 16-bit linear sample of a mu-law code word.
pub const fn ulaw_decode(word: u8) -> i16 {
    const BIAS: i32 = 0x84;
    let word = !word;
    let mut t = (((word & 0x0F) as i32) << 3) + BIAS;
    t <<= ((word & 0x70) >> 4) as i32;
    (if word & 0x80 != 0 { BIAS - t } else { t - BIAS }) as i16
}

/// A-law code word of a 16-bit linear sample.
pub const fn alaw_encode(sample: i16) -> u8 {
    // To 13 bits.
    let mut value = (sample as i32) >> 3;
    let mask: u8 = if value >= 0 {
        0xD5
    } else {
        value = -value - 1;
        0x55
    };
    let segment = segment_of(value, 0x1F);
    if segment >= 8 {
        return 0x7F ^ mask;
    }
    let mut word = (segment << 4) as u8;
    word |= if segment < 2 {
        (value >> 1) & 0xF
    } else {
        (value >> segment) & 0xF
    } as u8;
    word ^ mask
}

/// 16-bit linear sample of an A-law code word.
pub const fn alaw_decode(word: u8) -> i16 {
    let word = word ^ 0x55;
    let mut t = ((word & 0x0F) as i32) << 4;
    let segment = ((word & 0x70) >> 4) as i32;
    t += match segment {
        0 => 8,
        _ => 0x108,
    };
    if segment > 1 {
        t <<= segment - 1;
    }
    (if word & 0x80 != 0 { t } else { -t }) as i16
}

/// The segment (0-7, or 8 when past the last) of `value`, whose first segment ends at
/// `first_end`; each next segment ends at twice the previous end plus one.
const fn segment_of(value: i32, first_end: i32) -> i32 {
    let mut segment = 0;
    let mut end = first_end;
    while segment < 8 {
        if value <= end {
            return segment;
        }
        end = end * 2 + 1;
        segment += 1;
    }
    8
}

/// Encodes samples into `out` (one byte per sample), mu-law.
pub fn ulaw_encode_into(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|s| ulaw_encode(*s)));
}

/// Decodes mu-law bytes into `out`.
pub fn ulaw_decode_into(words: &[u8], out: &mut Vec<i16>) {
    out.extend(words.iter().map(|w| ULAW_TABLE[usize::from(*w)]));
}

/// Encodes samples into `out`, A-law.
pub fn alaw_encode_into(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|s| alaw_encode(*s)));
}

/// Decodes A-law bytes into `out`.
pub fn alaw_decode_into(words: &[u8], out: &mut Vec<i16>) {
    out.extend(words.iter().map(|w| ALAW_TABLE[usize::from(*w)]));
}

static ULAW_TABLE: [i16; 256] = {
    let mut out = [0; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = ulaw_decode(i as u8);
        i += 1;
    }
    out
};

static ALAW_TABLE: [i16; 256] = {
    let mut out = [0; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = alaw_decode(i as u8);
        i += 1;
    }
    out
};
