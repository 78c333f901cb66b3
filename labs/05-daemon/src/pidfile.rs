//! The pid file: which process is the daemon, and a lock proving that it still runs.
//!
//! The daemon holds an exclusive `flock` on the file for its whole life. A lock, unlike the pid
//! alone, cannot lie: the kernel drops it when the process dies, however it dies, while the pid of
//! a dead daemon may already belong to an unrelated process. `flock` locks belong to the open file
//! description, so the lock taken before the double fork is still held by the daemon after its
//! parents exit (a POSIX `fcntl` lock would not survive the fork).

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};

use crate::error::Error;

// TODO(stage 2): one private try_lock(file, how) over flock(how | LOCK_NB), false on EWOULDBLOCK
// (LOCK_NB never waits, so it is never interrupted), serves acquire (LOCK_EX) and status (LOCK_SH succeeds only if no daemon
// holds the file). After locking, check the path still names the inode you locked: a stopping
// daemon may have removed it in between.

/// A pid file, locked by this process.
#[derive(Debug)]
pub struct PidFile {
    file: File,
    path: PathBuf,
}

/// What a pid file says about its daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A process holds the lock; it wrote this pid.
    Running(i32),
    /// The file exists but nobody holds its lock: the daemon died without removing it.
    Stale(Option<i32>),
    /// There is no pid file.
    NotRunning,
}

impl PidFile {
    /// Creates or opens the pid file at `path` and locks it, taking over a stale one.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyRunning`] naming the pid in the file if another process holds the lock;
    /// [`Error::File`] if the file cannot be created or locked.
    pub fn acquire(path: &Path) -> Result<PidFile, Error> {
        todo!("stage 1: create or open without truncating; stage 2: flock it, or name the pid that holds it")
    }

    /// Replaces the file's content with `pid` and a newline.
    ///
    /// # Errors
    ///
    /// [`Error::File`] if the file cannot be written.
    pub fn write_pid(&mut self, pid: i32) -> Result<(), Error> {
        todo!("stage 1: replace the file's content with the pid and a newline")
    }

    /// The locked descriptor, which the daemon must keep open.
    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// The path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the file, then releases the lock by closing it. Call it on a clean exit only: the
    /// process that forked the daemon must drop its copy instead.
    ///
    /// # Errors
    ///
    /// [`Error::File`] if the file cannot be removed.
    pub fn remove(self) -> Result<(), Error> {
        todo!("stage 2: remove the file while still holding the lock")
    }
}

/// Reads the pid file at `path` and checks its lock.
///
/// # Errors
///
/// [`Error::File`] if it exists but cannot be read or locked; [`Error::BadPidFile`] if a locked
/// file holds something other than a pid.
pub fn status(path: &Path) -> Result<Status, Error> {
    todo!("stage 2: is the pid file locked, stale or missing?")
}

/// The pid in the file at `path`, or `None` if it is empty.
///
/// # Errors
///
/// [`Error::File`] if it cannot be read, [`Error::BadPidFile`] if it is not a positive number.
pub fn read_pid(path: &Path) -> Result<Option<i32>, Error> {
    todo!("stage 2: read the pid in the file, None if it is empty")
}
