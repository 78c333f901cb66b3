//! Stage 6: stream any number of inputs of any size, on every core, with the same answers.

mod common;

use std::collections::HashSet;
use std::io::Read;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::ThreadId;

use common::{file, json_of, run_with_stdin, top_entries};
use logstat::scan::{Cut, Tally, scan};
use logstat::{Command, Config, Field, Input};
use serde_json::Value;
use testkit::test;

/// Runs `command` as JSON on `inputs` with `threads` and `block_size`.
fn run_tuned(command: Command, inputs: Vec<Input>, stdin: &[u8], threads: usize, block_size: usize) -> Value {
    let mut config = Config::new(command, inputs);
    config.json = true;
    config.threads = threads;
    config.block_size = block_size;
    json_of(&run_with_stdin(&config, stdin))
}

#[test]
fn threads_and_block_sizes_do_not_change_the_answer() {
    // Every tally a command scans with: each one's merge adds up what the threads counted.
    let log = common::joined(&common::generated(31, 4_000));
    let commands =
        [Command::Top { field: Field::Path, n: 50 }, Command::Words { n: 50, text: false }, Command::Summary];
    for command in commands {
        let want = run_tuned(command.clone(), vec![], &log, 1, 1 << 20);
        let valid = want["total"].as_u64().or(want["valid"].as_u64()).unwrap_or(0);
        assert!(valid > 3_000, "{command:?}: the log has thousands of valid lines: {want}");
        for (threads, block_size) in [(2, 1 << 20), (4, 4096), (2, 100), (3, 7), (1, 61)] {
            let got = run_tuned(command.clone(), vec![], &log, threads, block_size);
            assert_eq!(got, want, "{command:?}: {threads} threads with {block_size}-byte blocks");
        }
    }
}

#[test]
fn several_files_count_as_their_concatenation() {
    let lines = common::generated(32, 3_000);
    let dir = testkit::scratch_dir();
    let (first, second) = (dir.path().join("a.log"), dir.path().join("b.log"));
    std::fs::write(&first, common::joined(&lines[..1_234])).expect("the scratch dir is writable");
    // The second file ends without a newline: its last line still counts.
    let mut tail = common::joined(&lines[1_234..]);
    tail.pop();
    std::fs::write(&second, tail).expect("the scratch dir is writable");
    let command = Command::Top { field: Field::Ip, n: 30 };
    let want = run_tuned(command.clone(), vec![], &common::joined(&lines), 2, 1 << 16);
    let got = run_tuned(command.clone(), vec![file(&first), file(&second)], b"", 2, 1 << 16);
    assert_eq!(got, want, "two files are read as one log");
    let from_stdin =
        run_tuned(command, vec![file(&first), Input::Stdin], &common::joined(&lines[1_234..]), 2, 1 << 16);
    assert_eq!(from_stdin, want, "- reads standard input in its place among the files");
}

#[test]
fn an_unreadable_input_is_reported_and_the_rest_is_counted() {
    let dir = testkit::scratch_dir();
    let good = dir.path().join("good.log");
    std::fs::write(&good, common::joined(&common::generated(33, 500))).expect("the scratch dir is writable");
    let missing = dir.path().join("missing.log");
    let mut config =
        Config::new(Command::Top { field: Field::Status, n: 5 }, vec![file(&missing), file(&good)]);
    config.json = true;
    let ran = run_with_stdin(&config, b"");
    assert_eq!(ran.outcome.exit_code(), 1, "exit 1 when an input could not be read");
    assert_eq!(ran.outcome.errors.len(), 1, "errors: one for the missing file, {:?}", ran.outcome.errors);
    let message = ran.outcome.errors[0].to_string();
    assert!(message.contains("missing.log"), "the error names the file: {message}");
    let want = run_tuned(Command::Top { field: Field::Status, n: 5 }, vec![file(&good)], b"", 1, 1 << 20);
    assert_eq!(json_of(&ran), want, "the readable input is still counted");
}

#[test]
fn a_large_generated_log_matches_the_truth() {
    let lines = common::generated(34, 60_000);
    let want = common::ranked(lines.iter().filter_map(|l| l.entry.as_ref().map(|e| &e.addr[..])));
    let got =
        run_tuned(Command::Top { field: Field::Ip, n: 100 }, vec![], &common::joined(&lines), 2, 64 * 1024);
    assert_eq!(
        top_entries(&got),
        common::lossy(&want[..100]),
        "the top 100 addresses against the generator's"
    );
    let malformed = lines.iter().filter(|l| l.entry.is_none()).count() as u64;
    assert_eq!(got["malformed"], malformed, "malformed lines against the generator's");
}

