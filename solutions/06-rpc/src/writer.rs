//! The one task that writes a connection's frames, on both sides: it drains a channel of encoded
//! frames into a buffer and flushes after each batch it took, so frames sent together go out in
//! one system call and a lone frame goes out at once.

use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;

/// Frames taken from the channel per wake-up before writing them.
const BATCH: usize = 64;

// ANCHOR: write_frames
/// Writes every frame received on `frames` to `socket` until the channel closes (every sender is
/// gone) or a write fails; then shuts the socket's write side.
pub(crate) async fn write_frames<W: AsyncWrite + Unpin>(socket: W, mut frames: mpsc::Receiver<Vec<u8>>) {
    let mut out = BufWriter::with_capacity(64 * 1024, socket);
    let mut batch = Vec::with_capacity(BATCH);
    while frames.recv_many(&mut batch, BATCH).await > 0 {
        for frame in batch.drain(..) {
            if out.write_all(&frame).await.is_err() {
                return;
            }
        }
        // Flush after every batch, not only when the channel is empty: under steady load it may
        // never be, and answers would wait in the buffer until it filled.
        if out.flush().await.is_err() {
            return;
        }
    }
    let _ = out.flush().await;
    let _ = out.shutdown().await;
}
// ANCHOR_END: write_frames
