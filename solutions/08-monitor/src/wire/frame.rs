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
pub fn encode_frame(message: &Message, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[b'0'; HEADER_LEN]);
    encode(message, out);
    let len = out.len() - start - HEADER_LEN;
    let mut digits = len;
    for byte in out[start..start + HEADER_LEN].iter_mut().rev() {
        *byte = b'0' + (digits % 10) as u8;
        digits /= 10;
    }
}

/// Writes `payload` (already encoded, as a spool record is) to `writer` as one frame.
///
/// # Errors
///
/// The writer's.
pub fn write_frame(writer: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
    // Writing to a Vec cannot fail.
    let _ = write!(frame, "{:0width$}", payload.len(), width = HEADER_LEN);
    frame.extend_from_slice(payload);
    writer.write_all(&frame)
}

/// Encodes `message` and writes it to `writer` as one frame.
///
/// # Errors
///
/// The writer's.
pub fn write_message(writer: &mut impl Write, message: &Message) -> io::Result<()> {
    let mut frame = Vec::new();
    encode_frame(message, &mut frame);
    writer.write_all(&frame)
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
        // Move the unread bytes to the front once the read ones are most of the buffer, so the
        // buffer stays about one frame long whatever the stream's length.
        if self.start > 0 && self.start >= self.buffer.len() / 2 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole frame's payload, or `None` until one has come.
    ///
    /// # Errors
    ///
    /// [`WireError::BadHeader`] or [`WireError::FrameTooLong`], as soon as the header shows it: the
    /// stream cannot be read further.
    pub fn next_payload(&mut self) -> Result<Option<Vec<u8>>, WireError> {
        match self.codec.decode(&self.buffer[self.start..]) {
            Ok(Some((payload, used))) => {
                self.start += used;
                Ok(Some(payload))
            }
            Ok(None) => Ok(None),
            Err(CodecError::BadHeader { header }) => Err(WireError::BadHeader { header }),
            Err(CodecError::TooLong { len, max }) => Err(WireError::FrameTooLong { len, max }),
        }
    }

    /// The next whole frame's message, or `None` until one has come.
    ///
    /// # Errors
    ///
    /// As [`FrameDecoder::next_payload`], or the payload's [`decode`] error.
    pub fn next_message(&mut self) -> Result<Option<Message>, WireError> {
        match self.next_payload()? {
            Some(payload) => decode(&payload).map(Some),
            None => Ok(None),
        }
    }

    /// How many bytes are held that are not yet a whole frame.
    pub fn buffered(&self) -> usize {
        self.buffer.len() - self.start
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
        let mut chunk = [0u8; READ_CHUNK];
        loop {
            if let Some(message) = self.decoder.next_message()? {
                return Ok(Some(message));
            }
            let read = match self.reader.read(&mut chunk) {
                Ok(read) => read,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(WireError::Io(err)),
            };
            if read == 0 {
                return match self.decoder.buffered() {
                    0 => Ok(None),
                    buffered => Err(WireError::ClosedInFrame { buffered }),
                };
            }
            self.decoder.extend(&chunk[..read]);
        }
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
