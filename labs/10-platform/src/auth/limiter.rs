//! How many wrong passwords a login may follow: a sliding window of failures per user name and
//! per client address. Past the limit, a login is refused before its password is even checked,
//! so guessing costs the attacker time and the server no argon2.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use crate::records::Millis;

/// Counts failed logins and refuses the ones past the limit.
#[derive(Debug)]
pub struct LoginLimiter {
    window: Millis,
    per_user: usize,
    per_address: usize,
    failures: Mutex<HashMap<Key, VecDeque<Millis>>>,
}

/// What failures are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

impl LoginLimiter {
    /// A limiter allowing `per_user` failures for one user name and `per_address` from one
    /// address within any `window_ms` milliseconds.
    pub fn new(window_ms: Millis, per_user: usize, per_address: usize) -> LoginLimiter {
        todo!("stage 2: see the doc comment")
    }

    /// Whether a login for `user` from `address` may be tried at `now`: `Err` with the
    /// milliseconds until it may, when either has had its failures within the window.
    pub fn check(&self, user: &str, address: IpAddr, now: Millis) -> Result<(), Millis> {
        todo!(
            "stage 2: forget the failures that left the window, for the user and for the address; if either has its limit, Err with the time until its oldest failure leaves the window"
        )
    }

    /// [`LoginLimiter::check`] and, when the login may be tried, counts it as failed at once, in
    /// one step: so twenty guesses sent together cannot all pass the check before any of them is
    /// counted. A login that then succeeds is forgiven with [`LoginLimiter::succeeded`].
    pub fn attempt(&self, user: &str, address: IpAddr, now: Millis) -> Result<(), Millis> {
        todo!("stage 2: check and, when allowed, count the attempt as a failure, both under one lock")
    }

    /// Counts a failed login for `user` from `address` at `now`.
    pub fn failed(&self, user: &str, address: IpAddr, now: Millis) {
        todo!(
            "stage 2: push now onto the failures of the user and of the address, forgetting stale keys when there are too many"
        )
    }

    /// Forgets the failures of `user`, who has just logged in from `address` with the attempt
    /// counted at `at`: their address keeps its other failures, not that one.
    pub fn succeeded(&self, user: &str, address: IpAddr, at: Millis) {
        todo!("stage 2: forget the user's failures, and from the address's only the one counted at that time")
    }
}
