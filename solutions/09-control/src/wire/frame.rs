//! Frames: a two-byte big-endian length, then the payload. [`FrameReader`] cuts them out of
//! whatever the socket delivers; [`read_frame`] and [`write_frame`] move one over a stream.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

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
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) -> Result<(), WireError> {
    let len = u16::try_from(payload.len()).map_err(|_| WireError::TooLong { len: payload.len() })?;
    out.reserve(HEADER + payload.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(())
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
        FrameReader::default()
    }

    /// Adds bytes read from the connection.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame's payload, or `None` until more bytes arrive.
    pub fn next_frame(&mut self) -> Option<Vec<u8>> {
        let header: [u8; HEADER] = self.buf.get(..HEADER)?.try_into().ok()?;
        let len = usize::from(u16::from_be_bytes(header));
        let payload = self.buf.get(HEADER..HEADER + len)?.to_vec();
        self.buf.drain(..HEADER + len);
        if self.buf.is_empty() {
            self.buf = Vec::new();
        }
        Some(payload)
    }

    /// How many bytes are waiting for the rest of their frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The buffer a read appends to (`read_buf`), for readers that own the socket.
    fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
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
    loop {
        if let Some(frame) = frames.next_frame() {
            return Ok(Some(frame));
        }
        // Reserve only what the frame still needs: a read never holds more than one frame's worth.
        let want = match frames.buf.get(..HEADER) {
            Some(header) => HEADER + usize::from(u16::from_be_bytes([header[0], header[1]])),
            None => HEADER,
        };
        let missing = want - frames.buffered();
        frames.buffer().reserve_exact(missing);
        if reader.read_buf(frames.buffer()).await? == 0 {
            return match frames.buffered() {
                0 => Ok(None),
                buffered => Err(WireError::Truncated { buffered }),
            };
        }
    }
}

/// Writes `payload` as one frame.
///
/// # Errors
///
/// [`WireError::TooLong`] for a payload over [`MAX_FRAME`], [`WireError::Io`] when the write
/// failed.
pub async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, payload: &[u8]) -> Result<(), WireError> {
    let mut framed = Vec::new();
    encode_frame(payload, &mut framed)?;
    writer.write_all(&framed).await?;
    Ok(())
}
