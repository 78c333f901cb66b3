//! Stage 2: threads. A pool of map workers, a shuffle into R partitions, spills under a memory
//! budget, and the reducers' merge: the output is the truth for any workers, reducers and budget.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{config, counts, text_file};
use mapreduce::{Job, JobConfig, Record, Shuffle, WordCount, partition_of};
use testkit::test;

#[test]
fn word_count_is_the_truth_for_any_workers_and_reducers() {
    let dir = tempfile::tempdir().unwrap();
    let (a, truth_a) = text_file(dir.path(), "a.txt", 1, 120_000);
    let (b, truth_b) = text_file(dir.path(), "b.txt", 2, 60_000);
    let mut truth = truth_a;
    for (word, count) in truth_b {
        *truth.entry(word).or_default() += count;
    }
    for workers in [1, 2, 4] {
        for reducers in [1, 3, 8] {
            let output =
                mapreduce::run_job(&WordCount, &[a.clone(), b.clone()], &config(workers, reducers)).unwrap();
            assert_eq!(
                counts(&output),
                truth,
                "word counts of 180 kB of text, {workers} workers, {reducers} reducers"
            );
            assert_eq!(
                output.partitions.len(),
                reducers,
                "partitions of {workers} workers, {reducers} reducers"
            );
            assert_eq!(
                output.stats.map_tasks, 12,
                "map tasks for 180 kB in 16 KiB splits, {workers} workers, {reducers} reducers"
            );
        }
    }
}

#[test]
fn reducers_own_their_keys_in_sorted_order() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = text_file(dir.path(), "a.txt", 3, 50_000);
    let output = mapreduce::run_job(&WordCount, &[path], &config(2, 4)).unwrap();
    for (reducer, pairs) in output.partitions.iter().enumerate() {
        assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0), "reducer {reducer}'s keys are sorted and unique");
        for (key, _) in pairs {
            assert_eq!(partition_of(key, 4), reducer, "{key:?} is in reducer {reducer}");
        }
    }
    let merged = output.merged();
    assert!(merged.windows(2).all(|w| w[0].0 < w[1].0), "the merged output is sorted by key");
}

#[test]
fn a_tiny_memory_budget_spills_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let spills = tempfile::tempdir().unwrap();
    let (path, truth) = text_file(dir.path(), "a.txt", 4, 150_000);
    for (workers, reducers) in [(1, 1), (2, 3)] {
        let config = JobConfig {
            memory: 8 * 1024,
            spill_dir: Some(spills.path().to_owned()),
            ..config(workers, reducers)
        };
        let output = mapreduce::run_job(&WordCount, std::slice::from_ref(&path), &config).unwrap();
        assert_eq!(counts(&output), truth, "{workers} workers, {reducers} reducers, 8 KiB");
        let stats = &output.stats;
        assert!(
            stats.spills >= 2,
            "spills under an 8 KiB budget, {workers} workers, {reducers} reducers: {stats:?}"
        );
        assert!(stats.spill_bytes > 0, "bytes spilled, {workers} workers, {reducers} reducers: {stats:?}");
        assert!(
            stats.runs_merged as u64 >= stats.spills,
            "runs merged, at least one per spill, {workers} workers, {reducers} reducers: {stats:?}"
        );
    }
    let big = mapreduce::run_job(&WordCount, &[path], &config(2, 3)).unwrap();
    assert_eq!(big.stats.spills, 0, "spills of 150 kB of text under the default budget");
    assert!(
        std::fs::read_dir(spills.path()).unwrap().next().is_none(),
        "spill files are removed when the job ends"
    );
}

/// A job without a combiner: every value reaches the reducer.
struct LinesByLength;

impl Job for LinesByLength {
    fn map(&self, record: Record<'_>, emit: &mut dyn FnMut(&str, u64)) {
        let text = record.line.strip_suffix(b"\n").unwrap_or(record.line);
        emit(&format!("{:03}", text.len() / 10 * 10), text.len() as u64);
    }
    fn reduce(&self, _key: &str, values: &[u64]) -> String {
        format!("{} lines, longest {}", values.len(), values.iter().max().unwrap_or(&0))
    }
}

