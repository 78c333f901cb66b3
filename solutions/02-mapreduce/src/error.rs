//! The errors `mapreduce` reports, each naming the file, call or value at fault, and the exit code
//! each one means.

use std::io;
use std::path::PathBuf;

/// Everything that can stop a job or a run of the command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file (an input, a spill, an output part) could not be opened, read, created or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A call other than on a named file failed: a worker's pipe, finding this program.
    #[error("{call}: {source}")]
    Sys {
        /// The call, as `read from a worker` or `current_exe`.
        call: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The results could not be written to standard output (a full disk, a closed pipe).
    #[error("cannot write output: {0}")]
    Write(#[source] io::Error),
    /// An option is out of range (`--workers 0`). A usage error: exit 2.
    #[error("invalid option: {0}")]
    BadOption(String),
    /// A frame on a worker pipe was cut short, too large, or not a message.
    #[error("bad frame: {0}")]
    Frame(String),
    /// A worker process could not be started.
    #[error("cannot start worker {program}: {source}")]
    Spawn {
        /// The worker program.
        program: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The job cannot run in the chosen mode (a custom job has no [`crate::JobSpec`] to send).
    #[error("this job cannot run in worker processes: it has no JobSpec")]
    NotShippable,
    /// A worker reported that a task failed (an unreadable input, say): rerunning would fail again.
    #[error("task {task} failed in a worker: {message}")]
    TaskFailed {
        /// The task's number.
        task: usize,
        /// The worker's error message.
        message: String,
    },
}

impl Error {
    /// An [`Error::File`] for `path`, for `map_err`: `.map_err(Error::file(&path))?`.
    pub fn file(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::File { path, source }
    }

    /// An [`Error::Sys`] for the call `call`, for `map_err`: `.map_err(Error::sys("current_exe"))?`.
    pub fn sys(call: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let call = call.into();
        move |source| Error::Sys { call, source }
    }

    /// The process exit code for this error: 2 for a usage error, 1 for the rest.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::BadOption(_) => 2,
            _ => 1,
        }
    }

    /// Whether this is a write to a pipe whose reader has gone (`mapreduce … | head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}
