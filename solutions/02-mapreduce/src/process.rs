//! The coordinator over worker processes: one thread per worker slot hands tasks to its process
//! over a pipe. A worker that dies has its task put back and is replaced; when no task is left to
//! start, an idle worker runs a backup copy of a task still running, and the first copy to finish
//! wins. When every task is done, the remaining workers are killed.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufReader, BufWriter, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Barrier, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::codec::{HELLO, Message, decode, encode, read_frame, write_frame};
use crate::engine::Stats;
use crate::job::JobSpec;
use crate::map_task::MapOutput;
use crate::split::Split;
use crate::{Error, Result};

/// The environment variable through which a worker learns its [`Fault`] (see [`Fault::to_env`]).
pub const FAULT_ENV: &str = "MAPREDUCE_FAULT";

/// How to start a worker process: a program, its arguments and extra environment. The program must
/// end up calling [`crate::serve_worker`] on its stdin and stdout (`mapreduce worker` does).
#[derive(Clone, Debug)]
pub struct WorkerCommand {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Extra environment variables.
    pub envs: Vec<(OsString, OsString)>,
}

impl WorkerCommand {
    /// `program` with no arguments.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self { program: program.into(), args: Vec::new(), envs: Vec::new() }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }
}

/// A failure to inject, for tests: it applies to the first worker process started, never to the
/// processes that replace a dead one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The worker exits abruptly (`std::process::exit`, no reply) on receiving its `task`-th task
    /// (counting from 1).
    Crash {
        /// Which task, from 1.
        task: usize,
    },
    /// The worker sleeps `delay` before replying to its `task`-th task (counting from 1).
    Straggle {
        /// Which task, from 1.
        task: usize,
        /// How long.
        delay: Duration,
    },
}

impl Fault {
    /// The value of [`FAULT_ENV`] for this fault: `crash:N` or `straggle:N:MILLISECONDS`.
    pub fn to_env(self) -> String {
        match self {
            Fault::Crash { task } => format!("crash:{task}"),
            Fault::Straggle { task, delay } => format!("straggle:{task}:{}", delay.as_millis()),
        }
    }

    /// Reads a [`FAULT_ENV`] value; `None` when it is not one.
    pub fn from_env(value: &str) -> Option<Self> {
        let mut parts = value.split(':');
        let kind = parts.next()?;
        let task = parts.next()?.parse().ok()?;
        match (kind, parts.next()) {
            ("crash", None) => Some(Fault::Crash { task }),
            ("straggle", Some(ms)) => {
                Some(Fault::Straggle { task, delay: Duration::from_millis(ms.parse().ok()?) })
            }
            _ => None,
        }
    }
}

/// What processes mode needs: the worker command and an optional fault to inject.
#[derive(Clone, Debug)]
pub struct ProcessOptions {
    /// How to start a worker.
    pub worker: WorkerCommand,
    /// A fault for the first worker, for tests.
    pub fault: Option<Fault>,
}

impl ProcessOptions {
    /// Workers started with `worker`, no fault.
    pub fn new(worker: WorkerCommand) -> Self {
        Self { worker, fault: None }
    }
}

#[derive(Default)]
struct TaskState {
    done: bool,
    running: usize,
    started: Option<Instant>,
    backed_up: bool,
}

struct Board {
    tasks: Vec<TaskState>,
    pending: VecDeque<usize>,
    done: usize,
    error: Option<Error>,
}

impl Board {
    /// The board of `tasks` map tasks whose first `slots` are already running, one on each slot:
    /// worker `w` starts with task `w` whatever the scheduling (which also makes an injected fault
    /// certain to fire).
    fn new(tasks: usize, slots: usize) -> Self {
        let started = Instant::now();
        Board {
            tasks: (0..tasks)
                .map(|t| {
                    let first = t < slots;
                    TaskState {
                        running: usize::from(first),
                        started: first.then_some(started),
                        ..TaskState::default()
                    }
                })
                .collect(),
            pending: (slots..tasks).collect(),
            done: 0,
            error: None,
        }
    }

    fn finished(&self) -> bool {
        self.done == self.tasks.len() || self.error.is_some()
    }
}

struct Worker {
    stdin: BufWriter<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    /// Sends `message` to the worker and reads its reply; an error when the worker died or its
    /// reply is not a message.
    fn call(&mut self, message: &Message) -> Result<Message> {
        write_frame(&mut self.stdin, &encode(message))
            .map_err(Error::sys("write to a worker"))
            .and_then(|()| read_frame(&mut self.stdout))
            .and_then(|frame| frame.ok_or_else(|| Error::Frame("worker closed its output".into())))
            .and_then(|frame| decode(&frame))
    }
}

