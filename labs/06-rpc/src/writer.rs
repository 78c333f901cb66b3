//! The one task that writes a connection's frames, on both sides: it drains a channel of encoded
//! frames into a buffer and flushes after each batch it took, so frames sent together go out in
//! one system call and a lone frame goes out at once.

use tokio::io::AsyncWrite;
use tokio::sync::mpsc;

/// Frames taken from the channel per wake-up before writing them.
const BATCH: usize = 64;

/// Writes every frame received on `frames` to `socket` until the channel closes (every sender is
/// gone) or a write fails; then shuts the socket's write side.
pub(crate) async fn write_frames<W: AsyncWrite + Unpin>(socket: W, frames: mpsc::Receiver<Vec<u8>>) {
    todo!(
        "stage 2: write what arrives on frames (capacity {}) to the socket, flushing after each batch",
        frames.capacity()
    )
}
