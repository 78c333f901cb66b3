//! The shuffle: map outputs go to `R` partitions by key hash; a partition that outgrows its memory
//! budget spills its runs, merged, to a sorted file; each reducer merges its partition's runs with a
//! heap (an external merge sort) and reduces each key.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::job::Job;
use crate::run_file::{RunReader, write_run};
use crate::{Error, Result};

/// The reducer of `key` among `reducers`: FNV-1a of its bytes, so every process agrees.
///
/// # Examples
///
/// ```
/// let r = mapreduce::partition_of("hello", 4);
/// assert!(r < 4);
/// assert_eq!(r, mapreduce::partition_of("hello", 4));
/// ```
pub fn partition_of(key: &str, reducers: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key.as_bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (hash % reducers.max(1) as u64) as usize
}

/// A pair read from a run, in memory or from a spill file.
type PairRead = std::io::Result<(String, u64)>;

/// Bytes a pair is counted as in memory: the key, the value, and a `String`'s bookkeeping.
fn pair_bytes(key: &str) -> usize {
    key.len() + 8 + 24
}

#[derive(Default)]
struct Partition {
    runs: Vec<Vec<(String, u64)>>,
    bytes: usize,
    files: Vec<PathBuf>,
}

/// The `R` partitions between the map and the reduce phase, and the spill directory.
pub struct Shuffle {
    partitions: Vec<Mutex<Partition>>,
    budget: usize,
    dir: tempfile::TempDir,
    spills: AtomicU64,
    spill_bytes: AtomicU64,
    spill_nanos: AtomicU64,
}

/// What the shuffle counted.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShuffleStats {
    /// Run files written.
    pub spills: u64,
    /// Bytes written to run files.
    pub spill_bytes: u64,
    /// Time spent sorting and writing spills, summed over threads.
    pub spill_time: Duration,
}

impl Shuffle {
    /// `reducers` partitions sharing `memory` bytes, spilling into a new directory under `dir`.
    ///
    /// # Errors
    ///
    /// When the spill directory cannot be created.
    pub fn new(reducers: usize, memory: usize, dir: &std::path::Path) -> Result<Self> {
        let dir =
            tempfile::Builder::new().prefix("mapreduce-spill-").tempdir_in(dir).map_err(Error::file(dir))?;
        Ok(Self {
            partitions: (0..reducers.max(1)).map(|_| Mutex::default()).collect(),
            budget: memory / reducers.max(1),
            dir,
            spills: AtomicU64::new(0),
            spill_bytes: AtomicU64::new(0),
            spill_nanos: AtomicU64::new(0),
        })
    }

    /// Hands a sorted run to partition `partition`, spilling the partition when over budget.
    ///
    /// # Errors
    ///
    /// When a spill file cannot be written.
    // ANCHOR: add
    pub fn add(&self, partition: usize, run: Vec<(String, u64)>) -> Result<()> {
        if run.is_empty() {
            return Ok(());
        }
        let mut part = self.partitions[partition].lock().unwrap_or_else(PoisonError::into_inner);
        part.bytes += run.iter().map(|(key, _)| pair_bytes(key)).sum::<usize>();
        part.runs.push(run);
        if part.bytes > self.budget {
            let started = Instant::now();
            let mut merged: Vec<(String, u64)> = part.runs.drain(..).flatten().collect();
            merged.sort_by(|a, b| a.0.cmp(&b.0));
            let path = self.dir.path().join(format!("p{partition}-{}.run", part.files.len()));
            let bytes = write_run(&path, &merged).map_err(Error::file(&path))?;
            part.files.push(path);
            part.bytes = 0;
            self.spills.fetch_add(1, Ordering::Relaxed);
            self.spill_bytes.fetch_add(bytes, Ordering::Relaxed);
            self.spill_nanos.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        }
        Ok(())
    }
    // ANCHOR_END: add

    /// The number of partitions.
    pub fn reducers(&self) -> usize {
        self.partitions.len()
    }

    /// What was spilled so far.
    pub fn stats(&self) -> ShuffleStats {
        ShuffleStats {
            spills: self.spills.load(Ordering::Relaxed),
            spill_bytes: self.spill_bytes.load(Ordering::Relaxed),
            spill_time: Duration::from_nanos(self.spill_nanos.load(Ordering::Relaxed)),
        }
    }

    /// Merges partition `partition`'s runs (in memory and spilled) and reduces each key, in key
    /// order. Returns the output and the number of runs merged.
    ///
    /// # Errors
    ///
    /// When a spill file cannot be read back.
    // ANCHOR: reduce
    pub fn reduce(&self, partition: usize, job: &dyn Job) -> Result<(Vec<(String, String)>, usize)> {
        let mut part = self.partitions[partition].lock().unwrap_or_else(PoisonError::into_inner);
        let mut sources: Vec<Box<dyn Iterator<Item = PairRead>>> = Vec::new();
        for path in &part.files {
            let reader = RunReader::open(path).map_err(Error::file(path))?;
            sources.push(Box::new(reader));
        }
        for run in std::mem::take(&mut part.runs) {
            sources.push(Box::new(run.into_iter().map(Ok)));
        }
        let runs = sources.len();
        // Runs in memory cannot fail to read: an error comes from source `i`, the spill file `i`.
        let read_err = |source: usize, err| Error::file(&part.files[source])(err);
        // The heap holds each source's smallest unread pair; ties by source number keep it total.
        let mut heap = BinaryHeap::new();
        for (source, iter) in sources.iter_mut().enumerate() {
            if let Some(pair) = iter.next() {
                let (key, value) = pair.map_err(|err| read_err(source, err))?;
                heap.push(Reverse((key, source, value)));
            }
        }
        let mut output = Vec::new();
        let mut values = Vec::new();
        while let Some(Reverse((key, source, value))) = heap.pop() {
            values.push(value);
            if let Some(pair) = sources[source].next() {
                let (next_key, next_value) = pair.map_err(|err| read_err(source, err))?;
                heap.push(Reverse((next_key, source, next_value)));
            }
            let key_done = heap.peek().is_none_or(|Reverse((next, _, _))| *next != key);
            if key_done {
                output.push((job.reduce(&key, &values), key));
                values.clear();
            }
        }
        Ok((output.into_iter().map(|(value, key)| (key, value)).collect(), runs))
    }
    // ANCHOR_END: reduce
}
