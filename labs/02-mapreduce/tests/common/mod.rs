//! Support shared by the stage tests: generated inputs with their true answers, configs, and the
//! worker command that re-runs this test binary as a worker process.

// Each stage's test crate uses a different part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use datasets::nginx::{LogGenerator, LogLine, LogSpec};
use datasets::text::{TextSpec, write_text};
use mapreduce::{JobConfig, Output, ProcessOptions, WorkerCommand};

/// The environment variable that makes the `child_worker` helper test serve tasks.
pub const WORKER_ENV: &str = "MAPREDUCE_TEST_WORKER";

/// Writes a generated text of about `bytes` bytes to `dir/name` and returns its path and the true
/// count of every word.
pub fn text_file(dir: &Path, name: &str, seed: u64, bytes: u64) -> (PathBuf, HashMap<String, u64>) {
    let mut text = Vec::new();
    let counts = write_text(&TextSpec { seed, vocabulary: 2_000 }, bytes, &mut text).expect("in memory");
    let path = dir.join(name);
    std::fs::write(&path, &text).expect("writing the text");
    (path, counts)
}

/// Writes `count` generated log lines to `dir/name` and returns its path and the lines.
pub fn log_file(
    dir: &Path,
    name: &str,
    seed: u64,
    count: usize,
    malformed_ratio: f64,
) -> (PathBuf, Vec<LogLine>) {
    let lines: Vec<LogLine> =
        LogGenerator::new(LogSpec { seed, malformed_ratio, urls: 300, ..LogSpec::default() })
            .take(count)
            .collect();
    let mut log = Vec::new();
    for line in &lines {
        log.extend_from_slice(&line.text);
        log.push(b'\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, &log).expect("writing the log");
    (path, lines)
}

/// A threads-mode config with small splits, so that even small inputs make many map tasks.
pub fn config(workers: usize, reducers: usize) -> JobConfig {
    JobConfig { workers, reducers, split_size: 16 * 1024, ..JobConfig::default() }
}

/// The merged output with its values read as counts.
pub fn counts(output: &Output) -> HashMap<String, u64> {
    output
        .merged()
        .into_iter()
        .map(|(key, value)| {
            let count =
                value.parse().unwrap_or_else(|_| panic!("value of {key:?} is not a count: {value:?}"));
            (key, count)
        })
        .collect()
}

/// Processes mode with workers that are this test binary running its `child_worker` helper.
pub fn worker_options() -> ProcessOptions {
    let exe = std::env::current_exe().expect("the test binary's path");
    let worker = ["child_worker", "--exact", "--ignored", "--nocapture", "--test-threads=1"]
        .into_iter()
        .fold(WorkerCommand::new(exe), WorkerCommand::arg)
        .env(WORKER_ENV, "1");
    ProcessOptions::new(worker)
}

/// The body of a test binary's `child_worker` helper: serve tasks on stdin/stdout when run as a worker.
pub fn child_worker() {
    if std::env::var_os(WORKER_ENV).is_none() {
        return;
    }
    let result = mapreduce::serve_worker(std::io::stdin().lock(), std::io::stdout().lock());
    // A worker's stdout is the protocol: end before libtest prints its report there.
    std::process::exit(if result.is_ok() { 0 } else { 1 });
}
