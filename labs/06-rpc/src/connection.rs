//! One server connection: reads frames, runs each request in its own task (answers go out in
//! whatever order they finish), bounds the requests in flight by not reading past the bound,
//! cancels a call on its deadline or on the client's cancel frame, and feeds streams credit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::server::ServerConfig;
use crate::service::Service;

/// The most credit a stream may hold: more would overflow the semaphore and buys nothing.
const MAX_CREDIT: usize = 1 << 20;

/// A call or stream started on this connection (it may have finished since).
struct Running {
    task: JoinHandle<()>,
    /// The stream's credit; `None` for a call.
    credit: Option<Arc<Semaphore>>,
    /// When the call must be answered by, and the budget the client gave.
    deadline: Option<(Instant, Duration)>,
}

impl Running {
    /// Whether this is the call whose deadline is `at` (a client may reuse an id).
    fn is_due_at(&self, at: Instant) -> bool {
        todo!("stage 2: is `at` this call's deadline?")
    }
}

// TODO(stage 2): the connection's state, owned by its reader: the writer's channel of Outbound
// (crate::writer), the bound on calls in flight (crate::bound, or a Semaphore), the Running tasks
// by id (if only the reader touches the table it needs no lock; sweep finished entries out now and
// then), and the calls' deadlines on one Alarm (crate::deadlines, or a tokio::time::timeout per
// handler).

/// Serves one connection until the client closes it or `stop` is cancelled.
pub(crate) async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    service: Arc<Service>,
    config: Arc<ServerConfig>,
    stop: CancellationToken,
) {
    // TODO(stage 2): read and decode frames; a request takes a slot of the bound before reading on
    // and runs in its own task, a subscribe starts a stream (refused with Busy past max_streams),
    // a cancel aborts its task, a credit adds permits (at most MAX_CREDIT); bad frames get error
    // frames. Expire the calls whose deadlines pass, even while waiting for a slot. On `stop`,
    // give the calls in flight the grace period, then abort them with ShuttingDown.
    todo!("stage 2: frames in, a task per request, answers out through the writer as they finish")
}
