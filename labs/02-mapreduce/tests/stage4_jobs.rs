//! Stage 4: the shipped jobs. Per-status counts and top URLs against the log generator's truth, and
//! an inverted index; then the command, run in-process through `run`: what it prints, its part files,
//! its errors and its exit codes.

mod common;

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::atomic::AtomicBool;

use clap::Parser;
use common::{config, counts, log_file, text_file, worker_options};
use mapreduce::cli::Cli;
use mapreduce::{
    Config, Error, InvertedIndex, Job, JobConfig, Mode, Outcome, Split, StatusCount, TopUrls, map_split,
    top_n,
};
use testkit::test;

#[test]
fn status_counts_are_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = log_file(dir.path(), "access.log", 11, 4_000, 0.0);
    let mut truth: HashMap<String, u64> = HashMap::new();
    for entry in lines.iter().filter_map(|line| line.entry.as_ref()) {
        *truth.entry(entry.status.to_string()).or_default() += 1;
    }
    for workers in [1, 2] {
        let output =
            mapreduce::run_job(&StatusCount, std::slice::from_ref(&path), &config(workers, 2)).unwrap();
        assert_eq!(counts(&output), truth, "status counts of 4000 log lines, {workers} workers");
    }
}

#[test]
fn url_counts_are_the_truth_and_rank() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = log_file(dir.path(), "access.log", 12, 4_000, 0.0);
    let mut truth: HashMap<String, u64> = HashMap::new();
    for url in lines.iter().filter_map(|line| line.entry.as_ref()?.url.as_ref()) {
        *truth.entry(String::from_utf8_lossy(url).into_owned()).or_default() += 1;
    }
    let output = mapreduce::run_job(&TopUrls, &[path], &config(2, 3)).unwrap();
    assert_eq!(counts(&output), truth, "URL counts of 4000 log lines");
    let mut ranked: Vec<(String, u64)> = truth.into_iter().collect();
    ranked.sort_by(|(ka, ca), (kb, cb)| cb.cmp(ca).then_with(|| ka.cmp(kb)));
    ranked.truncate(10);
    assert_eq!(top_n(&output.merged(), 10), ranked, "the 10 most requested URLs of 4000 log lines");
}

#[test]
fn malformed_lines_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = log_file(dir.path(), "access.log", 13, 3_000, 0.05);
    let valid = lines.iter().filter(|line| line.entry.is_some()).count() as u64;
    let output = mapreduce::run_job(&StatusCount, &[path], &config(2, 2)).unwrap();
    let total: u64 = counts(&output).values().sum();
    assert_eq!(total, valid, "lines counted of 3000 with 5% malformed: every valid line and no other");
}

#[test]
fn the_log_jobs_give_the_same_output_in_worker_processes() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = log_file(dir.path(), "access.log", 14, 3_000, 0.02);
    let inputs = [path];
    let processes = || JobConfig { mode: Mode::Processes(worker_options()), ..config(2, 2) };
    let threads = mapreduce::run_job(&StatusCount, &inputs, &config(2, 2)).unwrap();
    let shipped = mapreduce::run_job(&StatusCount, &inputs, &processes()).unwrap();
    assert_eq!(
        shipped.partitions, threads.partitions,
        "per-status counts in worker processes and in threads"
    );
    let threads = mapreduce::run_job(&TopUrls, &inputs, &config(2, 2)).unwrap();
    let shipped = mapreduce::run_job(&TopUrls, &inputs, &processes()).unwrap();
    assert_eq!(shipped.partitions, threads.partitions, "URL counts in worker processes and in threads");
}

#[test]
fn inverted_index_lists_sorted_files() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("b.txt", "The cat sat.\nA DOG ran!\n"),
        ("a.txt", "cat, dog\r\nbird"),
        ("c.txt", "Fish and the cat\n"),
    ];
    let inputs: Vec<_> = files
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    let name = |n: &str| dir.path().join(n).display().to_string();
    let job = InvertedIndex::new(inputs.clone());
    let output = mapreduce::run_job(&job, &inputs, &config(2, 2)).unwrap();
    let index: HashMap<String, String> = output.merged().into_iter().collect();
    assert_eq!(index["cat"], [name("a.txt"), name("b.txt"), name("c.txt")].join(","), "the files of \"cat\"");
    assert_eq!(index["dog"], [name("a.txt"), name("b.txt")].join(","), "the files of \"dog\"");
    assert_eq!(index["the"], [name("b.txt"), name("c.txt")].join(","), "the files of \"the\"");
    assert_eq!(index["bird"], name("a.txt"), "the files of \"bird\"");
    assert_eq!(index.len(), 9, "words in the index of three small files: {index:?}");
}

