//! [`SeriesIndex`]: every series the store has met, each given a small number (its *id*) the first
//! time, which the log, the head and the block files use in place of its key.
//!
//! Finding a series' id must not allocate: its host, metric and tags are hashed where they lie (in
//! a point, or in a batch's frame) and compared with the keys of that hash, so a batch of known
//! series costs a hash and a comparison a series.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hash, Hasher, RandomState};

use crate::point::{Kind, Point, SeriesKey, Tags};

/// A series' number: its index in [`SeriesIndex`].
pub(crate) type SeriesId = u32;

/// Every series, by id, and the way back from a key to its id.
#[derive(Debug, Default)]
pub(crate) struct SeriesIndex {
    /// Each id's key and kind; `None` for an id whose definition was lost to a damaged log.
    series: Vec<Option<(SeriesKey, Kind)>>,
    /// The ids of each key hash.
    by_hash: HashMap<u64, Vec<SeriesId>>,
    /// The hash's keys.
    hasher: RandomState,
}

impl SeriesIndex {
    /// How many ids are given out (the next id).
    pub(crate) fn len(&self) -> usize {
        todo!("stage 4: ids given out")
    }

    /// The id of `point`'s series, if it has one.
    pub(crate) fn find(&self, point: &Point) -> Option<SeriesId> {
        todo!(
            "stage 4: hash the point's host, metric and tags where they lie; compare with the keys of that hash"
        )
    }

    /// The id of `key`, if it has one.
    pub(crate) fn find_key(&self, key: &SeriesKey) -> Option<SeriesId> {
        todo!("stage 4: as find, for a key")
    }

    /// Gives `key` the next id.
    pub(crate) fn add(&mut self, key: SeriesKey, kind: Kind) -> SeriesId {
        todo!("stage 4: the next id")
    }

    /// Gives `key` the id `id`, as a log being replayed says; `false` (and nothing done) when the
    /// id is taken or the key already has one.
    pub(crate) fn define(&mut self, id: SeriesId, key: SeriesKey, kind: Kind) -> bool {
        todo!("stage 4: refuse a taken id or a known key; otherwise record both ways")
    }

    /// The key and kind of `id`.
    pub(crate) fn get(&self, id: SeriesId) -> Option<&(SeriesKey, Kind)> {
        todo!("stage 4: the entry of the id")
    }

    /// Every id with its key and kind, in id order.
    pub(crate) fn all(&self) -> Vec<(SeriesId, &SeriesKey, Kind)> {
        todo!("stage 4: every defined id")
    }

    /// The distinct hosts, sorted.
    pub(crate) fn hosts(&self) -> Vec<String> {
        todo!("stage 4: distinct and sorted")
    }

    /// The keys of `host` (any when `None`) and `metric` (any when `None`), sorted.
    pub(crate) fn keys(&self, host: Option<&str>, metric: Option<&str>) -> Vec<SeriesKey> {
        todo!("stage 4: filtered by host and metric, sorted")
    }

    /// The hash of a key given by its parts, the tags by name.
    fn hash<'a>(&self, host: &str, metric: &str, tags: impl Iterator<Item = (&'a str, &'a str)>) -> u64 {
        todo!("stage 4: host, metric and each tag's name and value into one hasher")
    }
}
