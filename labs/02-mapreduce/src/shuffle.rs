//! The shuffle: map outputs go to `R` partitions by key hash; a partition that outgrows its memory
//! budget spills its runs, merged, to a sorted file; each reducer merges its partition's runs with a
//! heap (an external merge sort) and reduces each key.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::job::Job;
use crate::run_file::{RunReader, write_run};
use crate::{Error, Result};

// TODO(stage 2): a Partition's lock is held only to push a run, or to spill: sort all its runs
// into one and write it with run_file::write_run. To reduce, make one iterator per source (a
// RunReader per spill file, the runs in memory) and keep each one's next pair in a BinaryHeap of
// Reverse((key, source, value)); a key is done when the heap's top has another key.

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
    todo!("stage 1: a hash of the key that every process computes alike (FNV-1a), modulo reducers")
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
    pub fn add(&self, partition: usize, run: Vec<(String, u64)>) -> Result<()> {
        todo!("stage 2: push the run; over budget, merge the runs and write them to a run file")
    }

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
    pub fn reduce(&self, partition: usize, job: &dyn Job) -> Result<(Vec<(String, String)>, usize)> {
        todo!("stage 2: k-way merge of the in-memory and spilled runs with a heap, reduce each key")
    }
}
