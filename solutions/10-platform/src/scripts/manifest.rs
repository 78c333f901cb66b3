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
        let manifest: Manifest =
            toml::from_str(text).map_err(|err| Violation::new("manifest", err.message().to_string()))?;
        manifest.check()?;
        Ok(manifest)
    }

    /// How often it runs.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs)
    }

    /// How long one run may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    fn check(&self) -> Result<(), Violation> {
        if !is_script_name(&self.name) {
            return Err(Violation::new(
                "manifest.name",
                format!("{:?} is not [a-z0-9][a-z0-9_.-]*, 1 to 64 bytes", self.name),
            ));
        }
        if self.metrics.is_empty() || self.metrics.len() > MAX_METRICS {
            return Err(Violation::new(
                "manifest.metrics",
                format!("declares {}, not 1 to {MAX_METRICS}", self.metrics.len()),
            ));
        }
        for (index, metric) in self.metrics.iter().enumerate() {
            if !is_metric_name(metric) {
                return Err(Violation::new("manifest.metrics", format!("{metric:?} is not a metric name")));
            }
            if self.metrics[..index].contains(metric) {
                return Err(Violation::new("manifest.metrics", format!("{metric:?} is declared twice")));
            }
        }
        if !(10..=3600).contains(&self.interval_secs) {
            return Err(Violation::new(
                "manifest.interval_secs",
                format!("{} is not 10 to 3600", self.interval_secs),
            ));
        }
        if !(1..=30).contains(&self.timeout_secs) || self.timeout_secs * 2 > self.interval_secs {
            return Err(Violation::new(
                "manifest.timeout_secs",
                format!("{} is not 1 to 30 and at most half the interval", self.timeout_secs),
            ));
        }
        Ok(())
    }
}

/// `[a-z0-9][a-z0-9_.-]*`, 1 to 64 bytes: a name that is also a safe file name.
fn is_script_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=64).contains(&bytes.len())
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(b))
}

/// Lab 08's metric names: `[A-Za-z_:][A-Za-z0-9_:.-]*`, at most 200 bytes.
fn is_metric_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=200).contains(&bytes.len())
        && (bytes[0].is_ascii_alphabetic() || b"_:".contains(&bytes[0]))
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"_:.-".contains(b))
}
