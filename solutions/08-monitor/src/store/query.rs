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
        match self {
            Aggregate::Avg => bucket.sum / bucket.count,
            Aggregate::Min => bucket.min,
            Aggregate::Max => bucket.max,
            Aggregate::Sum => bucket.sum,
            Aggregate::Count => bucket.count,
            Aggregate::Last => bucket.last,
        }
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
        let step = i64::try_from(self.step?.as_millis()).unwrap_or(Millis::MAX);
        (step > 0).then_some(step)
    }

    /// The times whose data answers it: `from..=to`, widened to whole steps.
    pub(crate) fn span(&self) -> (Millis, Millis) {
        match self.step_millis() {
            Some(step) => (floor(self.from, step), floor(self.to, step).saturating_add(step - 1)),
            None => (self.from, self.to),
        }
    }
}

/// The level to read for a step: the coarsest whose step divides it; raw points without a step.
pub(crate) fn choose_level(plan: &Plan, step: Option<Millis>) -> usize {
    let Some(step) = step else { return 0 };
    (1..plan.levels.len()).rev().find(|&level| step % plan.levels[level].step == 0).unwrap_or(0)
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
        Gather { from, to, found: Vec::new() }
    }

    /// Whether a chunk from `first` to `last` may hold rows wanted.
    pub(crate) fn wants(&self, first: Millis, last: Millis) -> bool {
        last >= self.from && first <= self.to
    }

    /// Adds the rows of a Gorilla chunk in range; a chunk that does not decode adds nothing.
    pub(crate) fn chunk(&mut self, bytes: &[u8]) {
        if let Ok(rows) = decode_rows(bytes) {
            self.rows(&rows);
        }
    }

    /// Adds the rows of a decoded chunk in range.
    pub(crate) fn rows(&mut self, rows: &Rows) {
        let start = rows.times.partition_point(|&time| time < self.from);
        let end = rows.times.partition_point(|&time| time <= self.to);
        for row in start..end.max(start) {
            let values = &rows.values[row * rows.columns..(row + 1) * rows.columns];
            let time = rows.times[row];
            self.found.push(match rows.columns {
                1 => Bucket::new(time, values[0]),
                _ => Bucket::from_row(time, values),
            });
        }
    }

    /// Adds a bucket, when in range.
    pub(crate) fn bucket(&mut self, bucket: Bucket) {
        if (self.from..=self.to).contains(&bucket.start) {
            self.found.push(bucket);
        }
    }

    /// Adds what `head` holds of level `level`.
    pub(crate) fn head(&mut self, head: &SeriesHead, level: usize, plan: &Plan) {
        for chunk in head.sealed.iter().filter(|chunk| chunk.level == level) {
            if self.wants(chunk.first, chunk.last) {
                self.chunk(&chunk.bytes);
            }
        }
        if level == 0 {
            if let Some(open) = head.raw.as_ref().filter(|open| self.wants(open.first, open.last)) {
                self.chunk(&open.bytes());
            }
            for &(time, value) in &head.recent {
                self.bucket(Bucket::new(time, value));
            }
            return;
        }
        let rollup = &head.rollups[level - 1];
        if let Some(open) = rollup.open.as_ref().filter(|open| self.wants(open.first, open.last)) {
            self.chunk(&open.bytes());
        }
        // The bucket under way, and the recent points the rollup has not been fed yet.
        let step = plan.levels[level].step;
        let mut current = rollup.pending;
        for &(time, value) in &head.recent {
            let start = floor(time, step);
            if rollup.closed != Millis::MIN && start <= rollup.closed {
                continue;
            }
            match &mut current {
                Some(bucket) if bucket.start == start => bucket.merge(&Bucket::new(start, value)),
                _ => {
                    if let Some(done) = current.replace(Bucket::new(start, value)) {
                        self.bucket(done);
                    }
                }
            }
        }
        if let Some(bucket) = current {
            self.bucket(bucket);
        }
    }

    /// The answer to `query`: rows by time, one a time (a chunk on its way to a block file may be
    /// found in both places), then summed up a step.
    pub(crate) fn answer(mut self, query: &RangeQuery) -> Vec<(Millis, f64)> {
        self.found.sort_by_key(|bucket| bucket.start);
        self.found.dedup_by_key(|bucket| bucket.start);
        let Some(step) = query.step_millis() else {
            return self.found.iter().map(|bucket| (bucket.start, bucket.last)).collect();
        };
        let mut answer = Vec::new();
        let mut current: Option<Bucket> = None;
        for bucket in &self.found {
            let start = floor(bucket.start, step);
            match &mut current {
                Some(sum) if sum.start == start => sum.merge(bucket),
                _ => {
                    if let Some(done) = current.replace(Bucket { start, ..*bucket }) {
                        answer.push((done.start, query.aggregate.of(&done)));
                    }
                }
            }
        }
        if let Some(done) = current {
            answer.push((done.start, query.aggregate.of(&done)));
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::options::StoreOptions;

    #[test]
    fn the_coarsest_level_dividing_the_step_is_read() {
        let plan = Plan::new(&StoreOptions::new("x")).unwrap();
        assert_eq!(choose_level(&plan, None), 0);
        assert_eq!(choose_level(&plan, Some(10_000)), 0);
        assert_eq!(choose_level(&plan, Some(900_000)), 1);
        assert_eq!(choose_level(&plan, Some(86_400_000)), 2);
        assert_eq!(choose_level(&plan, Some(450_000)), 0, "not a multiple of 5 minutes");
    }

    #[test]
    fn steps_sum_up_their_points() {
        let key = SeriesKey { host: "h".into(), metric: "m".into(), tags: Default::default() };
        let query = RangeQuery::every(key, 5, 39, Duration::from_millis(10), Aggregate::Avg);
        assert_eq!(query.span(), (0, 39));
        let mut gather = Gather::new(0, 39);
        for (time, value) in [(1, 1.0), (9, 3.0), (15, 5.0), (16, 7.0), (38, 7.0)] {
            gather.bucket(Bucket::new(time, value));
        }
        assert_eq!(gather.answer(&query), [(0, 2.0), (10, 6.0), (30, 7.0)]);
    }
}
