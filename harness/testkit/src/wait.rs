//! Waiting on a condition with a deadline, for tests on plain threads.
//!
//! Tests never sleep for a fixed time and hope: they wait for the thing they need and fail with a
//! message naming it when it never comes. The async counterparts, for tests on tokio, are in
//! `testkit::tokio` (the `tokio` feature) and share [`DEFAULT_DEADLINE`].

use std::time::{Duration, Instant};

/// How long a test waits for anything by default: generous, because CI machines are slow and shared.
///
/// The sync [`eventually`] and the async `testkit::tokio::eventually` and `testkit::tokio::within`
/// all wait this long.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// Polls `condition` until it returns `true` or `deadline` has passed.
///
/// Returns `true` when the condition held in time. Polls often at first and then backs off, so a fast
/// condition costs a fast test and a slow one does not spin a core.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let start = std::time::Instant::now();
/// assert!(testkit::wait_until(Duration::from_secs(1), || start.elapsed() >= Duration::from_millis(5)));
/// ```
pub fn wait_until(deadline: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        if condition() {
            return true;
        }
        if start.elapsed() >= deadline {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Like [`wait_until`] with [`DEFAULT_DEADLINE`], panicking with `what` when the condition never holds.
///
/// # Panics
///
/// When the condition is still false after the deadline: that is the test failing.
#[track_caller]
pub fn eventually(what: &str, condition: impl FnMut() -> bool) {
    assert!(
        wait_until(DEFAULT_DEADLINE, condition),
        "timed out after {DEFAULT_DEADLINE:?} waiting for {what}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_until_reports_a_condition_that_never_holds() {
        assert!(!wait_until(Duration::from_millis(20), || false));
    }

    #[test]
    fn wait_until_returns_once_the_condition_holds() {
        let mut calls = 0;
        assert!(wait_until(Duration::from_secs(5), || {
            calls += 1;
            calls == 3
        }));
        assert_eq!(calls, 3);
    }

    #[test]
    fn eventually_returns_once_the_condition_holds() {
        let mut calls = 0;
        eventually("the third call", || {
            calls += 1;
            calls == 3
        });
        assert_eq!(calls, 3);
    }
}