#[test]
fn text_is_never_cut_inside_a_word() {
    let mut text = Vec::new();
    let spec = datasets::text::TextSpec { seed: 35, ..Default::default() };
    let truth = datasets::text::write_text(&spec, 100_000, &mut text).expect("writing to memory cannot fail");
    // One enormous line: blocks must be cut between words, not only at line ends.
    for byte in text.iter_mut().filter(|b| **b == b'\n') {
        *byte = b' ';
    }
    let want = common::ranked_counts(truth.iter().map(|(word, count)| (word.as_bytes(), *count)));
    for (threads, block_size) in [(1, 13), (2, 1000), (2, 1 << 20)] {
        let got = run_tuned(Command::Words { n: 30, text: true }, vec![], &text, threads, block_size);
        assert_eq!(
            top_entries(&got),
            common::lossy(&want[..30]),
            "{threads} threads, {block_size}-byte blocks"
        );
    }
}

#[test]
fn a_raised_stop_flag_interrupts_the_run() {
    let log = common::joined(&common::generated(36, 2_000));
    let config = Config::new(Command::Top { field: Field::Url, n: 10 }, vec![Input::Stdin]);
    let mut out = Vec::new();
    let outcome =
        logstat::run(&config, &mut &log[..], &mut out, &AtomicBool::new(true)).expect("run succeeds");
    assert!(outcome.interrupted, "a run asked to stop says it was interrupted");
    assert_eq!(outcome.exit_code(), 130, "the exit code of a run ended by Ctrl-C");
    assert!(out.is_empty(), "an interrupted run prints no partial results");
}

/// What the [`Probe`] tallies of one scan saw, shared by every thread that ran one.
#[derive(Default)]
struct Seen {
    /// Blocks inside `add_block` right now.
    in_flight: usize,
    /// The most blocks ever inside `add_block` at once.
    most_in_flight: usize,
    /// The threads that called `add_block`.
    threads: HashSet<ThreadId>,
    /// A wait for a second block ran out of time: no later block waits (a scan on one thread
    /// would otherwise wait once per block).
    gave_up: bool,
    /// Bytes handed out by the input so far.
    served: u64,
    /// Bytes of the blocks that have entered `add_block`.
    started: u64,
    /// `served` when the first block entered `add_block`.
    served_at_first_block: Option<u64>,
    /// The most bytes ever served but not yet in a block that entered `add_block`.
    most_ahead: u64,
}

/// Shared access to a [`Seen`].
#[derive(Clone, Default)]
struct Watch(Arc<Mutex<Seen>>);

impl Watch {
    fn seen(&self) -> MutexGuard<'_, Seen> {
        // A poisoned lock means a probe panicked; scan re-raises that panic, which says more.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A tally that counts bytes and records which threads count its blocks, and when.
struct Probe {
    watch: Watch,
    /// Hold each block until another one is being counted at the same time (or a deadline passes).
    hold: bool,
    bytes: u64,
}

impl Tally for Probe {
    fn add_block(&mut self, block: &[u8]) {
        {
            let mut seen = self.watch.seen();
            seen.in_flight += 1;
            seen.most_in_flight = seen.most_in_flight.max(seen.in_flight);
            seen.threads.insert(std::thread::current().id());
            seen.started += block.len() as u64;
            if seen.served_at_first_block.is_none() {
                seen.served_at_first_block = Some(seen.served);
            }
        }
        if self.hold && !self.watch.seen().gave_up {
            // On every core, another worker takes the next block while this one is held here.
            let paired =
                testkit::wait_until(testkit::DEFAULT_DEADLINE, || self.watch.seen().most_in_flight >= 2);
            self.watch.seen().gave_up |= !paired;
        }
        self.watch.seen().in_flight -= 1;
        self.bytes += block.len() as u64;
    }

