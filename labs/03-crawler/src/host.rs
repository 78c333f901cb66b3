//! What the crawler keeps per host: its concurrency limit, when the next request may start (the
//! politeness delay), and its `robots.txt`, fetched once.

use std::time::Duration;

use tokio::sync::{OnceCell, SemaphorePermit};

use crate::robots::Robots;

/// One host's limits and rules, shared by every task fetching from it.
#[derive(Debug)]
pub struct Host {
    // TODO(stage 3): a tokio::sync::Semaphore with per_host permits, and when the next request may
    // start (a tokio::sync::Mutex around a tokio::time::Instant).
    /// The host's `robots.txt`, fetched by the first task that needs it while the others wait;
    /// the error when the host could not be reached.
    pub robots: OnceCell<Result<Robots, String>>,
}

impl Host {
    /// A host that allows `per_host` requests at once.
    pub fn new(per_host: usize) -> Host {
        todo!("stage 3: a semaphore of `per_host` permits, and no request started yet")
    }

    /// Waits for the right to start a request: a free slot of the host's limit, and at least
    /// `delay` since the previous request to this host started. Returns the slot, to hold until
    /// the response is read.
    pub async fn turn(&self, delay: Duration) -> SemaphorePermit<'_> {
        todo!(
            "stage 3: acquire a permit, then wait until the host's next start time and push it on by the delay"
        )
    }
}
