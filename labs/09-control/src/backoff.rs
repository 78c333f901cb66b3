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
        todo!("stage 1: no failures yet, a cap no lower than base, a ChaCha8Rng seeded from seed")
    }

    /// The wait before the next attempt, and one more failure counted.
    pub fn next_delay(&mut self) -> Duration {
        todo!("stage 1: a uniform draw below bound, then one more failure")
    }

    /// The upper bound of the next wait: `base × 2ⁿ` after n failures in a row, at most `cap`.
    pub fn bound(&self) -> Duration {
        todo!("stage 1: base doubled once per failure, at most cap, never overflowing")
    }

    /// Forgets the failures: after a connection that lasted, the next wait starts from `base` again.
    pub fn reset(&mut self) {
        todo!("stage 1: no failures")
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
    attempt: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    todo!(
        "stage 1: until shutdown, attempt then wait next_delay, both cut short by shutdown; reset after a connection that lasted stable"
    )
}
