//! Counting keys ([`Counter`]) and picking the N most frequent with a bounded heap.

use hashbrown::HashMap;

/// How often each key (a byte string) was seen.
///
/// Memory grows with the number of distinct keys, never with the number of lines counted.
///
/// # Examples
///
/// ```
/// let mut counter = logstat::Counter::new();
/// for key in ["/a", "/b", "/a", "/c", "/b", "/a"] {
///     counter.add(key.as_bytes(), 1);
/// }
/// assert_eq!(counter.top(2), vec![(b"/a".to_vec(), 3), (b"/b".to_vec(), 2)]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Counter {
    counts: HashMap<Key, u64>,
}

/// A counted key, owned by the map so that it outlives the block it was read from. A boxed slice
/// is the simple choice; the chapter's section on measuring says what the reference stores instead.
type Key = Box<[u8]>;

impl Counter {
    /// An empty counter.
    pub fn new() -> Counter {
        Counter::default()
    }

    /// Adds `n` to `key`'s count.
    pub fn add(&mut self, key: &[u8], n: u64) {
        todo!("stage 2: add n to key's count without copying keys already present")
    }

    /// `key`'s count so far: 0 if it was never added.
    pub fn get(&self, key: &[u8]) -> u64 {
        todo!("stage 2: key's count, 0 if never added")
    }

    /// The number of distinct keys.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The sum of all counts.
    pub fn total(&self) -> u64 {
        todo!("stage 2: the sum of all counts")
    }

    /// Adds every count of `other` into this counter.
    pub fn merge(&mut self, other: Counter) {
        todo!("stage 2: add every count of other")
    }

    /// The `n` keys with the highest counts, highest first; equal counts in ascending byte order
    /// of the key. Takes O(k log n) for k distinct keys instead of sorting them all.
    pub fn top(&self, n: usize) -> Vec<(Vec<u8>, u64)> {
        todo!("stage 2: the n best keys with a size-n heap: count descending, key ascending")
    }
}
