//! [`StoreOptions`]: where a store keeps its files, how long it keeps raw points and each rollup,
//! how long its chunks are, and how late a point may come; checked into the `Plan` the rest of
//! the store reads, in milliseconds.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;
use crate::point::Millis;

/// The rows of a rollup chunk: a rollup level's chunks span 240 of its steps (20 hours of 5
/// minutes, 10 days of hours).
pub const ROLLUP_CHUNK_ROWS: i64 = 240;

/// The most points one raw chunk holds; a series faster than this in one chunk span gets more
/// chunks for the span.
pub const MAX_CHUNK_POINTS: u32 = 4096;

/// One rollup: every `step` of every series summed up (count, sum, min, max, last), kept for
/// `retention`, as RRD keeps its consolidated archives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollupLevel {
    /// The width of a bucket: a query whose step is a multiple of it can be answered from it.
    pub step: Duration,
    /// How long its buckets are kept.
    pub retention: Duration,
}

/// How a [`Store`](super::Store) keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// The directory of its files (made if missing).
    pub dir: PathBuf,
    /// How long raw points are kept.
    pub retention: Duration,
    /// The rollups, finest first.
    pub rollups: Vec<RollupLevel>,
    /// The time one raw chunk covers; chunks start at multiples of it since the epoch.
    pub chunk_span: Duration,
    /// How far behind the newest point of its series a point may come and still be taken (or
    /// replace the one with its timestamp); older ones are refused as late.
    pub out_of_order: Duration,
    /// Bytes of write-ahead log after which an append runs a checkpoint.
    pub checkpoint_bytes: u64,
}

impl StoreOptions {
    /// Options for a store in `dir`: raw points kept 15 days, rollups of 5 minutes kept 90 days
    /// and of 1 hour kept 2 years, 2-hour chunks, points up to 5 minutes out of order, a
    /// checkpoint every 64 MiB of log.
    pub fn new(dir: impl Into<PathBuf>) -> StoreOptions {
        const DAY: u64 = 24 * 60 * 60;
        StoreOptions {
            dir: dir.into(),
            retention: Duration::from_secs(15 * DAY),
            rollups: vec![
                RollupLevel { step: Duration::from_secs(5 * 60), retention: Duration::from_secs(90 * DAY) },
                RollupLevel { step: Duration::from_secs(60 * 60), retention: Duration::from_secs(730 * DAY) },
            ],
            chunk_span: Duration::from_secs(2 * 60 * 60),
            out_of_order: Duration::from_secs(5 * 60),
            checkpoint_bytes: 64 << 20,
        }
    }
}

/// One level of data: raw points (level 0) or a rollup, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Level {
    /// The rollup's step; 0 for raw points.
    pub(crate) step: Millis,
    /// The time a chunk covers.
    pub(crate) span: Millis,
    /// How long it is kept.
    pub(crate) retention: Millis,
}

impl Level {
    /// The start of the chunk holding `time`.
    pub(crate) fn window(&self, time: Millis) -> Millis {
        floor(time, self.span)
    }
}

/// The options, checked, in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Raw points, then each rollup, finest first.
    pub(crate) levels: Vec<Level>,
    /// How late a point may come behind its series' newest.
    pub(crate) out_of_order: Millis,
}

impl Plan {
    /// Checks `options`.
    pub(crate) fn new(options: &StoreOptions) -> crate::Result<Plan> {
        let span = millis("chunk_span", options.chunk_span)?;
        let raw = Level { step: 0, span, retention: millis("retention", options.retention)? };
        let mut levels = vec![raw];
        for rollup in &options.rollups {
            let step = millis("a rollup's step", rollup.step)?;
            if levels.last().is_some_and(|last| last.step >= step) {
                return Err(Error::BadOption("rollup steps must grow from the finest".to_owned()));
            }
            let span = step.checked_mul(ROLLUP_CHUNK_ROWS).ok_or_else(|| too_long("a rollup's step"))?;
            levels.push(Level { step, span, retention: millis("a rollup's retention", rollup.retention)? });
        }
        if levels.len() > 8 {
            return Err(Error::BadOption("at most 7 rollups".to_owned()));
        }
        if options.checkpoint_bytes == 0 {
            return Err(Error::BadOption("checkpoint_bytes must be at least 1".to_owned()));
        }
        let out_of_order =
            i64::try_from(options.out_of_order.as_millis()).map_err(|_| too_long("out_of_order"))?;
        Ok(Plan { levels, out_of_order })
    }

    /// The raw level.
    pub(crate) fn raw(&self) -> Level {
        self.levels[0]
    }
}

/// `duration` in whole milliseconds: at least 1, and no more than a thousand years.
fn millis(name: &str, duration: Duration) -> crate::Result<Millis> {
    const MAX: u128 = 1000 * 366 * 24 * 60 * 60 * 1000;
    match duration.as_millis() {
        0 => Err(Error::BadOption(format!("{name} must be at least 1 ms"))),
        ms if ms > MAX => Err(too_long(name)),
        ms => Ok(ms as Millis),
    }
}

fn too_long(name: &str) -> Error {
    Error::BadOption(format!("{name} is too long"))
}

/// `time` rounded down to a multiple of `step` (which is positive); `i64::MIN` for the times
/// before the first multiple an `i64` holds.
pub(crate) fn floor(time: Millis, step: Millis) -> Millis {
    time.checked_sub(time.rem_euclid(step)).unwrap_or(i64::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_check_and_bad_options_do_not() {
        let plan = Plan::new(&StoreOptions::new("x")).unwrap();
        assert_eq!(plan.levels.iter().map(|level| level.step).collect::<Vec<_>>(), [0, 300_000, 3_600_000]);
        let mut options = StoreOptions::new("x");
        options.rollups.reverse();
        assert!(Plan::new(&options).is_err());
        options.rollups.clear();
        options.chunk_span = Duration::ZERO;
        assert!(Plan::new(&options).is_err());
        assert_eq!(floor(-1, 10), -10);
        assert_eq!(floor(i64::MIN + 5, 7_200_000), i64::MIN);
        assert_eq!(floor(i64::MAX, 1), i64::MAX);
    }
}
