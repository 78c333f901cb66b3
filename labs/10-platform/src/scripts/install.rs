//! Scripts on a host: a version installed from the package the platform sent, its SHA-256 checked
//! against the one the platform recorded (and signed, in the command that carries it), and the
//! scripts installed read back as lab 08 plugins for the agent's scheduler.
//!
//! ```text
//! DIR/queue_depth/3/manifest.toml
//! DIR/queue_depth/3/script          (0755)
//! DIR/queue_depth/current -> 3      (a symbolic link, replaced by a rename)
//! ```
//!
//! A version is written in a temporary directory beside the others and renamed into place whole;
//! `current` is a new link renamed over the old one. A crash at any point leaves either the old
//! version current or the new one, never half of one: the rename is the commit.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use monitor::collect::plugin::PluginSpec;
use sha2::{Digest, Sha256};

use super::{MAX_OUTPUT_BYTES, Manifest, Violation};

/// Why a script could not be installed or made current.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The script is not the one the platform recorded.
    #[error("the script's SHA-256 is {actual}, not {expected}")]
    Checksum {
        /// The one the platform sent.
        expected: String,
        /// The script's.
        actual: String,
    },
    /// The script could not be fetched from the platform.
    #[error("cannot fetch {url}: {reason}")]
    Fetch {
        /// Where it was asked for.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The manifest does not keep the standard.
    #[error("{0}")]
    Manifest(#[from] Violation),
    /// No such version installed.
    #[error("{name} version {version} is not installed")]
    NotInstalled {
        /// The script.
        name: String,
        /// The version asked for.
        version: i64,
    },
    /// The file system refused.
    #[error("{}: {source}", path.display())]
    File {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
}

/// A script installed and current on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// Its manifest.
    pub manifest: Manifest,
    /// Its version.
    pub version: i64,
    /// The script, to run.
    pub program: PathBuf,
}

impl Installed {
    /// How lab 08's agent runs it: every interval, within its timeout, its output capped.
    pub fn plugin(&self) -> PluginSpec {
        todo!(
            "stage 3: a PluginSpec of the program with the manifest's interval and timeout, and MAX_OUTPUT_BYTES"
        )
    }
}

/// Installs `version` of the package (`manifest`, `script`) in `dir` and makes it current, once
/// the script's SHA-256 is `sha256`. Installing a version already there makes it current again.
///
/// # Errors
///
/// [`InstallError::Checksum`] (nothing is written then), [`InstallError::Manifest`],
/// [`InstallError::File`].
pub fn install(
    dir: &Path,
    manifest: &str,
    script: &[u8],
    sha256: &str,
    version: i64,
) -> Result<Installed, InstallError> {
    todo!(
        "stage 3: the SHA-256 first (nothing written when it differs); the version written in a temporary directory beside the others, each file synced, renamed into place whole; then activate"
    )
}

/// Makes the installed `version` of script `name` the current one: a rollout, or a rollback.
///
/// # Errors
///
/// [`InstallError::NotInstalled`], [`InstallError::Manifest`] for an installed manifest that no
/// longer parses, [`InstallError::File`].
pub fn activate(dir: &Path, name: &str, version: i64) -> Result<Installed, InstallError> {
    todo!(
        "stage 3: a new symbolic link `current` -> VERSION renamed over the old one, the directory synced; the installed version read back"
    )
}

/// Every script installed in `dir` at its current version, by name. An entry that cannot be read
/// (a version half-written by a crash, a manifest changed by hand) is left out and logged.
pub fn installed(dir: &Path) -> Vec<Installed> {
    todo!(
        "stage 3: each directory with a `current` link, read back; one that cannot be read is left out and logged"
    )
}
