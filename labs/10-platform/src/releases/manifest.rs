//! A release's manifest, `release.toml` at the root of its package:
//!
//! ```toml
//! name = "hello"
//! version = "1.4.2"
//! description = "the hello service"
//! hook_timeout_secs = 30      # each hook's run, 1 to 600 s (30 by default)
//! healthy_within_secs = 10    # status is asked again every second until then (10 by default)
//!
//! [hooks]                     # executables of the package, run in its directory
//! start = "bin/start"
//! stop = "bin/stop"
//! status = "bin/status"
//!
//! [checksums]                 # every file of the package but this one, and its SHA-256
//! "bin/start" = "9f86d081884c7d65…"
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::scripts::Violation;

/// What a release says of itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseManifest {
    /// The service's name: `[a-z0-9][a-z0-9_.-]*`, at most 64 bytes.
    pub name: String,
    /// This release's version: `[A-Za-z0-9][A-Za-z0-9_.+-]*`, at most 64 bytes.
    pub version: String,
    /// What it is, for people.
    #[serde(default)]
    pub description: String,
    /// The programs that start, stop and check the service.
    pub hooks: Hooks,
    /// How long one run of a hook may take: 1 to 600 s.
    #[serde(default = "default_hook_timeout")]
    pub hook_timeout_secs: u64,
    /// How long the service may take to say it is healthy once started: 0 to 600 s.
    #[serde(default = "default_healthy_within")]
    pub healthy_within_secs: u64,
    /// Every file of the package (but the manifest), by its path, and its SHA-256 in hex.
    pub checksums: BTreeMap<String, String>,
}

/// A release's hooks: paths of executable files of its package.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hooks {
    /// Starts the service (and returns: a service that stays up is handed to the init system, or
    /// detached in a session of its own).
    pub start: String,
    /// Stops it.
    pub stop: String,
    /// Exits 0 when it is healthy.
    pub status: String,
}

fn default_hook_timeout() -> u64 {
    30
}

fn default_healthy_within() -> u64 {
    10
}

impl ReleaseManifest {
    /// Reads and checks a manifest (not yet against the files of its package).
    ///
    /// # Errors
    ///
    /// A [`Violation`] of the rule `manifest` (it does not parse, or has a field it should not) or
    /// `manifest.FIELD` (`name`, `version`, `hooks`, `hook_timeout_secs`, `healthy_within_secs`,
    /// `checksums`), saying why.
    pub fn parse(text: &str) -> Result<ReleaseManifest, Violation> {
        todo!(
            "stage 4: toml::from_str (its error message as the rule `manifest`), then check each field in the order the docs list, each failure a Violation of manifest.FIELD: name and version as is_name and is_version say, hook_timeout_secs 1 to 600, healthy_within_secs at most 600, every checksum a check_path path and 64 lower-case hex digits, every hook a path the checksums list"
        )
    }

    /// How long one run of a hook may take.
    pub fn hook_timeout(&self) -> Duration {
        todo!("stage 4: hook_timeout_secs as a Duration")
    }

    /// How long the service may take to be healthy once started.
    pub fn healthy_within(&self) -> Duration {
        todo!("stage 4: healthy_within_secs as a Duration")
    }
}

/// Whether `path` may name a file of a package: relative, `/`-separated, each part a plain name
/// (no `.`, `..` or empty part), at most 255 bytes. So nothing unpacks outside its directory.
pub fn check_path(path: &str) -> Result<(), &'static str> {
    todo!(
        "stage 4: 1 to 255 bytes, not absolute, no control character or backslash, and no empty, `.` or `..` part between the slashes"
    )
}

/// A service's name: `[a-z0-9][a-z0-9_.-]*`, 1 to 64 bytes.
pub fn is_name(name: &str) -> bool {
    todo!("stage 4: [a-z0-9][a-z0-9_.-]*, 1 to 64 bytes")
}

/// A version: `[A-Za-z0-9][A-Za-z0-9_.+-]*`, 1 to 64 bytes.
pub fn is_version(version: &str) -> bool {
    todo!("stage 4: [A-Za-z0-9][A-Za-z0-9_.+-]*, 1 to 64 bytes")
}
