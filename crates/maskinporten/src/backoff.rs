//! The one backoff of the workspace: exponential with full jitter, bounded.
//!
//! The Maskinporten client and the Toll client (`digitoll-client`) wait with
//! this between attempts, so a burst of failing callers spreads out instead
//! of retrying in step.

use std::time::Duration;

use rand::Rng as _;

/// The upper bound of the wait before attempt `attempt + 1` (`attempt` starts
/// at 1): `initial · 2^(attempt − 1)`, never more than `max`.
pub fn backoff_cap(initial: Duration, max: Duration, attempt: u32) -> Duration {
    initial
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(max)
}

/// The wait before attempt `attempt + 1`: uniformly random in
/// `0..=`[`backoff_cap`]`(initial, max, attempt)` ("full jitter").
pub fn backoff(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let cap = backoff_cap(initial, max, attempt);
    let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_doubles_up_to_the_maximum() {
        let (i, m) = (Duration::from_millis(100), Duration::from_millis(300));
        assert_eq!(backoff_cap(i, m, 0), Duration::from_millis(100));
        assert_eq!(backoff_cap(i, m, 1), Duration::from_millis(100));
        assert_eq!(backoff_cap(i, m, 2), Duration::from_millis(200));
        assert_eq!(backoff_cap(i, m, 3), Duration::from_millis(300));
        assert_eq!(backoff_cap(i, m, 9), Duration::from_millis(300));
        assert_eq!(backoff_cap(i, m, u32::MAX), Duration::from_millis(300));
        assert_eq!(
            backoff_cap(Duration::from_secs(u64::MAX / 2), Duration::MAX, 40),
            Duration::MAX
        );
    }

    #[test]
    fn waits_stay_within_the_cap_and_spread_over_it() {
        let (i, m) = (Duration::from_millis(100), Duration::from_millis(300));
        for attempt in [1, 2, 3, 9, 30, u32::MAX] {
            let cap = backoff_cap(i, m, attempt);
            let waits: Vec<Duration> = (0..200).map(|_| backoff(i, m, attempt)).collect();
            assert!(waits.iter().all(|w| *w <= cap), "{attempt}: {waits:?}");
            // Full jitter: some waits fall in the lower half of the range.
            assert!(waits.iter().any(|w| *w < cap / 2), "{attempt}: {waits:?}");
            assert!(waits.iter().any(|w| *w > cap / 2), "{attempt}: {waits:?}");
        }
        assert_eq!(backoff(Duration::ZERO, m, 3), Duration::ZERO);
    }
}
