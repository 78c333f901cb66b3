//! One agent's connection on the master: the handshake, the hello, then a loop that opens what
//! the agent sends (heartbeats, replies) and seals what the master sends it, until either side
//! closes or the agent is cut off.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Shared;
use crate::session::{Session, SessionError};
use crate::wire::FrameReader;

/// How many messages may wait for one agent's connection: a command rarely follows another
/// quickly, so more waiting means the agent is not reading.
const OUTBOX: usize = 16;

/// Serves one connection until it ends.
pub(super) async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    shutdown: CancellationToken,
) {
    todo!(
        "stage 2: accept the session and read a hello of this version within the timeout; register it, welcome it, converse, then disconnect. Stage 3: remember its tags in seen"
    )
}

/// The loop of an admitted connection; why it ended.
#[allow(clippy::too_many_arguments)]
async fn converse(
    shared: &Shared,
    stream: &mut TcpStream,
    frames: &mut FrameReader,
    session: &mut Session,
    id: &str,
    connection: u64,
    inbox: &mut mpsc::Receiver<Arc<[u8]>>,
    shutdown: &CancellationToken,
) -> String {
    todo!(
        "stage 2: until shutdown, answer heartbeats and route replies, send what the inbox brings; each frame heard. Stage 3: route job statuses too"
    )
}
