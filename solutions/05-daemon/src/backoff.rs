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
    // ANCHOR: next
    pub fn next(&mut self, now: Instant) -> Option<Duration> {
        while self.recent.front().is_some_and(|&at| now.saturating_duration_since(at) >= self.policy.window) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.policy.restart_max as usize {
            return None;
        }
        let doublings = self.recent.len().min(31) as u32;
        self.recent.push_back(now);
        Some(self.policy.backoff.saturating_mul(1 << doublings).min(self.policy.backoff_max))
    }
    // ANCHOR_END: next

    /// Applies `policy` from the next death on, keeping the restarts already counted.
    pub fn set_policy(&mut self, policy: &Policy) {
        self.policy = policy.clone();
    }

    /// How many restarts happened within the window, as of the last [`Restarts::next`].
    pub fn in_window(&self) -> usize {
        self.recent.len()
    }
}
