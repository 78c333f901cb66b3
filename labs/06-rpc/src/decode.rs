//! Cutting a byte stream into frames: [`FrameDecoder`] and what can be wrong with a frame
//! ([`FrameError`]).
//!
//! The decoder never trusts a length: a frame longer than the maximum is refused from its 4-byte
//! prefix alone, before a byte of it is buffered. A frame whose length is sound but whose version,
//! kind or method is not is skipped whole, so the connection can answer it with an error frame and
//! carry on; a frame too short or too long cannot be skipped safely and ends the connection.

use crate::frame::Frame;

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The length prefix announces more than the maximum frame size.
    #[error("frame of {len} bytes is over the maximum of {max}")]
    TooLarge {
        /// The announced length.
        len: u64,
        /// The maximum.
        max: usize,
    },
    /// The length prefix announces less than a header, or the method runs past the frame.
    #[error("malformed frame: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The frame is of a protocol version this crate does not speak.
    #[error("request {id}: unsupported protocol version {version}")]
    UnknownVersion {
        /// The version byte.
        version: u8,
        /// The frame's id (bytes 6..14 in every version).
        id: u64,
    },
    /// The kind byte is not one of [`Kind`](crate::Kind).
    #[error("request {id}: unknown frame kind {kind}")]
    UnknownKind {
        /// The kind byte.
        kind: u8,
        /// The frame's id.
        id: u64,
    },
    /// The method name is not UTF-8.
    #[error("request {id}: method name is not UTF-8")]
    BadMethod {
        /// The frame's id.
        id: u64,
    },
    /// A method name over 255 bytes cannot be encoded.
    #[error("method name of {len} bytes is over 255")]
    MethodTooLong {
        /// Its length.
        len: usize,
    },
}

impl FrameError {
    /// Whether the stream can no longer be cut into frames after this error (the connection must
    /// close); the others were skipped whole.
    pub fn is_fatal(&self) -> bool {
        matches!(self, FrameError::TooLarge { .. } | FrameError::Malformed { .. })
    }

    /// The id of the refused frame, when it could be read.
    pub fn id(&self) -> Option<u64> {
        match self {
            FrameError::UnknownVersion { id, .. }
            | FrameError::UnknownKind { id, .. }
            | FrameError::BadMethod { id } => Some(*id),
            _ => None,
        }
    }
}

/// Buffers bytes as they are read and hands out whole frames.
///
/// # Examples
///
/// ```
/// use rpc::{Frame, FrameDecoder};
/// let bytes = Frame::request(7, "echo", b"hi".to_vec()).to_bytes().unwrap();
/// let mut decoder = FrameDecoder::new(1024);
/// decoder.extend(&bytes[..5]);
/// assert_eq!(decoder.next_frame(), Ok(None));
/// decoder.extend(&bytes[5..]);
/// let frame = decoder.next_frame().unwrap().unwrap();
/// assert_eq!((frame.id, frame.method.as_str(), &frame.payload[..]), (7, "echo", &b"hi"[..]));
/// ```
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    start: usize,
    max_frame: usize,
    failed: Option<FrameError>,
}

// TODO(stage 1): keep a read position (`start`) into `buf` rather than removing each frame's
// bytes from its front, and compact when the consumed part is large; check a length against
// `max_frame` before waiting for its body; after a fatal error, return it again (`failed`).

impl FrameDecoder {
    /// A decoder refusing frames over `max_frame` bytes (without the length prefix).
    pub fn new(max_frame: usize) -> FrameDecoder {
        FrameDecoder { buf: Vec::new(), start: 0, max_frame, failed: None }
    }

    /// Appends bytes read from the stream.
    pub fn extend(&mut self, bytes: &[u8]) {
        todo!("stage 1: append the bytes to the buffer")
    }

    /// Bytes buffered and not yet returned as frames.
    pub fn buffered(&self) -> usize {
        todo!("stage 1: the bytes buffered and not yet decoded")
    }

    /// The next whole frame, `Ok(None)` when more bytes are needed.
    ///
    /// # Errors
    ///
    /// A [`FrameError`]; after a fatal one ([`FrameError::is_fatal`]) every later call returns it
    /// again, after another the bad frame has been skipped.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        todo!("stage 1: the next whole frame, refusing an oversized one from its length alone")
    }
}
