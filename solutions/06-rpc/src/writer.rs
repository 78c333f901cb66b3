//! The one task that writes a connection's frames, on both sides: it drains a channel of frames
//! into a buffer and writes the buffer after each batch it took, so frames sent together go out in
//! one system call and a lone frame goes out at once.

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::frame::{Frame, encode};

/// Frames taken from the channel per wake-up before writing them.
const BATCH: usize = 64;

/// Rounds of gathering more frames before a write, at most.
const GATHER_ROUNDS: usize = 4;

/// Bytes buffered before they are written even in the middle of a batch, and the buffer's size
/// kept between batches.
const BUFFER: usize = 64 * 1024;

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

// ANCHOR: write_frames
/// Writes every frame received on `frames` to `socket` until the channel closes (every sender is
/// gone) or a write fails; then shuts the socket's write side.
pub(crate) async fn write_frames<W: AsyncWrite + Unpin>(mut socket: W, mut frames: mpsc::Receiver<Outbound>) {
    let mut buf = Vec::with_capacity(BUFFER);
    let mut batch = Vec::with_capacity(BATCH);
    while frames.recv_many(&mut batch, BATCH).await > 0 {
        // More than one frame waiting means others are busy producing frames: let them run
        // before writing, so the frames they queue now join this write instead of each costing a
        // system call of its own. A lone frame (one caller, no load) goes out at once.
        let mut rounds = if batch.len() > 1 { GATHER_ROUNDS } else { 0 };
        loop {
            for frame in batch.drain(..) {
                match frame {
                    Outbound::Frame(frame) => {
                        let _ = encode(&frame, &mut buf);
                    }
                    Outbound::Encoded(bytes) => buf.extend_from_slice(&bytes),
                }
                if buf.len() >= BUFFER && write_out(&mut socket, &mut buf).await.is_err() {
                    return;
                }
            }
            if rounds == 0 {
                break;
            }
            rounds -= 1;
            tokio::task::yield_now().await;
            while batch.len() < BATCH {
                match frames.try_recv() {
                    Ok(frame) => batch.push(frame),
                    Err(_) => break,
                }
            }
            if batch.is_empty() {
                break;
            }
        }
        // Write after a few rounds at most, not only when the channel is empty: under steady load
        // it may never be, and answers would wait in the buffer until it filled.
        if write_out(&mut socket, &mut buf).await.is_err() {
            return;
        }
    }
    // Every batch was written; shutting down the write side tells the peer nothing more comes.
    let _ = socket.shutdown().await;
}
// ANCHOR_END: write_frames

/// Writes the whole buffer and empties it; a buffer grown by a large frame is given back.
async fn write_out<W: AsyncWrite + Unpin>(socket: &mut W, buf: &mut Vec<u8>) -> std::io::Result<()> {
    if !buf.is_empty() {
        socket.write_all(buf).await?;
    }
    buf.clear();
    if buf.capacity() > 16 * BUFFER {
        *buf = Vec::with_capacity(BUFFER);
    }
    Ok(())
}
