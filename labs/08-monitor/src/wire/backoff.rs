//! [`Backoff`]: how long the agent's sender waits before trying the relays again, and a relay's
//! forwarder before sending to its shard again: doubling from a minimum to a maximum, each wait half
//! fixed and half random.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

/// Waits that double from `min` to `max`, each with half of it random ("equal jitter"), so agents
/// that lost one relay together do not all come back at the same instant.
#[derive(Debug)]
pub(crate) struct Backoff {
    /// The first wait.
    min: Duration,
    /// The longest wait.
    max: Duration,
    /// The next wait, before jitter.
    current: Duration,
    /// An xorshift generator's state; never 0.
    state: u64,
}

impl Backoff {
    /// Waits from `min` up to `max`.
    pub(crate) fn new(min: Duration, max: Duration) -> Backoff {
        let state = RandomState::new().hash_one(Instant::now()) | 1;
        Backoff { min, max, current: min, state }
    }

    /// The next wait: between half of the current one and all of it; the current one doubles.
    pub(crate) fn next(&mut self) -> Duration {
        todo!(
            "stage 2: half the current wait plus a random part of the other half; then double it, up to max"
        )
    }

    /// Back to the shortest wait, after a success.
    pub(crate) fn reset(&mut self) {
        todo!("stage 2: back to min")
    }
}
