//! Messages on a byte stream: each payload in nbNet's length frame (10 ASCII digits, then the
//! payload), written with [`write_message`], cut out of bytes as they come by [`FrameDecoder`], and
//! read from a blocking stream by [`FrameReader`].
//!
//! The frame is exactly `nbnet::LengthCodec`'s, so the relay and the store read these frames on
//! lab 07's event loop; the agent's side is plain blocking I/O with timeouts.

use std::io::{self, Read, Write};

use nbnet::codec::HEADER_LEN;
use nbnet::{Codec, CodecError, LengthCodec};

use super::error::WireError;
use super::message::{MAX_PAYLOAD_BYTES, Message, decode, encode};

/// How much a [`FrameReader`] asks its reader for at a time.
const READ_CHUNK: usize = 16 << 10;

/// Appends `message` to `out` as a frame: its payload's length as 10 zero-padded digits, then the
/// payload.
// Until it is written, `out` is only passed through, which clippy would rather see as a slice.
#[allow(clippy::ptr_arg)]
pub fn encode_frame(message: &Message, out: &mut Vec<u8>) {
    todo!("stage 2: the payload's length as HEADER_LEN zero-padded digits, then the payload")
}

/// Writes `payload` (already encoded, as a spool record is) to `writer` as one frame.
///
/// # Errors
///
/// The writer's.
pub fn write_frame(writer: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    todo!("stage 2: header and payload, written whole")
}

/// Encodes `message` and writes it to `writer` as one frame.
///
/// # Errors
///
/// The writer's.
pub fn write_message(writer: &mut impl Write, message: &Message) -> io::Result<()> {
    todo!("stage 2: encode_frame, then write it whole")
}

/// Cuts frames out of bytes however they arrive (half a header, three frames at once) and decodes
/// their messages.
///
/// # Examples
///
/// ```
/// use monitor::wire::{FrameDecoder, Message, encode_frame};
/// let mut wire = Vec::new();
/// encode_frame(&Message::Refused { reason: "version 2".into() }, &mut wire);
/// let mut decoder = FrameDecoder::default();
/// decoder.extend(&wire[..7]);
/// assert!(decoder.next_message().unwrap().is_none());
/// decoder.extend(&wire[7..]);
/// assert_eq!(decoder.next_message().unwrap(), Some(Message::Refused { reason: "version 2".into() }));
/// ```
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    /// nbNet's framing, refusing payloads over the limit.
    codec: LengthCodec,
    /// Bytes received and not yet cut into frames, from `start`.
    buffer: Vec<u8>,
    /// Where the unread part of `buffer` begins.
    start: usize,
}

impl FrameDecoder {
    /// A decoder refusing payloads longer than `max_payload` bytes.
    pub fn new(max_payload: usize) -> FrameDecoder {
        FrameDecoder { codec: LengthCodec::new(max_payload), buffer: Vec::new(), start: 0 }
    }

    /// Adds bytes received.
    pub fn extend(&mut self, bytes: &[u8]) {
        todo!("stage 2: append, without letting the bytes already read pile up")
    }

    /// The next whole frame's payload, or `None` until one has come.
    ///
    /// # Errors
    ///
    /// [`WireError::BadHeader`] or [`WireError::FrameTooLong`], as soon as the header shows it: the
    /// stream cannot be read further.
    pub fn next_payload(&mut self) -> Result<Option<Vec<u8>>, WireError> {
        todo!("stage 2: nbnet's LengthCodec on the unread bytes, its errors as WireErrors")
    }

    /// The next whole frame's message, or `None` until one has come.
    ///
    /// # Errors
    ///
    /// As [`FrameDecoder::next_payload`], or the payload's [`decode`] error.
    pub fn next_message(&mut self) -> Result<Option<Message>, WireError> {
        todo!("stage 2: the next payload, decoded")
    }

    /// How many bytes are held that are not yet a whole frame.
    pub fn buffered(&self) -> usize {
        todo!("stage 2: the unread bytes")
    }
}

impl Default for FrameDecoder {
    /// Payloads up to [`MAX_PAYLOAD_BYTES`].
    fn default() -> Self {
        FrameDecoder::new(MAX_PAYLOAD_BYTES)
    }
}

/// Reads messages from a blocking stream: a test's fake relay, a tool.
#[derive(Debug)]
pub struct FrameReader<R> {
    /// The stream.
    reader: R,
    /// The bytes read and not yet decoded.
    decoder: FrameDecoder,
}

impl<R: Read> FrameReader<R> {
    /// A reader of frames of up to [`MAX_PAYLOAD_BYTES`] from `reader`.
    pub fn new(reader: R) -> FrameReader<R> {
        FrameReader { reader, decoder: FrameDecoder::default() }
    }

    /// The next message, reading as much as it takes; `None` when the stream ends between frames.
    ///
    /// # Errors
    ///
    /// [`WireError::Io`] when a read fails (a read timeout included), [`WireError::ClosedInFrame`]
    /// when the stream ends inside a frame, or the frame's or payload's error.
    pub fn read_message(&mut self) -> Result<Option<Message>, WireError> {
        todo!(
            "stage 2: decode what is buffered, else read more; Ok(None) at a clean end, ClosedInFrame inside a frame"
        )
    }

    /// The stream.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The stream, to write answers to it.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }
}
