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
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A socket operation failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl Error {
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
        matches!(self, Error::Connect { .. } | Error::ConnectionLost { .. } | Error::Io(_))
    }
}