#[test]
fn the_shipped_jobs_combine_in_the_map_task() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = log_file(dir.path(), "access.log", 15, 2_000, 0.0);
    let (text, truth) = text_file(dir.path(), "words.txt", 16, 20_000);
    let whole = |file: usize, path: &std::path::Path| Split {
        file,
        path: path.to_owned(),
        start: 0,
        end: std::fs::metadata(path).unwrap().len(),
    };
    let index = InvertedIndex::new(vec![log.clone(), text.clone()]);
    let cases: [(&str, &dyn Job, Split); 3] = [
        ("status", &StatusCount, whole(0, &log)),
        ("top-urls", &TopUrls, whole(0, &log)),
        ("index", &index, whole(1, &text)),
    ];
    for (name, job, split) in cases {
        let output = map_split(job, &split, 1).unwrap_or_else(|err| panic!("{name}: {err}"));
        let run = &output.runs[0];
        assert!(
            run.windows(2).all(|w| w[0].0 < w[1].0),
            "{name}: one map task's run holds each key once (the combiner shrank its values)"
        );
        if name == "index" {
            assert_eq!(run.len(), truth.len(), "index: the keys of a text, one per word");
            assert!(
                run.iter().all(|&(_, file)| file == 1),
                "index: each word's value is its file's number, 1"
            );
        } else {
            let total: u64 = run.iter().map(|(_, count)| count).sum();
            assert_eq!(total, output.emitted, "{name}: the combined counts add up to the pairs emitted");
        }
    }
}

#[test]
fn the_index_gives_the_same_output_in_worker_processes() {
    let dir = tempfile::tempdir().unwrap();
    let inputs: Vec<_> =
        (0..3).map(|i| text_file(dir.path(), &format!("{i}.txt"), 30 + i, 20_000).0).collect();
    let job = InvertedIndex::new(inputs.clone());
    let threads = mapreduce::run_job(&job, &inputs, &config(2, 2)).unwrap();
    let processes = JobConfig { mode: Mode::Processes(worker_options()), ..config(2, 2) };
    let shipped = mapreduce::run_job(&job, &inputs, &processes)
        .unwrap_or_else(|err| panic!("the inverted index in worker processes: {err}"));
    assert_eq!(
        shipped.partitions, threads.partitions,
        "the inverted index in worker processes and in threads"
    );
}

/// The command line `args` (after the program's name) as `run` sees it, with small splits so that
/// small inputs make several map tasks.
fn command(args: &[&str]) -> Config {
    let cli = Cli::try_parse_from(std::iter::once("mapreduce").chain(args.iter().copied()))
        .unwrap_or_else(|err| panic!("parsing {args:?}: {err}"));
    let mut config = Config::try_from(cli).unwrap_or_else(|err| panic!("validating {args:?}: {err}"));
    config.engine.split_size = 16 * 1024;
    config
}

/// Runs `config` with the stop flag as given, returning the outcome and what it printed.
fn run(config: &Config, stopped: bool) -> (Result<Outcome, Error>, String) {
    let mut out = Vec::new();
    let result = mapreduce::run(config, &AtomicBool::new(stopped), &mut out);
    (result, String::from_utf8(out).expect("the output is UTF-8"))
}

/// `key<TAB>count` lines sorted by key, as the command prints `counts`.
fn lines_of(counts: &HashMap<String, u64>) -> String {
    let mut pairs: Vec<_> = counts.iter().collect();
    pairs.sort();
    pairs.iter().map(|(key, count)| format!("{key}\t{count}\n")).collect()
}

#[test]
fn the_command_prints_every_key_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let (path, truth) = text_file(dir.path(), "words.txt", 21, 64 * 1024);
    let config = command(&["wordcount", "-w", "2", "-r", "3", &path.display().to_string()]);
    let (result, printed) = run(&config, false);
    let outcome = result.unwrap_or_else(|err| panic!("mapreduce wordcount on 64 KiB: {err}"));
    assert_eq!(printed, lines_of(&truth), "what mapreduce wordcount prints for 64 KiB of text");
    assert_eq!(outcome.exit_code(), 0, "the exit code of a complete run");
    assert!(outcome.stats.map_tasks > 1, "map tasks of 64 KiB in 16 KiB splits: {}", outcome.stats.map_tasks);
    let report = outcome.stats.to_string();
    let counts = format!("{} tasks, {} attempts", outcome.stats.map_tasks, outcome.stats.map_attempts);
    assert!(report.contains(&counts), "the --stats line of mapreduce wordcount holds {counts:?}: {report:?}");
}

#[test]
fn the_command_prints_the_ten_most_requested_urls() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = log_file(dir.path(), "access.log", 22, 3_000, 0.02);
    let mut truth: HashMap<String, u64> = HashMap::new();
    for url in lines.iter().filter_map(|line| line.entry.as_ref()?.url.as_ref()) {
        *truth.entry(String::from_utf8_lossy(url).into_owned()).or_default() += 1;
    }
    let mut ranked: Vec<(String, u64)> = truth.into_iter().collect();
    ranked.sort_by(|(ka, ca), (kb, cb)| cb.cmp(ca).then_with(|| ka.cmp(kb)));
    let expected: String = ranked.iter().take(10).map(|(url, count)| format!("{url}\t{count}\n")).collect();
    let config = command(&["top-urls", "-w", "2", &path.display().to_string()]);
    let (result, printed) = run(&config, false);
    result.unwrap_or_else(|err| panic!("mapreduce top-urls on 3000 log lines: {err}"));
    assert_eq!(printed, expected, "what mapreduce top-urls prints for 3000 log lines: the 10 most requested");
}

