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
        todo!("stage 4: no points: newest and frontier at Millis::MIN, a rollup head a level")
    }

    /// Offers a point.
    pub(crate) fn apply(&mut self, time: Millis, value: f64, plan: &Plan) -> Applied {
        todo!(
            "stage 4: late at or before the frontier; replace a recent point of the same time; else insert, and freeze what falls behind the window"
        )
    }

    /// Freezes every recent point and seals every open chunk: the series has gone quiet.
    pub(crate) fn close(&mut self, plan: &Plan) {
        todo!("stage 4: freeze every recent point, seal the raw chunk and every rollup")
    }

    /// Drops what lies wholly before each level's cutoff at `now`: sealed and open chunks whose
    /// window ended by then, buckets and points before it.
    pub(crate) fn drop_expired(&mut self, plan: &Plan, now: Millis) {
        todo!("stage 4: drop the chunks, buckets and points wholly before each level's cutoff")
    }

    /// Raw points held: recent, in the open chunk, and in sealed raw chunks.
    pub(crate) fn points(&self) -> u64 {
        todo!("stage 4: recent, open and sealed raw rows")
    }

    /// Appends a point that left the out-of-order window to the raw chunk and the rollups.
    fn freeze(&mut self, time: Millis, value: f64, plan: &Plan) {
        todo!(
            "stage 4: move the frontier, seal the raw chunk on a new window (or when full), push the point, feed the rollups"
        )
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
        todo!("stage 4: the head at id / SHARDS, made if missing")
    }

    /// The head of `id`, if it has one.
    pub(crate) fn head(&self, id: SeriesId) -> Option<&SeriesHead> {
        todo!("stage 4: the head at id / SHARDS")
    }

    /// Puts `head` in place as `id`'s (restoring a checkpoint).
    pub(crate) fn put(&mut self, id: SeriesId, head: SeriesHead) {
        todo!("stage 4: put the head at id / SHARDS")
    }

    /// Every head with its id, given the shard's number.
    pub(crate) fn heads_mut(&mut self, shard: usize) -> Vec<(SeriesId, &mut SeriesHead)> {
        todo!("stage 4: every head with its id")
    }

    /// Every head, read only.
    pub(crate) fn heads(&self) -> Vec<&SeriesHead> {
        todo!("stage 4: every head")
    }
}
