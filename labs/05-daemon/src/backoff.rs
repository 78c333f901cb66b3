//! When to restart a command that died, and when to give up.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::supervise::Policy;

/// The restarts within the policy's window, deciding the delay before the next one.
///
/// The n-th restart within the window waits `backoff * 2^(n-1)`, at most `backoff_max`; when
/// `restart_max` restarts already happened within the window, the next death is final.
#[derive(Debug, Clone)]
pub struct Restarts {
    policy: Policy,
    recent: VecDeque<Instant>,
}

impl Restarts {
    /// No restarts yet.
    pub fn new(policy: &Policy) -> Restarts {
        Restarts { policy: policy.clone(), recent: VecDeque::new() }
    }

    /// The command died at `now`: the delay before restarting it, or `None` to give up.
    pub fn next(&mut self, now: Instant) -> Option<Duration> {
        todo!(
            "stage 3 (reloads restart the command), stage 4 (the rules): forget restarts older than the window, give up past restart_max, else double the delay"
        )
    }

    /// Applies `policy` from the next death on, keeping the restarts already counted.
    pub fn set_policy(&mut self, policy: &Policy) {
        self.policy = policy.clone();
    }

    /// How many restarts happened within the window, as of the last [`Restarts::next`].
    pub fn in_window(&self) -> usize {
        self.recent.len()
    }
}
