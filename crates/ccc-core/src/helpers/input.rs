//! Checks of what a program passes to the guide's methods.

use std::fmt;

use crate::error::ErrorCode;

/// A value a method cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// `sendDtmf` takes 0-9, `*` and `#` only.
    #[error("DTMF takes the digits 0-9, * and #; got {0:?}")]
    BadDtmf(String),
    /// `applyForBreak` takes a break id from 1 to 5.
    #[error("the break id must be 1 to 5; got {0}")]
    BadBreakId(i64),
    /// `changeVolumeInCall` takes a volume from 0 to 1.
    #[error("the volume must be from 0 to 1; got {0}")]
    BadVolume(String),
    /// More skill groups than one sign-in takes.
    #[error("at most 20 skill groups can be signed in to at once; got {0}")]
    TooManySkillGroups(usize),
    /// The agent is in no skill group (`systemErrorNotInAnySkillGroup`).
    #[error("the agent is in no skill group; ask the call center administrator to add one")]
    NotInAnySkillGroup,
    /// No usable outbound number (`caller outof range`).
    #[error("no usable outbound number: {0}")]
    CallerOutOfRange(&'static str),
    /// No number to call (`no callee`).
    #[error("no number to call")]
    NoCallee,
}

impl InputError {
    /// The guide's error code for this problem, where it has one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::NotInAnySkillGroup => Some(ErrorCode::NotInAnySkillGroup),
            Self::CallerOutOfRange(_) => Some(ErrorCode::CallerOutOfRange),
            Self::NoCallee => Some(ErrorCode::NoCallee),
            _ => None,
        }
    }
}

/// DTMF digits: one or more of `0-9 * #` (M12).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DtmfDigits(String);

impl DtmfDigits {
    /// The digits in `text`, or [`InputError::BadDtmf`] for an empty text or any other
    /// character.
    ///
    /// ```
    /// use ccc_core::helpers::DtmfDigits;
    /// assert_eq!(DtmfDigits::parse("12#").unwrap().as_str(), "12#");
    /// assert!(DtmfDigits::parse("1a").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, InputError> {
        let ok = !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(InputError::BadDtmf(text.to_owned()))
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DtmfDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A break kind of `applyForBreak`: 1 to 5 (M6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BreakId(u8);

impl BreakId {
    /// The break id `id`, or [`InputError::BadBreakId`] outside 1..=5.
    pub fn new(id: i64) -> Result<Self, InputError> {
        match u8::try_from(id) {
            Ok(n @ 1..=5) => Ok(Self(n)),
            _ => Err(InputError::BadBreakId(id)),
        }
    }

    /// The number.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// A headset volume from 0 (silent) to 1 (full) (M30).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Volume(f32);

impl Volume {
    /// The volume `v`, or [`InputError::BadVolume`] outside [0, 1] or not a number.
    ///
    /// ```
    /// use ccc_core::helpers::Volume;
    /// assert_eq!(Volume::new(0.5).unwrap().get(), 0.5);
    /// assert!(Volume::new(1.5).is_err());
    /// assert!(Volume::new(f64::NAN).is_err());
    /// ```
    pub fn new(v: f64) -> Result<Self, InputError> {
        if (0.0..=1.0).contains(&v) {
            #[allow(clippy::cast_possible_truncation)]
            Ok(Self(v as f32))
        } else {
            Err(InputError::BadVolume(v.to_string()))
        }
    }

    /// The volume.
    pub fn get(self) -> f32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf() {
        for ok in ["0", "9", "*", "#", "0123456789*#"] {
            assert!(DtmfDigits::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "A", "1 2", "１", "12-3"] {
            assert_eq!(
                DtmfDigits::parse(bad),
                Err(InputError::BadDtmf(bad.into())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn break_ids() {
        assert_eq!(BreakId::new(1).unwrap().get(), 1);
        assert_eq!(BreakId::new(5).unwrap().get(), 5);
        for bad in [0, 6, -1, 256, i64::MAX] {
            assert_eq!(BreakId::new(bad), Err(InputError::BadBreakId(bad)));
        }
    }

    #[test]
    fn volumes() {
        assert_eq!(Volume::new(0.0).unwrap().get(), 0.0);
        assert_eq!(Volume::new(1.0).unwrap().get(), 1.0);
        for bad in [-0.01, 1.01, f64::INFINITY, f64::NAN] {
            assert!(Volume::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn guide_codes() {
        assert_eq!(InputError::NoCallee.code(), Some(ErrorCode::NoCallee));
        assert_eq!(InputError::BadBreakId(9).code(), None);
    }
}
