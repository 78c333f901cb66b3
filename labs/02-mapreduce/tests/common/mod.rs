//! Support shared by the stage tests: generated inputs with their true answers, configs, and the
//! worker command that re-runs this test binary as a worker process, a well-behaved one or one that
//! misbehaves in a way a test chooses ([`worker_options_with`]).

// Each stage's test crate uses a different part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use datasets::nginx::{LogGenerator, LogLine, LogSpec};
use datasets::text::{TextSpec, write_text};
use mapreduce::codec::HELLO;
use mapreduce::{
    FAULT_ENV, JobConfig, MapOutput, Message, Output, ProcessOptions, WorkerCommand, decode, encode,
    read_frame, write_frame,
};

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
    worker_options_with("serve")
}

/// Processes mode with workers that run `child_worker` in `mode`, the value of [`WORKER_ENV`]:
///
/// - `serve`: serve tasks with `serve_worker`.
/// - `chatter`: print dots for ever and never say hello.
/// - `wrong-id`: a worker with a fault (the first one started) answers its first task with a `Done`
///   for another task, of a made-up key `bogus`; the others serve.
/// - `backup-wait:DIR`: a worker without a fault notes its start in `DIR`, and waits to read its first
///   task until two such workers have started (or a deadline has passed); a worker with a fault serves.
pub fn worker_options_with(mode: &str) -> ProcessOptions {
    let exe = std::env::current_exe().expect("the test binary's path");
    let worker = ["child_worker", "--exact", "--ignored", "--nocapture", "--test-threads=1"]
        .into_iter()
        .fold(WorkerCommand::new(exe), WorkerCommand::arg)
        .env(WORKER_ENV, mode);
    ProcessOptions::new(worker)
}

/// The body of a test binary's `child_worker` helper: serve tasks on stdin/stdout when run as a
/// worker, as [`worker_options_with`]'s mode says.
pub fn child_worker() {
    let Some(mode) = std::env::var_os(WORKER_ENV) else { return };
    let mode = mode.to_string_lossy().into_owned();
    let faulty = std::env::var_os(FAULT_ENV).is_some();
    let (input, mut output) = (std::io::stdin().lock(), std::io::stdout().lock());
    let served = match mode.split_once(':').unwrap_or((&mode, "")) {
        ("chatter", _) => {
            // Until the coordinator closes the pipe.
            while output.write_all(&[b'.'; 4096]).is_ok() {}
            false
        }
        ("wrong-id", _) if faulty => answer_for_another_task(input, output).is_ok(),
        ("backup-wait", dir) if !faulty => {
            let dir = PathBuf::from(dir);
            std::fs::write(dir.join(std::process::id().to_string()), b"").expect("noting a worker's start");
            let input = WaitToRead { input, dir, waited: false };
            mapreduce::serve_worker(input, output).is_ok()
        }
        _ => mapreduce::serve_worker(input, output).is_ok(),
    };
    // A worker's stdout is the protocol: end before libtest prints its report there.
    std::process::exit(if served { 0 } else { 1 });
}

/// Says hello, then answers the first task with a `Done` of another task's number.
fn answer_for_another_task(mut input: impl Read, mut output: impl Write) -> mapreduce::Result<()> {
    output.write_all(HELLO).and_then(|()| output.flush()).map_err(mapreduce::Error::Write)?;
    let Some(frame) = read_frame(&mut input)? else { return Ok(()) };
    let Message::Task { id, reducers, .. } = decode(&frame)? else { return Ok(()) };
    let bogus = MapOutput { runs: vec![vec![("bogus".to_owned(), 1)]; reducers], records: 1, emitted: 1 };
    let reply = Message::Done { id: id + 1, output: bogus };
    write_frame(&mut output, &encode(&reply)).map_err(mapreduce::Error::Write)
}

/// A worker's input that holds back its first read until two workers have noted their start in `dir`.
struct WaitToRead<R> {
    input: R,
    dir: PathBuf,
    waited: bool,
}

impl<R: Read> Read for WaitToRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !std::mem::replace(&mut self.waited, true) {
            let started = || std::fs::read_dir(&self.dir).map_or(0, Iterator::count);
            testkit::wait_until(testkit::DEFAULT_DEADLINE, || started() >= 2);
        }
        self.input.read(buf)
    }
}
