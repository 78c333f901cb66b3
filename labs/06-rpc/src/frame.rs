//! One message on the wire: a [`Frame`], its [`Kind`], and [`encode`] to bytes.
//!
//! Every frame is a 4-byte big-endian length, a 15-byte fixed header, the method name and the
//! payload (see the chapter for the table). Decoding is in [`crate::decode`].

use std::time::Duration;

use crate::decode::FrameError;

/// The protocol version this crate speaks; a frame with another is answered with an error frame.
pub const VERSION: u8 = 1;

/// Bytes of the length prefix.
pub const LENGTH_LEN: usize = 4;

/// Bytes of the fixed header after the length: version, kind, id, deadline, method length.
pub const HEADER_LEN: usize = 1 + 1 + 8 + 4 + 1;

/// The default bound on a frame's size (header, method and payload, without the length prefix).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// The longest method name: its length is one byte.
pub const MAX_METHOD: usize = u8::MAX as usize;

/// What a frame is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// Client to server: call `method` with the payload, answer once.
    Request = 1,
    /// Server to client: the answer to the request with the same id.
    Response = 2,
    /// Either way: the call or stream with this id failed; the payload is a [`crate::RemoteError`].
    Error = 3,
    /// Client to server: stop the call or stream with this id.
    Cancel = 4,
    /// Client to server: open a stream of messages from `method`.
    Subscribe = 5,
    /// Server to client: one message of the stream with this id.
    Item = 6,
    /// Server to client: the stream with this id has ended normally.
    End = 7,
    /// Client to server: the subscriber may take this many more items (payload: a `u32`).
    Credit = 8,
}

impl Kind {
    /// The kind with this wire value, if there is one.
    pub fn from_u8(value: u8) -> Option<Kind> {
        todo!("stage 1: the Kind with this wire value, or None")
    }
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// What the frame is for.
    pub kind: Kind,
    /// The call or stream it belongs to, chosen by the client.
    pub id: u64,
    /// The method called (empty on frames other than requests and subscriptions).
    pub method: String,
    /// How long the server may work on the request, counted from its arrival; `None` is no limit.
    /// Milliseconds on the wire.
    pub deadline: Option<Duration>,
    /// The payload, in postcard unless the method says otherwise.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A frame of `kind` for `id` with no method and no deadline.
    pub fn new(kind: Kind, id: u64, payload: Vec<u8>) -> Frame {
        Frame { kind, id, method: String::new(), deadline: None, payload }
    }

    /// A request frame calling `method`.
    pub fn request(id: u64, method: &str, payload: Vec<u8>) -> Frame {
        Frame { kind: Kind::Request, id, method: method.to_owned(), deadline: None, payload }
    }

    /// The bytes this frame takes on the wire, with its length prefix.
    pub fn encoded_len(&self) -> usize {
        LENGTH_LEN + HEADER_LEN + self.method.len() + self.payload.len()
    }

    /// This frame's bytes, as [`encode`] writes them.
    ///
    /// # Errors
    ///
    /// As [`encode`].
    pub fn to_bytes(&self) -> Result<Vec<u8>, FrameError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        encode(self, &mut out)?;
        Ok(out)
    }
}

// TODO(stage 1): encode, straight into `out`; a deadline under 1 ms must not encode as 0, which
// means none, and one over u32::MAX ms is capped.

/// Appends `frame` to `out`: length, header, method, payload.
///
/// # Errors
///
/// [`FrameError::MethodTooLong`] for a method name over 255 bytes, [`FrameError::TooLarge`] for a
/// frame whose length does not fit the 32-bit prefix.
// Until it is written, `out` is only passed through, which clippy would rather see as a slice.
#[allow(clippy::ptr_arg)]
pub fn encode(frame: &Frame, out: &mut Vec<u8>) -> Result<(), FrameError> {
    todo!("stage 1: append the length, the header, the method and the payload, big-endian")
}
