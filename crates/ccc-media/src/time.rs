//! Instants a caller's duration away. `Instant + Duration` panics on overflow, and a
//! caller may well pass `Duration::MAX` to mean "no limit"; these saturate instead.

use std::time::{Duration, Instant};

/// About thirty years: further than any wait here needs, near enough that every clock
/// can hold it.
const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// `now + after`, or a far future when that does not fit.
pub(crate) fn after(now: Instant, after: Duration) -> Instant {
    now.checked_add(after)
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}

/// The same on tokio's clock (which follows the paused test clock).
pub(crate) fn tokio_after(now: tokio::time::Instant, after: Duration) -> tokio::time::Instant {
    now.checked_add(after)
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturates() {
        let now = Instant::now();
        assert_eq!(
            after(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
        assert!(after(now, Duration::MAX) > now + Duration::from_secs(3600 * 24 * 365));
        let t = tokio::time::Instant::now();
        assert!(tokio_after(t, Duration::MAX) > t);
    }
}
