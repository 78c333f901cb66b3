//! The whole job: plan splits, map them on workers (threads or processes), shuffle, reduce each
//! partition, and report what happened.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::job::Job;
use crate::map_task::{MapOutput, map_split};
use crate::process::{ProcessOptions, run_map_phase};
use crate::shuffle::Shuffle;
use crate::split::{Split, plan_splits};
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
// ANCHOR: run
pub fn run_job(job: &dyn Job, inputs: &[PathBuf], config: &JobConfig) -> Result<Output> {
    let workers = config.workers.max(1);
    let reducers = config.reducers.max(1);
    let splits = plan_splits(inputs, config.split_size.max(1))?;
    let spill_dir = config.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    let shuffle = Shuffle::new(reducers, config.memory, &spill_dir)?;
    let mut stats = Stats { map_tasks: splits.len(), ..Stats::default() };

    let started = Instant::now();
    let accept = |output: MapOutput, stats: &mut Stats| -> Result<()> {
        stats.records += output.records;
        stats.emitted += output.emitted;
        for (partition, run) in output.runs.into_iter().enumerate() {
            stats.shuffled += run.len() as u64;
            shuffle.add(partition, run)?;
        }
        Ok(())
    };
    match &config.mode {
        Mode::Threads => map_on_threads(job, &splits, reducers, workers, &mut stats, &accept)?,
        Mode::Processes(options) => {
            let spec = job.spec().ok_or(Error::NotShippable)?;
            run_map_phase(spec, &splits, reducers, workers, options, &mut stats, &accept)?;
        }
    }
    stats.map_time = started.elapsed();

    let started = Instant::now();
    let partitions = reduce_partitions(job, &shuffle, reducers, workers, &mut stats)?;
    stats.reduce_time = started.elapsed();
    let spilled = shuffle.stats();
    stats.spills = spilled.spills;
    stats.spill_bytes = spilled.spill_bytes;
    stats.spill_time = spilled.spill_time;
    Ok(Output { partitions, stats })
}
// ANCHOR_END: run

/// The map phase in threads mode: `workers` threads take the next split from one counter, map it
/// and hand the output to `accept`; their counts are added to `stats` at the end.
// ANCHOR: map_on_threads
fn map_on_threads(
    job: &dyn Job,
    splits: &[Split],
    reducers: usize,
    workers: usize,
    stats: &mut Stats,
    accept: &(impl Fn(MapOutput, &mut Stats) -> Result<()> + Sync),
) -> Result<()> {
    let next = AtomicUsize::new(0);
    let results: Vec<Result<Stats>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Stats::default();
                    loop {
                        let task = next.fetch_add(1, Ordering::Relaxed);
                        let Some(split) = splits.get(task) else { return Ok(mine) };
                        let output = map_split(job, split, reducers)?;
                        mine.map_attempts += 1;
                        accept(output, &mut mine)?;
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a map thread panicked")).collect()
    });
    for result in results {
        let mine = result?;
        stats.map_attempts += mine.map_attempts;
        stats.records += mine.records;
        stats.emitted += mine.emitted;
        stats.shuffled += mine.shuffled;
    }
    Ok(())
}
// ANCHOR_END: map_on_threads

/// The reduce phase: threads (no more than there are partitions) take the next partition from one
/// counter and reduce it; returns each partition's pairs, and adds the runs merged to `stats`.
// ANCHOR: reduce_partitions
fn reduce_partitions(
    job: &dyn Job,
    shuffle: &Shuffle,
    reducers: usize,
    workers: usize,
    stats: &mut Stats,
) -> Result<Vec<Vec<(String, String)>>> {
    let next = AtomicUsize::new(0);
    let mut partitions = vec![Vec::new(); reducers];
    let results: Vec<Result<Vec<Reduced>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.min(reducers))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let partition = next.fetch_add(1, Ordering::Relaxed);
                        if partition >= reducers {
                            return Ok(done);
                        }
                        let (pairs, runs) = shuffle.reduce(partition, job)?;
                        done.push((partition, pairs, runs));
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a reduce thread panicked")).collect()
    });
    for result in results {
        for (partition, pairs, runs) in result? {
            partitions[partition] = pairs;
            stats.runs_merged += runs;
        }
    }
    Ok(partitions)
}
// ANCHOR_END: reduce_partitions
