//! Framing: how a stream of bytes becomes requests, and responses become bytes again.
//!
//! TCP delivers bytes, not messages: one `read` may return half a request or three of them. A
//! [`Codec`] looks at everything received so far and says whether a whole request is there. The
//! original nbNet framed every message with a 10-byte ASCII decimal length ([`LengthCodec`]);
//! text protocols such as memcached's cut at line ends ([`LineCodec`]).

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

// TODO(stage 3): nbNet's framing, and below it lines; both wait (Ok(None)) for what is missing.
impl Codec for LengthCodec {
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    fn decode(&mut self, buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, CodecError> {
        todo!("stage 3: 10 ASCII digits, then that many bytes; Ok(None) until all are there")
    }

    fn encode(&mut self, response: Vec<u8>, out: &mut Vec<u8>) {
        todo!("stage 3: the length as 10 zero-padded digits, then the payload")
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
        todo!("stage 3: up to the first \\n, without a \\r before it; Ok(None) until it comes")
    }

    fn encode(&mut self, response: Vec<u8>, out: &mut Vec<u8>) {
        todo!("stage 3: the response, then \\n")
    }
}
