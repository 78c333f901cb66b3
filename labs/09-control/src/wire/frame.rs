//! Frames: a two-byte big-endian length, then the payload. [`FrameReader`] cuts them out of
//! whatever the socket delivers; [`read_frame`] and [`write_frame`] move one over a stream.

use tokio::io::{AsyncRead, AsyncWrite};

use super::WireError;

/// The longest payload a frame carries: what two bytes can count, which is also the longest
/// Noise message.
pub const MAX_FRAME: usize = u16::MAX as usize;

/// The bytes of the length in front of every payload.
const HEADER: usize = 2;

/// Appends `payload`, framed, to `out`.
///
/// # Errors
///
/// [`WireError::TooLong`] when `payload` is longer than [`MAX_FRAME`]; `out` is then unchanged.
#[allow(clippy::ptr_arg)]
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) -> Result<(), WireError> {
    todo!("stage 1: TooLong past MAX_FRAME, else the length in two big-endian bytes, then the payload")
}

/// Reassembles frames from reads of any size: feed it bytes, take out complete frames.
///
/// It holds only the bytes of the frame being read, and gives its memory back each time it is
/// empty: the master keeps one per agent, and an idle agent should cost it nothing here.
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: Vec<u8>,
}

impl FrameReader {
    /// A reader with nothing buffered.
    pub fn new() -> FrameReader {
        todo!("stage 1: nothing buffered")
    }

    /// Adds bytes read from the connection.
    pub fn push(&mut self, bytes: &[u8]) {
        todo!("stage 1: append them to the buffer")
    }

    /// The next complete frame's payload, or `None` until more bytes arrive.
    pub fn next_frame(&mut self) -> Option<Vec<u8>> {
        todo!(
            "stage 1: None until the header and its whole payload are in; give the buffer's memory back once it is empty"
        )
    }

    /// How many bytes are waiting for the rest of their frame.
    pub fn buffered(&self) -> usize {
        todo!("stage 1: the bytes buffered")
    }

    /// The buffer a read appends to (`read_buf`), for readers that own the socket.
    fn buffer(&mut self) -> &mut Vec<u8> {
        todo!("stage 1: the buffer itself")
    }
}

/// Reads the next frame's payload from `reader`, keeping partial frames in `frames`: `Ok(None)`
/// when the peer closed between two frames. Cancel-safe: a read cut short by `select!` loses
/// nothing.
///
/// # Errors
///
/// [`WireError::Truncated`] when the peer closed inside a frame, [`WireError::Io`] when the read
/// failed.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    frames: &mut FrameReader,
) -> Result<Option<Vec<u8>>, WireError> {
    todo!(
        "stage 1: a frame when one is whole, else read_buf only what it still lacks; at the end of the stream None between frames, Truncated inside one"
    )
}

/// Writes `payload` as one frame.
///
/// # Errors
///
/// [`WireError::TooLong`] for a payload over [`MAX_FRAME`], [`WireError::Io`] when the write
/// failed.
pub async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, payload: &[u8]) -> Result<(), WireError> {
    todo!("stage 1: encode_frame, then one write_all")
}
