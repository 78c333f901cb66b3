//! Shared support for the labs' graded tests.
//!
//! Every lab's tests wait on conditions, make scratch directories, find the committed fixtures,
//! configure proptest and find their binary the same way, so this crate keeps those jobs in one place.
//!
//! # Layout
//!
//! - [`test`]: the `#[test]` of every graded test (`use testkit::test;`), which tells `cargo lab`'s
//!   runner, through [`verdict`], that the test ran to its end: a test passes only then.
//! - [`wait`]: [`wait_until`] polls a condition until it holds or a deadline passes, and [`eventually`]
//!   fails the test with a message when it never does, after [`DEFAULT_DEADLINE`]. Tests never sleep
//!   for a fixed time and hope; they wait for the thing they need.
//! - `tokio` (with the `tokio` feature): the same inside a tokio test, `tokio::eventually`, and
//!   `tokio::within` for a future that must finish, both with [`DEFAULT_DEADLINE`].
//! - [`properties`]: [`proptest_config`], proptest's settings for a graded property test: a case
//!   count and no regression files written into `tests/`.
//! - [`binary`]: [`lab_binary!`] gives the path of the binary under test, the lab's (`superd`) or the
//!   reference's (`superd-ref`), from the test file both compile.
//! - [`scratch_dir`] makes a temporary directory that is removed when the test ends.
//! - [`datasets_dir`] finds the workspace's `datasets/` folder, wherever the test binary runs from.
//! - [`web`] is a loopback web server that serves a site and misbehaves on request, for the HTTP labs.
//!
//! The `serve-site` binary writes a generated site ([`web::SiteSpec`]) to a directory, for real web
//! servers, or serves it with [`web::WebServer`], for benchmarks against a running crawler.

pub mod binary;
pub mod properties;
#[cfg(feature = "tokio")]
pub mod tokio;
pub mod verdict;
pub mod wait;
pub mod web;

use std::path::PathBuf;

pub use binary::pick_binary;
pub use properties::proptest_config;
pub use tempfile::TempDir;
pub use testkit_macros::test;
pub use wait::{DEFAULT_DEADLINE, eventually, wait_until};

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
    use super::datasets_dir;

    #[test]
    fn datasets_dir_points_at_the_fixtures() {
        assert!(datasets_dir().join("README.md").is_file());
    }
}
