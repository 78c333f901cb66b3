//! Stage 3: processes. The framed codec, the same job over worker processes, a worker that dies
//! mid-task, and a straggler that gets a backup task.

mod common;

use std::collections::VecDeque;
use std::io::{self, BufReader, Cursor, Read};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{config, counts, text_file, worker_options, worker_options_with};
use mapreduce::codec::{HELLO, MAX_FRAME};
use mapreduce::worker::CRASH_EXIT_CODE;
use mapreduce::{
    Error, FAULT_ENV, Fault, Job, JobConfig, JobSpec, MapOutput, Message, Mode, Record, Split, WordCount,
    decode, encode, read_frame, write_frame,
};
use proptest::prelude::*;
use testkit::test;

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

/// A reader that plays its steps, one per call (a read of one byte of `data`, or an error of the
/// kind given), then reads the rest of `data`.
struct Scripted {
    data: Cursor<Vec<u8>>,
    steps: VecDeque<Option<io::ErrorKind>>,
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.steps.pop_front() {
            Some(Some(kind)) => Err(kind.into()),
            Some(None) => {
                let one = buf.len().min(1);
                self.data.read(&mut buf[..one])
            }
            None => self.data.read(buf),
        }
    }
}

/// A reader that always fails.
struct Broken;

impl Read for Broken {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("broken input"))
    }
}

#[test]
fn read_frame_retries_interruptions_and_reports_failures() {
    let mut wire = Vec::new();
    write_frame(&mut wire, b"hello").unwrap();
    write_frame(&mut wire, b"").unwrap();
    // Every read interrupted once, then one byte at a time.
    let steps = (0..wire.len()).flat_map(|_| [Some(io::ErrorKind::Interrupted), None]).collect();
    let mut input = Scripted { data: Cursor::new(wire.clone()), steps };
    let frames = [read_frame(&mut input), read_frame(&mut input), read_frame(&mut input)].map(Result::ok);
    assert_eq!(
        frames,
        [Some(Some(b"hello".to_vec())), Some(Some(Vec::new())), Some(None)],
        "frames \"hello\" and \"\" read one byte at a time, each read interrupted once"
    );
    // An error that is not an interruption is the input failing, even when the input would go on.
    for at in [0, 2] {
        let steps = std::iter::repeat_n(None, at).chain([Some(io::ErrorKind::Other)]).collect();
        let result = read_frame(&mut Scripted { data: Cursor::new(wire.clone()), steps });
        assert!(
            matches!(result, Err(Error::Sys { .. })),
            "a frame whose input fails after {at} bytes of its length: {result:?}"
        );
    }
}

#[test]
fn frames_up_to_max_frame_are_read_and_larger_ones_refused() {
    // A length of MAX_FRAME is read on: here the input fails inside the payload.
    let header = (MAX_FRAME as u32).to_le_bytes();
    let result = read_frame(&mut (&header[..]).chain(&[0u8; 16][..]).chain(Broken));
    assert!(
        matches!(result, Err(Error::Sys { .. })),
        "a frame of MAX_FRAME bytes whose input fails inside the payload: {result:?}"
    );
    // A larger length is refused before its payload is read (here the input would fail after 1 MiB).
    let header = (MAX_FRAME as u32 + 1).to_le_bytes();
    let result = read_frame(&mut (&header[..]).chain(io::repeat(0).take(1 << 20)).chain(Broken));
    assert!(matches!(result, Err(Error::Frame(_))), "a frame of MAX_FRAME + 1 bytes: {result:?}");
    // The pages of a zeroed buffer are not touched until written: this costs address space, not memory.
    let payload = vec![0u8; MAX_FRAME + 1];
    assert!(write_frame(&mut io::sink(), &payload).is_err(), "writing a frame of MAX_FRAME + 1 bytes");
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
    let (p, t) = (&procs.stats, &threads.stats);
    assert_eq!(
        (p.map_tasks, p.records, p.emitted, p.shuffled),
        (t.map_tasks, t.records, t.emitted, t.shuffled),
        "(tasks, records, emitted, shuffled) in worker processes and in threads"
    );
    // With 2 workers and none pending, one task at most runs beside the idle worker: one backup.
    assert!(p.backups <= 1, "backups with 2 workers and no fault: only a running task is backed up: {p:?}");
    assert!(
        (p.map_tasks..=p.map_tasks + p.backups).contains(&p.map_attempts),
        "map attempts with no fault: every task, and maybe its backup: {p:?}"
    );
}

/// A worker process started by hand, as the coordinator starts one, with a fault in its
/// environment; a thread reads its replies, so a test can wait for one with a deadline.
struct HandWorker {
    child: Child,
    stdin: ChildStdin,
    replies: mpsc::Receiver<Option<Message>>,
}

