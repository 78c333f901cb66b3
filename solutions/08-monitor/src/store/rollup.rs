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
        Bucket { start, count: 1.0, sum: value, min: value, max: value, last: value }
    }

    /// The bucket of a stored row (count, sum, min, max, last).
    pub(crate) fn from_row(start: Millis, row: &[f64]) -> Bucket {
        Bucket { start, count: row[0], sum: row[1], min: row[2], max: row[3], last: row[4] }
    }

    /// Its stored row.
    pub(crate) fn row(&self) -> [f64; COLUMNS] {
        [self.count, self.sum, self.min, self.max, self.last]
    }

    /// Adds `later`'s points, which all come after this bucket's.
    pub(crate) fn merge(&mut self, later: &Bucket) {
        self.count += later.count;
        self.sum += later.sum;
        self.min = self.min.min(later.min);
        self.max = self.max.max(later.max);
        self.last = later.last;
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
        RollupHead { pending: None, open: None, closed: Millis::MIN }
    }

    /// Adds a point, later than every point fed before; a chunk this fills up is pushed to
    /// `sealed` as level `index`'s.
    pub(crate) fn feed(
        &mut self,
        time: Millis,
        value: f64,
        level: &Level,
        index: usize,
        sealed: &mut Vec<SealedChunk>,
    ) {
        let start = floor(time, level.step);
        if self.closed != Millis::MIN && start <= self.closed {
            return;
        }
        match &mut self.pending {
            Some(bucket) if bucket.start == start => bucket.merge(&Bucket::new(start, value)),
            pending => {
                if let Some(done) = pending.replace(Bucket::new(start, value)) {
                    self.write(done, level, index, sealed);
                }
            }
        }
    }

    /// Writes the bucket under way and seals the open chunk: the series has gone quiet.
    pub(crate) fn close(&mut self, level: &Level, index: usize, sealed: &mut Vec<SealedChunk>) {
        if let Some(done) = self.pending.take() {
            self.write(done, level, index, sealed);
        }
        if let Some(open) = self.open.take() {
            sealed.push(open.seal(index));
        }
    }

    /// Appends a finished bucket to the open chunk, sealing it first when the bucket is in the
    /// next window.
    fn write(&mut self, bucket: Bucket, level: &Level, index: usize, sealed: &mut Vec<SealedChunk>) {
        let window = level.window(bucket.start);
        if let Some(full) = self.open.take_if(|open| open.window != window) {
            sealed.push(full.seal(index));
        }
        let row = Bucket { sum: to_15_digits(bucket.sum), ..bucket }.row();
        self.open.get_or_insert_with(|| OpenChunk::new(window, COLUMNS)).push(bucket.start, &row);
        self.closed = bucket.start;
    }
}

/// `sum` to 15 significant digits: the sum of a collector's decimals as the decimal it is, without
/// the last bits of rounding noise adding them up left (`12.3 + 45.6` is `57.900000000000006`).
/// The stored rows then compress as decimals do (see [`super::compact`]), at a cost far below a
/// double's own rounding of a longer sum (a part in 10¹⁵), and an integer sum stays exact.
fn to_15_digits(sum: f64) -> f64 {
    if !sum.is_finite() {
        return sum;
    }
    format!("{sum:.14e}").parse().unwrap_or(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::gorilla::decode_rows;

    #[test]
    fn points_become_buckets_and_buckets_chunks() {
        let level = Level { step: 100, span: 1000, retention: 1 };
        let mut head = RollupHead::new();
        let mut sealed = Vec::new();
        for time in (0..2500).step_by(10) {
            head.feed(time, (time % 100) as f64, &level, 1, &mut sealed);
        }
        assert_eq!(sealed.len(), 2, "windows 0 and 1000 are done");
        let rows = decode_rows(&sealed[0].bytes).unwrap();
        assert_eq!(rows.times, (0..1000).step_by(100).collect::<Vec<_>>());
        assert_eq!(rows.values[..5], [10.0, 450.0, 0.0, 90.0, 90.0]);
        assert_eq!(head.pending.map(|bucket| bucket.start), Some(2400));
        head.feed(2300, 1.0, &level, 1, &mut sealed);
        assert_eq!(head.pending.map(|bucket| bucket.count), Some(10.0), "a bucket written is not fed again");
        head.close(&level, 1, &mut sealed);
        assert_eq!(sealed.len(), 3);
        assert_eq!(sealed[2].rows, 5);
    }

    #[test]
    fn a_sum_is_stored_as_the_decimal_it_adds_up_to() {
        assert_eq!(12.3 + 45.6, 57.900000000000006);
        assert_eq!(to_15_digits(12.3 + 45.6), 57.9);
        assert_eq!(to_15_digits(123_456_789_012_345.0), 123_456_789_012_345.0);
        assert_eq!(to_15_digits(1.0 / 3.0), 0.333333333333333);
        assert!(to_15_digits(f64::NAN).is_nan());
        assert_eq!(to_15_digits(f64::NEG_INFINITY), f64::NEG_INFINITY);
        assert_eq!(to_15_digits(-0.0).to_bits(), (-0.0f64).to_bits());
    }
}