    fn merge(&mut self, other: Probe) {
        self.bytes += other.bytes;
    }
}

/// An input in memory that records in `watch` how much of it was handed out.
struct Watched {
    data: std::io::Cursor<Vec<u8>>,
    watch: Watch,
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.data.read(buf)?;
        let mut seen = self.watch.seen();
        seen.served += read as u64;
        // Saturating: a scan that hands some bytes out twice must fail on its counts, not panic here.
        seen.most_ahead = seen.most_ahead.max(seen.served.saturating_sub(seen.started));
        Ok(read)
    }
}

/// Scans `log` from standard input with `threads` probes and `block_size`-byte blocks.
fn probe_scan(log: &[u8], threads: usize, block_size: usize, hold: bool) -> (u64, Watch) {
    let mut config = Config::new(Command::Top { field: Field::Ip, n: 1 }, vec![]);
    config.threads = threads;
    config.block_size = block_size;
    let watch = Watch::default();
    let mut stdin = Watched { data: std::io::Cursor::new(log.to_vec()), watch: watch.clone() };
    let make = || Probe { watch: watch.clone(), hold, bytes: 0 };
    let (probe, end) = scan(&config, &mut stdin, &AtomicBool::new(false), Cut::Lines, make);
    assert!(end.errors.is_empty(), "reading memory cannot fail: {:?}", end.errors);
    (probe.bytes, watch)
}

#[test]
fn two_threads_count_two_blocks_at_the_same_time() {
    let log = common::joined(&common::generated(37, 400));
    let (bytes, watch) = probe_scan(&log, 2, 4096, true);
    let seen = watch.seen();
    assert!(
        seen.most_in_flight >= 2,
        "with threads = 2, two blocks must be counted at once on two threads; at most {} was \
         (the first block waited {:?} for a second one)",
        seen.most_in_flight,
        testkit::DEFAULT_DEADLINE
    );
    assert!(seen.threads.len() >= 2, "add_block ran on {} thread(s), not on 2", seen.threads.len());
    assert_eq!(bytes, log.len() as u64, "bytes counted by the merged tallies against the input's length");
}

#[test]
fn the_reader_stays_a_few_blocks_ahead_of_the_counting() {
    let log = common::joined(&common::generated(38, 4_000));
    let block_size = 4096;
    for threads in [1, 2] {
        let (bytes, watch) = probe_scan(&log, threads, block_size, false);
        let seen = watch.seen();
        assert_eq!(bytes, log.len() as u64, "{threads} thread(s): bytes counted against the input's length");
        let first = seen.served_at_first_block.unwrap_or(u64::MAX);
        assert!(
            first < log.len() as u64,
            "{threads} thread(s): counting must start before the input is read to its end; the first \
             block reached a tally after {first} of {} bytes",
            log.len()
        );
        let limit = 64 * block_size as u64;
        assert!(
            seen.most_ahead <= limit,
            "{threads} thread(s): the reader got {} bytes ahead of the blocks being counted; a bounded \
             queue keeps it within a few blocks (at most {limit} bytes, 64 blocks, here)",
            seen.most_ahead
        );
    }
}

/// A tally that raises the stop flag as soon as it is given a block, and counts the bytes it is given.
struct Stopper {
    stop: Arc<AtomicBool>,
    bytes: u64,
}

impl Tally for Stopper {
    fn add_block(&mut self, block: &[u8]) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.bytes += block.len() as u64;
    }

    fn merge(&mut self, other: Stopper) {
        self.bytes += other.bytes;
    }
}

#[test]
fn a_stop_flag_raised_during_a_scan_ends_it_within_a_few_blocks() {
    let log = common::joined(&common::generated(39, 4_000));
    let block_size = 4096;
    for threads in [1, 2] {
        let mut config = Config::new(Command::Top { field: Field::Ip, n: 1 }, vec![]);
        config.threads = threads;
        config.block_size = block_size;
        let stop = Arc::new(AtomicBool::new(false));
        let make = || Stopper { stop: Arc::clone(&stop), bytes: 0 };
        let (tally, end) = scan(&config, &mut &log[..], &stop, Cut::Lines, make);
        assert!(
            end.interrupted,
            "{threads} thread(s): a scan whose stop flag was raised says it was interrupted"
        );
        let limit = 64 * block_size as u64;
        assert!(
            tally.bytes <= limit,
            "{threads} thread(s): {} of {} bytes were counted after the first block raised the stop flag; \
             the flag is checked between blocks (at most {limit} bytes, 64 blocks, here)",
            tally.bytes,
            log.len()
        );
    }
}