impl HandWorker {
    fn start(fault: Fault) -> Self {
        let worker = worker_options().worker;
        let mut child = Command::new(&worker.program)
            .args(&worker.args)
            .envs(worker.envs.iter().map(|(k, v)| (k, v)))
            .env(FAULT_ENV, fault.to_env())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting a worker");
        let stdin = child.stdin.take().expect("stdin is piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let (send, replies) = mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut byte = [0u8];
            while !seen.ends_with(HELLO) && stdout.read(&mut byte).unwrap_or(0) == 1 {
                seen.push(byte[0]);
            }
            // One message per frame; None when the worker's output ends.
            while let Ok(Some(frame)) = read_frame(&mut stdout) {
                let _ = send.send(Some(decode(&frame).expect("a worker's reply is a message")));
            }
            let _ = send.send(None);
        });
        HandWorker { child, stdin, replies }
    }

    /// Sends task `id` over `split` and waits for the reply (`None`: the worker's output ended), and
    /// how long it took.
    fn ask(&mut self, id: usize, split: &Split) -> (Option<Message>, Duration) {
        let task = Message::Task { id, job: JobSpec::WordCount, split: split.clone(), reducers: 1 };
        let sent = Instant::now();
        write_frame(&mut self.stdin, &encode(&task)).unwrap_or_else(|err| panic!("sending task {id}: {err}"));
        let reply = self.replies.recv_timeout(testkit::DEFAULT_DEADLINE);
        (reply.unwrap_or_else(|err| panic!("no reply to task {id} in time: {err}")), sent.elapsed())
    }
}

impl Drop for HandWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A one-line input and its split.
fn small_split(dir: &std::path::Path) -> Split {
    let path = dir.join("small.txt");
    std::fs::write(&path, b"one two two\n").unwrap();
    Split { file: 0, path, start: 0, end: 12 }
}

/// The task number a reply is for, or what it was instead.
fn done_id(reply: &Option<Message>) -> Result<usize, String> {
    match reply {
        Some(Message::Done { id, .. }) => Ok(*id),
        other => Err(format!("{other:?}")),
    }
}

#[test]
fn a_crash_fault_fires_on_its_task_only() {
    let dir = tempfile::tempdir().unwrap();
    let split = small_split(dir.path());
    let mut worker = HandWorker::start(Fault::Crash { task: 2 });
    assert_eq!(done_id(&worker.ask(7, &split).0), Ok(7), "the reply to the first task, with crash:2");
    assert_eq!(worker.ask(8, &split).0, None, "the reply to the second task, with crash:2");
    let status = worker.child.wait().expect("waiting for the worker");
    assert_eq!(status.code(), Some(CRASH_EXIT_CODE), "the exit status of a worker with crash:2: {status}");
}

#[test]
fn a_straggle_fault_delays_its_task_only() {
    let dir = tempfile::tempdir().unwrap();
    let split = small_split(dir.path());
    // The first task is answered at once, whatever the delay asked for the second.
    let mut slow = HandWorker::start(Fault::Straggle { task: 2, delay: Duration::from_secs(600) });
    assert_eq!(done_id(&slow.ask(1, &split).0), Ok(1), "the reply to the first task, with straggle:2:600000");
    let delay = Duration::from_millis(300);
    let mut worker = HandWorker::start(Fault::Straggle { task: 2, delay });
    assert_eq!(done_id(&worker.ask(1, &split).0), Ok(1), "the reply to the first task, with straggle:2:300");
    let (reply, took) = worker.ask(2, &split);
    assert_eq!(done_id(&reply), Ok(2), "the reply to the second task, with straggle:2:300");
    assert!(took >= delay, "the second task, with straggle:2:300, was answered after {took:?}");
    assert_eq!(done_id(&worker.ask(3, &split).0), Ok(3), "the reply to the third task, with straggle:2:300");
}

