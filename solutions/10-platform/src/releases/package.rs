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
    read_package(package, None).map_err(|err| match err {
        UnpackError::Violation(violation) => violation,
        // Nothing is written, so nothing can fail to be.
        UnpackError::File { path, source } => {
            Violation::new("release.archive", format!("{}: {source}", path.display()))
        }
    })
}

/// Unpacks `package` into `dir` (which must not exist yet), checking it as [`check_release`]
/// does on the way: on an error, what was written is left for the caller to remove.
///
/// # Errors
///
/// [`UnpackError::Violation`] as [`check_release`], [`UnpackError::File`].
pub fn unpack_release(package: &[u8], dir: &Path) -> Result<CheckedRelease, UnpackError> {
    fs::create_dir(dir).map_err(|source| UnpackError::File { path: dir.to_path_buf(), source })?;
    read_package(package, Some(dir))
}

/// Reads `package` entry by entry, hashing each file, and writing it under `dir` when given.
fn read_package(package: &[u8], dir: Option<&Path>) -> Result<CheckedRelease, UnpackError> {
    if package.len() > MAX_PACKAGE_BYTES {
        return Err(Violation::new(
            "release.size",
            format!("the package is {} bytes, over {MAX_PACKAGE_BYTES}", package.len()),
        )
        .into());
    }
    let archive_error =
        |err: io::Error| Violation::new("release.archive", format!("not a gzipped tar archive: {err}"));
    let mut archive = Archive::new(GzDecoder::new(package));
    let mut seen = BTreeSet::new();
    let mut sums: BTreeMap<String, (String, bool)> = BTreeMap::new();
    let mut manifest_text = None;
    let mut unpacked = 0u64;
    for entry in archive.entries().map_err(archive_error)? {
        let mut entry = entry.map_err(archive_error)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = raw.strip_prefix("./").unwrap_or(&raw).trim_end_matches('/').to_string();
        if path.is_empty() || path == "." {
            continue;
        }
        if seen.len() >= MAX_FILES {
            return Err(Violation::new("release.size", format!("more than {MAX_FILES} entries")).into());
        }
        check_path(&path).map_err(|reason| Violation::new("release.entry", format!("{path:?} {reason}")))?;
        if !seen.insert(path.clone()) {
            return Err(Violation::new("release.entry", format!("{path:?} is in the package twice")).into());
        }
        let kind = entry.header().entry_type();
        match kind {
            EntryType::Directory => {
                if let Some(dir) = dir {
                    let target = dir.join(&path);
                    fs::create_dir_all(&target)
                        .map_err(|source| UnpackError::File { path: target, source })?;
                }
                continue;
            }
            EntryType::Regular | EntryType::Continuous => {}
            other => {
                return Err(Violation::new(
                    "release.entry",
                    format!("{path:?} is a {other:?}: a package holds only files and directories"),
                )
                .into());
            }
        }
        let size = entry.header().size().map_err(archive_error)?;
        unpacked = unpacked.saturating_add(size);
        if unpacked > MAX_UNPACKED_BYTES {
            return Err(Violation::new(
                "release.size",
                format!("unpacks to over {MAX_UNPACKED_BYTES} bytes"),
            )
            .into());
        }
        let executable = entry.header().mode().map_err(archive_error)? & 0o111 != 0;
        if path == MANIFEST_FILE {
            if size > MAX_MANIFEST_BYTES {
                return Err(Violation::new(
                    "release.size",
                    format!("the manifest is over {MAX_MANIFEST_BYTES} bytes"),
                )
                .into());
            }
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(|err| {
                Violation::new("release.manifest", format!("the manifest is not UTF-8 text: {err}"))
            })?;
            if let Some(dir) = dir {
                write_file(&dir.join(&path), text.as_bytes(), false)?;
            }
            manifest_text = Some(text);
            continue;
        }
        // The declared size is checked above; the reader is capped too, so an entry whose header
        // lies cannot unpack past the limit.
        let mut reader = (&mut entry).take(size);
        let sum = copy_hashing(&mut reader, dir.map(|dir| dir.join(&path)).as_deref(), executable)?;
        sums.insert(path, (sum, executable));
    }
    // Read the stream to its end, so gzip checks its CRC: a package damaged past tar's last
    // entry is refused too.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(archive_error)?;
    let manifest_text = manifest_text.ok_or_else(|| {
        Violation::new("release.manifest", format!("the package has no {MANIFEST_FILE} at its root"))
    })?;
    let manifest = ReleaseManifest::parse(&manifest_text)?;
    for (path, (sum, _)) in &sums {
        match manifest.checksums.get(path) {
            None => {
                return Err(Violation::new(
                    "release.unlisted",
                    format!("{path:?} is not in the manifest's checksums"),
                )
                .into());
            }
            Some(listed) if listed != sum => {
                return Err(Violation::new(
                    "release.checksum",
                    format!("{path:?} has the SHA-256 {sum}, the manifest says {listed}"),
                )
                .into());
            }
            Some(_) => {}
        }
    }
    if let Some(path) = manifest.checksums.keys().find(|path| !sums.contains_key(*path)) {
        return Err(
            Violation::new("release.missing", format!("{path:?} is listed and not in the package")).into()
        );
    }
    let hooks = [
        ("start", &manifest.hooks.start),
        ("stop", &manifest.hooks.stop),
        ("status", &manifest.hooks.status),
    ];
    if let Some((hook, path)) = hooks.iter().find(|(_, path)| !sums[path.as_str()].1) {
        return Err(Violation::new("release.hook", format!("{hook} = {path:?} is not executable")).into());
    }
    Ok(CheckedRelease {
        manifest,
        manifest_text,
        sha256: hex::encode(Sha256::digest(package)),
        files: sums.len() + 1,
        unpacked_bytes: unpacked,
    })
}

/// The SHA-256 of what `reader` gives, written to a new file at `path` (mode 0755 or 0644) when
/// given.
fn copy_hashing(
    reader: &mut impl Read,
    path: Option<&Path>,
    executable: bool,
) -> Result<String, UnpackError> {
    let mut file = match path {
        Some(path) => {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .map_err(|source| UnpackError::File { path: parent.to_path_buf(), source })?;
            }
            let file = open_new(path, executable)
                .map_err(|source| UnpackError::File { path: path.to_path_buf(), source })?;
            Some((file, path))
        }
        None => None,
    };
    let mut hasher = Sha256::new();
    let mut buffer = [0u8; 64 * 1024];
    loop {
        let read = reader
            .read(&mut buffer)
            .map_err(|err| Violation::new("release.archive", format!("not a gzipped tar archive: {err}")))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        if let Some((file, path)) = &mut file {
            file.write_all(&buffer[..read])
                .map_err(|source| UnpackError::File { path: path.to_path_buf(), source })?;
        }
    }
    if let Some((file, path)) = &file {
        file.sync_all().map_err(|source| UnpackError::File { path: path.to_path_buf(), source })?;
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Writes `bytes` to a new file at `path`.
fn write_file(path: &Path, bytes: &[u8], executable: bool) -> Result<(), UnpackError> {
    let failed = |source| UnpackError::File { path: path.to_path_buf(), source };
    let mut file = open_new(path, executable).map_err(failed)?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(failed)
}

/// A new file at `path` (never one that exists: a package does not write through anything the
/// directory held), 0755 or 0644 whatever the umask.
fn open_new(path: &Path, executable: bool) -> io::Result<fs::File> {
    let mode = if executable { 0o755 } else { 0o644 };
    let file = fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    Ok(file)
}
