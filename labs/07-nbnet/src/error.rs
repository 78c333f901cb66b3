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
        /// The call, as `epoll_wait` or `poll`.
        call: &'static str,
        /// The error it returned.
        source: io::Error,
    },
    /// A worker thread panicked.
    #[error("worker {index} panicked")]
    WorkerPanicked {
        /// The worker's index.
        index: usize,
    },
}

impl Error {
    /// An error of the system call `call`.
    pub fn sys(call: &'static str, source: io::Error) -> Self {
        Error::Sys { call, source }
    }
}
