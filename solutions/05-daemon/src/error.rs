//! What can go wrong when starting, stopping or asking about a daemon.

use std::io;
use std::path::PathBuf;

use crate::config::ConfigError;

/// An error of `superd`; each names the file, process or system call involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another daemon holds the lock on the pid file.
    #[error("already running (pid {pid}, pid file {path})")]
    AlreadyRunning {
        /// The pid the running daemon wrote in the pid file.
        pid: i32,
        /// The pid file.
        path: PathBuf,
    },
    /// No daemon holds the pid file's lock.
    #[error("not running (pid file {path})")]
    NotRunning {
        /// The pid file.
        path: PathBuf,
    },
    /// The pid file holds something other than a pid.
    #[error("{path}: not a pid file: {content:?}")]
    BadPidFile {
        /// The pid file.
        path: PathBuf,
        /// What it holds, as text.
        content: String,
    },
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The configuration file was refused.
    #[error("{path}: bad configuration: {source}")]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong with it.
        source: ConfigError,
    },
    /// A system call failed.
    #[error("{call}: {source}")]
    Sys {
        /// The call, as `fork` or `kill(1234, SIGTERM)`.
        call: String,
        /// The error number it returned.
        source: io::Error,
    },
    /// The daemon died before it said it was ready; its log says why.
    #[error("the daemon exited during startup; see {log}")]
    DiedStarting {
        /// The daemon's log file.
        log: PathBuf,
    },
    /// The daemon did not exit within the timeout of `stop`.
    #[error("pid {pid} still running after {secs} s")]
    StopTimeout {
        /// The daemon's pid.
        pid: i32,
        /// The timeout, in seconds.
        secs: u64,
    },
    /// The answer of `status` could not be written to standard output (a full disk, a closed pipe).
    #[error("cannot write output: {0}")]
    Write(#[source] io::Error),
}

impl Error {
    /// An [`Error::File`] for `path`, for `map_err`: `.map_err(Error::file(&path))?`.
    pub fn file(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::File { path, source }
    }

    /// An [`Error::Sys`] for the system call `call`, for `map_err`: `.map_err(Error::sys("pipe2"))?`.
    pub fn sys(call: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let call = call.into();
        move |source| Error::Sys { call, source }
    }

    /// An [`Error::Sys`] for the system call `call` that just returned -1: the error is `errno`.
    pub fn last_os(call: impl Into<String>) -> Self {
        Error::sys(call)(io::Error::last_os_error())
    }

    /// The process exit code for this error: 1. (Every usage error is clap's, exit 2, before a
    /// [`crate::Config`] exists.)
    pub fn exit_code(&self) -> u8 {
        1
    }

    /// Whether this is a write to a pipe whose reader has gone (`superd status … | head`): not a
    /// failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}
