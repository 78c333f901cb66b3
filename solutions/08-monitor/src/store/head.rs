//! The head: what the store holds in memory for each series, from the newest points back to its
//! last chunk written to a block file.
//!
//! A [`SeriesHead`] keeps its newest points, those within the out-of-order window of its newest,
//! uncompressed and sorted (`recent`): a point may land among them, and one with the timestamp of
//! one of them replaces it, so a batch sent twice is stored once. A point that falls behind the
//! window is *frozen*: appended to the raw open chunk (Gorilla needs increasing times) and fed to
//! every rollup. The newest frozen time is the series' *frontier*: a point at or before it is late,
//! and refused. An open chunk whose window is over is sealed and waits, in `sealed`, for the next
//! checkpoint.
//!
//! The heads live in [`Shard`]s, each behind its own lock, so that appends of different series
//! rarely wait for each other.

use std::collections::VecDeque;

use super::chunk::{OpenChunk, SealedChunk};
use super::options::{MAX_CHUNK_POINTS, Plan};
use super::rollup::RollupHead;
use super::series::SeriesId;
use crate::point::Millis;

/// The shards the heads are spread over, by series id.
pub(crate) const SHARDS: usize = 16;

/// The most points of a series held in the out-of-order window, whatever its span.
pub(crate) const MAX_RECENT: usize = 1024;

/// What became of a point offered to a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    /// It is new.
    Stored,
    /// It took the place of the point with its timestamp.
    Replaced,
    /// It is at or before the series' frontier: refused.
    Late,
}

/// One series in memory.
#[derive(Debug, Clone)]
pub(crate) struct SeriesHead {
    /// The newest timestamp taken.
    pub(crate) newest: Millis,
    /// The newest frozen timestamp: points at or before it are late.
    pub(crate) frontier: Millis,
    /// The points not yet frozen, by time.
    pub(crate) recent: VecDeque<(Millis, f64)>,
    /// The raw chunk being appended to.
    pub(crate) raw: Option<OpenChunk>,
    /// Each rollup level's state, in the plan's order (the plan's level `i + 1`).
    pub(crate) rollups: Vec<RollupHead>,
    /// Chunks finished since the last checkpoint.
    pub(crate) sealed: Vec<SealedChunk>,
}

impl SeriesHead {
    /// A series with no points, under `plan`.
    pub(crate) fn new(plan: &Plan) -> SeriesHead {
        SeriesHead {
            newest: Millis::MIN,
            frontier: Millis::MIN,
            recent: VecDeque::new(),
            raw: None,
            rollups: vec![RollupHead::new(); plan.levels.len() - 1],
            sealed: Vec::new(),
        }
    }

    /// Offers a point.
    pub(crate) fn apply(&mut self, time: Millis, value: f64, plan: &Plan) -> Applied {
        if self.frontier != Millis::MIN && time <= self.frontier {
            return Applied::Late;
        }
        match self.recent.binary_search_by_key(&time, |&(time, _)| time) {
            Ok(at) => {
                self.recent[at].1 = value;
                return Applied::Replaced;
            }
            Err(at) => self.recent.insert(at, (time, value)),
        }
        self.newest = self.newest.max(time);
        let horizon = self.newest.saturating_sub(plan.out_of_order);
        while let Some(&(oldest, value)) = self.recent.front() {
            if oldest >= horizon && self.recent.len() <= MAX_RECENT {
                break;
            }
            self.recent.pop_front();
            self.freeze(oldest, value, plan);
        }
        Applied::Stored
    }

    /// Freezes every recent point and seals every open chunk: the series has gone quiet.
    pub(crate) fn close(&mut self, plan: &Plan) {
        while let Some((time, value)) = self.recent.pop_front() {
            self.freeze(time, value, plan);
        }
        if let Some(open) = self.raw.take() {
            self.sealed.push(open.seal(0));
        }
        for (i, rollup) in self.rollups.iter_mut().enumerate() {
            rollup.close(&plan.levels[i + 1], i + 1, &mut self.sealed);
        }
    }

    /// Drops what lies wholly before each level's cutoff at `now`: sealed and open chunks whose
    /// window ended by then, buckets and points before it.
    pub(crate) fn drop_expired(&mut self, plan: &Plan, now: Millis) {
        let cutoff = |level: usize| now.saturating_sub(plan.levels[level].retention);
        let ends_by =
            |level: usize, window: Millis| window.saturating_add(plan.levels[level].span) <= cutoff(level);
        self.sealed.retain(|chunk| !ends_by(chunk.level, chunk.window));
        if self.raw.as_ref().is_some_and(|open| ends_by(0, open.window)) {
            self.raw = None;
        }
        while self.recent.front().is_some_and(|&(time, _)| time < cutoff(0)) {
            self.recent.pop_front();
        }
        for (i, rollup) in self.rollups.iter_mut().enumerate() {
            if rollup.open.as_ref().is_some_and(|open| ends_by(i + 1, open.window)) {
                rollup.open = None;
            }
            let step = plan.levels[i + 1].step;
            if rollup.pending.is_some_and(|bucket| bucket.start.saturating_add(step) <= cutoff(i + 1)) {
                rollup.pending = None;
            }
        }
    }

