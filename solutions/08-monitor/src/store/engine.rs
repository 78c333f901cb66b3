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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
use crate::point::{Kind, Millis, Point, SeriesKey};
use crate::wire::{BatchView, Reject, SeriesView, validate};

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
    /// Whether a server's thread runs the checkpoints, so that appends never do: an append that
    /// runs one holds up its committer, and the connections it serves, for as long as it takes.
    pub(crate) background_checkpoints: AtomicBool,
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
        let plan = Plan::new(&options)?;
        let dir = options.dir.clone();
        let (wal_dir, blocks_dir) = (dir.join("wal"), dir.join("blocks"));
        for path in [&dir, &wal_dir, &blocks_dir] {
            fs::create_dir_all(path).map_err(Error::file(path))?;
        }
        remove_temporaries(&dir)?;
        remove_temporaries(&blocks_dir)?;

        let mut generations: Vec<u64> =
            file_names(&dir)?.iter().filter_map(|n| parse_checkpoint_name(n)).collect();
        generations.sort_unstable();
        let generation = generations.last().copied().unwrap_or(0);
        for &old in &generations[..generations.len().saturating_sub(1)] {
            remove(&super::checkpoint::checkpoint_path(&dir, old))?;
        }
        let checkpoint = match generation {
            0 => Default::default(),
            _ => read_checkpoint(&dir, generation, &plan)?,
        };
        if let Some(damage) = &checkpoint.damage {
            warn!(generation, damage = %damage, "checkpoint damaged: what follows the damage is lost");
        }

        let mut blocks = Blocks::default();
        for name in file_names(&blocks_dir)? {
            let Some((_, _, written)) = parse_block_name(&name) else { continue };
            let path = blocks_dir.join(&name);
            if written > generation {
                // Written by a checkpoint that never finished: its data is in the log.
                remove(&path)?;
                continue;
            }
            match BlockFile::open(&path) {
                Ok(file) => blocks.insert(file),
                Err(reason) => {
                    warn!(block = %path.display(), reason = %reason, "block file unreadable: skipped")
                }
            }
        }

        let mut index = SeriesIndex::default();
        for (id, key, kind) in checkpoint.series {
            index.define(id, key, kind);
        }
        let mut shards: Vec<Shard> = (0..SHARDS).map(|_| Shard::default()).collect();
        for (id, head) in checkpoint.heads {
            shards[id as usize % SHARDS].put(id, head);
        }

        let segments = list_segments(&wal_dir)?;
        let mut replayed = 0u64;
        for &segment in &segments {
            if segment < generation {
                remove(&super::wal::segment_path(&wal_dir, segment))?;
                continue;
            }
            let (bytes, records) = recover_segment(&wal_dir, segment)?;
            for range in records {
                match decode_record(&bytes[range]) {
                    Some(Record::Series(id, key, kind)) => {
                        let known = index.get(id).is_some_and(|(known, _)| *known == key);
                        let defined = known || index.define(id, key, kind);
                        if !defined {
                            warn!(series = id, "write-ahead log gives a series id twice: kept the first");
                        }
                    }
                    Some(Record::Points(entries)) => {
                        for (id, time, value) in entries {
                            if index.get(id).is_some() {
                                shards[id as usize % SHARDS].head_mut(id, &plan).apply(time, value, &plan);
                                replayed += 1;
                            }
                        }
                    }
                    None => {}
                }
            }
        }
        let next = segments.last().map_or(1, |last| last.saturating_add(1)).max(generation);
        let wal = Wal::create(&wal_dir, next)?;
        info!(dir = %dir.display(), series = index.len(), replayed, generation, "store opened");
        Ok(Store {
            dir,
            plan,
            checkpoint_bytes: options.checkpoint_bytes,
            background_checkpoints: AtomicBool::new(false),
            gate: RwLock::new(()),
            index: RwLock::new(index),
            shards: shards.into_iter().map(Mutex::new).collect(),
            wal,
            blocks: RwLock::new(blocks),
            checkpoint: Mutex::new(generation),
            counters: Counters::default(),
        })
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
        let mut outcome = AppendOutcome::default();
        let valid: Vec<&Point> = points
            .iter()
            .filter(|point| match check(point) {
                Ok(()) => true,
                Err(reject) => {
                    outcome.rejected.count(reject);
                    false
                }
            })
            .collect();
        if !valid.is_empty() {
            let gate = read(&self.gate);
            let ids = self.resolve(&valid);
            let entries: Vec<Entry> =
                ids.iter().zip(&valid).map(|(&id, point)| (id, point.timestamp, point.value)).collect();
            self.log_and_apply(&entries, &mut outcome, gate)?;
        }
        self.appended(&outcome);
        Ok(outcome)
    }

    /// Stores the points of `batch` that `keep` marks (the others were refused by the caller's
    /// validation, which includes [`Store::append`]'s), as [`Store::append`] does, but finding
    /// each of the batch's series once, not once a point, and building no [`Point`]: the
    /// server's way.
    pub(crate) fn append_view(&self, batch: &BatchView<'_>, keep: &[bool]) -> crate::Result<AppendOutcome> {
        let mut outcome = AppendOutcome::default();
        let mut used = vec![false; batch.series.len()];
        for (&(series, _, _), _) in batch.points.iter().zip(keep).filter(|(_, keep)| **keep) {
            used[series as usize] = true;
        }
        if used.contains(&true) {
            let gate = read(&self.gate);
            let ids = self.resolve_views(batch, &used);
            let entries: Vec<Entry> = batch
                .points
                .iter()
                .zip(keep)
                .filter(|(_, keep)| **keep)
                .filter_map(|(&(series, time, value), _)| Some((ids[series as usize]?, time, value)))
                .collect();
            self.log_and_apply(&entries, &mut outcome, gate)?;
        }
        self.appended(&outcome);
        Ok(outcome)
    }

    /// Logs `entries`, applies them to the heads while `gate` is held, and waits until the log is
    /// synced.
    fn log_and_apply(
        &self,
        entries: &[Entry],
        outcome: &mut AppendOutcome,
        gate: RwLockReadGuard<'_, ()>,
    ) -> crate::Result<()> {
        let mut records = Vec::new();
        encode_points(&mut records, entries);
        let ticket = self.wal.enqueue(&records);
        self.apply(entries, outcome);
        drop(gate);
        self.wal.wait(ticket)?;
        self.counters.appends.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Counts an append's outcome, and runs a checkpoint when the log has grown enough, unless
    /// a server's thread runs them ([`Store::checkpoint_due`]).
    fn appended(&self, outcome: &AppendOutcome) {
        lock(&self.counters.outcome).add(outcome);
        if !self.background_checkpoints.load(Ordering::Relaxed) && self.checkpoint_due() {
            self.checkpoint_if_idle();
        }
    }

    /// Whether the log has grown enough for a checkpoint.
    pub(crate) fn checkpoint_due(&self) -> bool {
        self.wal.segment_bytes() >= self.checkpoint_bytes
    }

    /// The hosts that have series, sorted.
    pub fn hosts(&self) -> Vec<String> {
        read(&self.index).hosts()
    }

    /// The series of `host` (any when `None`) and `metric` (any when `None`), sorted.
    pub fn series(&self, host: Option<&str>, metric: Option<&str>) -> Vec<SeriesKey> {
        read(&self.index).keys(host, metric)
    }

    /// The answer to `query`, by time: the raw points, or one value a step (see
    /// [`RangeQuery::step`]), read from the coarsest level whose step divides the query's.
    pub fn query(&self, query: &RangeQuery) -> Vec<(Millis, f64)> {
        let Some(id) = read(&self.index).find_key(&query.series) else { return Vec::new() };
        let level = choose_level(&self.plan, query.step_millis());
        let spec = self.plan.levels[level];
        let (from, to) = query.span();
        let mut gather = Gather::new(from, to);
        // The head before the block files: a checkpoint adds its files before it takes their
        // chunks out of the head, so a chunk on its way is seen once or twice, never missed.
        if let Some(head) = lock(&self.shards[id as usize % SHARDS]).head(id) {
            gather.head(head, level, &self.plan);
        }
        let files = read(&self.blocks).overlapping(spec.step, spec.span, from, to);
        for file in files {
            for entry in file.entries_of(id) {
                if !gather.wants(entry.first, entry.last) {
                    continue;
                }
                if let Some(rows) = file.read(entry) {
                    gather.rows(&rows);
                }
            }
        }
        gather.answer(query)
    }

    /// The store's counters.
    pub fn stats(&self) -> StoreStats {
        let mut stats = StoreStats { series: read(&self.index).len() as u64, ..StoreStats::default() };
        for shard in &self.shards {
            stats.points += lock(shard).heads().iter().map(|head| head.points()).sum::<u64>();
        }
        for file in read(&self.blocks).iter() {
            if file.step == 0 {
                stats.block_points += file.rows();
                stats.block_bytes += file.bytes;
            } else {
                stats.rollup_bytes += file.bytes;
            }
        }
        stats.points += stats.block_points;
        stats.checkpoint_bytes = self.counters.checkpoint_bytes.load(Ordering::Relaxed);
        stats.wal_bytes = self.wal.segment_bytes();
        stats.appends = self.counters.appends.load(Ordering::Relaxed);
        stats.wal_syncs = self.wal.syncs();
        stats.checkpoints = self.counters.checkpoints.load(Ordering::Relaxed);
        stats.outcome = *lock(&self.counters.outcome);
        stats
    }

    /// The ids of `points`' series, new ones given one and logged (their record before any
    /// record of their points).
    fn resolve(&self, points: &[&Point]) -> Vec<SeriesId> {
        let points: Vec<Option<&Point>> = points.iter().copied().map(Some).collect();
        let ids = self.resolve_with(
            &points,
            |index, point| index.find(point),
            |point| (point.series(), point.kind),
        );
        ids.into_iter().flatten().collect()
    }

    /// The ids of the series of `batch` marked in `used`, as [`Store::resolve`] gives them; `None`
    /// for the others.
    fn resolve_views(&self, batch: &BatchView<'_>, used: &[bool]) -> Vec<Option<SeriesId>> {
        let series: Vec<Option<&SeriesView<'_>>> =
            batch.series.iter().zip(used).map(|(view, &used)| used.then_some(view)).collect();
        self.resolve_with(
            &series,
            |index, view| index.find_view(view.host, view.metric, batch.tags_of(view)),
            |view| {
                let tags = batch.tags_of(view).map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
                (SeriesKey { host: view.host.to_owned(), metric: view.metric.to_owned(), tags }, view.kind)
            },
        )
    }

    /// The ids of the series of `items` (`None` for an item not wanted), found with `find` under
    /// the index's read lock; those not found are found again, or given one with the key and
    /// kind `key` makes, under its write lock, and logged.
    fn resolve_with<T>(
        &self,
        items: &[Option<T>],
        find: impl Fn(&SeriesIndex, &T) -> Option<SeriesId>,
        key: impl Fn(&T) -> (SeriesKey, Kind),
    ) -> Vec<Option<SeriesId>> {
        let index = read(&self.index);
        let mut ids: Vec<Option<SeriesId>> =
            items.iter().map(|item| item.as_ref().and_then(|item| find(&index, item))).collect();
        drop(index);
        if ids.iter().zip(items).any(|(id, item)| id.is_none() && item.is_some()) {
            let mut index = write(&self.index);
            let mut records = Vec::new();
            for (id, item) in ids.iter_mut().zip(items) {
                let (None, Some(item)) = (&id, item) else { continue };
                *id = Some(find(&index, item).unwrap_or_else(|| {
                    let (key, kind) = key(item);
                    let new = index.add(key.clone(), kind);
                    encode_series(&mut records, new, &key, kind);
                    new
                }));
            }
            // Logged while the index is held, so no other append logs points of these first.
            self.wal.enqueue(&records);
        }
        ids
    }

    /// Applies logged points to the heads, a shard at a time, each series' in order.
    fn apply(&self, entries: &[Entry], outcome: &mut AppendOutcome) {
        let mut order: Vec<(usize, usize)> =
            entries.iter().enumerate().map(|(at, &(id, _, _))| (id as usize % SHARDS, at)).collect();
        order.sort_unstable();
        for run in order.chunk_by(|a, b| a.0 == b.0) {
            let mut shard = lock(&self.shards[run[0].0]);
            for &(_, at) in run {
                let (id, time, value) = entries[at];
                match shard.head_mut(id, &self.plan).apply(time, value, &self.plan) {
                    Applied::Stored => outcome.accepted += 1,
                    Applied::Replaced => {
                        outcome.accepted += 1;
                        outcome.replaced += 1;
                    }
                    Applied::Late => outcome.late += 1,
                }
            }
        }
    }
}

/// Whether the store can keep `point`: everything [`validate`] checks but its age, which needs a
/// clock and is the caller's to judge (a store is loaded with old points on purpose).
fn check(point: &Point) -> Result<(), Reject> {
    validate(point, point.timestamp)
}

/// The names of the entries of `dir`.
pub(crate) fn file_names(dir: &Path) -> crate::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(Error::file(dir))? {
        if let Ok(name) = entry.map_err(Error::file(dir))?.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

/// Removes a file, gone already or not.
pub(crate) fn remove(path: &Path) -> crate::Result<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(Error::file(path)(err)),
        _ => Ok(()),
    }
}

/// Removes the `*.tmp` files a crash left in `dir`.
fn remove_temporaries(dir: &Path) -> crate::Result<()> {
    for name in file_names(dir)? {
        if name.ends_with(".tmp") {
            remove(&dir.join(name))?;
        }
    }
    Ok(())
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
