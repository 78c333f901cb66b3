//! What can stop a run of `control`, each error naming the option, file or call at fault.
//!
//! What goes wrong with one connection (a handshake that fails, a frame that does not open) or one
//! command (a signature that does not verify, a program not allowed) is not an [`Error`]: it
//! closes that connection or refuses that command, and the rest carry on. Those have their own
//! types beside the code that meets them ([`crate::wire::WireError`],
//! [`crate::session::SessionError`], [`crate::command::Refusal`]).

use std::io;
use std::path::PathBuf;

/// What can stop a whole run of `control`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option is out of range (a heartbeat of 0, an agent id with a slash). A usage error:
    /// exit 2.
    #[error("invalid option: {0}")]
    BadOption(String),
    /// A file (a key, the key store, an allow-list) could not be read, written or parsed.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the operating system said, or what was wrong with the contents.
        source: io::Error,
    },
    /// A key file or key text is not a key: its path or text, and why.
    #[error("{what}: {reason}")]
    BadKey {
        /// The file or the option that held it.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An operation on the key store that its state does not allow (accepting an id that is not
    /// pending).
    #[error("{0}")]
    Keys(String),
    /// A call other than on a named file failed (binding a socket, starting the runtime).
    #[error("{call}: {source}")]
    Sys {
        /// The call, as `bind 127.0.0.1:0`.
        call: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The master's operator socket could not be reached, or refused what was asked (a command
    /// it does not trust, a job it does not know).
    #[error("master: {0}")]
    Api(String),
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

    /// Whether this is a write to a pipe whose reader has gone (`control keys list | head`): not a
    /// failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}
