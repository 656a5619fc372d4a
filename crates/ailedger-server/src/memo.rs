//! Memos of what the ledger never changes once it holds it, so that a read asks the
//! store only once: the time of an entry, and the artifact an alias names when that
//! artifact is identified by digest or purl (only a provisional artifact, named by
//! `<kind>:<name>@<version>`, is ever merged away and has its aliases moved:
//! ARCHITECTURE.md, "Identity"). Each memo is bounded; when full it starts again.

use std::{collections::HashMap, hash::Hash, sync::Mutex};

/// A bounded map of immutable facts.
#[derive(Debug)]
pub(crate) struct Memo<K, V> {
    map: Mutex<HashMap<K, V>>,
    cap: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub(crate) fn new(cap: usize) -> Self {
        Memo {
            map: Mutex::default(),
            cap: cap.max(1),
        }
    }

    pub(crate) fn get<Q>(&self, k: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.lock().get(k).cloned()
    }

    /// Runs `f` with the map locked: for many lookups at once.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&HashMap<K, V>) -> R) -> R {
        f(&self.lock())
    }

    pub(crate) fn insert_all(&self, items: impl IntoIterator<Item = (K, V)>) {
        let mut map = self.lock();
        for (k, v) in items {
            if map.len() >= self.cap {
                map.clear();
            }
            map.insert(k, v);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Entry times memoised at most (16 bytes each and the map's overhead).
pub(crate) const TIMES: usize = 1 << 20;
/// Alias resolutions memoised at most.
pub(crate) const RESOLVED: usize = 1 << 18;

/// The memos of one server.
#[derive(Debug)]
pub(crate) struct Memos {
    /// Entry seq to its time (µs since the epoch).
    pub(crate) times: Memo<u64, i64>,
    /// Canonical ref to the id of the identified artifact it names.
    pub(crate) resolved: Memo<String, String>,
}

impl Default for Memos {
    fn default() -> Self {
        Memos {
            times: Memo::new(TIMES),
            resolved: Memo::new(RESOLVED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_memo_starts_again() {
        let m = Memo::new(2);
        m.insert_all([(1, 'a'), (2, 'b')]);
        assert_eq!((m.get(&1), m.get(&2)), (Some('a'), Some('b')));
        m.insert_all([(3, 'c')]);
        assert_eq!((m.get(&1), m.get(&3)), (None, Some('c')));
    }
}
