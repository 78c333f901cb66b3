//! The one task that writes a connection's frames, on both sides: it drains a channel of encoded
//! frames into a buffer and flushes after each batch it took, so frames sent together go out in
//! one system call and a lone frame goes out at once.

use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;

/// Frames taken from the channel per wake-up before writing them.
const BATCH: usize = 64;

/// Rounds of gathering more frames before a flush, at most.
const GATHER_ROUNDS: usize = 4;

// ANCHOR: write_frames
/// Writes every frame received on `frames` to `socket` until the channel closes (every sender is
/// gone) or a write fails; then shuts the socket's write side.
pub(crate) async fn write_frames<W: AsyncWrite + Unpin>(socket: W, mut frames: mpsc::Receiver<Vec<u8>>) {
    let mut out = BufWriter::with_capacity(64 * 1024, socket);
    let mut batch = Vec::with_capacity(BATCH);
    while frames.recv_many(&mut batch, BATCH).await > 0 {
        // More than one frame waiting means others are busy producing frames: let them run
        // before flushing, so the frames they queue now join this write instead of each costing a
        // system call of its own. A lone frame (one caller, no load) goes out at once.
        let mut rounds = if batch.len() > 1 { GATHER_ROUNDS } else { 0 };
        loop {
            for frame in batch.drain(..) {
                if out.write_all(&frame).await.is_err() {
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
        // Flush after a few rounds at most, not only when the channel is empty: under steady load
        // it may never be, and answers would wait in the buffer until it filled.
        if out.flush().await.is_err() {
            return;
        }
    }
    // Every batch was flushed; shutting down the write side tells the peer nothing more comes.
    let _ = out.shutdown().await;
}
// ANCHOR_END: write_frames
