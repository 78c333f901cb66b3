//! Framing: how a stream of bytes becomes requests, and responses become bytes again.
//!
//! TCP delivers bytes, not messages: one `read` may return half a request or three of them. A
//! [`Codec`] looks at everything received so far and says whether a whole request is there. The
//! original nbNet framed every message with a 10-byte ASCII decimal length ([`LengthCodec`]);
//! text protocols such as memcached's cut at line ends ([`LineCodec`]).

use std::io::Write;

/// Cuts requests out of received bytes and writes responses; one per connection, so it may keep
/// state between calls.
pub trait Codec: Send + 'static {
    /// What a client sends.
    type Request;
    /// What the server answers; `Send`, as the rest of one being streamed lives in its
    /// connection, which a worker's loop takes to its thread.
    type Response: Send;

    /// The first request at the start of `buf` and the number of bytes it took, or `Ok(None)` when
    /// `buf` holds only part of one (the caller reads more and calls again with the bytes appended).
    ///
    /// # Errors
    ///
    /// When `buf` cannot start a valid request; the connection is then closed.
    fn decode(&mut self, buf: &[u8]) -> Result<Option<(Self::Request, usize)>, CodecError>;

    /// Appends `response`'s bytes to `out`.
    fn encode(&mut self, response: Self::Response, out: &mut Vec<u8>);

    /// Appends the start of `response` to `out`, stopping at a boundary of the codec's choosing
    /// once `out` is `limit` bytes long or more, and returns what is left to encode later (`None`
    /// when all of it is written). A connection calls it again with the rest as the socket drains,
    /// so a large answer is never held whole in memory. Each call encodes at least one part when
    /// `out` is shorter than `limit`.
    ///
    /// The default encodes the whole response: right for codecs whose responses are small.
    fn encode_part(
        &mut self,
        response: Self::Response,
        out: &mut Vec<u8>,
        _limit: usize,
    ) -> Option<Self::Response> {
        self.encode(response, out);
        None
    }
}

/// Bytes no request can start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The length header is not 10 ASCII digits.
    #[error("bad length header {header:?}")]
    BadHeader {
        /// The header's bytes, lossily as text.
        header: String,
    },
    /// The frame or line is longer than the codec allows.
    #[error("a frame of {len} bytes is over the limit of {max}")]
    TooLong {
        /// Its length (so far, for a line with no end yet).
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// The length of nbNet's header: the payload's length as 10 ASCII decimal digits, zero-padded.
pub const HEADER_LEN: usize = 10;

/// nbNet's framing: `0000000005hello` is the 5-byte payload `hello`.
///
/// # Examples
///
/// ```
/// use nbnet::{Codec, LengthCodec};
/// let mut codec = LengthCodec::new(1024);
/// let mut wire = Vec::new();
/// codec.encode(b"hello".to_vec(), &mut wire);
/// assert_eq!(wire, b"0000000005hello");
/// assert_eq!(codec.decode(&wire).unwrap(), Some((b"hello".to_vec(), 15)));
/// assert_eq!(codec.decode(&wire[..12]).unwrap(), None);
/// ```
#[derive(Debug, Clone)]
pub struct LengthCodec {
    max_frame: usize,
}

impl LengthCodec {
    /// A codec refusing payloads longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        LengthCodec { max_frame }
    }
}

impl Default for LengthCodec {
    /// Payloads up to 1 MiB.
    fn default() -> Self {
        LengthCodec::new(1 << 20)
    }
}

impl Codec for LengthCodec {
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    fn decode(&mut self, buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, CodecError> {
        if buf.len() < HEADER_LEN {
            // A short header can still be refused early if it is already not digits.
            if let Some(bad) = buf.iter().position(|b| !b.is_ascii_digit()) {
                return Err(CodecError::BadHeader {
                    header: String::from_utf8_lossy(&buf[..=bad]).into_owned(),
                });
            }
            return Ok(None);
        }
        let header = &buf[..HEADER_LEN];
        if !header.iter().all(u8::is_ascii_digit) {
            return Err(CodecError::BadHeader { header: String::from_utf8_lossy(header).into_owned() });
        }
        // Ten digits fit in a u64: at most 9_999_999_999.
        let len = header.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        if len > self.max_frame as u64 {
            return Err(CodecError::TooLong { len: len as usize, max: self.max_frame });
        }
        let end = HEADER_LEN + len as usize;
        if buf.len() < end {
            return Ok(None);
        }
        Ok(Some((buf[HEADER_LEN..end].to_vec(), end)))
    }

    fn encode(&mut self, response: Vec<u8>, out: &mut Vec<u8>) {
        // Writing to a `Vec` cannot fail.
        let _ = write!(out, "{:010}", response.len());
        out.extend_from_slice(&response);
    }
}

/// Lines ending in `\n` (a `\r` before it is dropped); responses get a `\n` appended.
///
/// # Examples
///
/// ```
/// use nbnet::{Codec, LineCodec};
/// let mut codec = LineCodec::new(80);
/// assert_eq!(codec.decode(b"GET a\r\nGET b").unwrap(), Some((b"GET a".to_vec(), 7)));
/// assert_eq!(codec.decode(b"GET b").unwrap(), None);
/// ```
#[derive(Debug, Clone)]
pub struct LineCodec {
    max_line: usize,
}

impl LineCodec {
    /// A codec refusing lines longer than `max_line` bytes (without their end).
    pub fn new(max_line: usize) -> Self {
        LineCodec { max_line }
    }
}

impl Default for LineCodec {
    /// Lines up to 64 KiB.
    fn default() -> Self {
        LineCodec::new(64 << 10)
    }
}

impl Codec for LineCodec {
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    fn decode(&mut self, buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, CodecError> {
        let Some(end) = memchr_newline(buf) else {
            if buf.len() > self.max_line + 1 {
                return Err(CodecError::TooLong { len: buf.len(), max: self.max_line });
            }
            return Ok(None);
        };
        let mut line = &buf[..end];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if line.len() > self.max_line {
            return Err(CodecError::TooLong { len: line.len(), max: self.max_line });
        }
        Ok(Some((line.to_vec(), end + 1)))
    }

    fn encode(&mut self, response: Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(&response);
        out.push(b'\n');
    }
}

/// The index of the first `\n` in `buf`.
fn memchr_newline(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\n')
}
