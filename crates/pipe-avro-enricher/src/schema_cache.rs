//! An in-process cache of parsed schemas that outlives invocations.
//!
//! Schema ids, GUIDs and Glue version ids name immutable schemas, so entries
//! never expire; the cache is bounded (oldest evicted first) so a producer
//! cycling through ids cannot grow the sandbox without limit. Concurrent
//! lookups of one id share one fetch. A failed fetch is not cached: the next
//! lookup tries again, because a registry outage must not outlive itself.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// Bounded, coalescing cache from `K` to `Arc<V>`.
pub struct SchemaCache<K, V> {
    capacity: usize,
    inner: Mutex<Entries<K, V>>,
}

struct Entries<K, V> {
    cells: HashMap<K, Arc<OnceCell<Arc<V>>>>,
    order: VecDeque<K>,
}

impl<K: Clone + Eq + Hash, V> SchemaCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        SchemaCache {
            capacity: capacity.max(1),
            inner: Mutex::new(Entries {
                cells: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    fn cell(&self, key: &K) -> Arc<OnceCell<Arc<V>>> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cell) = inner.cells.get(key) {
            return cell.clone();
        }
        while inner.cells.len() >= self.capacity {
            match inner.order.pop_front() {
                Some(old) => {
                    inner.cells.remove(&old);
                }
                None => break,
            }
        }
        let cell = Arc::new(OnceCell::new());
        inner.cells.insert(key.clone(), cell.clone());
        inner.order.push_back(key.clone());
        cell
    }

    /// The cached value, or the result of `fetch` (run by one caller at a
    /// time per key; the others wait for it).
    pub async fn get_or_fetch<E, F, Fut>(&self, key: &K, fetch: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let cell = self.cell(key);
        cell.get_or_try_init(|| async { fetch().await.map(Arc::new) })
            .await
            .cloned()
    }

    /// The value if it is already cached, without fetching (the batch fast path).
    pub fn cached(&self, key: &K) -> Option<Arc<V>> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.cells.get(key).and_then(|cell| cell.get().cloned())
    }

    /// How many schemas are cached.
    pub fn len(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.cells.values().filter(|c| c.initialized()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn caches_successes_and_coalesces_concurrent_fetches() {
        let cache: SchemaCache<u32, String> = SchemaCache::new(10);
        let fetches = AtomicUsize::new(0);
        let (gate_tx, gate_rx) = tokio::sync::watch::channel(false);
        let fetch = || {
            let mut gate = gate_rx.clone();
            let fetches = &fetches;
            move || async move {
                fetches.fetch_add(1, Ordering::SeqCst);
                // Hold the fetch open until every caller is waiting on it.
                gate.wait_for(|open| *open).await.unwrap();
                Ok::<_, String>("schema".to_string())
            }
        };
        let a = cache.get_or_fetch(&1, fetch());
        let b = cache.get_or_fetch(&1, fetch());
        let c = cache.get_or_fetch(&1, fetch());
        let open = async {
            tokio::task::yield_now().await;
            gate_tx.send(true).unwrap();
        };
        let (a, b, c, ()) = tokio::join!(a, b, c, open);
        assert_eq!(
            (a.unwrap(), b.unwrap(), c.unwrap()),
            (
                "schema".to_string().into(),
                "schema".to_string().into(),
                "schema".to_string().into()
            )
        );
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            1,
            "concurrent lookups of one id share one fetch"
        );
        let again = cache
            .get_or_fetch(&1, || async {
                Err::<String, _>("must not be called".to_string())
            })
            .await;
        assert_eq!(again.unwrap().as_str(), "schema");
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let cache: SchemaCache<u32, String> = SchemaCache::new(10);
        let r = cache
            .get_or_fetch(&7, || async { Err::<String, _>("registry down") })
            .await;
        assert_eq!(r.unwrap_err(), "registry down");
        assert!(cache.is_empty());
        let r = cache
            .get_or_fetch(&7, || async { Ok::<_, &str>("s".to_string()) })
            .await;
        assert_eq!(r.unwrap().as_str(), "s");
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn is_bounded_and_evicts_the_oldest() {
        let cache: SchemaCache<u32, u32> = SchemaCache::new(2);
        for k in 0..3 {
            cache
                .get_or_fetch(&k, || async move { Ok::<_, ()>(k) })
                .await
                .unwrap();
        }
        assert_eq!(cache.len(), 2);
        let refetched = AtomicUsize::new(0);
        cache
            .get_or_fetch(&0, || async {
                refetched.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ()>(0)
            })
            .await
            .unwrap();
        assert_eq!(
            refetched.load(Ordering::SeqCst),
            1,
            "the oldest entry was evicted"
        );
    }
}
