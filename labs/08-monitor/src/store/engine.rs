//! [`Store`]: the time-series store, opened on a directory and shared by every thread that appends
//! to or queries it.
//!
//! An append checks its points, gives new series an id, puts one record in the write-ahead log,
//! applies the points to the heads, and returns once the record is fsynced (with other appends'
//! records: group commit). Appends hold a *gate* for reading while they log and apply, which a
//! checkpoint takes for writing to rotate the log and copy the heads: so every record of the old
//! segments is in the copy, and none of the new segment is. A query reads the heads and the block
//! files, and sees a point as soon as it is applied, before it is acknowledged.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tracing::{info, warn};

use super::block::{BlockFile, Blocks, parse_block_name};
use super::checkpoint::{parse_checkpoint_name, read_checkpoint};
use super::head::{Applied, SHARDS, Shard};
use super::options::{Plan, StoreOptions};
use super::query::{Gather, RangeQuery, choose_level};
use super::series::{SeriesId, SeriesIndex};
use super::stats::{AppendOutcome, StoreStats};
use super::wal::{
    Entry, Record, Wal, decode_record, encode_points, encode_series, list_segments, recover_segment,
};
use crate::error::Error;
use crate::point::{Millis, Point, SeriesKey};
use crate::wire::{Reject, validate};

/// A time-series store in a directory. `Send + Sync`: share it in an `Arc`.
///
/// The directory holds `wal/` (the write-ahead log's segments, `NNNNNNNNNNNNNNNNNNNN.wal`, each
/// appended in order), `blocks/` (the block files) and the last `checkpoint-NNNNNNNNNNNNNNNNNNNN`.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use monitor::store::{RangeQuery, Store, StoreOptions};
/// use monitor::Sample;
/// let store = Store::open(StoreOptions::new(dir.path()))?;
/// let points: Vec<_> =
///     (0..3).map(|i| Sample::gauge("cpu.busy", i as f64).at("web-01", 1_700_000_000_000 + i * 10_000)).collect();
/// let outcome = store.append(&points)?; // durable once it returns
/// assert_eq!(outcome.accepted, 3);
/// let query = RangeQuery::raw(points[0].series(), 1_700_000_000_000, 1_700_000_020_000);
/// assert_eq!(store.query(&query), [(1_700_000_000_000, 0.0), (1_700_000_010_000, 1.0), (1_700_000_020_000, 2.0)]);
/// drop(store);
/// let store = Store::open(StoreOptions::new(dir.path()))?; // replays the log
/// assert_eq!(store.query(&query).len(), 3);
/// # Ok::<(), monitor::Error>(())
/// ```
#[derive(Debug)]
pub struct Store {
    /// The directory.
    pub(crate) dir: PathBuf,
    /// The options, checked.
    pub(crate) plan: Plan,
    /// Log bytes after which an append runs a checkpoint.
    checkpoint_bytes: u64,
    /// Held for reading by appends while they log and apply, for writing by a checkpoint.
    pub(crate) gate: RwLock<()>,
    /// The series.
    pub(crate) index: RwLock<SeriesIndex>,
    /// The heads.
    pub(crate) shards: Vec<Mutex<Shard>>,
    /// The write-ahead log.
    pub(crate) wal: Wal,
    /// The block files.
    pub(crate) blocks: RwLock<Blocks>,
    /// Held by the checkpoint under way; the last checkpoint's generation.
    pub(crate) checkpoint: Mutex<u64>,
    /// Counters.
    pub(crate) counters: Counters,
}

/// What a store counts as it goes.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Appends that wrote to the log.
    appends: AtomicU64,
    /// Checkpoints done.
    pub(crate) checkpoints: AtomicU64,
    /// The last checkpoint file's bytes.
    pub(crate) checkpoint_bytes: AtomicU64,
    /// Every append's outcome, summed.
    outcome: Mutex<AppendOutcome>,
}

impl Store {
    /// Opens the store in `options.dir` (made if missing): reads the last checkpoint and the
    /// block files, and replays the log, cutting a torn or damaged tail at its last good record
    /// with a warning. No content of any file makes it panic.
    ///
    /// # Errors
    ///
    /// [`Error::BadOption`] for options out of range; [`Error::File`] when a file cannot be read,
    /// written or made.
    pub fn open(options: StoreOptions) -> crate::Result<Store> {
        todo!(
            "stage 4: the newest checkpoint, the block files of its generation or older, then replay the log from its segment on (cutting a damaged tail); append to a new segment"
        )
    }

    /// Stores `points` and returns once they are durable: in the log and fsynced. Concurrent
    /// appends share fsyncs. A point with the series and timestamp of one within the out-of-order
    /// window replaces it (so a batch sent again is stored once); one older than that is refused
    /// as late; an invalid one (not finite, too many tags, a bad or too long name) is refused and
    /// counted. Any timestamp is taken: how old a point may be is the caller's business.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the log cannot be written or synced: then none of the points is
    /// acknowledged, and the store takes no more appends.
    pub fn append(&self, points: &[Point]) -> crate::Result<AppendOutcome> {
        todo!(
            "stage 4: check, give new series ids (logged first), log the points, apply them to the heads, then wait for the fsync"
        )
    }

    /// The hosts that have series, sorted.
    pub fn hosts(&self) -> Vec<String> {
        todo!("stage 4: from the series index")
    }

    /// The series of `host` (any when `None`) and `metric` (any when `None`), sorted.
    pub fn series(&self, host: Option<&str>, metric: Option<&str>) -> Vec<SeriesKey> {
        todo!("stage 4: from the series index")
    }

    /// The answer to `query`, by time: the raw points, or one value a step (see
    /// [`RangeQuery::step`]), read from the coarsest level whose step divides the query's.
    pub fn query(&self, query: &RangeQuery) -> Vec<(Millis, f64)> {
        todo!("stage 4: pick the level, then gather from the head and the block files, and answer")
    }

    /// The store's counters.
    pub fn stats(&self) -> StoreStats {
        todo!("stage 4: count the heads and the block files")
    }

    /// The ids of `points`' series, new ones given one and logged (their record before any
    /// record of their points).
    fn resolve(&self, points: &[&Point]) -> Vec<SeriesId> {
        todo!(
            "stage 4: find each point's id; give new series one under the index's write lock and log it there"
        )
    }

    /// Applies logged points to the heads, a shard at a time, each series' in order.
    fn apply(&self, entries: &[Entry], outcome: &mut AppendOutcome) {
        todo!(
            "stage 4: a shard's points under its lock, each series' in order; count stored, replaced and late"
        )
    }
}

/// Whether the store can keep `point`: everything [`validate`] checks but its age, which needs a
/// clock and is the caller's to judge (a store is loaded with old points on purpose).
fn check(point: &Point) -> Result<(), Reject> {
    todo!("stage 4: validate, but not the age")
}

/// The names of the entries of `dir`.
pub(crate) fn file_names(dir: &Path) -> crate::Result<Vec<String>> {
    todo!("stage 4: the names of the entries of the directory")
}

/// Removes a file, gone already or not.
pub(crate) fn remove(path: &Path) -> crate::Result<()> {
    todo!("stage 4: remove_file, NotFound is fine")
}

/// Removes the `*.tmp` files a crash left in `dir`.
fn remove_temporaries(dir: &Path) -> crate::Result<()> {
    todo!("stage 4: the *.tmp files")
}

// The data behind these locks is updated by statements that leave it whole (a head's points, the
// index's maps): a panic elsewhere is reported by its own thread, and the lock is taken back.

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
