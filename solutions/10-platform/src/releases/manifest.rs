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
        let manifest: ReleaseManifest =
            toml::from_str(text).map_err(|err| Violation::new("manifest", err.message().to_string()))?;
        manifest.check()?;
        Ok(manifest)
    }

    /// How long one run of a hook may take.
    pub fn hook_timeout(&self) -> Duration {
        Duration::from_secs(self.hook_timeout_secs)
    }

    /// How long the service may take to be healthy once started.
    pub fn healthy_within(&self) -> Duration {
        Duration::from_secs(self.healthy_within_secs)
    }

    fn check(&self) -> Result<(), Violation> {
        if !is_name(&self.name) {
            return Err(Violation::new(
                "manifest.name",
                format!("{:?} is not [a-z0-9][a-z0-9_.-]*, 1 to 64 bytes", self.name),
            ));
        }
        if !is_version(&self.version) {
            return Err(Violation::new(
                "manifest.version",
                format!("{:?} is not [A-Za-z0-9][A-Za-z0-9_.+-]*, 1 to 64 bytes", self.version),
            ));
        }
        if !(1..=600).contains(&self.hook_timeout_secs) {
            return Err(Violation::new(
                "manifest.hook_timeout_secs",
                format!("{} is not from 1 to 600", self.hook_timeout_secs),
            ));
        }
        if self.healthy_within_secs > 600 {
            return Err(Violation::new(
                "manifest.healthy_within_secs",
                format!("{} is over 600", self.healthy_within_secs),
            ));
        }
        for (path, sum) in &self.checksums {
            if let Err(reason) = check_path(path) {
                return Err(Violation::new("manifest.checksums", format!("{path:?}: {reason}")));
            }
            if sum.len() != 64 || !sum.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return Err(Violation::new(
                    "manifest.checksums",
                    format!("{path:?}: {sum:?} is not a SHA-256 in lower-case hex"),
                ));
            }
        }
        for (hook, path) in
            [("start", &self.hooks.start), ("stop", &self.hooks.stop), ("status", &self.hooks.status)]
        {
            if !self.checksums.contains_key(path) {
                return Err(Violation::new(
                    "manifest.hooks",
                    format!("{hook} = {path:?} is not a file the checksums list"),
                ));
            }
        }
        Ok(())
    }
}

/// Whether `path` may name a file of a package: relative, `/`-separated, each part a plain name
/// (no `.`, `..` or empty part), at most 255 bytes. So nothing unpacks outside its directory.
pub fn check_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() || path.len() > 255 {
        return Err("is not 1 to 255 bytes");
    }
    if path.starts_with('/') {
        return Err("is absolute");
    }
    if path.bytes().any(|b| b.is_ascii_control() || b == b'\\') {
        return Err("holds a control character or a backslash");
    }
    if path.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return Err("has an empty, . or .. part");
    }
    Ok(())
}

/// A service's name: `[a-z0-9][a-z0-9_.-]*`, 1 to 64 bytes.
pub fn is_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=64).contains(&bytes.len())
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(b))
}

/// A version: `[A-Za-z0-9][A-Za-z0-9_.+-]*`, 1 to 64 bytes.
pub fn is_version(version: &str) -> bool {
    let bytes = version.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"_.+-".contains(b))
}
