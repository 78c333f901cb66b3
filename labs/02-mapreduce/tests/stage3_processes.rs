//! Stage 3: processes. The framed codec, the same job over worker processes, a worker that dies
//! mid-task, and a straggler that gets a backup task.

mod common;

use std::io::Cursor;
use std::time::{Duration, Instant};

use common::{config, counts, text_file, worker_options};
use mapreduce::{
    Error, Fault, Job, JobConfig, JobSpec, MapOutput, Message, Mode, Record, Split, WordCount, decode,
    encode, read_frame, write_frame,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(testkit::proptest_config(256))]

    #[test]
    fn frames_round_trip(payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..5)) {
        let mut wire = Vec::new();
        for payload in &payloads {
            write_frame(&mut wire, payload).unwrap();
        }
        let mut input = Cursor::new(wire);
        for payload in &payloads {
            prop_assert_eq!(
                read_frame(&mut input).unwrap(),
                Some(payload.clone()),
                "the frame of \"{}\" read back",
                payload.escape_ascii()
            );
        }
        prop_assert!(read_frame(&mut input).unwrap().is_none(), "a clean end after the last frame");
    }

    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut input = Cursor::new(bytes.clone());
        while let Ok(Some(frame)) = read_frame(&mut input) {
            let _ = decode(&frame);
        }
        let _ = decode(&bytes);
    }

    #[test]
    fn messages_round_trip(
        id in 0usize..1_000_000,
        key in "\\PC{0,12}",
        value in any::<u64>(),
        start in 0u64..1_000,
        reducers in 1usize..9,
    ) {
        let task = Message::Task {
            id,
            job: JobSpec::Index,
            split: Split { file: 2, path: format!("dir/{key}.txt").into(), start, end: start + 10 },
            reducers,
        };
        prop_assert_eq!(decode(&encode(&task)).unwrap(), task.clone(), "{:?} encoded and decoded", task);
        let done = Message::Done {
            id,
            output: MapOutput { runs: vec![vec![(key.clone(), value)], vec![]], records: 3, emitted: 7 },
        };
        prop_assert_eq!(decode(&encode(&done)).unwrap(), done.clone(), "{:?} encoded and decoded", done);
    }
}

#[test]
fn truncated_frames_are_errors() {
    let mut wire = Vec::new();
    write_frame(&mut wire, b"hello").unwrap();
    for cut in 1..wire.len() {
        assert!(read_frame(&mut Cursor::new(&wire[..cut])).is_err(), "a frame cut at {cut} bytes");
    }
    assert!(read_frame(&mut Cursor::new(b"")).unwrap().is_none(), "a frame read from no bytes");
    assert!(decode(b"{not json").is_err(), "decoding \"{{not json\" is an error");
}

#[test]
fn faults_travel_in_the_environment() {
    for fault in [Fault::Crash { task: 2 }, Fault::Straggle { task: 1, delay: Duration::from_millis(1500) }] {
        assert_eq!(Fault::from_env(&fault.to_env()), Some(fault), "{fault:?} through {:?}", fault.to_env());
    }
    assert_eq!(Fault::from_env("nonsense"), None, "the fault in \"nonsense\"");
}

fn processes(workers: usize, reducers: usize, fault: Option<Fault>) -> JobConfig {
    let mut options = worker_options();
    options.fault = fault;
    JobConfig { mode: Mode::Processes(options), ..config(workers, reducers) }
}

#[test]
fn processes_give_the_same_output_as_threads() {
    let dir = tempfile::tempdir().unwrap();
    let (path, truth) = text_file(dir.path(), "a.txt", 5, 100_000);
    let inputs = [path];
    let threads = mapreduce::run_job(&WordCount, &inputs, &config(2, 3)).unwrap();
    let procs = mapreduce::run_job(&WordCount, &inputs, &processes(2, 3, None)).unwrap();
    assert_eq!(procs.partitions, threads.partitions, "partitions in worker processes and in threads");
    assert_eq!(counts(&procs), truth, "word counts of 100 kB of text in worker processes");
    assert_eq!(procs.stats.worker_failures, 0, "worker failures with no fault: {:?}", procs.stats);
    assert_eq!(procs.stats.reruns, 0, "reruns with no fault: {:?}", procs.stats);
}

#[test]
fn a_killed_worker_has_its_task_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let (path, truth) = text_file(dir.path(), "a.txt", 6, 100_000);
    for workers in [1, 2] {
        // The first worker dies on its first task; 25 small splits leave it no chance to miss it.
        let config =
            JobConfig { split_size: 4 * 1024, ..processes(workers, 2, Some(Fault::Crash { task: 1 })) };
        let output = mapreduce::run_job(&WordCount, std::slice::from_ref(&path), &config)
            .unwrap_or_else(|err| panic!("{workers} workers: {err}"));
        assert_eq!(counts(&output), truth, "{workers} workers, one crash");
        let stats = &output.stats;
        assert!(stats.worker_failures >= 1, "worker failures, {workers} workers, one crash: {stats:?}");
        assert!(stats.reruns >= 1, "reruns, {workers} workers, one crash: {stats:?}");
    }
}

#[test]
fn a_straggler_gets_a_backup_task() {
    let dir = tempfile::tempdir().unwrap();
    let (path, truth) = text_file(dir.path(), "a.txt", 7, 100_000);
    let started = Instant::now();
    // The first worker sleeps 40 s on its first task: only a backup can end the job in time.
    let fault = Fault::Straggle { task: 1, delay: Duration::from_secs(40) };
    let output = mapreduce::run_job(&WordCount, &[path], &processes(2, 2, Some(fault))).unwrap();
    assert_eq!(counts(&output), truth, "word counts of 100 kB of text with a straggler");
    assert!(output.stats.backups >= 1, "backup tasks with a straggler: {:?}", output.stats);
    assert!(started.elapsed() < Duration::from_secs(30), "the job waited for its straggler");
}

/// A job that only threads can run: it has no JobSpec.
struct Local;

impl Job for Local {
    fn map(&self, _record: Record<'_>, emit: &mut dyn FnMut(&str, u64)) {
        emit("line", 1);
    }
    fn reduce(&self, _key: &str, values: &[u64]) -> String {
        values.len().to_string()
    }
}

#[test]
fn a_job_without_a_spec_cannot_go_to_processes() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = text_file(dir.path(), "a.txt", 8, 1_000);
    let err = mapreduce::run_job(&Local, &[path], &processes(1, 1, None)).unwrap_err();
    assert!(matches!(err, Error::NotShippable), "{err}");
}

/// Not a test: the worker process that the processes-mode tests start (this binary, re-run).
#[test]
#[ignore = "a helper: run as a worker process by the processes-mode tests"]
fn child_worker() {
    common::child_worker();
}
