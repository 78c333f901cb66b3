//! A release package: a gzipped tar archive of the service's files with its manifest,
//! `release.toml`, at the root. The platform checks a package whole before it stores it
//! ([`check_release`]); a host reads it the same way as it unpacks it ([`unpack_release`]), so
//! what a host installs is what was checked, file by file.
//!
//! The rules: at most [`MAX_PACKAGE_BYTES`] packed, [`MAX_UNPACKED_BYTES`] and [`MAX_FILES`]
//! unpacked (a gzip bomb stops at the limit, not at the disk's end); only files and directories,
//! each path relative with plain parts (nothing lands outside the release's directory, no link
//! points anywhere), none twice; a manifest that parses; every other file listed in its
//! checksums with its SHA-256, every listed file present; and the hooks executable.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};
use tar::{Archive, EntryType};

use super::{ReleaseManifest, check_path};
use crate::scripts::Violation;

/// The largest package, packed.
pub const MAX_PACKAGE_BYTES: usize = 8 << 20;
/// The most bytes a package may unpack to.
pub const MAX_UNPACKED_BYTES: u64 = 64 << 20;
/// The most entries (files and directories) in a package.
pub const MAX_FILES: usize = 1_000;
/// The manifest's name in the package.
pub const MANIFEST_FILE: &str = "release.toml";
/// The largest manifest.
const MAX_MANIFEST_BYTES: u64 = 256 << 10;

/// A package that keeps the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRelease {
    /// Its manifest.
    pub manifest: ReleaseManifest,
    /// The manifest as written.
    pub manifest_text: String,
    /// The package's SHA-256, in hex: what the hosts are told to expect.
    pub sha256: String,
    /// How many files it holds, the manifest among them.
    pub files: usize,
    /// How many bytes they come to.
    pub unpacked_bytes: u64,
}

/// Why a package could not be unpacked on a host.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// It breaks a rule.
    #[error("{}: {}", .0.rule, .0.reason)]
    Violation(Violation),
    /// The file system refused.
    #[error("{}: {source}", path.display())]
    File {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
}

impl From<Violation> for UnpackError {
    fn from(violation: Violation) -> UnpackError {
        UnpackError::Violation(violation)
    }
}

/// Checks `package` against the rules, writing nothing.
///
/// # Errors
///
/// A [`Violation`] of `release.size`, `release.archive` (not a gzipped tar), `release.entry` (a
/// link, a device, a path that could leave its directory, one seen twice), `release.manifest`
/// (none), what [`ReleaseManifest::parse`] finds, `release.unlisted` (a file the checksums do not
/// list), `release.missing` (one they list and the package lacks), `release.checksum` (a file
/// that is not what they say) or `release.hook` (a hook that is not executable).
pub fn check_release(package: &[u8]) -> Result<CheckedRelease, Violation> {
    todo!(
        "stage 4: read the package as unpack_release does, writing nothing; a file-system error cannot happen then"
    )
}

/// Unpacks `package` into `dir` (which must not exist yet), checking it as [`check_release`]
/// does on the way: on an error, what was written is left for the caller to remove.
///
/// # Errors
///
/// [`UnpackError::Violation`] as [`check_release`], [`UnpackError::File`].
pub fn unpack_release(package: &[u8], dir: &Path) -> Result<CheckedRelease, UnpackError> {
    todo!(
        "stage 4: size first (release.size); then tar::Archive over flate2 GzDecoder, entry by entry: skip `.`, at most MAX_FILES, check_path each path (release.entry), none twice, only files and directories (release.entry), the total size capped at MAX_UNPACKED_BYTES (release.size); keep release.toml as text, hash every other file with SHA-256 (writing it under dir when unpacking, 0755 when its mode has an x bit); read the gzip stream to its end (its CRC); then parse the manifest and compare: release.unlisted, release.checksum, release.missing, release.hook (not executable)"
    )
}
