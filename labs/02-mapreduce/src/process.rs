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
        todo!("stage 3: parse crash:N or straggle:N:MS")
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
    fn finished(&self) -> bool {
        self.done == self.tasks.len() || self.error.is_some()
    }
}

struct Worker {
    stdin: BufWriter<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

// TODO(stage 3): the Board is the state every slot thread shares, under one Mutex with a Condvar
// that is notified on each change; a private struct holding it with the rest of the phase (the
// splits, the children, the Stats) lets each step be a short method. A slot thread loops: next_task,
// send the Task frame and read the reply, then either accept the first copy's output or, when no
// reply comes (a dead worker), put the task back and spawn another. The calling thread waits until
// Board::finished, then kills the children so no slot thread stays blocked reading.

/// Runs the map phase of `spec` over `splits` on `workers` worker processes, handing each accepted
/// output to `accept`.
///
/// # Errors
///
/// When a worker cannot be started, a task fails in a worker, or `accept` fails.
pub fn run_map_phase(
    spec: JobSpec,
    splits: &[Split],
    reducers: usize,
    workers: usize,
    options: &ProcessOptions,
    stats: &mut Stats,
    accept: &(dyn Fn(MapOutput, &mut Stats) -> Result<()> + Sync),
) -> Result<()> {
    todo!("stage 3: one thread per worker process; rerun the tasks of dead workers; back up stragglers")
}

/// The next task for an idle worker: a pending one, else a backup of the longest-running task that
/// has none; `None` when the phase is over. Waits while there is nothing to do.
fn next_task(board: MutexGuard<'_, Board>, changed: &Condvar, stats: &Mutex<Stats>) -> Option<usize> {
    todo!("stage 3: a pending task, else a backup of the longest-running task, else wait")
}

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
