//! What can go wrong when starting or running a server.

use std::io;
use std::net::SocketAddr;

/// An error of `nbnet`; each names the address or system call involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// A system call of the event loop failed.
    #[error("{call}: {source}")]
    Sys {
        /// The call, as `epoll_wait` or `eventfd`.
        call: String,
        /// The error it returned.
        source: io::Error,
    },
    /// A worker thread panicked.
    #[error("worker {index} panicked")]
    WorkerPanicked {
        /// The worker's index.
        index: usize,
    },
    /// `memkv`'s output (the address it listens on) could not be written (a closed pipe).
    #[error("cannot write output: {0}")]
    Write(#[source] io::Error),
    /// An option is out of range (a `--memory` of 0). A usage error: exit 2.
    #[error("invalid option: {0}")]
    BadOption(String),
}

impl Error {
    /// An [`Error::Sys`] for the call `call`, for `map_err`: `.map_err(Error::sys("epoll_wait"))?`.
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

    /// Whether this is a write to a pipe whose reader has gone (`memkv | head -1`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}
