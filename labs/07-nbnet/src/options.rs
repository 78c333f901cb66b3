//! The settings of a server: threads, limits and timeouts.

use std::time::Duration;

/// How a server runs. [`Options::default`] suits most uses; tests shrink the limits.
#[derive(Debug, Clone)]
pub struct Options {
    /// Worker loops of a [`Server`](crate::Server); 0 means one per core.
    pub workers: usize,
    /// Connections open at once, over all workers; past it a new connection is refused.
    pub max_conns: usize,
    /// Close a connection that has sent nothing and had nothing to write for this long.
    pub idle_timeout: Option<Duration>,
    /// Bytes of responses a connection may have waiting for a client that does not read; past it
    /// the connection is closed.
    pub max_output: usize,
    /// Bytes of an incomplete request a connection may hold; past it the connection is closed.
    pub max_input: usize,
    /// Bytes asked of the kernel by one `read`.
    pub read_chunk: usize,
    /// How long a shutdown waits for responses to be written before closing what is left.
    pub shutdown_grace: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 0,
            max_conns: 100_000,
            idle_timeout: None,
            max_output: 8 << 20,
            max_input: 4 << 20,
            read_chunk: 64 << 10,
            shutdown_grace: Duration::from_secs(2),
        }
    }
}

// TODO(stage 4): worker_count.
impl Options {
    /// The number of workers to start: `workers`, or the number of cores when it is 0.
    pub fn worker_count(&self) -> usize {
        todo!("stage 4: workers, or the number of cores when it is 0")
    }
}
