//! The simulator's controllable clock.
//!
//! Every time-dependent decision of the simulator (grant `iat`/`exp` checks, the
//! `jti` replay window, access-token `iat`/`exp`, fault deadlines on the sim clock,
//! recorded `received_at` and the HTTP `Date` header) reads this clock, so a test
//! can move the simulator into the future or the past without sleeping.

use std::sync::RwLock;

use time::{Duration, OffsetDateTime};

/// Sim clock = system clock + an offset that can be changed at run time.
#[derive(Debug, Default)]
pub struct SimClock {
    offset: RwLock<Duration>,
}

impl SimClock {
    /// Creates a clock that follows the system clock (offset zero).
    pub fn new() -> Self {
        Self::default()
    }

    /// The current sim time (UTC).
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.offset()
    }

    /// The current offset from the system clock.
    pub fn offset(&self) -> Duration {
        *self.offset.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the offset from the system clock (positive = the simulator is ahead).
    pub fn set_offset(&self, offset: Duration) {
        *self.offset.write().unwrap_or_else(|e| e.into_inner()) = offset;
    }

    /// Moves the clock by `delta` relative to its current offset.
    pub fn advance(&self, delta: Duration) {
        let mut guard = self.offset.write().unwrap_or_else(|e| e.into_inner());
        *guard += delta;
    }

    /// Sets the offset so that the sim clock reads `at` now.
    pub fn set_now(&self, at: OffsetDateTime) {
        self.set_offset(at - OffsetDateTime::now_utc());
    }

    /// The sim time as an HTTP date (`Date` header format, whole seconds).
    pub fn http_date(&self) -> String {
        httpdate::fmt_http_date(self.now().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_moves_now() {
        let clock = SimClock::new();
        clock.set_offset(Duration::hours(2));
        let diff = clock.now() - OffsetDateTime::now_utc();
        assert!((diff - Duration::hours(2)).abs() < Duration::seconds(1));
        clock.advance(Duration::hours(-3));
        assert_eq!(clock.offset(), Duration::hours(-1));
    }

    #[test]
    fn http_date_follows_offset() {
        let clock = SimClock::new();
        clock.set_now(time::macros::datetime!(2030-01-02 03:04:05 UTC));
        assert!(clock.http_date().starts_with("Wed, 02 Jan 2030 03:04:0"));
    }
}