/// Runs the map phase of `spec` over `splits` on `workers` worker processes, handing each accepted
/// output to `accept`.
///
/// # Errors
///
/// When a worker cannot be started, a task fails in a worker, or `accept` fails.
// ANCHOR: run_map_phase
pub fn run_map_phase(
    spec: JobSpec,
    splits: &[Split],
    reducers: usize,
    workers: usize,
    options: &ProcessOptions,
    stats: &mut Stats,
    accept: &(dyn Fn(MapOutput, &mut Stats) -> Result<()> + Sync),
) -> Result<()> {
    let slots = workers.min(splits.len());
    let phase = Phase {
        spec,
        splits,
        reducers,
        options,
        accept,
        board: Mutex::new(Board::new(splits.len(), slots)),
        changed: Condvar::new(),
        children: Mutex::new(Vec::new()),
        stats: Mutex::new(std::mem::take(stats)),
    };
    let barrier = Barrier::new(slots);
    std::thread::scope(|scope| {
        for slot in 0..slots {
            let (phase, barrier) = (&phase, &barrier);
            scope.spawn(move || phase.serve_slot(slot, barrier));
        }
        phase.wait_then_kill();
    });
    for child in lock(&phase.children).iter_mut() {
        let _ = child.wait();
    }
    *stats = phase.stats.into_inner().unwrap_or_else(PoisonError::into_inner);
    match phase.board.into_inner().unwrap_or_else(PoisonError::into_inner).error {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// One map phase's shared state: what every slot's thread reads (the job, the splits, how to start
/// a worker, where outputs go) and what they share under locks (the board of tasks, the worker
/// processes started, the statistics). `changed` is notified whenever the board changes.
struct Phase<'a> {
    spec: JobSpec,
    splits: &'a [Split],
    reducers: usize,
    options: &'a ProcessOptions,
    accept: &'a (dyn Fn(MapOutput, &mut Stats) -> Result<()> + Sync),
    board: Mutex<Board>,
    changed: Condvar,
    children: Mutex<Vec<Child>>,
    stats: Mutex<Stats>,
}
// ANCHOR_END: run_map_phase

impl Phase<'_> {
    /// One slot's thread: starts a worker process and hands it tasks until the phase is over,
    /// replacing the process whenever it dies.
    // ANCHOR: serve_slot
    fn serve_slot(&self, slot: usize, barrier: &Barrier) {
        let fault = if slot == 0 { self.options.fault } else { None };
        let spawned = spawn(&self.options.worker, fault, &self.children);
        // Start once every worker is up, so that no worker's start-up counts as work time.
        barrier.wait();
        let mut first = Some(slot);
        let mut worker = match spawned {
            Ok(worker) => worker,
            Err(err) => return self.fail(err),
        };
        loop {
            // The first task is sent even if the phase ended meanwhile (another slot failed): the
            // phase's end kills the worker, or its reply is not accepted.
            let next = || next_task(lock(&self.board), &self.changed, &self.stats);
            let Some(task) = first.take().or_else(next) else { return };
            let message = Message::Task {
                id: task,
                job: self.spec,
                split: self.splits[task].clone(),
                reducers: self.reducers,
            };
            match worker.call(&message) {
                Ok(Message::Done { id, output }) if id == task => self.finish(task, output),
                Ok(Message::Failed { id, message }) => {
                    lock(&self.board).error.get_or_insert(Error::TaskFailed { task: id, message });
                    self.changed.notify_all();
                    return;
                }
                Ok(_) | Err(_) => {
                    // The worker died or spoke nonsense: put its task back and replace it.
                    if !self.put_back(task) {
                        return;
                    }
                    match spawn(&self.options.worker, None, &self.children) {
                        Ok(fresh) => worker = fresh,
                        Err(err) => return self.fail(err),
                    }
                }
            }
        }
    }
    // ANCHOR_END: serve_slot

    /// Records that a copy of `task` finished with `output`: only the first copy's output is
    /// accepted, and a failure to accept it ends the phase.
    // ANCHOR: finish
    fn finish(&self, task: usize, output: MapOutput) {
        // A done task's `running` is never read again (it is neither put back nor backed up).
        let first = !std::mem::replace(&mut lock(&self.board).tasks[task].done, true);
        let mut stats = lock(&self.stats);
        stats.map_attempts += 1;
        let accepted = if first { (self.accept)(output, &mut stats) } else { Ok(()) };
        drop(stats);
        let mut board = lock(&self.board);
        if first {
            board.done += 1;
        }
        if let Err(err) = accepted {
            board.error.get_or_insert(err);
        }
        self.changed.notify_all();
    }
    // ANCHOR_END: finish

    /// Records that the worker running `task` died: the task goes back to the front of the queue
    /// unless it is done or another copy still runs. `false` when the phase is over, so the slot
    /// should not start another worker.
    // ANCHOR: put_back
    fn put_back(&self, task: usize) -> bool {
        let mut board = lock(&self.board);
        board.tasks[task].running -= 1;
        if board.finished() {
            return false;
        }
        let mut stats = lock(&self.stats);
        stats.worker_failures += 1;
        if !board.tasks[task].done && board.tasks[task].running == 0 {
            board.pending.push_front(task);
            stats.reruns += 1;
        }
        drop((stats, board));
        self.changed.notify_all();
        true
    }
    // ANCHOR_END: put_back

    /// Waits for the last task, then kills the stragglers so their slots' threads stop reading.
    fn wait_then_kill(&self) {
        let mut board = lock(&self.board);
        while !board.finished() {
            board = self.changed.wait(board).unwrap_or_else(PoisonError::into_inner);
        }
        drop(board);
        for child in lock(&self.children).iter_mut() {
            let _ = child.kill();
        }
    }

    /// Records `err` as the phase's error (see [`fail`]) and wakes every waiting thread.
    fn fail(&self, err: Error) {
        fail(&self.board, err);
        self.changed.notify_all();
    }
}

