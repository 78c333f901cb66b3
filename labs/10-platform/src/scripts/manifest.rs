//! A monitoring script's manifest, in TOML:
//!
//! ```toml
//! name = "nginx_connections"
//! description = "nginx's connections, from its stub_status page"
//! metrics = ["nginx.active", "nginx.waiting"]
//! interval_secs = 30
//! timeout_secs = 5
//! ```

use std::time::Duration;

use serde::Deserialize;

use super::Violation;

/// The most metrics one script may declare.
pub const MAX_METRICS: usize = 100;

/// What a monitoring script says of itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The script's name: `[a-z0-9][a-z0-9_.-]*`, at most 64 bytes.
    pub name: String,
    /// What it measures, for people.
    #[serde(default)]
    pub description: String,
    /// The metrics it prints, every one of them each run.
    pub metrics: Vec<String>,
    /// How often it runs: 10 to 3,600 s.
    pub interval_secs: u64,
    /// How long one run may take: 1 to 30 s, and at most half the interval.
    pub timeout_secs: u64,
}

impl Manifest {
    /// Reads and checks a manifest.
    ///
    /// # Errors
    ///
    /// A [`Violation`] of the rule `manifest` (it does not parse, or has a field it should not) or
    /// `manifest.FIELD` (`name`, `metrics`, `interval_secs`, `timeout_secs`), saying why.
    pub fn parse(text: &str) -> Result<Manifest, Violation> {
        todo!(
            "stage 3: toml into a Manifest (deny_unknown_fields: a syntax error or an unknown field breaks the rule `manifest`), then each field checked, its rule named `manifest.FIELD`"
        )
    }

    /// How often it runs.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs)
    }

    /// How long one run may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}
