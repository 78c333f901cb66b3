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
        let mut spec = PluginSpec::new(&self.program);
        spec.interval = self.manifest.interval();
        spec.timeout = self.manifest.timeout();
        spec.max_output = MAX_OUTPUT_BYTES;
        spec
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
    let actual = hex::encode(Sha256::digest(script));
    if actual != sha256 {
        return Err(InstallError::Checksum { expected: sha256.to_string(), actual });
    }
    let parsed = Manifest::parse(manifest)?;
    let home = dir.join(&parsed.name);
    let target = home.join(version.to_string());
    if !target.join("script").exists() {
        let staging = home.join(format!(".{version}.partial"));
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging).map_err(file_error(&staging))?;
        write_synced(&staging.join("manifest.toml"), manifest.as_bytes(), 0o644)?;
        write_synced(&staging.join("script"), script, 0o755)?;
        fs::rename(&staging, &target).map_err(file_error(&target))?;
    }
    activate(dir, &parsed.name, version)
}

/// Makes the installed `version` of script `name` the current one: a rollout, or a rollback.
///
/// # Errors
///
/// [`InstallError::NotInstalled`], [`InstallError::Manifest`] for an installed manifest that no
/// longer parses, [`InstallError::File`].
pub fn activate(dir: &Path, name: &str, version: i64) -> Result<Installed, InstallError> {
    let home = dir.join(name);
    let target = home.join(version.to_string());
    if !target.join("script").is_file() {
        return Err(InstallError::NotInstalled { name: name.to_string(), version });
    }
    let link = home.join(".current.new");
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(version.to_string(), &link).map_err(file_error(&link))?;
    let current = home.join("current");
    fs::rename(&link, &current).map_err(file_error(&current))?;
    sync_dir(&home)?;
    read_installed(&home)
}

/// Every script installed in `dir` at its current version, by name. An entry that cannot be read
/// (a version half-written by a crash, a manifest changed by hand) is left out and logged.
pub fn installed(dir: &Path) -> Vec<Installed> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut scripts: Vec<Installed> = entries
        .flatten()
        .filter(|entry| entry.path().join("current").exists())
        .filter_map(|entry| match read_installed(&entry.path()) {
            Ok(installed) => Some(installed),
            Err(err) => {
                tracing::warn!(script = %entry.path().display(), cause = %err, "an installed script cannot be read");
                None
            }
        })
        .collect();
    scripts.sort_by(|a, b| a.manifest.name.cmp(&b.manifest.name));
    scripts
}

/// The current version of the script whose directory is `home`.
fn read_installed(home: &Path) -> Result<Installed, InstallError> {
    let current = home.join("current");
    let version = fs::read_link(&current).map_err(file_error(&current))?;
    let name = home.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let version: i64 = version
        .to_string_lossy()
        .parse()
        .map_err(|_| InstallError::NotInstalled { name: name.clone(), version: -1 })?;
    let target = home.join(version.to_string());
    let text = fs::read_to_string(target.join("manifest.toml")).map_err(file_error(&target))?;
    let manifest = Manifest::parse(&text)?;
    Ok(Installed { manifest, version, program: target.join("script") })
}

/// Writes `bytes` to a new file at `path` with `mode`, and waits for them to reach the disk.
fn write_synced(path: &Path, bytes: &[u8], mode: u32) -> Result<(), InstallError> {
    let mut file = fs::File::create(path).map_err(file_error(path))?;
    file.write_all(bytes).map_err(file_error(path))?;
    file.set_permissions(fs::Permissions::from_mode(mode)).map_err(file_error(path))?;
    file.sync_all().map_err(file_error(path))
}

/// Waits for a directory's entries (a rename into it) to reach the disk.
fn sync_dir(dir: &Path) -> Result<(), InstallError> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(file_error(dir))
}

fn file_error(path: &Path) -> impl FnOnce(io::Error) -> InstallError {
    let path = path.to_path_buf();
    move |source| InstallError::File { path, source }
}
