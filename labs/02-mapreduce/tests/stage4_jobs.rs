//! Stage 4: the shipped jobs. Per-status counts and top URLs against the log generator's truth, and
//! an inverted index.

mod common;

use std::collections::HashMap;

use common::{config, counts, log_file, worker_options};
use mapreduce::{Config, InvertedIndex, Mode, StatusCount, TopUrls, top_n};

#[test]
fn status_counts_are_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = log_file(dir.path(), "access.log", 11, 4_000, 0.0);
    let mut truth: HashMap<String, u64> = HashMap::new();
    for entry in lines.iter().filter_map(|line| line.entry.as_ref()) {
        *truth.entry(entry.status.to_string()).or_default() += 1;
    }
    for workers in [1, 2] {
        let output = mapreduce::run(&StatusCount, std::slice::from_ref(&path), &config(workers, 2)).unwrap();
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
    let output = mapreduce::run(&TopUrls, &[path], &config(2, 3)).unwrap();
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
    let output = mapreduce::run(&StatusCount, &[path], &config(2, 2)).unwrap();
    let total: u64 = counts(&output).values().sum();
    assert_eq!(total, valid, "lines counted of 3000 with 5% malformed: every valid line and no other");
}

#[test]
fn the_log_jobs_give_the_same_output_in_worker_processes() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = log_file(dir.path(), "access.log", 14, 3_000, 0.02);
    let inputs = [path];
    let processes = || Config { mode: Mode::Processes(worker_options()), ..config(2, 2) };
    let threads = mapreduce::run(&StatusCount, &inputs, &config(2, 2)).unwrap();
    let shipped = mapreduce::run(&StatusCount, &inputs, &processes()).unwrap();
    assert_eq!(
        shipped.partitions, threads.partitions,
        "per-status counts in worker processes and in threads"
    );
    let threads = mapreduce::run(&TopUrls, &inputs, &config(2, 2)).unwrap();
    let shipped = mapreduce::run(&TopUrls, &inputs, &processes()).unwrap();
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
    let output = mapreduce::run(&job, &inputs, &config(2, 2)).unwrap();
    let index: HashMap<String, String> = output.merged().into_iter().collect();
    assert_eq!(index["cat"], [name("a.txt"), name("b.txt"), name("c.txt")].join(","), "the files of \"cat\"");
    assert_eq!(index["dog"], [name("a.txt"), name("b.txt")].join(","), "the files of \"dog\"");
    assert_eq!(index["the"], [name("b.txt"), name("c.txt")].join(","), "the files of \"the\"");
    assert_eq!(index["bird"], name("a.txt"), "the files of \"bird\"");
    assert_eq!(index.len(), 9, "words in the index of three small files: {index:?}");
}

/// Not a test: the worker process that the processes-mode test starts (this binary, re-run).
#[test]
#[ignore = "a helper: run as a worker process by the processes-mode test"]
fn child_worker() {
    common::child_worker();
}
