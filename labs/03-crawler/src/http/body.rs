//! Decoding a response body as its bytes arrive, in whatever pieces the network delivers them.
//!
//! [`BodyDecoder`] is a state machine: feed it bytes with [`BodyDecoder::decode`] until
//! [`BodyDecoder::is_done`], or tell it the connection ended with [`BodyDecoder::finish`]. It never
//! reads past the end of the body, so bytes after it (the next response on a kept-alive
//! connection) stay with the caller.

use crate::error::HttpError;
use crate::http::BodyKind;

/// Decodes one body: by length, chunked (RFC 9112 section 7.1, with extensions and trailers), or up
/// to the end of the connection.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    // TODO(stage 1): the state machine: how much of a length or a chunk is left, which part of the
    // chunked framing comes next, a partial framing line carried between calls, the trailers.
}

impl BodyDecoder {
    /// A decoder for a body framed as `kind`.
    pub fn new(kind: BodyKind) -> BodyDecoder {
        todo!("stage 1: the initial state for each kind of body")
    }

    /// Decodes from the start of `input`, appending body bytes to `out`, and returns how many bytes
    /// of `input` it used: all of them, or fewer when the body ended inside `input`.
    ///
    /// # Errors
    ///
    /// [`HttpError::BadChunk`] when chunked framing is broken (a size that is not hex or
    /// overflows, data not followed by CRLF, a size line or trailer longer than 8 KiB).
    // Until it is written, `out` is only passed through, which clippy would rather see as a slice.
    #[allow(clippy::ptr_arg)]
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, HttpError> {
        todo!("stage 1: consume what the current state needs, move to the next state, repeat")
    }

    /// Whether the whole body has been decoded.
    pub fn is_done(&self) -> bool {
        todo!("stage 1: whether the body has ended")
    }

    /// Tells the decoder the connection has ended, and returns whether the body is complete. That
    /// completes a body read to the end of the connection; any other unfinished body was cut short
    /// (the caller, which knows the URL, reports [`HttpError::Truncated`]).
    pub fn finish(&mut self) -> bool {
        todo!("stage 1: only a body read until the connection closes may end here")
    }

    /// The trailer fields of a chunked body (after the last chunk), names as sent.
    pub fn trailers(&self) -> &[(String, String)] {
        todo!("stage 1: the trailer fields kept")
    }
}
