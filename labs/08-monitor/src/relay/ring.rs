//! [`Ring`]: consistent hashing with virtual nodes, which names the shard each series belongs to.
//!
//! Every shard is placed on a circle of 2⁶⁴ positions at [`Ring::vnodes`] pseudo-random points (its
//! *virtual nodes*); a series belongs to the shard of the first point at or after its own hash,
//! going round. With many points a shard, each shard owns about 1/N of the circle, and adding a
//! shard takes about 1/(N+1) of the series, each from one of the others, while every other series
//! stays where it was: what `hash % N` cannot do (it moves about N/(N+1) of them).
//!
//! The hash ([`series_hash`]) is FNV-1a over the series' bytes, finished by MurmurHash3's 64-bit
//! mixer so that series differing in one byte land far apart. It is a fixed function of the bytes,
//! not `std`'s `RandomState` (seeded anew in every process) nor `DefaultHasher` (whose algorithm
//! may change between Rust releases): two relays, on two machines, built by two compilers, route
//! every series to the same shard, which they must if agents may use either.

use crate::point::{SeriesKey, Tags};

/// Virtual nodes a shard gets by default: with 256, a shard's share of the series is typically
/// within 7 % of 1/N (and with one, it can be several times that).
pub const DEFAULT_VNODES: usize = 256;

/// FNV-1a's offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a's prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
/// Ends a string in what is hashed: a byte UTF-8 text never contains, so no two different series
/// hash the same bytes.
const END: u8 = 0xff;

/// The stable 64-bit hash of the series `host metric{tags}`: the same on every machine and in
/// every run. Each string is hashed followed by the byte `0xff`, tags in name order.
///
/// # Examples
///
/// ```
/// use monitor::relay::ring::series_hash;
/// use monitor::Tags;
/// let tags: Tags = [("cpu".to_string(), "0".to_string())].into();
/// assert_eq!(series_hash("web-01", "cpu.busy", &tags), series_hash("web-01", "cpu.busy", &tags.clone()));
/// assert_ne!(series_hash("web-01", "cpu.busy", &tags), series_hash("web-01", "cpu.busy", &Tags::new()));
/// ```
pub fn series_hash(host: &str, metric: &str, tags: &Tags) -> u64 {
    todo!(
        "stage 3: FNV-1a over host, metric and each tag's name and value, each followed by the byte 0xff, then mix()"
    )
}

/// The hash of `key`'s series, as [`series_hash`].
pub fn key_hash(key: &SeriesKey) -> u64 {
    todo!("stage 3: series_hash of the key's host, metric and tags")
}

/// Where virtual node `index` of `shard` sits on the circle.
fn vnode_hash(shard: &str, index: u32) -> u64 {
    todo!("stage 3: FNV-1a over the shard's name, 0xff and the index's 4 little-endian bytes, then mix()")
}

/// FNV-1a: `hash` continued over `bytes`.
fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    todo!("stage 3: for each byte, xor it in, then multiply by FNV_PRIME (wrapping)")
}

/// MurmurHash3's `fmix64`: every input bit flips about half of the output bits, which FNV alone
/// does not do for its high bits.
fn mix(hash: u64) -> u64 {
    todo!(
        "stage 3: MurmurHash3's fmix64: xor-shift 33, multiply by 0xff51afd7ed558ccd, xor-shift 33, multiply by 0xc4ceb9fe1a85ec53, xor-shift 33"
    )
}

/// A consistent-hash ring of named shards, each at [`Ring::vnodes`] points.
///
/// What it answers depends only on the set of shard names and the vnode count: not on the order
/// shards were added in, nor on the process.
///
/// # Examples
///
/// ```
/// use monitor::relay::Ring;
/// use monitor::Sample;
/// let mut ring = Ring::new(256);
/// ring.add("10.0.0.1:6060");
/// ring.add("10.0.0.2:6060");
/// let series = Sample::gauge("cpu.busy", 1.0).at("web-01", 0).series();
/// let before = ring.shard_for(&series).unwrap().to_owned();
/// ring.add("10.0.0.3:6060");
/// // The series stays where it was, or moves to the new shard.
/// let after = ring.shard_for(&series).unwrap();
/// assert!(after == before || after == "10.0.0.3:6060");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ring {
    /// Points a shard.
    vnodes: usize,
    /// The shards' names, sorted.
    shards: Vec<String>,
    /// Every virtual node as (position, index in `shards`), sorted by position, then by name.
    points: Vec<(u64, u32)>,
}

impl Ring {
    /// An empty ring whose shards get `vnodes` points each (at least 1).
    pub fn new(vnodes: usize) -> Ring {
        todo!("stage 3: no shards yet; at least 1 vnode")
    }

    /// A ring of `shards`, each at `vnodes` points; a name given twice counts once.
    pub fn with_shards<S: AsRef<str>>(vnodes: usize, shards: impl IntoIterator<Item = S>) -> Ring {
        todo!("stage 3: the names sorted and deduplicated, then the points placed")
    }

    /// Adds the shard `name`; false if it was there already.
    pub fn add(&mut self, name: &str) -> bool {
        todo!("stage 3: insert the name in sorted order and place the points again; false if present")
    }

    /// Removes the shard `name`; false if it was not there. Only its series move.
    pub fn remove(&mut self, name: &str) -> bool {
        todo!("stage 3: remove the name and place the points again; false if absent")
    }

    /// The shards' names, sorted: [`Ring::locate`] returns indices into this.
    pub fn shards(&self) -> &[String] {
        todo!("stage 3: the sorted names")
    }

    /// How many shards.
    pub fn len(&self) -> usize {
        todo!("stage 3: how many shards")
    }

    /// Whether there is no shard.
    pub fn is_empty(&self) -> bool {
        todo!("stage 3: no shard?")
    }

    /// Points a shard.
    pub fn vnodes(&self) -> usize {
        todo!("stage 3: the vnode count")
    }

    /// The index in [`Ring::shards`] of the shard owning `hash`: the first virtual node at or after
    /// it, going round; `None` when the ring is empty.
    pub fn locate(&self, hash: u64) -> Option<usize> {
        todo!("stage 3: binary search for the first point at or after hash, wrapping round to the first")
    }

    /// The shard `key`'s series belongs to; `None` when the ring is empty.
    pub fn shard_for(&self, key: &SeriesKey) -> Option<&str> {
        todo!("stage 3: locate(key_hash(key)), as a name")
    }

    /// Places every shard's virtual nodes again, after a change of shards.
    fn rebuild(&mut self) {
        todo!("stage 3: vnode_hash(name, 0..vnodes) for every shard, sorted by (position, index)")
    }
}
