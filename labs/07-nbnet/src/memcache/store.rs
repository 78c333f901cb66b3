//! The item store: shards, each a mutex over a hash map and an LRU list, so workers touching
//! different keys rarely wait for each other. Each shard keeps its share of the memory limit and
//! evicts its least recently used items to make room.
//!
//! Expiry is lazy, as in memcached: an expired item is dropped when it is next looked up (or
//! evicted as the least recently used).

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};

use slab::Slab;

use crate::memcache::clock::Clock;
use crate::memcache::protocol::{ITEM_OVERHEAD, ITEM_SIZE_MAX, StoreMode};

/// Expiry times beyond this many seconds are Unix times, not offsets (memcached's 30 days).
pub const RELATIVE_MAX: i64 = 60 * 60 * 24 * 30;

/// The expiry time of an item that expired as it was stored: a time that has always passed.
pub const EXPIRED: u64 = 1;

/// One stored value. Shared (`Arc`) with the responses being written, so a `get` copies no data
/// under the lock.
#[derive(Debug)]
pub struct Item {
    /// The client's flags.
    pub flags: u32,
    /// The value.
    pub data: Box<[u8]>,
    /// The CAS value: unique per modification.
    pub cas: u64,
    /// When it expires (Unix seconds; 0 never). Atomic so `touch` need not copy the item.
    expires: AtomicU64,
    /// When it was stored, for `flush_all` with a delay.
    stored: u64,
}

impl Item {
    /// When it expires (Unix seconds; 0 never).
    pub fn expires(&self) -> u64 {
        self.expires.load(Relaxed)
    }
}

/// The store's settings.
#[derive(Debug, Clone, Copy)]
pub struct StoreConfig {
    /// Bytes of items (keys, values and per-item overhead) kept at most.
    pub memory_limit: usize,
    /// How many independently locked shards.
    pub shards: usize,
}

impl Default for StoreConfig {
    /// memcached's default: 64 MiB; 16 shards.
    fn default() -> Self {
        StoreConfig { memory_limit: 64 << 20, shards: 16 }
    }
}

/// The outcome of a storage command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreStatus {
    /// `STORED`.
    Stored,
    /// `NOT_STORED`: `add` of an existing key, `replace`/`append`/`prepend` of a missing one.
    NotStored,
    /// `EXISTS`: `cas` of an item modified since.
    Exists,
    /// `NOT_FOUND`: `cas` of a missing key.
    NotFound,
    /// `SERVER_ERROR object too large for cache`.
    TooLarge,
    /// `SERVER_ERROR out of memory storing object`: bigger than a shard's share of memory.
    OutOfMemory,
}

/// The outcome of `incr`/`decr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delta {
    /// The new value.
    Value(u64),
    /// No such key.
    NotFound,
    /// The value is not a decimal number.
    NonNumeric,
}

/// The store's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Items held (some may have expired and not yet been dropped).
    pub items: u64,
    /// Bytes held, as counted against the limit.
    pub bytes: u64,
    /// Items evicted to make room.
    pub evictions: u64,
    /// Items ever stored.
    pub total_items: u64,
    /// The memory limit.
    pub limit: u64,
    /// Lookups that found a live item.
    pub get_hits: u64,
    /// Lookups that did not.
    pub get_misses: u64,
    /// Storage commands.
    pub cmd_set: u64,
}

const NIL: usize = usize::MAX;

/// An item in a shard's LRU list.
#[derive(Debug)]
struct Node {
    key: Box<[u8]>,
    item: Arc<Item>,
    size: usize,
    prev: usize,
    next: usize,
}

/// One lock's worth of the store: a map to nodes in a doubly linked LRU list (head: most recent).
#[derive(Debug)]
struct Shard {
    map: hashbrown::HashMap<Box<[u8]>, usize>,
    nodes: Slab<Node>,
    head: usize,
    tail: usize,
    bytes: usize,
    limit: usize,
    evictions: u64,
    /// Counted here, under the lock already held, rather than in atomics every worker would
    /// fight over.
    hits: u64,
    misses: u64,
    sets: u64,
}

impl Shard {}

