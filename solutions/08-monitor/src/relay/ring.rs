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
    let mut hash = FNV_OFFSET;
    let mut add = |text: &str| {
        hash = fnv(hash, text.as_bytes());
        hash = fnv(hash, &[END]);
    };
    add(host);
    add(metric);
    for (name, value) in tags {
        add(name);
        add(value);
    }
    mix(hash)
}

/// The hash of `key`'s series, as [`series_hash`].
pub fn key_hash(key: &SeriesKey) -> u64 {
    series_hash(&key.host, &key.metric, &key.tags)
}

/// Where virtual node `index` of `shard` sits on the circle.
fn vnode_hash(shard: &str, index: u32) -> u64 {
    let hash = fnv(fnv(FNV_OFFSET, shard.as_bytes()), &[END]);
    mix(fnv(hash, &index.to_le_bytes()))
}

/// FNV-1a: `hash` continued over `bytes`.
fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// MurmurHash3's `fmix64`: every input bit flips about half of the output bits, which FNV alone
/// does not do for its high bits.
fn mix(mut hash: u64) -> u64 {
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
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
        Ring { vnodes: vnodes.max(1), shards: Vec::new(), points: Vec::new() }
    }

    /// A ring of `shards`, each at `vnodes` points; a name given twice counts once.
    pub fn with_shards<S: AsRef<str>>(vnodes: usize, shards: impl IntoIterator<Item = S>) -> Ring {
        let mut ring = Ring::new(vnodes);
        ring.shards = shards.into_iter().map(|shard| shard.as_ref().to_owned()).collect();
        ring.shards.sort();
        ring.shards.dedup();
        ring.rebuild();
        ring
    }

    /// Adds the shard `name`; false if it was there already.
    pub fn add(&mut self, name: &str) -> bool {
        match self.shards.binary_search_by(|shard| shard.as_str().cmp(name)) {
            Ok(_) => false,
            Err(at) => {
                self.shards.insert(at, name.to_owned());
                self.rebuild();
                true
            }
        }
    }

    /// Removes the shard `name`; false if it was not there. Only its series move.
    pub fn remove(&mut self, name: &str) -> bool {
        match self.shards.binary_search_by(|shard| shard.as_str().cmp(name)) {
            Ok(at) => {
                self.shards.remove(at);
                self.rebuild();
                true
            }
            Err(_) => false,
        }
    }

    /// The shards' names, sorted: [`Ring::locate`] returns indices into this.
    pub fn shards(&self) -> &[String] {
        &self.shards
    }

    /// How many shards.
    pub fn len(&self) -> usize {
        self.shards.len()
    }

    /// Whether there is no shard.
    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// Points a shard.
    pub fn vnodes(&self) -> usize {
        self.vnodes
    }

    /// The index in [`Ring::shards`] of the shard owning `hash`: the first virtual node at or after
    /// it, going round; `None` when the ring is empty.
    pub fn locate(&self, hash: u64) -> Option<usize> {
        if self.points.is_empty() {
            return None;
        }
        let at = self.points.partition_point(|&(position, _)| position < hash);
        let (_, shard) = self.points[if at == self.points.len() { 0 } else { at }];
        Some(shard as usize)
    }

    /// The shard `key`'s series belongs to; `None` when the ring is empty.
    pub fn shard_for(&self, key: &SeriesKey) -> Option<&str> {
        self.locate(key_hash(key)).map(|index| self.shards[index].as_str())
    }

    /// Places every shard's virtual nodes again, after a change of shards.
    fn rebuild(&mut self) {
        let vnodes = u32::try_from(self.vnodes).unwrap_or(u32::MAX);
        self.points = (0..self.shards.len())
            .flat_map(|index| {
                let name = &self.shards[index];
                (0..vnodes).map(move |vnode| (vnode_hash(name, vnode), index as u32))
            })
            .collect();
        // Shards are sorted by name, so ties of position go to the same shard whatever the order
        // they were added in.
        self.points.sort_unstable();
    }
}
