//! How many wrong passwords a login may follow: a sliding window of failures per user name and
//! per client address. Past the limit, a login is refused before its password is even checked,
//! so guessing costs the attacker time and the server no argon2.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use crate::records::Millis;

/// The most keys (user names and addresses) the limiter remembers: past it, the ones whose
/// failures have all left the window are forgotten first.
const MAX_KEYS: usize = 100_000;

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
        LoginLimiter { window: window_ms, per_user, per_address, failures: Mutex::new(HashMap::new()) }
    }

    /// Whether a login for `user` from `address` may be tried at `now`: `Err` with the
    /// milliseconds until it may, when either has had its failures within the window.
    pub fn check(&self, user: &str, address: IpAddr, now: Millis) -> Result<(), Millis> {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.wait(&mut failures, user, address, now)
    }

    /// [`LoginLimiter::check`] and, when the login may be tried, counts it as failed at once, in
    /// one step: so twenty guesses sent together cannot all pass the check before any of them is
    /// counted. A login that then succeeds is forgiven with [`LoginLimiter::succeeded`].
    pub fn attempt(&self, user: &str, address: IpAddr, now: Millis) -> Result<(), Millis> {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.wait(&mut failures, user, address, now)?;
        self.count(&mut failures, user, address, now);
        Ok(())
    }

    /// The milliseconds until a login for `user` from `address` may be tried, as an `Err`.
    fn wait(
        &self,
        failures: &mut HashMap<Key, VecDeque<Millis>>,
        user: &str,
        address: IpAddr,
        now: Millis,
    ) -> Result<(), Millis> {
        let mut wait = 0;
        for (key, limit) in
            [(Key::User(user.to_string()), self.per_user), (Key::Address(address), self.per_address)]
        {
            if let Some(times) = failures.get_mut(&key) {
                forget_before(times, now - self.window);
                if times.len() >= limit {
                    // The oldest failure in the window leaves it first.
                    let frees_at = times.front().copied().unwrap_or(now) + self.window;
                    wait = wait.max(frees_at - now);
                }
            }
        }
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    /// Counts a failed login for `user` from `address` at `now`.
    pub fn failed(&self, user: &str, address: IpAddr, now: Millis) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.count(&mut failures, user, address, now);
    }

    /// Counts a failure in `failures`.
    fn count(&self, failures: &mut HashMap<Key, VecDeque<Millis>>, user: &str, address: IpAddr, now: Millis) {
        if failures.len() >= MAX_KEYS {
            let window_start = now - self.window;
            failures.retain(|_, times| times.back().is_some_and(|last| *last > window_start));
        }
        for key in [Key::User(user.to_string()), Key::Address(address)] {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// Forgets the failures of `user`, who has just logged in from `address` with the attempt
    /// counted at `at`: their address keeps its other failures, not that one.
    pub fn succeeded(&self, user: &str, address: IpAddr, at: Millis) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        failures.remove(&Key::User(user.to_string()));
        if let Some(times) = failures.get_mut(&Key::Address(address))
            && let Some(position) = times.iter().rposition(|time| *time == at)
        {
            times.remove(position);
        }
    }
}

/// Drops the times at or before `cutoff` from the front of `times`.
fn forget_before(times: &mut VecDeque<Millis>, cutoff: Millis) {
    while times.front().is_some_and(|time| *time <= cutoff) {
        times.pop_front();
    }
}
