//! What can go wrong on the client side of a call, and in the server's setup.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::decode::FrameError;
use crate::status::{ErrorCode, RemoteError};

/// An error of this crate; each names the address, method or file involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Connecting failed (after the retries the configuration allows).
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// Where to.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The connection broke or closed before the answer came.
    #[error("connection to {addr} lost: {reason}")]
    ConnectionLost {
        /// The server.
        addr: SocketAddr,
        /// What happened.
        reason: String,
    },
    /// No answer within the call's timeout (the call was cancelled on the server).
    #[error("{method}: no answer within {after:?}")]
    Timeout {
        /// The method called.
        method: String,
        /// The timeout.
        after: Duration,
    },
    /// The server answered with an error.
    #[error("{method}: {source}")]
    Remote {
        /// The method called.
        method: String,
        /// The server's error.
        source: RemoteError,
    },
    /// A payload could not be encoded or decoded.
    #[error("{method}: bad payload: {source}")]
    Payload {
        /// The method called.
        method: String,
        /// Postcard's reason.
        source: postcard::Error,
    },
    /// The peer sent a frame that cannot be decoded.
    #[error("bad frame: {0}")]
    Frame(#[from] FrameError),
    /// Every address of a pool failed.
    #[error("no server answered (tried {tried} addresses): {last}")]
    AllFailed {
        /// How many addresses were tried.
        tried: usize,
        /// The last error.
        last: Box<Error>,
    },
    /// A pool needs at least one address.
    #[error("a pool needs at least one address")]
    NoAddresses,
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A call other than on a named file failed, as `bind 127.0.0.1:7000`.
    #[error("{call}: {source}")]
    Sys {
        /// The call, with what it was called on.
        call: String,
        /// Why.
        source: io::Error,
    },
    /// The results could not be written to standard output (a full disk, a closed pipe).
    #[error("cannot write output: {0}")]
    Write(#[source] io::Error),
    /// An option is out of range (a timeout of 0). A usage error: exit 2.
    #[error("invalid option: {0}")]
    BadOption(String),
}

impl Error {
    /// An [`Error::File`] for `path`, for `map_err`: `.map_err(Error::file(&path))?`.
    pub fn file(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::File { path, source }
    }

    /// An [`Error::Sys`] for the call `call`, for `map_err`: `.map_err(Error::sys("accept"))?`.
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

    /// Whether this is a write to a pipe whose reader has gone (`rpc call … | head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }

    /// The server's error code, when the server answered with an error.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Remote { source, .. } => Some(source.code),
            _ => None,
        }
    }

    /// Whether the call may be tried again elsewhere: the request did not reach a server, or the
    /// connection broke (a pool fails over on these).
    pub fn is_connection_error(&self) -> bool {
        matches!(self, Error::Connect { .. } | Error::ConnectionLost { .. })
    }
}
