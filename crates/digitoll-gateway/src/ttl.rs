//! A small map whose entries expire after a fixed time to live, for the
//! per-request caches of the API's hot path (API keys, tenant facts).
//!
//! A read is one uncontended read lock and a hash lookup, and it records
//! nothing (no frequency sketch, no read buffer): under a token-broker load
//! that cost showed up in profiles with a general-purpose cache. The map is
//! bounded: when it is full, expired entries are dropped, and if it is
//! still full it is emptied (every entry is cheap to read again).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

/// Entries expire `ttl` after insertion; at most `capacity` are kept.
#[derive(Debug)]
pub(crate) struct TtlMap<K, V> {
    ttl: Duration,
    capacity: usize,
    map: RwLock<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            map: RwLock::new(HashMap::new()),
        }
    }

    /// The live value for `key`.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.get(key)
            .filter(|(_, expires)| Instant::now() < *expires)
            .map(|(v, _)| v.clone())
    }

    pub(crate) fn insert(&self, key: K, value: V) {
        let now = Instant::now();
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.capacity && !map.contains_key(&key) {
            map.retain(|_, (_, expires)| now < *expires);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(key, (value, now + self.ttl));
    }

    pub(crate) fn clear(&self) {
        self.map
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_map_stays_bounded() {
        let m = TtlMap::new(Duration::from_millis(50), 3);
        m.insert(1, "a");
        assert_eq!(m.get(&1), Some("a"));
        assert_eq!(m.get(&2), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(m.get(&1), None, "expired");

        let m = TtlMap::new(Duration::from_secs(60), 3);
        for k in 0..3 {
            m.insert(k, k);
        }
        m.insert(1, 10);
        assert_eq!(m.get(&1), Some(10), "replacing a key never evicts");
        m.insert(3, 3);
        assert_eq!(m.get(&3), Some(3));
        assert_eq!(
            m.get(&0),
            None,
            "full of live entries: emptied, then inserted"
        );
        m.clear();
        assert_eq!(m.get(&3), None);
    }
}