/// The next task for an idle worker: a pending one, else a backup of the longest-running task that
/// has none; `None` when the phase is over. Waits while there is nothing to do.
// ANCHOR: next_task
fn next_task(mut board: MutexGuard<'_, Board>, changed: &Condvar, stats: &Mutex<Stats>) -> Option<usize> {
    loop {
        if board.finished() {
            return None;
        }
        while let Some(task) = board.pending.pop_front() {
            if !board.tasks[task].done {
                let state = &mut board.tasks[task];
                state.running += 1;
                state.started.get_or_insert_with(Instant::now);
                return Some(task);
            }
        }
        // Nothing left to start, so every task not done is running (a task whose last copy died is
        // pending): back up the one that has run longest (the first finisher wins).
        let straggler = (0..board.tasks.len())
            .filter(|&t| !board.tasks[t].done && !board.tasks[t].backed_up)
            .min_by_key(|&t| board.tasks[t].started);
        if let Some(task) = straggler {
            board.tasks[task].backed_up = true;
            board.tasks[task].running += 1;
            lock(stats).backups += 1;
            return Some(task);
        }
        board = changed.wait(board).unwrap_or_else(PoisonError::into_inner);
    }
}
// ANCHOR_END: next_task

/// Starts a worker and waits for its [`HELLO`].
fn spawn(command: &WorkerCommand, fault: Option<Fault>, children: &Mutex<Vec<Child>>) -> Result<Worker> {
    let mut cmd = Command::new(&command.program);
    cmd.args(&command.args).envs(command.envs.iter().map(|(k, v)| (k, v)));
    match fault {
        Some(fault) => cmd.env(FAULT_ENV, fault.to_env()),
        None => cmd.env_remove(FAULT_ENV),
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| Error::Spawn { program: command.program.clone(), source })?;
    let stdin = BufWriter::new(child.stdin.take().expect("stdin is piped"));
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    lock(children).push(child);
    // Skip whatever the program printed before it started serving.
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(HELLO) {
        if seen.len() > 1 << 20 || stdout.read(&mut byte).map_err(Error::sys("read from a worker"))? == 0 {
            return Err(Error::Frame("the worker exited before saying hello".into()));
        }
        seen.push(byte[0]);
    }
    Ok(Worker { stdin, stdout })
}

/// Records `err` as the phase's error, unless the phase is over: a worker started just as the
/// coordinator killed every worker fails to greet, and that is no error.
fn fail(board: &Mutex<Board>, err: Error) {
    let mut board = lock(board);
    if !board.finished() {
        board.error = Some(err);
    }
}

/// Locks `mutex`, carrying on past a thread that panicked holding it (the data is still counts).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
