//! Cutting a byte stream into frames: [`FrameDecoder`] and what can be wrong with a frame
//! ([`FrameError`]).
//!
//! The decoder never trusts a length: a frame longer than the maximum is refused from its 4-byte
//! prefix alone, before a byte of it is buffered. A frame whose length is sound but whose version,
//! kind or method is not is skipped whole, so the connection can answer it with an error frame and
//! carry on; a frame too short or too long cannot be skipped safely and ends the connection.

use std::time::Duration;

use crate::frame::{Frame, HEADER_LEN, Kind, LENGTH_LEN, VERSION};

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

impl FrameDecoder {
    /// A decoder refusing frames over `max_frame` bytes (without the length prefix).
    pub fn new(max_frame: usize) -> FrameDecoder {
        FrameDecoder { buf: Vec::new(), start: 0, max_frame, failed: None }
    }

    /// Appends bytes read from the stream.
    pub fn extend(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes buffered and not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    // ANCHOR: next_frame
    /// The next whole frame, `Ok(None)` when more bytes are needed.
    ///
    /// # Errors
    ///
    /// A [`FrameError`]; after a fatal one ([`FrameError::is_fatal`]) every later call returns it
    /// again, after another the bad frame has been skipped.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let rest = &self.buf[self.start..];
        let Some(prefix) = rest.get(..LENGTH_LEN) else { return Ok(None) };
        let len = u32::from_be_bytes(prefix.try_into().expect("4 bytes")) as usize;
        if len > self.max_frame {
            return Err(self.fail(FrameError::TooLarge { len: len as u64, max: self.max_frame }));
        }
        if len < HEADER_LEN {
            let reason = format!("length {len} is shorter than the {HEADER_LEN}-byte header");
            return Err(self.fail(FrameError::Malformed { reason }));
        }
        let Some(body) = rest.get(LENGTH_LEN..LENGTH_LEN + len) else { return Ok(None) };
        let result = parse_body(body);
        // Whatever the verdict, this frame's bytes are used up: the next call starts at the next frame.
        self.start += LENGTH_LEN + len;
        match result {
            Err(err) if err.is_fatal() => Err(self.fail(err)),
            other => other.map(Some),
        }
    }
    // ANCHOR_END: next_frame

    fn fail(&mut self, err: FrameError) -> FrameError {
        self.failed = Some(err.clone());
        err
    }
}

/// Parses the bytes after the length prefix (at least a header's worth).
fn parse_body(body: &[u8]) -> Result<Frame, FrameError> {
    let version = body[0];
    let kind = body[1];
    let id = u64::from_be_bytes(body[2..10].try_into().expect("8 bytes"));
    if version != VERSION {
        return Err(FrameError::UnknownVersion { version, id });
    }
    let Some(kind) = Kind::from_u8(kind) else { return Err(FrameError::UnknownKind { kind, id }) };
    let deadline = u32::from_be_bytes(body[10..14].try_into().expect("4 bytes"));
    let method_len = body[14] as usize;
    let Some(method) = body.get(HEADER_LEN..HEADER_LEN + method_len) else {
        let reason = format!("method of {method_len} bytes runs past the {}-byte frame", body.len());
        return Err(FrameError::Malformed { reason });
    };
    let method = std::str::from_utf8(method).map_err(|_| FrameError::BadMethod { id })?.to_owned();
    Ok(Frame {
        kind,
        id,
        method,
        deadline: (deadline != 0).then(|| Duration::from_millis(u64::from(deadline))),
        payload: body[HEADER_LEN + method_len..].to_vec(),
    })
}
