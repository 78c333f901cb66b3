//! The whole job: plan splits, map them on workers (threads or processes), shuffle, reduce each
//! partition, and report what happened.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::job::Job;
use crate::map_task::{MapOutput, map_split};
use crate::process::{ProcessOptions, run_map_phase};
use crate::shuffle::Shuffle;
use crate::split::plan_splits;
use crate::{Error, Result};

/// Where map tasks run.
#[derive(Clone, Debug, Default)]
pub enum Mode {
    /// On a pool of threads in this process.
    #[default]
    Threads,
    /// In worker processes that speak the [`crate::codec`] protocol over their stdin and stdout.
    Processes(ProcessOptions),
}

/// How to run a job.
#[derive(Clone, Debug)]
pub struct JobConfig {
    /// Map workers (threads or processes), and reduce threads. At least 1.
    pub workers: usize,
    /// Reducers: partitions of the output, one `part-NNNNN` file each. At least 1.
    pub reducers: usize,
    /// Bytes the shuffle may hold before spilling, shared by the partitions.
    pub memory: usize,
    /// Bytes per input split.
    pub split_size: u64,
    /// Where map tasks run.
    pub mode: Mode,
    /// Where spill files go (default: the system's temporary directory).
    pub spill_dir: Option<PathBuf>,
}

impl Default for JobConfig {
    fn default() -> Self {
        Self {
            workers: 1,
            reducers: 1,
            memory: 256 << 20,
            split_size: 16 << 20,
            mode: Mode::Threads,
            spill_dir: None,
        }
    }
}

/// What a run counted and where its time went.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Map tasks (splits) in the job.
    pub map_tasks: usize,
    /// Map task attempts that ran to completion, backups and reruns included.
    pub map_attempts: usize,
    /// Lines read by the accepted map tasks.
    pub records: u64,
    /// Pairs the mappers emitted, before combining.
    pub emitted: u64,
    /// Pairs that reached the shuffle, after combining.
    pub shuffled: u64,
    /// Sorted run files written by the shuffle.
    pub spills: u64,
    /// Bytes written to run files.
    pub spill_bytes: u64,
    /// Runs (in memory and spilled) the reducers merged.
    pub runs_merged: usize,
    /// Worker processes that died while a task was theirs.
    pub worker_failures: usize,
    /// Tasks run again because their worker died.
    pub reruns: usize,
    /// Backup copies started for tasks still running when no task was left to start.
    pub backups: usize,
    /// Wall time of the map phase (shuffle included: map outputs are handed over as they finish).
    pub map_time: Duration,
    /// Time spent sorting and writing spills, summed over threads.
    pub spill_time: Duration,
    /// Wall time of the reduce phase (merge and reduce).
    pub reduce_time: Duration,
}

/// A job's result: each reducer's output, sorted by key, and the statistics.
#[derive(Clone, Debug, Default)]
pub struct Output {
    /// Reducer `r`'s `(key, value)` pairs, sorted by key.
    pub partitions: Vec<Vec<(String, String)>>,
    /// What happened.
    pub stats: Stats,
}

impl Output {
    /// Every reducer's pairs in one list sorted by key.
    pub fn merged(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self.partitions.iter().flatten().cloned().collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

/// One reducer's work: its number, its output and how many runs it merged.
type Reduced = (usize, Vec<(String, String)>, usize);

// TODO(stage 2): one private function per phase (map on threads, reduce the partitions) keeps
// run_job a page. std::thread::scope lets the threads borrow the job, the splits and the shuffle;
// each takes its next split (or partition) number from one shared AtomicUsize and counts into Stats
// of its own, added up after the join. One closure that hands a MapOutput to the shuffle serves
// both modes. TODO(stage 3): Mode::Processes gives that closure to run_map_phase.

/// Runs `job` over `inputs` as `config` says.
///
/// # Errors
///
/// When an input cannot be read, a spill cannot be written or read back, a worker cannot be started,
/// or the job cannot run in worker processes ([`Error::NotShippable`]).
///
/// # Examples
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.txt");
/// std::fs::write(&path, "The cat and the hat\n").unwrap();
/// let config = mapreduce::JobConfig { workers: 2, reducers: 3, ..mapreduce::JobConfig::default() };
/// let output = mapreduce::run_job(&mapreduce::WordCount, &[path], &config).unwrap();
/// assert_eq!(output.merged()[3], ("the".to_owned(), "2".to_owned()));
/// ```
pub fn run_job(job: &dyn Job, inputs: &[PathBuf], config: &JobConfig) -> Result<Output> {
    todo!("stage 2: plan splits, map them on a pool of threads into the shuffle, then reduce each partition")
}
