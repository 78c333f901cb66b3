//! Counting keys ([`Counter`]) and picking the N most frequent with a bounded heap.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

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

impl Counter {
    /// An empty counter.
    pub fn new() -> Counter {
        Counter::default()
    }

    /// Adds `n` to `key`'s count.
    pub fn add(&mut self, key: &[u8], n: u64) {
        // ANCHOR: add
        // Look up by the borrowed key first: only a key seen for the first time is copied.
        match self.counts.get_mut(key) {
            Some(count) => *count += n,
            None => {
                self.counts.insert(Key::new(key), n);
            }
        }
        // ANCHOR_END: add
    }

    /// `key`'s count so far: 0 if it was never added.
    pub fn get(&self, key: &[u8]) -> u64 {
        self.counts.get(key).copied().unwrap_or(0)
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
        self.counts.values().sum()
    }

    /// Adds every count of `other` into this counter.
    pub fn merge(&mut self, other: Counter) {
        if other.len() > self.len() {
            // Fold the smaller map into the larger one.
            let smaller = std::mem::replace(&mut self.counts, other.counts);
            for (key, n) in smaller {
                *self.counts.entry(key).or_insert(0) += n;
            }
        } else {
            for (key, n) in other.counts {
                *self.counts.entry(key).or_insert(0) += n;
            }
        }
    }

    /// The `n` keys with the highest counts, highest first; equal counts in ascending byte order
    /// of the key. Takes O(k log n) for k distinct keys instead of sorting them all.
    pub fn top(&self, n: usize) -> Vec<(Vec<u8>, u64)> {
        // ANCHOR: top
        if n == 0 {
            return Vec::new();
        }
        // A min-heap (by rank) of the best n so far: its top is the worst of them, the one to evict.
        let mut best: BinaryHeap<Reverse<Ranked<'_>>> = BinaryHeap::with_capacity(n + 1);
        for (key, &count) in &self.counts {
            let candidate = Ranked { count, key: key.as_bytes() };
            if best.len() < n {
                best.push(Reverse(candidate));
            } else if best.peek().is_some_and(|Reverse(worst)| candidate > *worst) {
                best.pop();
                best.push(Reverse(candidate));
            }
        }
        let mut ranked: Vec<Ranked<'_>> = best.into_iter().map(|Reverse(r)| r).collect();
        ranked.sort_unstable_by(|a, b| b.cmp(a));
        ranked.into_iter().map(|r| (r.key.to_vec(), r.count)).collect()
        // ANCHOR_END: top
    }
}

/// A key and its count, ordered so that "greater" means "ranks higher": a larger count, or an equal
/// count and a smaller key.
#[derive(PartialEq, Eq)]
struct Ranked<'a> {
    count: u64,
    key: &'a [u8],
}

impl Ord for Ranked<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.count.cmp(&other.count).then_with(|| other.key.cmp(self.key))
    }
}

impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The longest key stored inside the table itself.
const INLINE: usize = 38;

/// A counted key. Short keys (most URLs, every address) live inside the hash table's slot, so a
/// lookup compares bytes that are already in the cache line it loaded instead of following a pointer
/// to a heap allocation: on a table too big for the cache that is one memory access fewer per line.
#[derive(Clone)]
enum Key {
    Inline { len: u8, bytes: [u8; INLINE] },
    Boxed(Box<[u8]>),
}

impl Key {
    fn new(key: &[u8]) -> Key {
        if key.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..key.len()].copy_from_slice(key);
            Key::Inline { len: key.len() as u8, bytes }
        } else {
            Key::Boxed(key.into())
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Key::Boxed(bytes) => bytes,
        }
    }
}

impl std::borrow::Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // The same hash as the borrowed form, so a lookup by &[u8] finds it.
        self.as_bytes().hash(state);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}
