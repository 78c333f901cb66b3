//! What can stop a run of `monitor`, each error naming the option, file or call at fault.
//!
//! What goes wrong with one reading (a `/proc` file that does not parse, a plugin that hangs) or one
//! batch (a relay that does not answer) is not an [`Error`]: it is reported, counted and the agent
//! carries on. Those have their own types beside the code that meets them
//! ([`crate::collect::CollectError`], [`crate::wire::WireError`]).

use std::io;
use std::path::PathBuf;

/// What can stop a whole run of `monitor`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option is out of range (a step of 0, an empty host name). A usage error: exit 2.
    #[error("invalid option: {0}")]
    BadOption(String),
    /// A file (a spool segment, a plugin directory) could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A call other than on a named file failed (binding a socket, starting a thread).
    #[error("{call}: {source}")]
    Sys {
        /// The call, as `bind 127.0.0.1:0`.
        call: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The results could not be written (a full disk, a closed pipe).
    #[error("cannot write output: {0}")]
    Write(#[source] io::Error),
}

impl Error {
    /// An [`Error::File`] for `path`, for `map_err`: `.map_err(Error::file(&path))?`.
    pub fn file(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::File { path, source }
    }

    /// An [`Error::Sys`] for the call `call`, for `map_err`: `.map_err(Error::sys("bind"))?`.
    pub fn sys(call: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let call = call.into();
        move |source| Error::Sys { call, source }
    }

    /// The exit code for this error: 2 for usage errors, 1 for the rest.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::BadOption(_) => 2,
            _ => 1,
        }
    }

    /// Whether this is a write to a pipe whose reader has gone (`monitor agent | head`): not a
    /// failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}