#[test]
fn a_killed_worker_has_its_task_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let (path, truth) = text_file(dir.path(), "a.txt", 6, 100_000);
    // The first worker dies on its first task (given to it at the start), or, alone, on its third (taken
    // from the queue); 25 small splits leave it no chance to miss it.
    for (workers, task) in [(1, 1), (2, 1), (1, 3)] {
        let config = JobConfig { split_size: 4 * 1024, ..processes(workers, 2, Some(Fault::Crash { task })) };
        let output = mapreduce::run_job(&WordCount, std::slice::from_ref(&path), &config)
            .unwrap_or_else(|err| panic!("{workers} workers, crash:{task}: {err}"));
        assert_eq!(counts(&output), truth, "{workers} workers, crash:{task}");
        let stats = &output.stats;
        assert!(stats.worker_failures >= 1, "worker failures, {workers} workers, crash:{task}: {stats:?}");
        assert!(stats.reruns >= 1, "reruns, {workers} workers, crash:{task}: {stats:?}");
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

/// Runs `f` on a thread of its own and returns what it gives, failing the test when that takes longer
/// than a deadline (a coordinator that hangs).
fn finishes<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, result) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(f());
    });
    let deadline = 3 * testkit::DEFAULT_DEADLINE;
    result
        .recv_timeout(deadline)
        .unwrap_or_else(|err| panic!("{what} did not end within {deadline:?}: {err}"))
}

#[test]
fn a_worker_that_dies_running_a_backup_does_not_rerun_its_task() {
    // Two one-line inputs, two workers. Worker 1 holds its task until a third worker has started;
    // worker 0 maps its own, backs up worker 1's and dies on it (crash:2); the worker started in its
    // place lets worker 1 answer. The task was never without a copy running: no rerun.
    let dir = tempfile::tempdir().unwrap();
    let started = tempfile::tempdir().unwrap();
    let inputs: Vec<_> = ["a b", "c d"]
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = dir.path().join(format!("{i}.txt"));
            std::fs::write(&path, format!("{text}\n")).unwrap();
            path
        })
        .collect();
    let mut options = worker_options_with(&format!("backup-wait:{}", started.path().display()));
    options.fault = Some(Fault::Crash { task: 2 });
    let config = JobConfig { mode: Mode::Processes(options), ..config(2, 1) };
    let output = finishes("the job", move || mapreduce::run_job(&WordCount, &inputs, &config))
        .unwrap_or_else(|err| panic!("a job whose backup dies: {err}"));
    let words = ["a", "b", "c", "d"].map(|w| (w.to_owned(), "1".to_owned()));
    assert_eq!(output.merged(), words, "the word counts of a job whose backup dies");
    let stats = &output.stats;
    assert_eq!(stats.backups, 1, "backups: worker 0 backs up worker 1's task: {stats:?}");
    assert_eq!(stats.worker_failures, 1, "worker failures: worker 0 dies on its backup: {stats:?}");
    assert_eq!(stats.reruns, 0, "reruns of a task whose first copy still runs: {stats:?}");
}

#[test]
fn a_reply_for_another_task_counts_as_a_dead_worker() {
    let dir = tempfile::tempdir().unwrap();
    let (path, truth) = text_file(dir.path(), "a.txt", 15, 40_000);
    // The first worker (the one given the fault) answers its first task with a Done for another task.
    let mut options = worker_options_with("wrong-id");
    options.fault = Some(Fault::Crash { task: 1 });
    let config = JobConfig { mode: Mode::Processes(options), ..config(1, 2) };
    let output = finishes("the job", move || mapreduce::run_job(&WordCount, &[path], &config))
        .unwrap_or_else(|err| panic!("a job whose worker answers for another task: {err}"));
    assert_eq!(counts(&output), truth, "word counts when a worker answers for another task");
    let stats = &output.stats;
    assert_eq!(stats.worker_failures, 1, "worker failures when a worker answers for another task: {stats:?}");
    assert_eq!(stats.reruns, 1, "reruns when a worker answers for another task: {stats:?}");
}

#[test]
fn workers_that_cannot_start_or_never_greet_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = text_file(dir.path(), "a.txt", 16, 40_000);
    let missing = dir.path().join("no-such-worker");
    let options = mapreduce::ProcessOptions::new(mapreduce::WorkerCommand::new(&missing));
    let missing_config = JobConfig { mode: Mode::Processes(options), ..config(2, 1) };
    let inputs = [path];
    let job_inputs = inputs.clone();
    let err = finishes("a job whose worker cannot start", move || {
        mapreduce::run_job(&WordCount, &job_inputs, &missing_config)
    })
    .map(|_| ())
    .expect_err("a job whose worker program does not exist");
    assert!(matches!(err, Error::Spawn { .. }), "the error of a missing worker program: {err:?}");
    assert!(err.to_string().contains("no-such-worker"), "the error names the program: {err}");
    // A program that prints for ever and never says hello is not waited for.
    let chatter_config = JobConfig { mode: Mode::Processes(worker_options_with("chatter")), ..config(1, 1) };
    let result = finishes("a job whose worker never says hello", move || {
        mapreduce::run_job(&WordCount, &inputs, &chatter_config).map(|_| ())
    });
    assert!(result.is_err(), "a job whose worker prints for ever without a hello: {result:?}");
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
