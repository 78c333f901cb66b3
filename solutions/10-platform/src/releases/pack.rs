//! Making a release package (`platform pack DIR`): the service's files and its manifest, with the
//! SHA-256 of every file written into the manifest's `[checksums]`, as a gzipped tar archive.
//! The same files always make the same bytes (sorted, owned by root, dated 0), so a package's
//! checksum names its content.
//!
//! The course's tool, not the lab's work: so it is given.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use super::package::MANIFEST_FILE;

/// A file of a package: its path in it, its bytes, and whether it is executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackFile {
    /// Its path in the package, as `bin/start`.
    pub path: String,
    /// Its content.
    pub bytes: Vec<u8>,
    /// Whether it is a program (mode 0755, else 0644).
    pub executable: bool,
}

impl PackFile {
    /// A file at `path` holding `bytes`.
    pub fn new(path: &str, bytes: impl Into<Vec<u8>>, executable: bool) -> PackFile {
        PackFile { path: path.to_string(), bytes: bytes.into(), executable }
    }
}

/// The package of `files` with the manifest `head` (every field but `[checksums]`), which gets a
/// `[checksums]` table listing every file's SHA-256.
pub fn pack_files(head: &str, files: &[PackFile]) -> Vec<u8> {
    let mut manifest = head.trim_end().to_string();
    manifest.push_str("\n\n[checksums]\n");
    let mut sorted: Vec<&PackFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for file in &sorted {
        manifest.push_str(&format!("{:?} = \"{}\"\n", file.path, hex::encode(Sha256::digest(&file.bytes))));
    }
    let mut entries = vec![PackFile::new(MANIFEST_FILE, manifest, false)];
    entries.extend(sorted.into_iter().cloned());
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for entry in &entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(entry.bytes.len() as u64);
        header.set_mode(if entry.executable { 0o755 } else { 0o644 });
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        // Writing to memory cannot fail, and a path is refused only when it is too long for the
        // header: which check_release would refuse too.
        let _ = builder.append_data(&mut header, &entry.path, entry.bytes.as_slice());
    }
    let encoder = builder.into_inner().unwrap_or_else(|_| GzEncoder::new(Vec::new(), Compression::default()));
    encoder.finish().unwrap_or_default()
}

/// The package of the directory `dir`: its `release.toml` (without `[checksums]`) and every
/// other file under it.
///
/// # Errors
///
/// When a file cannot be read, or `dir` has no `release.toml`.
pub fn pack_dir(dir: &Path) -> io::Result<Vec<u8>> {
    let head = fs::read_to_string(dir.join(MANIFEST_FILE))?;
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.retain(|file| file.path != MANIFEST_FILE);
    Ok(pack_files(&head, &files))
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<PackFile>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &entry.path(), files)?;
        } else if kind.is_file() {
            let path = entry.path();
            let relative = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
            let executable = entry.metadata()?.permissions().mode() & 0o111 != 0;
            files.push(PackFile { path: relative, bytes: fs::read(&path)?, executable });
        }
    }
    Ok(())
}

/// Writes `package` to `path` whole, or not at all.
///
/// # Errors
///
/// When it cannot be written.
pub fn write_package(path: &Path, package: &[u8]) -> io::Result<()> {
    let temporary = path.with_extension("partial");
    let mut file = fs::File::create(&temporary)?;
    file.write_all(package)?;
    file.sync_all()?;
    fs::rename(&temporary, path)
}
