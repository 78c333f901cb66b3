//! What the crawler keeps per host: its concurrency limit, when the next request may start (the
//! politeness delay), and its `robots.txt`, fetched once.

use std::time::Duration;

use tokio::sync::{Mutex, OnceCell, Semaphore, SemaphorePermit};
use tokio::time::Instant;

use crate::robots::Robots;

/// One host's limits and rules, shared by every task fetching from it.
#[derive(Debug)]
pub struct Host {
    permits: Semaphore,
    next_start: Mutex<Option<Instant>>,
    /// The host's `robots.txt`, fetched by the first task that needs it while the others wait;
    /// the error when the host could not be reached.
    pub robots: OnceCell<Result<Robots, String>>,
}

impl Host {
    /// A host that allows `per_host` requests at once.
    pub fn new(per_host: usize) -> Host {
        Host {
            permits: Semaphore::new(per_host.max(1)),
            next_start: Mutex::new(None),
            robots: OnceCell::new(),
        }
    }

    /// Waits for the right to start a request: a free slot of the host's limit, and at least
    /// `delay` since the previous request to this host started. Returns the slot, to hold until
    /// the response is read.
    pub async fn turn(&self, delay: Duration) -> SemaphorePermit<'_> {
        // ANCHOR: turn
        // The semaphore is never closed, so acquire cannot fail.
        let permit = self.permits.acquire().await.expect("the host semaphore is never closed");
        let start_at = {
            let mut next = self.next_start.lock().await;
            let now = Instant::now();
            let at = next.map_or(now, |next| next.max(now));
            *next = Some(at + delay);
            at
        };
        // A timer rounds up to the next millisecond tick: with no delay to wait, do not sleep at all.
        if start_at > Instant::now() {
            tokio::time::sleep_until(start_at).await;
        }
        permit
        // ANCHOR_END: turn
    }
}
