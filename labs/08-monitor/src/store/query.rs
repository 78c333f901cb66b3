//! Range queries: one series between two times, as raw points or one value a step, read from the
//! level that answers the step with the fewest rows.
//!
//! A query with a step reads the coarsest level whose step divides the query's (a 1-hour step
//! from the hourly rollup, a 15-minute step from the 5-minute one), and raw points for any other
//! step. Steps are aligned to multiples of the step since the epoch, and a step covers all its
//! points: the range is widened to whole steps, from the one holding `from` to the one holding
//! `to`, so that a rollup, whose buckets cannot be cut, answers exactly as the raw points would.
//! The last minutes, still in the out-of-order window, are summed up on the fly, so a rollup is
//! never behind the raw points.

use std::time::Duration;

use super::gorilla::{Rows, decode_rows};
use super::head::SeriesHead;
use super::options::{Plan, floor};
use super::rollup::Bucket;
use crate::point::{Millis, SeriesKey};

/// How the points of one step become one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregate {
    /// The mean.
    Avg,
    /// The least.
    Min,
    /// The greatest.
    Max,
    /// The sum.
    Sum,
    /// How many points there are.
    Count,
    /// The latest.
    Last,
}

impl Aggregate {
    /// This aggregate of a bucket's points.
    pub(crate) fn of(self, bucket: &Bucket) -> f64 {
        todo!("stage 4: from the bucket's count, sum, min, max and last")
    }
}

/// One series between two times.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeQuery {
    /// The series.
    pub series: SeriesKey,
    /// The first time (inclusive).
    pub from: Millis,
    /// The last time (inclusive).
    pub to: Millis,
    /// `None` for the raw points; otherwise one value a step, stamped with the step's start (a
    /// multiple of the step), for each step that has points. Whole milliseconds; under 1 ms is
    /// `None`.
    pub step: Option<Duration>,
    /// How the points of a step become its value (unused without a step).
    pub aggregate: Aggregate,
}

impl RangeQuery {
    /// The raw points of `series` from `from` to `to`, both included.
    pub fn raw(series: SeriesKey, from: Millis, to: Millis) -> RangeQuery {
        RangeQuery { series, from, to, step: None, aggregate: Aggregate::Last }
    }

    /// One `aggregate` value of `series` a `step`, over the steps holding `from` to `to`.
    pub fn every(
        series: SeriesKey,
        from: Millis,
        to: Millis,
        step: Duration,
        aggregate: Aggregate,
    ) -> RangeQuery {
        RangeQuery { series, from, to, step: Some(step), aggregate }
    }

    /// The step in milliseconds, if it has one of at least 1 ms.
    pub(crate) fn step_millis(&self) -> Option<Millis> {
        todo!("stage 4: the step in whole milliseconds, when at least 1")
    }

    /// The times whose data answers it: `from..=to`, widened to whole steps.
    pub(crate) fn span(&self) -> (Millis, Millis) {
        todo!("stage 4: from..=to, widened to whole steps when there is a step")
    }
}

/// The level to read for a step: the coarsest whose step divides it; raw points without a step.
pub(crate) fn choose_level(plan: &Plan, step: Option<Millis>) -> usize {
    todo!("stage 4: the coarsest level whose step divides the query's; 0 without a step")
}

/// The rows found for a query, as buckets (a raw point is a bucket of one), from every place that
/// may hold some.
#[derive(Debug)]
pub(crate) struct Gather {
    /// The first time wanted.
    from: Millis,
    /// The last time wanted.
    to: Millis,
    /// What was found, in the order found.
    found: Vec<Bucket>,
}

impl Gather {
    /// Gathers rows from `from` to `to`, both included.
    pub(crate) fn new(from: Millis, to: Millis) -> Gather {
        todo!("stage 4: nothing found yet")
    }

    /// Whether a chunk from `first` to `last` may hold rows wanted.
    pub(crate) fn wants(&self, first: Millis, last: Millis) -> bool {
        todo!("stage 4: whether the chunk overlaps the range")
    }

    /// Adds the rows of a Gorilla chunk in range; a chunk that does not decode adds nothing.
    pub(crate) fn chunk(&mut self, bytes: &[u8]) {
        todo!("stage 4: decode the chunk and add its rows")
    }

    /// Adds the rows of a decoded chunk in range.
    pub(crate) fn rows(&mut self, rows: &Rows) {
        todo!("stage 4: keep the rows in range as buckets")
    }

    /// Adds a bucket, when in range.
    pub(crate) fn bucket(&mut self, bucket: Bucket) {
        todo!("stage 4: keep it when in range")
    }

    /// Adds what `head` holds of level `level`.
    pub(crate) fn head(&mut self, head: &SeriesHead, level: usize, plan: &Plan) {
        todo!(
            "stage 4: sealed chunks of the level, the open chunk, and the recent points (raw) or the bucket under way and the recent points summed up (a rollup)"
        )
    }

    /// The answer to `query`: rows by time, one a time (a chunk on its way to a block file may be
    /// found in both places), then summed up a step.
    pub(crate) fn answer(self, query: &RangeQuery) -> Vec<(Millis, f64)> {
        todo!("stage 4: sort by time, one row a time, then merge the rows of each step")
    }
}
