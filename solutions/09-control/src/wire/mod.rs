//! What travels between an agent and the master: frames ([`frame`]) that carry, once a session is
//! up, sealed messages ([`message`]).
//!
//! A frame is a two-byte length and that many bytes, so no frame is longer than a Noise message
//! may be (65,535 bytes) and no length read off the wire can make a reader reserve more.

pub mod frame;
pub mod message;

pub use frame::{FrameReader, MAX_FRAME, encode_frame, read_frame, write_frame};
pub use message::{Exit, Hello, JobStatus, Outcome, Reply, ToAgent, ToMaster, Welcome, decode, encode};

use std::io;

/// What can go wrong with the bytes of one connection: it closes that connection only.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// A payload longer than a frame can carry.
    #[error("a frame of {len} bytes is over the limit of {MAX_FRAME}")]
    TooLong {
        /// The payload's length.
        len: usize,
    },
    /// The connection closed in the middle of a frame.
    #[error("the connection closed inside a frame ({buffered} bytes of it read)")]
    Truncated {
        /// How many bytes of the unfinished frame had arrived.
        buffered: usize,
    },
    /// A frame that is not a message of the protocol.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// Reading or writing the socket failed.
    #[error("connection: {0}")]
    Io(#[from] io::Error),
}