/// The sharded store.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use nbnet::memcache::{ManualClock, Store, StoreConfig, StoreMode, StoreStatus};
/// let clock = Arc::new(ManualClock::new(1_700_000_000));
/// let store = Store::new(StoreConfig::default(), clock.clone());
/// assert_eq!(store.store(StoreMode::Set, b"k", 0, 10, b"v".to_vec(), 0), StoreStatus::Stored);
/// assert!(store.get(b"k").is_some());
/// clock.advance(10);
/// assert!(store.get(b"k").is_none());
/// ```
#[derive(Debug)]
pub struct Store {
    shards: Box<[Mutex<Shard>]>,
    hasher: hashbrown::DefaultHashBuilder,
    clock: Arc<dyn Clock>,
    started: u64,
    next_cas: AtomicU64,
    flush_at: AtomicU64,
    total_items: AtomicU64,
    /// The memory limit: `cache_memlimit` changes it while workers run.
    limit: AtomicUsize,
}

// TODO(stage 5): each shard a hash map into a slab of nodes linked as an LRU list (head: most
// recent); expire lazily on lookup; evict from the tail to make room.
impl Store {
    /// An empty store timed by `clock`.
    pub fn new(config: StoreConfig, clock: Arc<dyn Clock>) -> Self {
        todo!("stage 5: the shards, each with its share of the memory limit")
    }

    /// The clock's time now.
    pub fn now(&self) -> u64 {
        todo!("stage 5: the clock's time")
    }

    /// When the store was made (Unix seconds).
    pub fn started(&self) -> u64 {
        todo!("stage 5: the clock's time when the store was made")
    }

    /// memcached's `realtime`: the Unix time an expiry argument means (0 never, [`EXPIRED`] now).
    pub fn expiry(&self, exptime: i64) -> u64 {
        todo!(
            "stage 5: 0 never; < 0 expired; up to 30 days from now; beyond, a Unix time (expired if before the start)"
        )
    }

    /// The live item under `key`, its expiry set anew from `exptime` (`gat`).
    pub fn get_and_touch(&self, key: &[u8], exptime: i64) -> Option<Arc<Item>> {
        todo!("stage 5: get, and set the live item's expiry as touch does")
    }

    /// The live items, most recently used first within each shard, at most `limit` of them (0: all):
    /// `stats cachedump`.
    pub fn dump(&self, limit: usize) -> Vec<(Vec<u8>, Arc<Item>)> {
        todo!("stage 5: walk each shard's LRU list from its head, skipping dead items")
    }

    /// Sets a new memory limit, shared among the shards as at the start; a shard over its new
    /// share evicts as it next stores.
    pub fn set_memory_limit(&self, bytes: usize) {
        todo!("stage 5: the new limit, and each shard's share of it")
    }

    /// Zeroes the counters (`stats reset`): hits, misses, sets, evictions and items ever stored.
    pub fn reset_stats(&self) {
        todo!("stage 5: zero the shards' counters and the count of items ever stored")
    }

    /// The live item under `key`.
    pub fn get(&self, key: &[u8]) -> Option<Arc<Item>> {
        todo!("stage 5: the live item, made most recently used; drop it if expired or flushed")
    }

    /// A storage command: `mode` decides what happens to an existing item; `cas` is checked for
    /// [`StoreMode::Cas`].
    pub fn store(
        &self,
        mode: StoreMode,
        key: &[u8],
        flags: u32,
        exptime: i64,
        data: Vec<u8>,
        cas: u64,
    ) -> StoreStatus {
        todo!("stage 5: set/add/replace/append/prepend/cas, evicting least recently used items to make room")
    }

    /// Deletes `key`; whether it was there.
    pub fn delete(&self, key: &[u8]) -> bool {
        todo!("stage 5: remove the key if it is live")
    }

    /// `incr` (wrapping at 2^64) or `decr` (stopping at 0) of the decimal value under `key`.
    pub fn delta(&self, key: &[u8], delta: u64, incr: bool) -> Delta {
        todo!("stage 5: incr wraps, decr stops at 0; a shorter number is padded with spaces")
    }

    /// Sets the expiry of `key`; whether it was there.
    pub fn touch(&self, key: &[u8], exptime: i64) -> bool {
        todo!("stage 5: set the expiry of a live item")
    }

    /// Invalidates every item, now (`delay` ≤ 0) or `delay` seconds from now.
    pub fn flush_all(&self, delay: i64) {
        todo!("stage 5: drop everything now, or mark a time after which older items are dead")
    }

    /// The counters now.
    pub fn stats(&self) -> StoreStats {
        todo!("stage 5: sum the shards' counters")
    }
}
