//! The item store: shards, each a mutex over a hash map and an LRU list, so workers touching
//! different keys rarely wait for each other. Each shard keeps its share of the memory limit and
//! evicts its least recently used items to make room.
//!
//! Expiry is lazy, as in memcached: an expired item is dropped when it is next looked up (or
//! evicted as the least recently used).

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use slab::Slab;

use crate::memcache::clock::Clock;
use crate::memcache::protocol::{ITEM_OVERHEAD, StoreMode, is_too_large};

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

impl Shard {
    fn new(limit: usize) -> Self {
        Shard {
            map: hashbrown::HashMap::new(),
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
            bytes: 0,
            limit,
            evictions: 0,
            hits: 0,
            misses: 0,
            sets: 0,
        }
    }

    fn unlink(&mut self, i: usize) {
        let (prev, next) = (self.nodes[i].prev, self.nodes[i].next);
        if prev == NIL {
            self.head = next
        } else {
            self.nodes[prev].next = next
        }
        if next == NIL { self.tail = prev } else { self.nodes[next].prev = prev }
    }

    fn push_front(&mut self, i: usize) {
        self.nodes[i].prev = NIL;
        self.nodes[i].next = self.head;
        if self.head != NIL {
            self.nodes[self.head].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn remove(&mut self, i: usize) {
        self.unlink(i);
        let node = self.nodes.remove(i);
        self.map.remove(&node.key);
        self.bytes -= node.size;
    }

    /// The live item under `key`, made most recently used; an expired or flushed one is dropped.
    fn lookup(&mut self, key: &[u8], now: u64, flush_at: u64) -> Option<usize> {
        let &i = self.map.get(key)?;
        if !is_live(&self.nodes[i].item, now, flush_at) {
            self.remove(i);
            return None;
        }
        if self.head != i {
            self.unlink(i);
            self.push_front(i);
        }
        Some(i)
    }

    /// Stores `item` under `key`, replacing what is there and evicting from the tail to make room.
    fn insert(&mut self, key: &[u8], item: Item) -> StoreStatus {
        let size = key.len() * 2 + item.data.len() + ITEM_OVERHEAD;
        if size > self.limit {
            return StoreStatus::OutOfMemory;
        }
        if let Some(&old) = self.map.get(key) {
            self.remove(old);
        }
        while self.bytes + size > self.limit && self.tail != NIL {
            self.remove(self.tail);
            self.evictions += 1;
        }
        let key: Box<[u8]> = key.into();
        let i =
            self.nodes.insert(Node { key: key.clone(), item: Arc::new(item), size, prev: NIL, next: NIL });
        self.map.insert(key, i);
        self.push_front(i);
        self.bytes += size;
        StoreStatus::Stored
    }

    /// Drops every item; the limit and the counters stay.
    fn clear(&mut self) {
        *self = Shard {
            evictions: self.evictions,
            hits: self.hits,
            misses: self.misses,
            sets: self.sets,
            ..Shard::new(self.limit)
        };
    }
}

/// Locks `shard`. A panic while holding a shard cannot leave it inconsistent in a way worse than
/// losing items, so a poisoned lock is used as it is.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether `item` is neither expired nor flushed at `now`.
fn is_live(item: &Item, now: u64, flush_at: u64) -> bool {
    let expires = item.expires();
    let expired = expires != 0 && now >= expires;
    let flushed = flush_at != 0 && now >= flush_at && item.stored <= flush_at;
    !expired && !flushed
}

/// The decimal number at the start of a value, as memcached's `safe_strtoull` reads it: spaces,
/// digits, then the end or a space.
fn parse_counter(data: &[u8]) -> Option<u64> {
    let start = data.iter().position(|&b| b != b' ')?;
    let digits = &data[start..];
    let end = digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
    if end == 0 || (end < digits.len() && !digits[end].is_ascii_whitespace()) {
        return None;
    }
    crate::memcache::protocol::parse_u64(&digits[..end])
}

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

impl Store {
    /// An empty store timed by `clock`.
    pub fn new(config: StoreConfig, clock: Arc<dyn Clock>) -> Self {
        let shards = config.shards.max(1);
        let per_shard = config.memory_limit / shards;
        Store {
            shards: (0..shards).map(|_| Mutex::new(Shard::new(per_shard))).collect(),
            hasher: hashbrown::DefaultHashBuilder::default(),
            started: clock.now(),
            clock,
            next_cas: AtomicU64::new(0),
            flush_at: AtomicU64::new(0),
            total_items: AtomicU64::new(0),
            limit: AtomicUsize::new(config.memory_limit),
        }
    }

    /// The clock's time now.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// When the store was made (Unix seconds).
    pub fn started(&self) -> u64 {
        self.started
    }

    /// Locks `key`'s shard and finds its item live at `now` (one expired or flushed is dropped).
    fn lookup(&self, key: &[u8], now: u64) -> (MutexGuard<'_, Shard>, Option<usize>) {
        let flush_at = self.flush_at.load(Relaxed);
        let index = self.hasher.hash_one(key) as usize % self.shards.len();
        let mut shard = lock(&self.shards[index]);
        let found = shard.lookup(key, now, flush_at);
        (shard, found)
    }

    /// memcached's `realtime`: the Unix time an expiry argument means (0 never, [`EXPIRED`] now).
    pub fn expiry(&self, exptime: i64) -> u64 {
        self.expiry_at(exptime, self.now())
    }

    /// [`expiry`](Self::expiry) with the clock read by the caller, once per command.
    fn expiry_at(&self, exptime: i64, now: u64) -> u64 {
        match exptime {
            0 => 0,
            ..0 => EXPIRED,
            1..=RELATIVE_MAX => now + exptime as u64,
            _ if exptime as u64 <= self.started => EXPIRED,
            _ => exptime as u64,
        }
    }

    fn new_item(&self, flags: u32, data: Box<[u8]>, expires: u64, now: u64) -> Item {
        Item {
            flags,
            data,
            cas: self.next_cas.fetch_add(1, Relaxed) + 1,
            expires: AtomicU64::new(expires),
            stored: now,
        }
    }

    /// The live item under `key`, its expiry set anew from `exptime` (`gat`).
    pub fn get_and_touch(&self, key: &[u8], exptime: i64) -> Option<Arc<Item>> {
        let now = self.now();
        let expires = self.expiry_at(exptime, now);
        // memcached counts a `gat` as a touch (`cmd_touch`), not as a get: no hit or miss here.
        let (shard, found) = self.lookup(key, now);
        let item = Arc::clone(&shard.nodes[found?].item);
        item.expires.store(expires, Relaxed);
        Some(item)
    }

    /// The live items, most recently used first within each shard, at most `limit` of them (0: all):
    /// `stats cachedump`.
    pub fn dump(&self, limit: usize) -> Vec<(Vec<u8>, Arc<Item>)> {
        let (now, flush_at) = (self.now(), self.flush_at.load(Relaxed));
        let limit = if limit == 0 { usize::MAX } else { limit };
        let mut items = Vec::new();
        for shard in &self.shards {
            let shard = lock(shard);
            let mut i = shard.head;
            while i != NIL && items.len() < limit {
                let node = &shard.nodes[i];
                if is_live(&node.item, now, flush_at) {
                    items.push((node.key.to_vec(), Arc::clone(&node.item)));
                }
                i = node.next;
            }
        }
        items
    }

    /// Sets a new memory limit, shared among the shards as at the start; a shard over its new
    /// share evicts as it next stores.
    pub fn set_memory_limit(&self, bytes: usize) {
        self.limit.store(bytes, Relaxed);
        let per_shard = bytes / self.shards.len();
        for shard in &self.shards {
            lock(shard).limit = per_shard;
        }
    }

    /// Zeroes the counters (`stats reset`): hits, misses, sets, evictions and items ever stored.
    pub fn reset_stats(&self) {
        self.total_items.store(0, Relaxed);
        for shard in &self.shards {
            let mut shard = lock(shard);
            (shard.hits, shard.misses, shard.sets, shard.evictions) = (0, 0, 0, 0);
        }
    }

    /// The live item under `key`.
    pub fn get(&self, key: &[u8]) -> Option<Arc<Item>> {
        let (mut shard, found) = self.lookup(key, self.now());
        let Some(i) = found else {
            shard.misses += 1;
            return None;
        };
        shard.hits += 1;
        Some(Arc::clone(&shard.nodes[i].item))
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
        if is_too_large(key.len(), data.len()) {
            return StoreStatus::TooLarge;
        }
        let now = self.now();
        let expires = self.expiry_at(exptime, now);
        let (mut shard, existing) = self.lookup(key, now);
        shard.sets += 1;
        let item = match (mode, existing) {
            (StoreMode::Add, Some(_)) => return StoreStatus::NotStored,
            (StoreMode::Replace | StoreMode::Append | StoreMode::Prepend, None) => {
                return StoreStatus::NotStored;
            }
            (StoreMode::Cas, None) => return StoreStatus::NotFound,
            (StoreMode::Cas, Some(i)) if shard.nodes[i].item.cas != cas => return StoreStatus::Exists,
            (StoreMode::Set, _) | (StoreMode::Add, None) | (StoreMode::Replace | StoreMode::Cas, Some(_)) => {
                self.new_item(flags, data.into(), expires, now)
            }
            (StoreMode::Append | StoreMode::Prepend, Some(i)) => {
                // Appending keeps the item's flags and expiry, as memcached does.
                let old = &shard.nodes[i].item;
                let joined = if mode == StoreMode::Append {
                    [&old.data[..], &data].concat()
                } else {
                    [&data, &old.data[..]].concat()
                };
                if is_too_large(key.len(), joined.len()) {
                    return StoreStatus::TooLarge;
                }
                self.new_item(old.flags, joined.into(), old.expires(), now)
            }
        };
        let status = shard.insert(key, item);
        if status == StoreStatus::Stored {
            self.total_items.fetch_add(1, Relaxed);
        }
        status
    }

    /// Deletes `key`; whether it was there.
    pub fn delete(&self, key: &[u8]) -> bool {
        let (mut shard, found) = self.lookup(key, self.now());
        match found {
            Some(i) => {
                shard.remove(i);
                true
            }
            None => false,
        }
    }

    /// `incr` (wrapping at 2^64) or `decr` (stopping at 0) of the decimal value under `key`.
    pub fn delta(&self, key: &[u8], delta: u64, incr: bool) -> Delta {
        let now = self.now();
        let (mut shard, found) = self.lookup(key, now);
        let Some(i) = found else { return Delta::NotFound };
        let old = Arc::clone(&shard.nodes[i].item);
        let Some(value) = parse_counter(&old.data) else { return Delta::NonNumeric };
        let value = if incr { value.wrapping_add(delta) } else { value.saturating_sub(delta) };
        let mut text = value.to_string().into_bytes();
        // memcached writes a shorter number in place, padded with spaces to the old length.
        if text.len() < old.data.len() {
            text.resize(old.data.len(), b' ');
        }
        let item = self.new_item(old.flags, text.into(), old.expires(), now);
        shard.insert(key, item);
        Delta::Value(value)
    }

    /// Sets the expiry of `key`; whether it was there.
    pub fn touch(&self, key: &[u8], exptime: i64) -> bool {
        let now = self.now();
        let expires = self.expiry_at(exptime, now);
        let (shard, found) = self.lookup(key, now);
        let Some(i) = found else { return false };
        shard.nodes[i].item.expires.store(expires, Relaxed);
        true
    }

    /// Invalidates every item, now (`delay` ≤ 0) or `delay` seconds from now.
    pub fn flush_all(&self, delay: i64) {
        if delay > 0 {
            self.flush_at.store(self.expiry(delay), Relaxed);
            return;
        }
        self.flush_at.store(0, Relaxed);
        for shard in &self.shards {
            lock(shard).clear();
        }
    }

    /// The counters now.
    pub fn stats(&self) -> StoreStats {
        let mut stats = StoreStats {
            limit: self.limit.load(Relaxed) as u64,
            total_items: self.total_items.load(Relaxed),
            ..StoreStats::default()
        };
        for shard in &self.shards {
            let shard = lock(shard);
            stats.items += shard.nodes.len() as u64;
            stats.bytes += shard.bytes as u64;
            stats.evictions += shard.evictions;
            stats.get_hits += shard.hits;
            stats.get_misses += shard.misses;
            stats.cmd_set += shard.sets;
        }
        stats
    }
}
