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

use std::io;
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
    // TODO(stage 5): the open file, its device and inode (std::os::unix::fs::MetadataExt), how far
    // it has been read, and the start of a line whose newline has not arrived yet.
}

impl Follower {
    /// Starts following `path`. A path that does not exist yet is not an error: it is picked up
    /// from its first byte as soon as it appears, as `tail -F` does.
    ///
    /// # Errors
    ///
    /// Any error opening an existing file (permissions, a directory).
    pub fn open(path: impl AsRef<Path>, start: StartAt) -> io::Result<Follower> {
        todo!("stage 5: open the file if it exists, remember its inode, seek to the end for StartAt::End")
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
        todo!("stage 5: read new complete lines; handle truncation and a new inode at the path")
    }
}
