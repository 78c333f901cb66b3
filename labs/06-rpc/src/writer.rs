//! The one task that writes a connection's frames, on both sides: it drains a channel of frames
//! into a buffer and writes the buffer after each batch it took, so frames sent together go out in
//! one system call and a lone frame goes out at once.

use tokio::io::AsyncWrite;
use tokio::sync::mpsc;

use crate::frame::Frame;

/// Frames taken from the channel per wake-up before writing them.
const BATCH: usize = 64;

/// What a writer is given to send.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// A frame the writer encodes into its buffer: an answer's payload is copied once, from where
    /// the handler left it, with no vector of its own. A frame that cannot be encoded (a method
    /// name over 255 bytes) is dropped; senders of such frames encode them first.
    Frame(Frame),
    /// A frame already encoded, as a request is (its payload was encoded in place).
    Encoded(Vec<u8>),
}

impl From<Frame> for Outbound {
    fn from(frame: Frame) -> Outbound {
        Outbound::Frame(frame)
    }
}

impl From<Vec<u8>> for Outbound {
    fn from(bytes: Vec<u8>) -> Outbound {
        Outbound::Encoded(bytes)
    }
}

// TODO(stage 2): take up to BATCH frames per wake-up (recv_many), encode or copy each into one
// buffer, write the buffer once per batch; when more than one frame was waiting, yield a few times
// first so the frames other tasks queue meanwhile join the same write.

/// Writes every frame received on `frames` to `socket` until the channel closes (every sender is
/// gone) or a write fails; then shuts the socket's write side.
pub(crate) async fn write_frames<W: AsyncWrite + Unpin>(socket: W, frames: mpsc::Receiver<Outbound>) {
    todo!("stage 2: write the frames that arrive to the socket, one write per batch, then shut it down")
}
