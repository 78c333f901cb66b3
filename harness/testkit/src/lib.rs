//! Shared support for the labs' graded tests.
//!
//! Every lab's tests wait on conditions, make scratch directories and find the committed fixtures the
//! same way, so this crate keeps those three jobs in one place:
//!
//! - [`wait_until`] polls a condition until it holds or a deadline passes. Tests never sleep for a fixed
//!   time and hope; they wait for the thing they need and fail with a message when it never comes.
//! - [`scratch_dir`] makes a temporary directory that is removed when the test ends.
//! - [`datasets_dir`] finds the workspace's `datasets/` folder, wherever the test binary runs from.
//! - [`web`] is a loopback web server that serves a site and misbehaves on request, for the HTTP labs.
//!
//! The `serve-site` binary writes a generated site ([`web::SiteSpec`]) to a directory, for real web
//! servers, or serves it with [`web::WebServer`], for benchmarks against a running crawler.

pub mod web;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use tempfile::TempDir;

/// How long [`wait_until`] waits by default: generous, because CI machines are slow and shared.
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

/// A fresh temporary directory, removed when the returned guard is dropped.
///
/// # Panics
///
/// When the system's temporary directory cannot be written, which no test can recover from.
pub fn scratch_dir() -> TempDir {
    tempfile::Builder::new().prefix("lab-test-").tempdir().expect("cannot create a temporary directory")
}

/// The workspace's `datasets/` folder, which holds the committed fixtures.
pub fn datasets_dir() -> PathBuf {
    // This crate lives at harness/testkit, two levels below the workspace root.
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets")
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
    fn datasets_dir_points_at_the_fixtures() {
        assert!(datasets_dir().join("README.md").is_file());
    }
}
