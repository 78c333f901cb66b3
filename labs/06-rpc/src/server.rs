//! The server: accepts connections and serves a [`Service`] on each until the shutdown future
//! completes, then finishes the calls in flight within a grace period.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::frame::MAX_FRAME;
use crate::service::Service;

/// The server's limits.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The most requests one connection may have in flight; at the bound the server stops reading
    /// that connection until one finishes.
    pub max_in_flight: usize,
    /// The most streams one connection may have open; one more is refused with `Busy`.
    pub max_streams: usize,
    /// The largest frame accepted, in bytes.
    pub max_frame: usize,
    /// How long a shutdown waits for calls in flight before cancelling them.
    pub grace: Duration,
    /// Frames queued for a connection's writer before handlers wait.
    pub queue: usize,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            max_in_flight: 256,
            max_streams: 64,
            max_frame: MAX_FRAME,
            grace: Duration::from_secs(5),
            queue: 1024,
        }
    }
}

/// A service ready to serve.
///
/// # Examples
///
/// ```no_run
/// # async fn example() -> std::io::Result<()> {
/// use rpc::{Server, ServerConfig, Service};
/// let mut service = Service::new();
/// rpc::builtin::register(&mut service);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// Server::new(service, ServerConfig::default()).serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Server {
    service: Arc<Service>,
    config: Arc<ServerConfig>,
}

// TODO(stage 2): serve: select! over accepting, reaping finished connections and the shutdown;
// a CancellationToken tells every connection (crate::connection) to stop.

impl Server {
    /// A server of `service` with `config`.
    pub fn new(service: Service, config: ServerConfig) -> Server {
        Server { service: Arc::new(service), config: Arc::new(config) }
    }

    /// Serves every connection accepted on `listener` until `shutdown` completes; then stops
    /// accepting, stops reading new requests, waits up to the grace period for the calls in
    /// flight, cancels the rest, and returns once every connection is closed.
    ///
    /// # Errors
    ///
    /// None today: failed accepts (out of descriptors) are retried. The `Result` is for listeners
    /// that can fail for good.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        todo!(
            "stage 2: accept and serve each connection until shutdown, then wait for every connection to finish"
        )
    }
}
