//! The pid file: which process is the daemon, and a lock proving that it still runs.
//!
//! The daemon holds an exclusive `flock` on the file for its whole life. A lock, unlike the pid
//! alone, cannot lie: the kernel drops it when the process dies, however it dies, while the pid of
//! a dead daemon may already belong to an unrelated process. `flock` locks belong to the open file
//! description, so the lock taken before the double fork is still held by the daemon after its
//! parents exit (a POSIX `fcntl` lock would not survive the fork).

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::Error;

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
    // ANCHOR: acquire
    pub fn acquire(path: &Path) -> Result<PidFile, Error> {
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                .open(path)
                .map_err(Error::file(path))?;
            if !try_lock(&file, libc::LOCK_EX).map_err(Error::file(path))? {
                let pid = read_pid(path)?.unwrap_or(0);
                return Err(Error::AlreadyRunning { pid, path: path.to_path_buf() });
            }
            // A stopping daemon may have removed the file between our open and our lock: then we
            // locked a file nobody can see, and a second `start` would lock a new one. Try again.
            let ours = file.metadata().map_err(Error::file(path))?;
            match std::fs::metadata(path) {
                Ok(now) if now.dev() == ours.dev() && now.ino() == ours.ino() => {
                    return Ok(PidFile { file, path: path.to_path_buf() });
                }
                _ => continue,
            }
        }
    }
    // ANCHOR_END: acquire

    /// Replaces the file's content with `pid` and a newline.
    ///
    /// # Errors
    ///
    /// [`Error::File`] if the file cannot be written.
    pub fn write_pid(&mut self, pid: i32) -> Result<(), Error> {
        let text = format!("{pid}\n");
        self.file
            .set_len(0)
            .and_then(|()| self.file.write_all_at(text.as_bytes(), 0))
            .map_err(Error::file(&self.path))
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
        // Unlink while still locked, so no new daemon can lock the old file in between.
        std::fs::remove_file(&self.path).map_err(Error::file(&self.path))
    }
}

/// Reads the pid file at `path` and checks its lock.
///
/// # Errors
///
/// [`Error::File`] if it exists but cannot be read or locked; [`Error::BadPidFile`] if a locked
/// file holds something other than a pid.
// ANCHOR: status
pub fn status(path: &Path) -> Result<Status, Error> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Status::NotRunning),
        Err(err) => return Err(Error::file(path)(err)),
    };
    // A shared lock succeeds only if no daemon holds its exclusive one.
    // The pid is read from the file just locked: by path, it could be a newer daemon's.
    if try_lock(&file, libc::LOCK_SH).map_err(Error::file(path))? {
        return Ok(Status::Stale(read_pid_from(&mut file, path).ok().flatten()));
    }
    match read_pid_from(&mut file, path)? {
        Some(pid) => Ok(Status::Running(pid)),
        // Locked but empty: the daemon is between its lock and its write.
        None => Err(Error::BadPidFile { path: path.to_path_buf(), content: String::new() }),
    }
}
// ANCHOR_END: status

/// The pid in the file at `path`, or `None` if it is empty.
///
/// # Errors
///
/// [`Error::File`] if it cannot be read, [`Error::BadPidFile`] if it is not a positive number.
pub fn read_pid(path: &Path) -> Result<Option<i32>, Error> {
    let mut file = File::open(path).map_err(Error::file(path))?;
    read_pid_from(&mut file, path)
}

/// [`read_pid`] from an open `file`; `path` names it in errors.
fn read_pid_from(file: &mut File, path: &Path) -> Result<Option<i32>, Error> {
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(Error::file(path))?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    match trimmed.parse::<i32>() {
        Ok(pid) if pid > 0 => Ok(Some(pid)),
        _ => Err(Error::BadPidFile { path: path.to_path_buf(), content: text }),
    }
}

/// Tries to take a `flock` of kind `how` without waiting: `Ok(false)` if another holds it.
fn try_lock(file: &File, how: libc::c_int) -> std::io::Result<bool> {
    // SAFETY: flock on a descriptor owned by `file`. With LOCK_NB it never waits, so it is never
    // interrupted: no EINTR loop.
    if unsafe { libc::flock(file.as_raw_fd(), how | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) { Ok(false) } else { Err(err) }
}