#[test]
fn a_custom_job_without_combiner_sees_every_value() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..4_000).map(|i| format!("{}\n", "x".repeat(i * 7 % 95))).collect();
    let path = dir.path().join("lines.txt");
    std::fs::write(&path, &text).unwrap();
    let mut expected: HashMap<String, (usize, usize)> = HashMap::new();
    for line in text.lines() {
        let entry = expected.entry(format!("{:03}", line.len() / 10 * 10)).or_default();
        entry.0 += 1;
        entry.1 = entry.1.max(line.len());
    }
    let mut expected: Vec<(String, String)> =
        expected.into_iter().map(|(k, (n, max))| (k, format!("{n} lines, longest {max}"))).collect();
    expected.sort();
    for workers in [1, 3] {
        let config = JobConfig { memory: 4 * 1024, split_size: 4 * 1024, ..config(workers, 2) };
        let output = mapreduce::run_job(&LinesByLength, std::slice::from_ref(&path), &config).unwrap();
        assert_eq!(output.merged(), expected, "lines by length without a combiner, {workers} workers");
        assert_eq!(output.stats.records, 4_000, "records read from 4000 lines, {workers} workers");
        assert!(
            output.stats.spills > 0,
            "spills under a 4 KiB budget, {workers} workers: {:?}",
            output.stats
        );
    }
}

#[test]
fn stats_count_records_pairs_and_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let (text, truth) = text_file(dir.path(), "a.txt", 10, 80_000);
    let text_lines = std::fs::read(&text).unwrap().split_inclusive(|&b| b == b'\n').count() as u64;
    let lengths = dir.path().join("lines.txt");
    std::fs::write(&lengths, (0..3_000).map(|i| format!("{}\n", "y".repeat(i % 40))).collect::<String>())
        .unwrap();
    for workers in [1, 3] {
        let output =
            mapreduce::run_job(&WordCount, std::slice::from_ref(&text), &config(workers, 2)).unwrap();
        let stats = &output.stats;
        assert_eq!(
            stats.map_attempts, stats.map_tasks,
            "map attempts in threads mode, {workers} workers: {stats:?}"
        );
        assert_eq!(stats.records, text_lines, "records of an 80 kB text, {workers} workers: {stats:?}");
        let words: u64 = truth.values().sum();
        assert_eq!(stats.emitted, words, "pairs emitted for an 80 kB text, {workers} workers: {stats:?}");
        assert!(
            (truth.len() as u64..words).contains(&stats.shuffled),
            "pairs shuffled for an 80 kB text, {workers} workers: at least one per word, fewer than emitted \
             (the combiner sums): {stats:?}"
        );
        let output =
            mapreduce::run_job(&LinesByLength, std::slice::from_ref(&lengths), &config(workers, 2)).unwrap();
        let stats = &output.stats;
        assert_eq!(
            (stats.records, stats.emitted, stats.shuffled),
            (3_000, 3_000, 3_000),
            "(records, emitted, shuffled) of 3000 lines and a job with no combiner, {workers} workers"
        );
        assert_eq!(
            stats.map_attempts, stats.map_tasks,
            "map attempts in threads mode, {workers} workers: {stats:?}"
        );
    }
}

#[test]
fn the_shuffle_merges_each_partitions_runs_by_key() {
    let spills = tempfile::tempdir().unwrap();
    let shuffle = Shuffle::new(3, 1 << 20, spills.path()).unwrap();
    assert_eq!(shuffle.reducers(), 3, "the partitions of a shuffle for 3 reducers");
    let run = |pairs: &[(&str, u64)]| pairs.iter().map(|&(key, value)| (key.to_owned(), value)).collect();
    shuffle.add(0, run(&[("a", 1), ("c", 2)])).unwrap();
    shuffle.add(2, run(&[("z", 5)])).unwrap();
    shuffle.add(0, run(&[("a", 3), ("b", 1), ("c", 1)])).unwrap();
    shuffle.add(0, run(&[])).unwrap();
    let pairs = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs.iter().map(|&(key, value)| (key.to_owned(), value.to_owned())).collect()
    };
    let reduced: Vec<Vec<(String, String)>> =
        (0..shuffle.reducers()).map(|partition| shuffle.reduce(partition, &WordCount).unwrap().0).collect();
    assert_eq!(
        reduced,
        [pairs(&[("a", "4"), ("b", "1"), ("c", "3")]), pairs(&[]), pairs(&[("z", "5")])],
        "each partition's runs merged and reduced by key"
    );
}

