//! Fault injection: latency, 5xx answers, outages, rate limiting and dropped connections.
//!
//! A [`Fault`] targets requests whose path starts with a prefix (e.g. `/token` or
//! `/api/`). It fires for the next `times` matching requests and/or with a
//! `probability` (drawn from a seedable RNG, so runs are reproducible), and/or until
//! a deadline on the sim clock or the wall clock. Without any of the three it fires
//! on every matching request until removed. Latency faults add up and combine with
//! one terminal fault (the first matching one in insertion order); a terminal fault
//! that is not chosen because an earlier one fired keeps its remaining count.
//! Requests under `/sim/` (the admin API) are never faulted.

use std::sync::Mutex;
use std::time::Duration as StdDuration;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What a fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Wait this long before handling the request (combines with other faults).
    Latency {
        /// Added delay in milliseconds.
        millis: u64,
    },
    /// Answer with this HTTP status (e.g. 500 or 502) without handling the request.
    Status {
        /// The status code to answer with.
        status: u16,
    },
    /// Answer 503 Service Unavailable (an outage), optionally with `Retry-After`.
    Outage {
        /// `Retry-After` in seconds, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<u64>,
    },
    /// Answer 429 Too Many Requests with `Retry-After`.
    RateLimited {
        /// `Retry-After` in seconds.
        retry_after_secs: u64,
    },
    /// Close the connection without handling the request or sending a response.
    DropConnection,
    /// Handle the request (state changes happen), then close the connection
    /// instead of sending the response: a lost response.
    DropResponse,
}

/// A deadline after which a fault stops firing and is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "clock", rename_all = "snake_case")]
pub enum FaultUntil {
    /// Until the sim clock reaches `at` (follows clock offsets set by tests).
    Sim {
        /// The deadline (RFC 3339).
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Until the system (wall) clock reaches `at`.
    Wall {
        /// The deadline (RFC 3339).
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

/// A fault rule; see the module docs for how the triggers combine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Requests whose path starts with this prefix are affected (e.g. `/token`).
    pub path_prefix: String,
    /// Only requests with this HTTP method (case-insensitive), if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// What happens.
    pub kind: FaultKind,
    /// Fire for the next N matching requests only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Fire with this probability (0.0–1.0) per matching request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Stop firing at this deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<FaultUntil>,
}

impl Fault {
    /// A fault of `kind` on every request under `path_prefix` (narrow it with the setters).
    pub fn new(path_prefix: impl Into<String>, kind: FaultKind) -> Self {
        Self {
            path_prefix: path_prefix.into(),
            method: None,
            kind,
            times: None,
            probability: None,
            until: None,
        }
    }

    /// Adds `delay` before handling.
    pub fn latency(path_prefix: impl Into<String>, delay: StdDuration) -> Self {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        Self::new(path_prefix, FaultKind::Latency { millis })
    }

    /// Answers with `status` (e.g. 500, 502).
    pub fn status(path_prefix: impl Into<String>, status: u16) -> Self {
        Self::new(path_prefix, FaultKind::Status { status })
    }

    /// Answers 503 (combine with [`Fault::until_sim`]/[`Fault::until_wall`] for a timed outage).
    pub fn outage(path_prefix: impl Into<String>) -> Self {
        Self::new(
            path_prefix,
            FaultKind::Outage {
                retry_after_secs: None,
            },
        )
    }

    /// Answers 429 with `Retry-After: retry_after_secs`.
    pub fn rate_limited(path_prefix: impl Into<String>, retry_after_secs: u64) -> Self {
        Self::new(path_prefix, FaultKind::RateLimited { retry_after_secs })
    }

    /// Closes the connection without a response.
    pub fn drop_connection(path_prefix: impl Into<String>) -> Self {
        Self::new(path_prefix, FaultKind::DropConnection)
    }

    /// Handles the request, then closes the connection instead of responding.
    pub fn drop_response(path_prefix: impl Into<String>) -> Self {
        Self::new(path_prefix, FaultKind::DropResponse)
    }

    /// Only for the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Only with probability `p` per matching request.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    /// Only until the sim clock reaches `at`.
    pub fn until_sim(mut self, at: OffsetDateTime) -> Self {
        self.until = Some(FaultUntil::Sim { at });
        self
    }

    /// Only until the wall clock reaches `at`.
    pub fn until_wall(mut self, at: OffsetDateTime) -> Self {
        self.until = Some(FaultUntil::Wall { at });
        self
    }

    /// Only for requests with this method.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        path.starts_with(&self.path_prefix)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }

    fn expired(&self, sim_now: OffsetDateTime) -> bool {
        match self.until {
            Some(FaultUntil::Sim { at }) => sim_now >= at,
            Some(FaultUntil::Wall { at }) => OffsetDateTime::now_utc() >= at,
            None => false,
        }
    }

    /// Checks values a JSON caller could get wrong.
    pub(crate) fn validate(&self) -> Result<(), crate::SimError> {
        if let Some(p) = self.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(crate::SimError::InvalidInput(format!(
                "probability: {p} is not between 0 and 1"
            )));
        }
        if let FaultKind::Status { status } = self.kind
            && !(100..=999).contains(&status)
        {
            return Err(crate::SimError::InvalidInput(format!(
                "kind.status: {status} is not an HTTP status code"
            )));
        }
        if self.path_prefix.starts_with("/sim/") {
            return Err(crate::SimError::InvalidInput(
                "path_prefix: the admin API under /sim/ cannot be faulted".into(),
            ));
        }
        Ok(())
    }
}

/// A fault as stored: with its id and remaining count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveFault {
    /// Id for removing it (`DELETE /sim/faults/{id}`).
    pub id: u64,
    /// The rule as added; `times` is the remaining count.
    #[serde(flatten)]
    pub fault: Fault,
}

