//! Rollups: each series summed up over every `step` of a coarser level, as RRD's consolidated
//! archives are, so that a query over months reads a row an hour instead of 360 points.
//!
//! A [`Bucket`] is one step of one series: the count, sum, minimum, maximum and last of its
//! points. Buckets combine exactly (sums add, minimums take the smaller), so a query at any
//! multiple of a level's step answers avg, min, max, sum, count and last from the level as it would
//! from the raw points. A [`RollupHead`] builds one level's buckets of one series as its points
//! leave the out-of-order window, in time order: the bucket under way stays in memory, and every
//! finished one becomes a five-column row of the level's open chunk.

use super::chunk::{OpenChunk, SealedChunk};
use super::options::{Level, floor};
use crate::point::Millis;

/// The values of a rollup row: count, sum, min, max, last.
pub(crate) const COLUMNS: usize = 5;

/// One step of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bucket {
    /// When it starts: a multiple of its step (or, for a raw point, the point's time).
    pub(crate) start: Millis,
    /// How many points it sums up.
    pub(crate) count: f64,
    /// Their sum.
    pub(crate) sum: f64,
    /// The least.
    pub(crate) min: f64,
    /// The greatest.
    pub(crate) max: f64,
    /// The latest.
    pub(crate) last: f64,
}

impl Bucket {
    /// A bucket starting at `start` with one point.
    pub(crate) fn new(start: Millis, value: f64) -> Bucket {
        todo!("stage 4: a bucket of one point")
    }

    /// The bucket of a stored row (count, sum, min, max, last).
    pub(crate) fn from_row(start: Millis, row: &[f64]) -> Bucket {
        todo!("stage 4: count, sum, min, max, last")
    }

    /// Its stored row.
    pub(crate) fn row(&self) -> [f64; COLUMNS] {
        todo!("stage 4: count, sum, min, max, last")
    }

    /// Adds `later`'s points, which all come after this bucket's.
    pub(crate) fn merge(&mut self, later: &Bucket) {
        todo!("stage 4: add the counts and sums, keep the extremes, take the later last")
    }
}

/// One rollup level of one series, being built.
#[derive(Debug, Clone, Default)]
pub(crate) struct RollupHead {
    /// The bucket under way.
    pub(crate) pending: Option<Bucket>,
    /// The chunk finished buckets go to.
    pub(crate) open: Option<OpenChunk>,
    /// The start of the last bucket written to a chunk: a point for it or before comes too late.
    pub(crate) closed: Millis,
}

impl RollupHead {
    /// A level with nothing yet.
    pub(crate) fn new() -> RollupHead {
        todo!("stage 4: nothing yet, closed at Millis::MIN")
    }

    /// Adds a point, later than every point fed before; a chunk this fills up is pushed to
    /// `sealed` as level `index`'s.
    #[allow(clippy::ptr_arg)]
    pub(crate) fn feed(
        &mut self,
        time: Millis,
        value: f64,
        level: &Level,
        index: usize,
        sealed: &mut Vec<SealedChunk>,
    ) {
        todo!(
            "stage 4: skip buckets already written; merge into the bucket under way, or write it and start the next"
        )
    }

    /// Writes the bucket under way and seals the open chunk: the series has gone quiet.
    #[allow(clippy::ptr_arg)]
    pub(crate) fn close(&mut self, level: &Level, index: usize, sealed: &mut Vec<SealedChunk>) {
        todo!("stage 4: write the bucket under way, seal the open chunk")
    }

    /// Appends a finished bucket to the open chunk, sealing it first when the bucket is in the
    /// next window.
    #[allow(clippy::ptr_arg)]
    fn write(&mut self, bucket: Bucket, level: &Level, index: usize, sealed: &mut Vec<SealedChunk>) {
        todo!("stage 4: seal the open chunk when the bucket is in another window, then push the bucket's row")
    }
}
