//! Retention ([`Store::enforce_retention`]): dropping what each level keeps no longer, a whole
//! chunk at a time, and sealing the chunks of series that have gone quiet.
//!
//! Raw points and every rollup have their own retention, so months after the raw points of a day
//! are gone, its hourly buckets still answer a query at an hourly step. A level's data is dropped
//! a chunk at a time: a block file when its whole window ended before the level's cutoff, so data
//! is kept at least its retention and at most a chunk span longer.

use tracing::info;

use super::engine::{Store, lock, remove, write};
use crate::point::Millis;

impl Store {
    /// Drops the data older than each level's retention at `now` (milliseconds since the epoch):
    /// block files and chunks in memory whose whole window ended before `now - retention`. Series
    /// with no point newer than a chunk span before `now` are sealed first, so a series that has
    /// stopped does not hold its last chunk in memory for ever. Ends with a checkpoint.
    ///
    /// # Errors
    ///
    /// [`Error::File`](crate::Error::File) when a file cannot be deleted or the checkpoint fails.
    pub fn enforce_retention(&self, now: Millis) -> crate::Result<()> {
        todo!(
            "stage 4: seal quiet series, drop what each level keeps no longer (in memory and whole block files), then checkpoint"
        )
    }
}
