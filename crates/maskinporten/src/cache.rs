//! The token cache: sharded, read-mostly, with per-key single-flight.
//!
//! Design (why it is fast and safe):
//! - A [`TokenRequest`] carries its cache key and a 64-bit hash computed once,
//!   so a lookup hashes nothing: it picks a shard from the hash, takes that
//!   shard's read lock, finds the entry (pointer or short string compare) and
//!   read-locks the entry's token slot. No global lock is taken on any path.
//! - Each entry has its own in-flight slot holding a shared future, so
//!   concurrent misses for one key join one fetch while other keys proceed.
//! - Expiry is monotonic (`Instant`), counted from before the request was
//!   sent, so neither wall-clock jumps nor slow responses extend a token.
//!
//! Every entry belongs to one client, so the client-level parts of the key
//! (issuer, client id, key identity) are the same for all entries of a cache;
//! the request part (scopes, resource, consumer_org, authorization details)
//! tells entries apart.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, Shared};

use crate::error::Error;
use crate::request::{RequestInner, TokenRequest};
use crate::token::AccessToken;

/// A shared in-flight fetch.
pub(crate) type Inflight = Shared<BoxFuture<'static, Result<AccessToken, Error>>>;

/// How long before expiry a background refresh starts: `max(30 s, 20 %)` of
/// the lifetime, but never more than half of it.
///
/// Why: Maskinporten lifetimes range from 120 s to 7200 s. A fixed 30 s
/// covers the worst-case fetch (retries with backoff are bounded to ~30 s by
/// default) so callers never wait on a short token; 20 % scales this for long
/// tokens so that a failing Maskinporten (outages are usually < 5 min) is
/// noticed while the old token still has minutes to live. The half-lifetime
/// cap keeps very short tokens from being refreshed on every call.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    Duration::from_secs(30).max(lifetime / 5).min(lifetime / 2)
}

/// How long before expiry a token stops being handed out at all: it must still
/// be valid when it reaches the API, after transit and the API's clock skew.
pub fn expiry_safety(lifetime: Duration) -> Duration {
    Duration::from_secs(5).min(lifetime / 4)
}

pub(crate) struct Entry {
    pub(crate) token: RwLock<Option<AccessToken>>,
    pub(crate) inflight: Mutex<Option<Inflight>>,
    /// After a failed background refresh, don't try again before this.
    pub(crate) refresh_not_before: Mutex<Option<Instant>>,
    /// Milliseconds since the cache's epoch; for least-recently-used eviction.
    last_used: AtomicU64,
}

impl Entry {
    fn touch(&self, now_ms: u64) {
        // Skip the store when nothing changed, to keep the hot cache line shared.
        if self.last_used.load(Ordering::Relaxed) != now_ms {
            self.last_used.store(now_ms, Ordering::Relaxed);
        }
    }
}

/// The state of a key at a given moment.
pub(crate) enum Lookup {
    /// A token before its refresh point.
    Fresh(AccessToken),
    /// A still-usable token in its refresh window: serve it and refresh in the background.
    Stale(AccessToken, Arc<Entry>),
    /// No usable token: the caller must wait for a fetch.
    Missing(Arc<Entry>),
}

#[derive(Clone)]
struct Key(TokenRequest);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.0.hash(state);
    }
}
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Key {}
impl Borrow<RequestInner> for Key {
    fn borrow(&self) -> &RequestInner {
        &self.0.0
    }
}
impl Hash for RequestInner {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}
impl PartialEq for RequestInner {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other) || (self.hash == other.hash && self.key == other.key)
    }
}
impl Eq for RequestInner {}

/// The hash is precomputed, so the map's hasher passes it through.
#[derive(Default)]
struct PassThrough(u64);
impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type Shard = RwLock<HashMap<Key, Arc<Entry>, BuildHasherDefault<PassThrough>>>;

