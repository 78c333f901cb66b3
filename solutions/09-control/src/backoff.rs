//! Reconnecting without a thundering herd: [`Backoff`] gives the wait before each new attempt,
//! exponential, capped and jittered, and [`keep_connected`] runs a connection again and again
//! with those waits until the shutdown.
//!
//! When the master restarts, every agent loses its connection in the same millisecond. Were they
//! all to wait the same time, they would all come back in the same millisecond too, and again after
//! each failure: the herd. "Full jitter" draws each wait uniformly between zero and the exponential
//! bound, so the herd spreads over the whole interval.

use std::future::Future;
use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The waits between attempts to connect: the n-th failure in a row waits a uniformly random time
/// in `[0, min(cap, base × 2ⁿ))`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
    rng: ChaCha8Rng,
}

impl Backoff {
    /// Waits that start under `base` and never reach `cap`, drawn from a generator seeded with
    /// `seed` (give each agent its own: the same seed everywhere is the herd again).
    pub fn new(base: Duration, cap: Duration, seed: u64) -> Backoff {
        Backoff { base, cap: cap.max(base), failures: 0, rng: ChaCha8Rng::seed_from_u64(seed) }
    }

    // ANCHOR: next_delay
    /// The wait before the next attempt, and one more failure counted.
    pub fn next_delay(&mut self) -> Duration {
        let bound = self.bound();
        self.failures = self.failures.saturating_add(1);
        // A uniform fraction of the bound: 64 random bits scale it with no bias worth measuring.
        let nanos = bound.as_nanos().min(u128::from(u64::MAX));
        let drawn = (nanos * u128::from(self.rng.next_u64())) >> 64;
        Duration::from_nanos(u64::try_from(drawn).unwrap_or(u64::MAX))
    }
    // ANCHOR_END: next_delay

    /// The upper bound of the next wait: `base × 2ⁿ` after n failures in a row, at most `cap`.
    pub fn bound(&self) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX);
        self.base.checked_mul(factor).map_or(self.cap, |bound| bound.min(self.cap))
    }

    /// Forgets the failures: after a connection that lasted, the next wait starts from `base` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// Runs `attempt` (connect, then serve the connection until it ends) again and again until
/// `shutdown`, waiting [`Backoff::next_delay`] between two runs. An attempt reports whether it got
/// connected; one that did and lasted `stable` or longer resets the backoff, so an agent that
/// loses a good connection comes back after under `base`, not after the cap.
pub async fn keep_connected<F, Fut>(
    backoff: &mut Backoff,
    stable: Duration,
    shutdown: &CancellationToken,
    mut attempt: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    while !shutdown.is_cancelled() {
        let started = Instant::now();
        let connected = tokio::select! {
            connected = attempt() => connected,
            () = shutdown.cancelled() => return,
        };
        if connected && started.elapsed() >= stable {
            backoff.reset();
        }
        let delay = backoff.next_delay();
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
