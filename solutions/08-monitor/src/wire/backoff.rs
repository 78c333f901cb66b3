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
        let wait = self.current;
        self.current = (self.current * 2).min(self.max).max(self.min);
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let fraction = (self.state >> 11) as f64 / (1u64 << 53) as f64;
        wait / 2 + (wait / 2).mul_f64(fraction)
    }

    /// Back to the shortest wait, after a success.
    pub(crate) fn reset(&mut self) {
        self.current = self.min;
    }
}
