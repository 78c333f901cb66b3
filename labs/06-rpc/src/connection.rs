//! One server connection: reads frames, runs each request in its own task (answers go out in
//! whatever order they finish), bounds the requests in flight by not reading past the bound,
//! cancels a call on its deadline or on the client's cancel frame, and feeds streams credit.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use crate::server::ServerConfig;
use crate::service::Service;

/// The most credit a stream may hold: more would overflow the semaphore and buys nothing.
const MAX_CREDIT: usize = 1 << 20;

/// A call or stream running on this connection.
struct Running {
    abort: AbortHandle,
    /// The stream's credit; `None` for a call.
    credit: Option<Arc<Semaphore>>,
}

type Table = Arc<Mutex<HashMap<u64, Running>>>;

/// Serves one connection until the client closes it or `stop` is cancelled.
pub(crate) async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    service: Arc<Service>,
    config: Arc<ServerConfig>,
    stop: CancellationToken,
) {
    todo!("stage 2: serve {peer} with {config:?}: frames in, a task per request, answers out as they finish")
}