#[test]
fn out_writes_one_sorted_part_file_per_reducer_and_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (path, truth) = text_file(dir.path(), "words.txt", 23, 48 * 1024);
    let parts = dir.path().join("out").join("nested");
    let args = [
        "wordcount",
        "-w",
        "2",
        "-r",
        "3",
        "--out",
        &parts.display().to_string(),
        &path.display().to_string(),
    ];
    let (result, printed) = run(&command(&args), false);
    assert_eq!(
        result.map(|outcome| outcome.exit_code()).map_err(|err| err.to_string()),
        Ok(0),
        "mapreduce --out"
    );
    assert_eq!(printed, "", "what mapreduce --out prints");
    let mut names: Vec<String> = std::fs::read_dir(&parts)
        .unwrap_or_else(|err| panic!("listing {}: {err}", parts.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["part-00000", "part-00001", "part-00002"], "the files of --out with 3 reducers");
    let mut found: HashMap<String, u64> = HashMap::new();
    for name in &names {
        let text = std::fs::read_to_string(parts.join(name)).unwrap();
        let keys: Vec<&str> = text.lines().map(|line| line.split('\t').next().unwrap_or("")).collect();
        assert!(keys.is_sorted(), "{name} is sorted by key");
        for line in text.lines() {
            let (key, count) = line.split_once('\t').unwrap_or_else(|| panic!("{name}: no tab in {line:?}"));
            let count = count.parse().unwrap_or_else(|_| panic!("{name}: count of {key:?} is {count:?}"));
            assert!(found.insert(key.to_owned(), count).is_none(), "{key:?} is in one part file only");
        }
    }
    assert_eq!(found, truth, "the counts of the part files together");
}

#[test]
fn an_output_that_cannot_be_made_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = text_file(dir.path(), "words.txt", 24, 4 * 1024);
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let parts = blocker.join("out");
    let args = ["wordcount", "--out", &parts.display().to_string(), &path.display().to_string()];
    let (result, _) = run(&command(&args), false);
    let err = result.map(|outcome| outcome.exit_code()).expect_err("--out under a regular file fails");
    assert!(err.to_string().contains("a-file"), "the error names the directory: {err}");
    assert_eq!(err.exit_code(), 1, "the exit code of {err}");
    assert!(!err.is_broken_pipe(), "{err} is not a broken pipe");
}

#[test]
fn a_missing_input_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt");
    let (result, printed) = run(&command(&["wordcount", &missing.display().to_string()]), false);
    let err = result.map(|outcome| outcome.exit_code()).expect_err("a missing input fails");
    assert!(err.to_string().contains("missing.txt"), "the error names the input: {err}");
    assert_eq!(err.exit_code(), 1, "the exit code of {err}");
    assert_eq!(printed, "", "what a failed run prints");
}

#[test]
fn a_raised_stop_flag_writes_nothing_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = text_file(dir.path(), "words.txt", 25, 4 * 1024);
    let parts = dir.path().join("out");
    for args in [
        vec!["wordcount", &*path.to_string_lossy()],
        vec!["status", "--out", &*parts.to_string_lossy(), &*path.to_string_lossy()],
    ] {
        let (result, printed) = run(&command(&args), true);
        let outcome = result.unwrap_or_else(|err| panic!("mapreduce {args:?} when stopped: {err}"));
        assert_eq!(outcome.exit_code(), 130, "the exit code of mapreduce {args:?} when stopped");
        assert_eq!(printed, "", "what mapreduce {args:?} prints when stopped");
    }
    assert!(!parts.exists(), "--out {} is not created when stopped", parts.display());
}

/// A standard output whose reader has gone, as after `mapreduce … | head`.
struct ClosedPipe;

impl Write for ClosedPipe {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
}

#[test]
fn a_closed_pipe_is_a_broken_pipe_error() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = text_file(dir.path(), "words.txt", 26, 4 * 1024);
    let config = command(&["wordcount", &path.display().to_string()]);
    let err = mapreduce::run(&config, &AtomicBool::new(false), &mut ClosedPipe)
        .map(|outcome| outcome.exit_code())
        .expect_err("writing to a closed pipe fails");
    assert!(err.is_broken_pipe(), "writing to a closed pipe is a broken pipe (exit 0): {err}");
}

/// Not a test: the worker process that the processes-mode test starts (this binary, re-run).
#[test]
#[ignore = "a helper: run as a worker process by the processes-mode test"]
fn child_worker() {
    common::child_worker();
}