/// The terminal action chosen for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FaultAction {
    Status(u16),
    Outage(Option<u64>),
    RateLimited(u64),
    DropConnection,
    DropResponse,
}

/// What to do to one request.
#[derive(Debug, Default)]
pub(crate) struct FaultDecision {
    pub(crate) latency: StdDuration,
    pub(crate) action: Option<FaultAction>,
    /// Short labels of the faults that fired, for the request record.
    pub(crate) fired: Vec<String>,
}

/// The fault rules and the RNG that drives probabilistic ones.
#[derive(Debug)]
pub(crate) struct FaultSet {
    inner: Mutex<FaultSetInner>,
}

#[derive(Debug)]
struct FaultSetInner {
    next_id: u64,
    faults: Vec<ActiveFault>,
    rng: StdRng,
}

impl FaultSet {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            inner: Mutex::new(FaultSetInner {
                next_id: 1,
                faults: Vec::new(),
                rng: StdRng::seed_from_u64(seed),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultSetInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn add(&self, fault: Fault) -> u64 {
        let mut inner = self.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        inner.faults.push(ActiveFault { id, fault });
        id
    }

    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let before = inner.faults.len();
        inner.faults.retain(|f| f.id != id);
        inner.faults.len() != before
    }

    pub(crate) fn clear(&self) {
        self.lock().faults.clear();
    }

    pub(crate) fn list(&self) -> Vec<ActiveFault> {
        self.lock().faults.clone()
    }

    pub(crate) fn reseed(&self, seed: u64) {
        self.lock().rng = StdRng::seed_from_u64(seed);
    }

    /// Decides what happens to a request, consuming counts of the faults that fire.
    pub(crate) fn decide(
        &self,
        method: &str,
        path: &str,
        sim_now: OffsetDateTime,
    ) -> FaultDecision {
        let mut decision = FaultDecision::default();
        if path.starts_with("/sim/") {
            return decision;
        }
        let mut inner = self.lock();
        let FaultSetInner { faults, rng, .. } = &mut *inner;
        faults.retain(|f| !f.fault.expired(sim_now));
        for active in faults.iter_mut() {
            let fault = &mut active.fault;
            if !fault.matches(method, path) {
                continue;
            }
            let is_latency = matches!(fault.kind, FaultKind::Latency { .. });
            if !is_latency && decision.action.is_some() {
                continue;
            }
            if let Some(p) = fault.probability
                && !rng.random_bool(p.clamp(0.0, 1.0))
            {
                continue;
            }
            decision
                .fired
                .push(format!("#{} {}", active.id, label(&fault.kind)));
            match fault.kind {
                FaultKind::Latency { millis } => {
                    decision.latency += StdDuration::from_millis(millis);
                }
                FaultKind::Status { status } => decision.action = Some(FaultAction::Status(status)),
                FaultKind::Outage { retry_after_secs } => {
                    decision.action = Some(FaultAction::Outage(retry_after_secs));
                }
                FaultKind::RateLimited { retry_after_secs } => {
                    decision.action = Some(FaultAction::RateLimited(retry_after_secs));
                }
                FaultKind::DropConnection => decision.action = Some(FaultAction::DropConnection),
                FaultKind::DropResponse => decision.action = Some(FaultAction::DropResponse),
            }
            if let Some(n) = fault.times.as_mut() {
                *n = n.saturating_sub(1);
            }
        }
        faults.retain(|f| f.fault.times != Some(0));
        decision
    }
}

fn label(kind: &FaultKind) -> String {
    match kind {
        FaultKind::Latency { millis } => format!("latency {millis}ms"),
        FaultKind::Status { status } => format!("status {status}"),
        FaultKind::Outage { .. } => "outage 503".into(),
        FaultKind::RateLimited { .. } => "rate_limited 429".into(),
        FaultKind::DropConnection => "drop_connection".into(),
        FaultKind::DropResponse => "drop_response".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_counts_down_and_removes() {
        let set = FaultSet::new(1);
        set.add(Fault::status("/token", 500).times(2));
        let now = OffsetDateTime::now_utc();
        assert_eq!(
            set.decide("POST", "/token", now).action,
            Some(FaultAction::Status(500))
        );
        assert_eq!(set.decide("POST", "/jwk", now).action, None);
        assert_eq!(
            set.decide("POST", "/token", now).action,
            Some(FaultAction::Status(500))
        );
        assert_eq!(set.decide("POST", "/token", now).action, None);
        assert!(set.list().is_empty());
    }

    #[test]
    fn probability_is_reproducible_with_a_seed() {
        let run = |seed| {
            let set = FaultSet::new(seed);
            set.add(Fault::status("/", 502).probability(0.5));
            let now = OffsetDateTime::now_utc();
            (0..64)
                .map(|_| set.decide("GET", "/x", now).action.is_some())
                .collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        let fired = a.iter().filter(|f| **f).count();
        assert!((10..54).contains(&fired), "fired {fired} of 64");
    }

    #[test]
    fn latency_combines_and_sim_deadline_expires() {
        let set = FaultSet::new(1);
        let now = OffsetDateTime::now_utc();
        set.add(Fault::latency("/", StdDuration::from_millis(10)));
        set.add(Fault::latency("/", StdDuration::from_millis(5)));
        set.add(Fault::outage("/api/").until_sim(now + time::Duration::minutes(1)));
        let d = set.decide("GET", "/api/x", now);
        assert_eq!(d.latency, StdDuration::from_millis(15));
        assert_eq!(d.action, Some(FaultAction::Outage(None)));
        let later = set.decide("GET", "/api/x", now + time::Duration::minutes(2));
        assert_eq!(later.action, None);
        assert_eq!(set.list().len(), 2);
        assert_eq!(
            set.decide("GET", "/sim/faults", now).latency,
            StdDuration::ZERO
        );
    }
}