    /// Raw points held: recent, in the open chunk, and in sealed raw chunks.
    pub(crate) fn points(&self) -> u64 {
        let sealed: u64 =
            self.sealed.iter().filter(|chunk| chunk.level == 0).map(|c| u64::from(c.rows)).sum();
        self.recent.len() as u64 + self.raw.as_ref().map_or(0, |open| u64::from(open.rows())) + sealed
    }

    /// Appends a point that left the out-of-order window to the raw chunk and the rollups.
    fn freeze(&mut self, time: Millis, value: f64, plan: &Plan) {
        self.frontier = time;
        let raw = plan.raw();
        let window = raw.window(time);
        if let Some(full) = self.raw.take_if(|open| open.window != window || open.rows() >= MAX_CHUNK_POINTS)
        {
            self.sealed.push(full.seal(0));
        }
        self.raw.get_or_insert_with(|| OpenChunk::new(window, 1)).push(time, &[value]);
        for (i, rollup) in self.rollups.iter_mut().enumerate() {
            rollup.feed(time, value, &plan.levels[i + 1], i + 1, &mut self.sealed);
        }
    }
}

/// The heads of the series whose id is this shard's number modulo [`SHARDS`].
#[derive(Debug, Default)]
pub(crate) struct Shard {
    /// By `id / SHARDS`.
    heads: Vec<Option<SeriesHead>>,
}

impl Shard {
    /// The head of `id`, made if missing.
    pub(crate) fn head_mut(&mut self, id: SeriesId, plan: &Plan) -> &mut SeriesHead {
        let slot = id as usize / SHARDS;
        if self.heads.len() <= slot {
            self.heads.resize(slot + 1, None);
        }
        self.heads[slot].get_or_insert_with(|| SeriesHead::new(plan))
    }

    /// The head of `id`, if it has one.
    pub(crate) fn head(&self, id: SeriesId) -> Option<&SeriesHead> {
        self.heads.get(id as usize / SHARDS)?.as_ref()
    }

    /// Puts `head` in place as `id`'s (restoring a checkpoint).
    pub(crate) fn put(&mut self, id: SeriesId, head: SeriesHead) {
        let slot = id as usize / SHARDS;
        if self.heads.len() <= slot {
            self.heads.resize(slot + 1, None);
        }
        self.heads[slot] = Some(head);
    }

    /// Every head with its id, given the shard's number.
    pub(crate) fn heads_mut(&mut self, shard: usize) -> Vec<(SeriesId, &mut SeriesHead)> {
        let id = |slot: usize| (slot * SHARDS + shard) as SeriesId;
        self.heads
            .iter_mut()
            .enumerate()
            .filter_map(|(slot, head)| Some((id(slot), head.as_mut()?)))
            .collect()
    }

    /// Every head, read only.
    pub(crate) fn heads(&self) -> Vec<&SeriesHead> {
        self.heads.iter().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::options::StoreOptions;
    use std::time::Duration;

    fn plan() -> Plan {
        let mut options = StoreOptions::new("x");
        options.out_of_order = Duration::from_secs(60);
        Plan::new(&options).unwrap()
    }

    #[test]
    fn points_reorder_within_the_window_and_are_late_behind_it() {
        let plan = plan();
        let mut head = SeriesHead::new(&plan);
        assert_eq!(head.apply(100_000, 1.0, &plan), Applied::Stored);
        assert_eq!(head.apply(50_000, 2.0, &plan), Applied::Stored, "50 s behind: in the window");
        assert_eq!(head.apply(100_000, 3.0, &plan), Applied::Replaced);
        assert_eq!(head.apply(200_000, 4.0, &plan), Applied::Stored);
        assert_eq!(head.frontier, 100_000, "the two older points froze");
        assert_eq!(head.apply(100_000, 5.0, &plan), Applied::Late);
        assert_eq!(head.apply(150_000, 6.0, &plan), Applied::Stored, "after the frontier");
        assert_eq!(head.points(), 4);
        head.close(&plan);
        assert_eq!(head.points(), 4);
        assert!(head.sealed.iter().any(|chunk| chunk.level == 0 && chunk.rows == 4));
    }
}
