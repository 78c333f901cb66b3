//! The errors the engine reports, each naming the input and the problem.

use std::io;
use std::path::PathBuf;

/// Everything that can stop a job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The input file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A spill file or the output could not be written or read back.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// What the operating system said.
        source: io::Error,
    },
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
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(what: impl Into<String>, source: io::Error) -> Self {
        Error::Io { what: what.into(), source }
    }
}
