//! Retry policy: exponential backoff with full jitter and a bound on attempts.

use std::time::Duration;

/// How failed jobs are rescheduled.
///
/// The delay before retry `n` (after the `n`-th failed attempt) is drawn
/// uniformly from `[0, min(max_delay, base_delay × factor^(n−1))]` ("full
/// jitter", which spreads a burst of failures best), and is never shorter
/// than a server's `Retry-After`. After `max_attempts` claims the job is
/// dead-lettered.
///
/// Defaults: 1 s base, ×2, 5 min cap, 10 attempts. The ceilings then run
/// 1, 2, 4, … 256 s, 300 s, so the expected total wait before dead-lettering
/// is about 8 minutes and the worst case about 15.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Ceiling of the first delay.
    pub base_delay: Duration,
    /// Growth factor of the ceiling per attempt.
    pub factor: f64,
    /// Largest ceiling.
    pub max_delay: Duration,
    /// Claims allowed before the job is dead-lettered.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_delay: Duration::from_secs(1),
            factor: 2.0,
            max_delay: Duration::from_secs(300),
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// The upper bound of the delay after failed attempt `attempt` (1-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(64) as i32;
        let secs = self.base_delay.as_secs_f64() * self.factor.powi(exp);
        let max = self.max_delay.as_secs_f64();
        Duration::from_secs_f64(if secs.is_finite() { secs.min(max) } else { max })
    }

    /// The delay for `attempt` given a uniform sample `unit` in `[0, 1]`,
    /// raised to `retry_after` when that is longer.
    pub fn delay_with(&self, attempt: u32, unit: f64, retry_after: Option<Duration>) -> Duration {
        let jittered = self.ceiling(attempt).mul_f64(unit.clamp(0.0, 1.0));
        match retry_after {
            Some(ra) if ra > jittered => ra,
            _ => jittered,
        }
    }

    /// [`RetryPolicy::delay_with`] with a random sample.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        self.delay_with(attempt, rand::random::<f64>(), retry_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_then_cap() {
        let p = RetryPolicy::default();
        let got: Vec<u64> = (1..=11).map(|n| p.ceiling(n).as_secs()).collect();
        assert_eq!(got, vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(p.ceiling(10_000).as_secs(), 300);
    }

    #[test]
    fn jitter_bounds_and_retry_after_floor() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_with(3, 0.0, None), Duration::ZERO);
        assert_eq!(p.delay_with(3, 1.0, None), Duration::from_secs(4));
        assert_eq!(p.delay_with(3, 0.5, None), Duration::from_secs(2));
        assert_eq!(
            p.delay_with(3, 0.5, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        for _ in 0..1000 {
            let d = p.delay(5, None);
            assert!(d <= Duration::from_secs(16));
        }
    }
}
