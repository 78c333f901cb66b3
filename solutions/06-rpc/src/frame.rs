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
        Some(match value {
            1 => Kind::Request,
            2 => Kind::Response,
            3 => Kind::Error,
            4 => Kind::Cancel,
            5 => Kind::Subscribe,
            6 => Kind::Item,
            7 => Kind::End,
            8 => Kind::Credit,
            _ => return None,
        })
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

// ANCHOR: encode
/// Appends `frame` to `out`: length, header, method, payload.
///
/// # Errors
///
/// [`FrameError::MethodTooLong`] for a method name over 255 bytes, [`FrameError::TooLarge`] for a
/// frame whose length does not fit the 32-bit prefix.
pub fn encode(frame: &Frame, out: &mut Vec<u8>) -> Result<(), FrameError> {
    out.reserve(frame.encoded_len());
    encode_with(frame.kind, frame.id, &frame.method, frame.deadline, out, |out| {
        out.extend_from_slice(&frame.payload);
        Ok::<_, FrameError>(())
    })
}

/// [`encode`] from a frame's parts, the payload written by `payload` straight after the method:
/// a caller can encode its value into the frame without a vector of its own, and without building
/// a [`Frame`] (and its owned method name). `out` is left as it was on an error.
pub(crate) fn encode_with<E: From<FrameError>>(
    kind: Kind,
    id: u64,
    method: &str,
    deadline: Option<Duration>,
    out: &mut Vec<u8>,
    payload: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    if method.len() > MAX_METHOD {
        return Err(FrameError::MethodTooLong { len: method.len() }.into());
    }
    // A deadline over u32::MAX ms (49 days) is no deadline in practice; 0 means none, so a
    // deadline under 1 ms is sent as 1 ms rather than as "none".
    let deadline = deadline.map_or(0, |d| d.as_millis().clamp(1, u128::from(u32::MAX)) as u32);
    let start = out.len();
    out.extend_from_slice(&[0; LENGTH_LEN]); // the length, once the payload is written
    out.push(VERSION);
    out.push(kind as u8);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&deadline.to_be_bytes());
    out.push(method.len() as u8);
    out.extend_from_slice(method.as_bytes());
    if let Err(err) = payload(out) {
        out.truncate(start);
        return Err(err);
    }
    let len = out.len() - start - LENGTH_LEN;
    let Ok(len32) = u32::try_from(len) else {
        out.truncate(start);
        return Err(FrameError::TooLarge { len: len as u64, max: u32::MAX as usize }.into());
    };
    out[start..start + LENGTH_LEN].copy_from_slice(&len32.to_be_bytes());
    Ok(())
}
// ANCHOR_END: encode
