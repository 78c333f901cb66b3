//! The errors `downloader` reports, each naming the URL, file or value at fault.

use std::io;
use std::path::PathBuf;

use crate::http::HttpError;
use crate::state::StateError;
use crate::url::UrlError;

/// Everything that can stop a download.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL cannot be downloaded from (not `http://`, no host…).
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The server could not be reached, or the transfer kept failing after every retry.
    #[error("{url}: {source} (after {attempts} attempts)")]
    Network {
        /// The URL.
        url: String,
        /// How many times it was tried.
        attempts: u32,
        /// The last failure.
        source: HttpError,
    },
    /// The server answered with a status that is not success and that retrying will not change
    /// (404, 403, …), or a server error that persisted after every retry.
    #[error("{url}: the server answered {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A `206` answer whose `Content-Range` is not the range asked for: writing its bytes would
    /// corrupt the file.
    #[error("{url}: asked for bytes {first}-{last} but the server sent Content-Range {got:?}")]
    WrongRange {
        /// The URL.
        url: String,
        /// The first byte asked for.
        first: u64,
        /// The last byte asked for (inclusive).
        last: u64,
        /// The `Content-Range` header as sent (empty when missing).
        got: String,
    },
    /// The file on the server changed (size, `ETag` or `Last-Modified`) during the download.
    #[error("{url}: the file changed on the server during the download ({what})")]
    Changed {
        /// The URL.
        url: String,
        /// What changed, with the old and new values.
        what: String,
    },
    /// A partial download exists and `--resume` was not given.
    #[error("{} exists from an earlier download: rerun with --resume to continue it, or delete it", path.display())]
    PartialExists {
        /// The state file found.
        path: PathBuf,
    },
    /// The partial download cannot be continued: the file on the server is not the one it started.
    #[error("cannot resume {}: {reason}; delete it to start over", path.display())]
    ResumeRefused {
        /// The state file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// The state file exists but cannot be read as one.
    #[error("{}: {source}", path.display())]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        source: StateError,
    },
    /// `--sha256` was given and the downloaded bytes do not match it. The destination is not created.
    #[error("SHA-256 mismatch: expected {expected}, got {actual}; {} was not created", path.display())]
    Checksum {
        /// The destination that was not created.
        path: PathBuf,
        /// The digest asked for, in hex.
        expected: String,
        /// The digest of what was downloaded, in hex.
        actual: String,
    },
    /// A local file could not be created, written, synced or renamed.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A call other than on a named file failed.
    #[error("{call}: {source}")]
    Sys {
        /// The call, as `current_dir`.
        call: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The report could not be written to standard output (a full disk, a closed pipe).
    #[error("cannot write output: {0}")]
    Write(#[source] io::Error),
    /// An option is out of range (a timeout of 0). A usage error: exit 2.
    #[error("invalid option: {0}")]
    BadOption(String),
    /// The stop flag was raised (Ctrl-C): the workers stopped and the state was saved for `--resume`.
    #[error("interrupted; rerun with --resume to continue")]
    Interrupted,
}

impl Error {
    /// An [`Error::File`] for `path`, for `map_err`: `.map_err(Error::file(&path))?`.
    pub fn file(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::File { path, source }
    }

    /// An [`Error::Sys`] for the call `call`, for `map_err`: `.map_err(Error::sys("current_dir"))?`.
    pub fn sys(call: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let call = call.into();
        move |source| Error::Sys { call, source }
    }

    /// The process exit code for this error: 2 for a usage error, 130 when interrupted (the state
    /// is saved: the destination is not there, so this is no success), 1 for the rest.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::BadOption(_) => 2,
            Error::Interrupted => 130,
            _ => 1,
        }
    }

    /// Whether this is a write to a pipe whose reader has gone (`downloader … | head`): not a
    /// failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}
