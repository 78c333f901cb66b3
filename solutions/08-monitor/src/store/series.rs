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
        self.series.len()
    }

    /// The id of `point`'s series, if it has one.
    pub(crate) fn find(&self, point: &Point) -> Option<SeriesId> {
        self.find_view(&point.host, &point.metric, tag_strs(&point.tags))
    }

    /// The id of the series of `host`, `metric` and `tags` (by name), if it has one.
    pub(crate) fn find_view<'a>(
        &self,
        host: &str,
        metric: &str,
        tags: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    ) -> Option<SeriesId> {
        let hash = self.hash(host, metric, tags.clone());
        self.by_hash.get(&hash)?.iter().copied().find(|&id| {
            self.series[id as usize].as_ref().is_some_and(|(key, _)| {
                key.host == host && key.metric == metric && same_tags(&key.tags, tags.clone())
            })
        })
    }

    /// The id of `key`, if it has one.
    pub(crate) fn find_key(&self, key: &SeriesKey) -> Option<SeriesId> {
        self.find_view(&key.host, &key.metric, tag_strs(&key.tags))
    }

    /// Gives `key` the next id.
    pub(crate) fn add(&mut self, key: SeriesKey, kind: Kind) -> SeriesId {
        let id = self.series.len() as SeriesId;
        self.define(id, key, kind);
        id
    }

    /// Gives `key` the id `id`, as a log being replayed says; `false` (and nothing done) when the
    /// id is taken or the key already has one.
    pub(crate) fn define(&mut self, id: SeriesId, key: SeriesKey, kind: Kind) -> bool {
        let slot = id as usize;
        if self.series.get(slot).is_some_and(Option::is_some) || self.find_key(&key).is_some() {
            return false;
        }
        if self.series.len() <= slot {
            self.series.resize(slot + 1, None);
        }
        let hash = self.hash(&key.host, &key.metric, tag_strs(&key.tags));
        self.by_hash.entry(hash).or_default().push(id);
        self.series[slot] = Some((key, kind));
        true
    }

    /// The key and kind of `id`.
    pub(crate) fn get(&self, id: SeriesId) -> Option<&(SeriesKey, Kind)> {
        self.series.get(id as usize)?.as_ref()
    }

    /// Every id with its key and kind, in id order.
    pub(crate) fn all(&self) -> Vec<(SeriesId, &SeriesKey, Kind)> {
        self.series
            .iter()
            .enumerate()
            .filter_map(|(id, entry)| entry.as_ref().map(|(key, kind)| (id as SeriesId, key, *kind)))
            .collect()
    }

    /// The distinct hosts, sorted.
    pub(crate) fn hosts(&self) -> Vec<String> {
        let hosts: BTreeSet<&str> = self.all().into_iter().map(|(_, key, _)| key.host.as_str()).collect();
        hosts.into_iter().map(str::to_owned).collect()
    }

    /// The keys of `host` (any when `None`) and `metric` (any when `None`), sorted.
    pub(crate) fn keys(&self, host: Option<&str>, metric: Option<&str>) -> Vec<SeriesKey> {
        let mut keys: Vec<SeriesKey> = self
            .all()
            .into_iter()
            .filter(|(_, key, _)| host.is_none_or(|host| key.host == host))
            .filter(|(_, key, _)| metric.is_none_or(|metric| key.metric == metric))
            .map(|(_, key, _)| key.clone())
            .collect();
        keys.sort();
        keys
    }

    /// The hash of a key given by its parts, the tags by name.
    fn hash<'a>(&self, host: &str, metric: &str, tags: impl Iterator<Item = (&'a str, &'a str)>) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        host.hash(&mut hasher);
        metric.hash(&mut hasher);
        for (name, value) in tags {
            name.hash(&mut hasher);
            value.hash(&mut hasher);
        }
        hasher.finish()
    }
}

/// The tags of a key as pairs of `&str`, by name: what a batch's series has.
fn tag_strs(tags: &Tags) -> impl Iterator<Item = (&str, &str)> + Clone {
    tags.iter().map(|(name, value)| (name.as_str(), value.as_str()))
}

/// Whether `tags` are `theirs`, in order.
fn same_tags<'a>(tags: &Tags, mut theirs: impl Iterator<Item = (&'a str, &'a str)>) -> bool {
    tags.iter().all(|(name, value)| theirs.next().is_some_and(|(n, v)| name == n && value == v))
        && theirs.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::Sample;

    #[test]
    fn a_point_finds_its_series_without_building_a_key() {
        let mut index = SeriesIndex::default();
        let point = Sample::gauge("cpu.busy", 1.0).tag("cpu", "0").at("web-01", 0);
        assert_eq!(index.find(&point), None);
        let id = index.add(point.series(), Kind::Gauge);
        assert_eq!(index.find(&point), Some(id));
        let other = Sample::gauge("cpu.busy", 1.0).tag("cpu", "1").at("web-01", 0);
        assert_eq!(index.find(&other), None);
        assert!(!index.define(7, point.series(), Kind::Gauge), "a key has one id");
        assert!(index.define(7, other.series(), Kind::Gauge));
        assert_eq!(index.len(), 8);
        assert_eq!(index.find(&other), Some(7));
        assert_eq!(index.get(3), None, "ids skipped by a damaged log have no key");
    }
}