/// Counts lines, and how many map calls ran at once: the first call waits, up to a deadline, until
/// another runs beside it, which only workers on threads of their own can give it.
#[derive(Default)]
struct Overlap {
    running: AtomicUsize,
    most: AtomicUsize,
    waited: AtomicBool,
}

impl Job for Overlap {
    fn map(&self, _record: Record<'_>, emit: &mut dyn FnMut(&str, u64)) {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        if !self.waited.swap(true, Ordering::SeqCst) {
            testkit::wait_until(testkit::DEFAULT_DEADLINE, || self.most.load(Ordering::SeqCst) >= 2);
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        emit("lines", 1);
    }
    fn reduce(&self, _key: &str, values: &[u64]) -> String {
        values.iter().sum::<u64>().to_string()
    }
}

#[test]
fn workers_map_on_threads_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = text_file(dir.path(), "a.txt", 9, 64 * 1024);
    let lines = std::fs::read(&path).unwrap().iter().filter(|&&b| b == b'\n').count();
    let job = Overlap::default();
    let output = mapreduce::run_job(&job, &[path], &config(2, 1)).unwrap();
    assert_eq!(
        output.merged(),
        [("lines".to_owned(), lines.to_string())],
        "the lines of 64 kB of text, counted by 2 workers"
    );
    assert_eq!(
        job.most.load(Ordering::SeqCst),
        2,
        "map calls running at once with 2 workers, the first waiting for a second"
    );
}

/// Counts lines per input; the line of input 0 is mapped only once every other input's line has
/// been (or a deadline has passed, noted in `held_up`).
#[derive(Default)]
struct SlowFirst {
    others: AtomicUsize,
    inputs: usize,
    held_up: AtomicBool,
}

impl Job for SlowFirst {
    fn map(&self, record: Record<'_>, emit: &mut dyn FnMut(&str, u64)) {
        if record.file == 0 {
            let others_done = testkit::wait_until(testkit::DEFAULT_DEADLINE, || {
                self.others.load(Ordering::SeqCst) == self.inputs - 1
            });
            self.held_up.store(!others_done, Ordering::SeqCst);
        } else {
            self.others.fetch_add(1, Ordering::SeqCst);
        }
        emit(&format!("input {}", record.file), 1);
    }
    fn reduce(&self, _key: &str, values: &[u64]) -> String {
        values.iter().sum::<u64>().to_string()
    }
}

#[test]
fn a_slow_task_does_not_hold_up_the_others() {
    // Eight one-line inputs, one map task each, on 2 workers: the first task's map waits until the
    // seven others are done, so the other worker must take them all, whichever it was given first.
    let dir = tempfile::tempdir().unwrap();
    let inputs: Vec<_> = (0..8)
        .map(|i| {
            let path = dir.path().join(format!("{i}.txt"));
            std::fs::write(&path, format!("line {i}\n")).unwrap();
            path
        })
        .collect();
    let job = SlowFirst { inputs: inputs.len(), ..SlowFirst::default() };
    let output = mapreduce::run_job(&job, &inputs, &config(2, 1)).unwrap();
    assert_eq!(output.stats.map_tasks, 8, "map tasks of eight one-line inputs");
    assert_eq!(output.merged().len(), 8, "keys of eight one-line inputs: {:?}", output.merged());
    assert!(
        !job.held_up.load(Ordering::SeqCst),
        "whether the slow first task waited in vain for the other seven, 2 workers: tasks must go to \
         whichever worker is free"
    );
}

#[test]
fn empty_and_missing_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, b"").unwrap();
    let output = mapreduce::run_job(&WordCount, &[empty], &config(2, 2)).unwrap();
    assert!(output.merged().is_empty(), "the output of an empty input: {:?}", output.merged());
    assert_eq!(output.partitions.len(), 2, "partitions of an empty input with 2 reducers");
    let err = mapreduce::run_job(&WordCount, &[dir.path().join("missing.txt")], &config(2, 2)).unwrap_err();
    assert!(err.to_string().contains("missing.txt"), "the error names the input: {err}");
}
