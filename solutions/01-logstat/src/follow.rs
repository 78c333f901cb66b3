//! Following a log as it grows, like `tail -F`, across the two ways logs are rotated.
//!
//! - **Rename** (logrotate's default, then `nginx -s reopen`): the file is moved away and a new one
//!   is created at the path. The path now names a different inode; the old one may still grow until
//!   nginx reopens. A [`Follower`] drains the old file to its end, then switches to the new one.
//! - **copytruncate**: the file is copied away and truncated in place. Same inode, but its size drops
//!   below the offset already read; the follower starts again from offset 0.
//!
//! Neither can be seen by a poller in every case: lines written to the old file after the switch,
//! and a truncation followed by writes past the old offset before the next poll, are out of sight.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where a new [`Follower`] starts reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartAt {
    /// From the first byte: every existing line is read.
    Beginning,
    /// From the current end: only lines written from now on.
    End,
}

/// Reads the complete lines appended to a file since the last poll, across rotation.
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use logstat::{Follower, StartAt};
/// let dir = std::env::temp_dir().join(format!("follow-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("access.log");
/// let mut log = std::fs::File::create(&path).unwrap();
/// let mut follower = Follower::open(&path, StartAt::Beginning).unwrap();
/// log.write_all(b"one\ntw").unwrap();
/// assert_eq!(follower.poll().unwrap(), vec![b"one".to_vec()]);
/// log.write_all(b"o\n").unwrap();
/// assert_eq!(follower.poll().unwrap(), vec![b"two".to_vec()]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    /// The file being read, with its identity; `None` while the path does not exist.
    current: Option<Open>,
    /// The start of a line whose newline has not been written yet.
    partial: Vec<u8>,
}

#[derive(Debug)]
struct Open {
    file: File,
    device: u64,
    inode: u64,
    /// How far the file has been read.
    offset: u64,
}

impl Follower {
    /// Starts following `path`. A path that does not exist yet is not an error: it is picked up
    /// from its first byte as soon as it appears, as `tail -F` does.
    ///
    /// # Errors
    ///
    /// Any error opening an existing file (permissions, a directory).
    pub fn open(path: impl AsRef<Path>, start: StartAt) -> io::Result<Follower> {
        // ANCHOR: open
        let path = path.as_ref().to_path_buf();
        let mut current = open_at(&path)?;
        if let (Some(open), StartAt::End) = (current.as_mut(), start) {
            open.offset = open.file.seek(SeekFrom::End(0))?;
        }
        Ok(Follower { path, current, partial: Vec::new() })
        // ANCHOR_END: open
    }

    /// The path being followed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The complete lines (without their `\n`) written since the last call, in order.
    ///
    /// A final line without its newline is held back until the newline arrives, except when the file
    /// is rotated away: then the old file is finished and its last fragment is a line of its own.
    ///
    /// # Errors
    ///
    /// Any error reading the file or opening its replacement.
    pub fn poll(&mut self) -> io::Result<Vec<Vec<u8>>> {
        // ANCHOR: poll
        let mut lines = Vec::new();
        let Some(open) = self.current.as_mut() else {
            self.current = open_at(&self.path)?;
            return if self.current.is_some() { self.poll() } else { Ok(lines) };
        };
        if open.file.metadata()?.len() < open.offset {
            // copytruncate: the same file, shorter than what was read. Start it again.
            open.offset = open.file.seek(SeekFrom::Start(0))?;
            self.partial.clear();
        }
        read_lines(open, &mut self.partial, &mut lines)?;

        let replaced = match std::fs::metadata(&self.path) {
            Ok(meta) => (meta.dev(), meta.ino()) != (open.device, open.inode),
            Err(err) if err.kind() == io::ErrorKind::NotFound => false,
            Err(err) => return Err(err),
        };
        if replaced {
            // Renamed away: finish the old file (nginx may have written more), then take the new one.
            read_lines(open, &mut self.partial, &mut lines)?;
            if !self.partial.is_empty() {
                lines.push(std::mem::take(&mut self.partial));
            }
            self.current = open_at(&self.path)?;
            if let Some(open) = self.current.as_mut() {
                read_lines(open, &mut self.partial, &mut lines)?;
            }
        }
        Ok(lines)
        // ANCHOR_END: poll
    }
}

/// Opens `path` from its first byte, or `None` if it does not exist.
fn open_at(path: &Path) -> io::Result<Option<Open>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is a directory", path.display()),
        ));
    }
    Ok(Some(Open { file, device: meta.dev(), inode: meta.ino(), offset: 0 }))
}

/// Reads `open` to its current end, appending complete lines to `lines`.
fn read_lines(open: &mut Open, partial: &mut Vec<u8>, lines: &mut Vec<Vec<u8>>) -> io::Result<()> {
    let mut block = [0u8; 64 * 1024];
    loop {
        let read = match open.file.read(&mut block) {
            Ok(0) => return Ok(()),
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        open.offset += read as u64;
        let mut rest = &block[..read];
        while let Some(end) = memchr::memchr(b'\n', rest) {
            partial.extend_from_slice(&rest[..end]);
            lines.push(std::mem::take(partial));
            rest = &rest[end + 1..];
        }
        partial.extend_from_slice(rest);
    }
}
