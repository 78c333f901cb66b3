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
}

impl Error {
    /// The last OS error, for the system call `call`.
    pub fn last_os(call: impl Into<String>) -> Self {
        Error::Sys { call: call.into(), source: io::Error::last_os_error() }
    }

    /// Maps an I/O error of the system call `call` to [`Error::Sys`], for `map_err`.
    pub fn sys(call: &'static str) -> impl Fn(io::Error) -> Error {
        move |source| Error::Sys { call: call.to_owned(), source }
    }

    /// An I/O error on `path`.
    pub fn file(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::File { path: path.into(), source }
    }
}
