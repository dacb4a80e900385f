//! Instants a configured duration away. `Instant + Duration` panics on overflow, and a
//! program may well configure `Duration::MAX` to mean "never"; [`later`] saturates.

use std::time::Duration;

/// About thirty years: further than any wait here needs, near enough that every clock
/// can hold it.
const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// An instant of either clock used here (std's in the sans-IO cores, tokio's in the
/// shells).
pub(crate) trait Moment: Copy {
    fn checked_add(self, after: Duration) -> Option<Self>;
}

impl Moment for std::time::Instant {
    fn checked_add(self, after: Duration) -> Option<Self> {
        Self::checked_add(&self, after)
    }
}

impl Moment for tokio::time::Instant {
    fn checked_add(self, after: Duration) -> Option<Self> {
        Self::checked_add(&self, after)
    }
}

/// `at + after`, or a far future when that does not fit.
pub(crate) fn later<T: Moment>(at: T, after: Duration) -> T {
    at.checked_add(after)
        .or_else(|| at.checked_add(FAR))
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn saturates() {
        let now = Instant::now();
        assert_eq!(
            later(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
        assert!(later(now, Duration::MAX) > now + Duration::from_secs(3600 * 24 * 365));
    }
}
