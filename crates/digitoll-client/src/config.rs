//! Timing knobs: retries, validation polling and reconciliation. All are
//! plain structs so tests can shrink them to milliseconds.

use std::time::Duration;

/// Retries of safe requests (GETs, and the token exchange) on network
/// errors, 5xx and 429; and of any request whose connection could not be
/// opened (it certainly did not reach Toll).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Attempts in total, including the first (default 4).
    pub max_attempts: u32,
    /// Backoff base (default 200 ms): attempt n waits a random time in
    /// `[base·2^(n-1)/2, base·2^(n-1)]` ("equal jitter"), capped at `max_backoff`.
    pub initial_backoff: Duration,
    /// Cap on one backoff (default 5 s).
    pub max_backoff: Duration,
    /// Give up when the next wait would pass this total (default 30 s).
    pub max_elapsed: Duration,
    /// The longest `Retry-After` honoured (default 30 s); a longer one ends
    /// the retries and the 429/503 is returned.
    pub max_retry_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryConfig {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before attempt `attempt + 1` (`attempt` starts at 1): the
    /// workspace's one backoff, [`maskinporten::backoff`] (full jitter,
    /// bounded by `max_backoff`).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        maskinporten::backoff(self.initial_backoff, self.max_backoff, attempt)
    }
}

/// Polling of `validation-status/{requestId}`.
///
/// Toll says results are usually ready in 1–2 s (S2, S3), so the first poll
/// comes after `first_delay`; then the interval doubles up to `max_interval`
/// until `deadline` (counted from the first poll's start of waiting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollConfig {
    /// Wait before the first poll (default 1 s).
    pub first_delay: Duration,
    /// Interval after the first 404 (default 1 s); doubles each time.
    pub interval: Duration,
    /// Cap on the interval (default 4 s).
    pub max_interval: Duration,
    /// Overall deadline (default 60 s); then [`crate::Error::ValidationPending`].
    pub deadline: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(1),
            interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(4),
            deadline: Duration::from_secs(60),
        }
    }
}

/// What to do after a POST of a master or house whose response was lost.
///
/// The client looks the message up by document number + type + carrier id
/// `lookups` times, `delay` apart (the first after `delay`, since Toll
/// processes messages asynchronously in 1–2 s). Only when every lookup
/// answers 404 does it send the message again, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileConfig {
    /// Lookups before deciding the message did not arrive (default 2).
    pub lookups: u32,
    /// Wait before each lookup (default 2 s).
    pub delay: Duration,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        Self {
            lookups: 2,
            delay: Duration::from_secs(2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_grows() {
        let c = RetryConfig {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            ..RetryConfig::default()
        };
        // Full jitter: each wait lies in 0..=cap, the cap doubles up to
        // max_backoff (the bounds are tested in maskinporten::backoff).
        for _ in 0..50 {
            assert!(c.backoff(1) <= Duration::from_millis(100));
            assert!(c.backoff(2) <= Duration::from_millis(200));
            assert!(c.backoff(9) <= Duration::from_millis(300));
        }
        assert!((0..200).any(|_| c.backoff(9) > Duration::from_millis(200)));
    }
}
