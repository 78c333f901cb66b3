//! Stage 6: stream any number of inputs of any size, on every core, with the same answers.

mod common;

use std::sync::atomic::AtomicBool;

use common::{file, json_of, run_with_stdin, top_entries};
use logstat::{Command, Config, Field, Input};
use serde_json::Value;

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
    let log = common::joined(&common::generated(31, 4_000));
    let command = Command::Top { field: Field::Path, n: 50 };
    let want = run_tuned(command.clone(), vec![], &log, 1, 1 << 20);
    assert!(want["total"].as_u64().unwrap_or(0) > 3_000, "the log has thousands of valid lines: {want}");
    for (threads, block_size) in [(2, 1 << 20), (4, 4096), (2, 100), (3, 7), (1, 61)] {
        let got = run_tuned(command.clone(), vec![], &log, threads, block_size);
        assert_eq!(got, want, "{threads} threads with {block_size}-byte blocks");
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
    assert_eq!(ran.outcome.errors.len(), 1);
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
    assert_eq!(top_entries(&got), common::lossy(&want[..100]));
    assert_eq!(got["malformed"], lines.iter().filter(|l| l.entry.is_none()).count() as u64);
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