pub(crate) struct TokenCache {
    shards: Box<[Shard]>,
    per_shard_capacity: usize,
    epoch: Instant,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize, epoch: Instant) -> Self {
        // Small caches use one shard so the bound is exact; large ones spread
        // keys over 16 shards to keep lock contention low.
        let shard_count = if capacity >= 1024 { 16usize } else { 1 };
        let shards = (0..shard_count)
            .map(|_| RwLock::new(HashMap::default()))
            .collect();
        Self {
            shards,
            per_shard_capacity: capacity.div_ceil(shard_count).max(1),
            epoch,
        }
    }

    fn shard(&self, req: &TokenRequest) -> &Shard {
        // The low bits feed hashbrown's bucket index; use the high bits for the shard.
        &self.shards[(req.0.hash >> 60) as usize & (self.shards.len() - 1)]
    }

    fn ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_millis() as u64
    }

    /// The fast path: a fresh token, without allocating or writing shared state.
    #[inline]
    pub(crate) fn fresh(&self, req: &TokenRequest, now: Instant) -> Option<AccessToken> {
        let map = self.shard(req).read().ok()?;
        let entry = map.get(&*req.0)?;
        let slot = entry.token.read().ok()?;
        let token = slot.as_ref()?;
        if now < token.0.refresh_at {
            entry.touch(self.ms(now));
            Some(token.clone())
        } else {
            None
        }
    }

    /// Looks a key up, creating its entry when absent (bounded size).
    pub(crate) fn lookup(&self, req: &TokenRequest, now: Instant) -> Lookup {
        let shard = self.shard(req);
        let existing = shard
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&*req.0)
            .cloned();
        let entry = match existing {
            Some(e) => e,
            None => {
                let mut map = shard
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Some(e) = map.get(&*req.0) {
                    e.clone()
                } else {
                    if map.len() >= self.per_shard_capacity {
                        Self::evict(&mut map, now);
                    }
                    let e = Arc::new(Entry {
                        token: RwLock::new(None),
                        inflight: Mutex::new(None),
                        refresh_not_before: Mutex::new(None),
                        last_used: AtomicU64::new(self.ms(now)),
                    });
                    map.insert(Key(req.clone()), e.clone());
                    e
                }
            }
        };
        entry.touch(self.ms(now));
        let state = classify(&entry, now);
        match state {
            Some((token, true)) => Lookup::Fresh(token),
            Some((token, false)) => Lookup::Stale(token, entry),
            None => Lookup::Missing(entry),
        }
    }

    /// Removes expired idle entries; if none, the least recently used idle one.
    fn evict(map: &mut HashMap<Key, Arc<Entry>, BuildHasherDefault<PassThrough>>, now: Instant) {
        let idle = |e: &Entry| e.inflight.lock().map(|g| g.is_none()).unwrap_or(true);
        let before = map.len();
        map.retain(|_, e| !(idle(e) && classify(e, now).is_none()));
        if map.len() < before {
            return;
        }
        let victim = map
            .iter()
            .filter(|(_, e)| idle(e))
            .min_by_key(|(_, e)| e.last_used.load(Ordering::Relaxed))
            .map(|(k, _)| k.clone());
        if let Some(k) = victim {
            map.remove(&k);
        }
    }

    /// Drops `token` for `req` if it is still the cached one.
    pub(crate) fn invalidate(&self, req: &TokenRequest, token: &AccessToken) -> bool {
        let map = self
            .shard(req)
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(entry) = map.get(&*req.0) else {
            return false;
        };
        let mut slot = entry
            .token
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.as_ref().is_some_and(|t| t.same_token(token)) {
            *slot = None;
            true
        } else {
            false
        }
    }

    /// The number of entries (for stats).
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().map(|m| m.len()).unwrap_or(0))
            .sum()
    }
}

/// `Some((token, fresh))` for a usable token; `None` when absent or too close to expiry.
pub(crate) fn classify(entry: &Entry, now: Instant) -> Option<(AccessToken, bool)> {
    let slot = entry
        .token
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let token = slot.as_ref()?;
    let usable_until = token.0.expires_at - expiry_safety(token.0.lifetime);
    if now < token.0.refresh_at {
        Some((token.clone(), true))
    } else if now < usable_until {
        Some((token.clone(), false))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins() {
        assert_eq!(
            refresh_margin(Duration::from_secs(120)),
            Duration::from_secs(30)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(3600)),
            Duration::from_secs(720)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(40)),
            Duration::from_secs(20)
        );
        assert_eq!(
            expiry_safety(Duration::from_secs(120)),
            Duration::from_secs(5)
        );
        assert_eq!(
            expiry_safety(Duration::from_secs(8)),
            Duration::from_secs(2)
        );
    }
}
