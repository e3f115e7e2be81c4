//! Time sources. Wall-clock time goes into grants (`iat`/`exp`); monotonic
//! time decides when cached tokens expire, so a clock jump cannot make a
//! token live longer than Maskinporten allows.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

/// An injectable clock, so tests can move time without sleeping.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The wall-clock time (UTC).
    fn now_utc(&self) -> OffsetDateTime;
    /// Monotonic time.
    fn now(&self) -> Instant;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_utc(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock for tests: starts at the real time and only moves when told.
///
/// ```
/// use maskinporten::{Clock, ManualClock};
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(std::time::Duration::from_secs(90));
/// assert_eq!(clock.now() - t0, std::time::Duration::from_secs(90));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    base_instant: Instant,
    base_utc: OffsetDateTime,
    state: Mutex<(Duration, time::Duration)>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock frozen at the current real time.
    pub fn new() -> Self {
        Self {
            base_instant: Instant::now(),
            base_utc: OffsetDateTime::now_utc(),
            state: Mutex::new((Duration::ZERO, time::Duration::ZERO)),
        }
    }

    /// Moves both wall-clock and monotonic time forward.
    pub fn advance(&self, by: Duration) {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.0 += by;
    }

    /// Makes the wall clock wrong by `skew` (positive = ahead), as on a machine without NTP.
    pub fn set_wall_skew(&self, skew: time::Duration) {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.1 = skew;
    }
}

impl Clock for ManualClock {
    fn now_utc(&self) -> OffsetDateTime {
        let s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.base_utc + s.0 + s.1
    }
    fn now(&self) -> Instant {
        let s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.base_instant + s.0
    }
}
