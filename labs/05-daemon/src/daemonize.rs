//! Becoming a daemon: the double fork, a new session, a clean umask, working directory and set of
//! file descriptors, and a pipe that tells the process that ran `superd start` when the daemon is
//! ready.

use std::fs::{File, OpenOptions};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use crate::error::Error;

// TODO(stage 1): two private helpers keep daemonize short: the middle process's part (setsid,
// fork again, libc::_exit in the parent, never exit), and closing every descriptor above 2 that is
// not kept, listed from /proc/self/fd and collected before closing (the listing has a fd of its
// own). Make the readiness pipe with pipe2(O_CLOEXEC); the parent reads 0 bytes if the daemon died.

/// The daemon's file-mode creation mask: files it creates are not writable by the group and not
/// readable by others, whatever the mask of the shell that started it.
pub const DAEMON_UMASK: libc::mode_t = 0o027;

/// Which process returned from [`daemonize`].
#[derive(Debug)]
pub enum Daemonized {
    /// The process that called [`daemonize`]: the daemon said it is ready.
    Parent,
    /// The daemon: the grandchild, in its own session, with no terminal.
    Daemon(Ready),
}

/// The daemon's end of the readiness pipe: [`Ready::notify`] lets the parent return.
#[derive(Debug)]
pub struct Ready {
    pipe: OwnedFd,
}

impl Ready {
    /// Tells the parent that the daemon is ready (its pid file written, its signals handled).
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] if the byte cannot be written (the parent died).
    pub fn notify(self) -> Result<(), Error> {
        todo!("stage 1: write one byte to the readiness pipe")
    }
}

/// Detaches the calling process from its terminal and session, as a daemon.
///
/// The caller forks a child and waits; the child calls `setsid` and forks the daemon, then exits,
/// so that the daemon is neither a session leader (it can never acquire a controlling terminal)
/// nor anyone's child but init's (or the nearest subreaper's). The daemon sets its umask to
/// [`DAEMON_UMASK`], changes to `/`, reads stdin from `/dev/null`, appends stdout and stderr to
/// `log`, and closes every other descriptor except those in `keep`.
///
/// Returns [`Daemonized::Parent`] in the caller once the daemon called [`Ready::notify`], and
/// [`Daemonized::Daemon`] in the daemon. Call it from a single-threaded process: after `fork`
/// only the calling thread exists, and any lock another thread held stays locked forever.
///
/// # Errors
///
/// [`Error::File`] if `log` cannot be opened, [`Error::Sys`] if a system call fails, and
/// [`Error::DiedStarting`] in the parent if the daemon exited without notifying.
pub fn daemonize(log: &Path, keep: &[RawFd]) -> Result<Daemonized, Error> {
    todo!(
        "stage 1: fork, setsid, fork again, umask, chdir /, redirect to the log, close all but `keep`; the parent waits for a byte"
    )
}

/// Opens the log for appending, creating it if needed.
pub fn open_log(log: &Path) -> Result<File, Error> {
    OpenOptions::new().create(true).append(true).open(log).map_err(Error::file(log))
}

/// Points stdout and stderr at `log` (replacing whatever they were), and stdin at `/dev/null`.
///
/// # Errors
///
/// [`Error::Sys`] if `dup2` fails, [`Error::File`] if `/dev/null` cannot be opened.
pub fn redirect_standard_streams(log: &File) -> Result<(), Error> {
    todo!("stage 1: dup2 /dev/null onto 0 and the log onto 1 and 2")
}
