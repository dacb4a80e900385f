//! Deadlines a caller's duration away. `Instant + Duration` panics on overflow, and a
//! caller may well configure `Duration::MAX` to mean "no limit"; these saturate instead.

use std::time::Duration;

use tokio::time::Instant;

/// About thirty years: further than any wait here needs, near enough that every clock
/// can hold it.
const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// `now + after` on tokio's clock, or a far future when that does not fit.
pub(crate) fn after(after: Duration) -> Instant {
    later(Instant::now(), after)
}

/// `at + after`, or a far future when that does not fit.
pub(crate) fn later(at: Instant, after: Duration) -> Instant {
    at.checked_add(after)
        .or_else(|| at.checked_add(FAR))
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn saturates() {
        let soon = after(Duration::from_secs(1));
        assert!(soon > Instant::now() && soon <= Instant::now() + Duration::from_secs(1));
        assert!(after(Duration::MAX) > Instant::now() + Duration::from_secs(3600 * 24 * 365));
    }
}
