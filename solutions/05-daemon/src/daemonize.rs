//! Becoming a daemon: the double fork, a new session, a clean umask, working directory and set of
//! file descriptors, and a pipe that tells the process that ran `superd start` when the daemon is
//! ready.

use std::fs::{File, OpenOptions};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use crate::error::Error;

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
        // SAFETY: the buffer is one valid byte and the descriptor is owned by `self`.
        let written = unsafe { libc::write(self.pipe.as_raw_fd(), b"R".as_ptr().cast(), 1) };
        if written == 1 { Ok(()) } else { Err(Error::last_os("write(readiness pipe)")) }
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
// ANCHOR: daemonize
pub fn daemonize(log: &Path, keep: &[RawFd]) -> Result<Daemonized, Error> {
    let log_file = open_log(log)?;
    let (read_end, write_end) = pipe().map_err(Error::sys("pipe2"))?;
    // SAFETY: fork has no preconditions; the child only runs code of this single-threaded process.
    match unsafe { libc::fork() } {
        -1 => Err(Error::last_os("fork")),
        0 => {
            drop(read_end);
            become_session_leader_and_fork();
            // The grandchild: the daemon.
            // SAFETY: umask cannot fail.
            unsafe { libc::umask(DAEMON_UMASK) };
            std::env::set_current_dir("/").map_err(Error::file("/"))?;
            redirect_standard_streams(&log_file)?;
            drop(log_file);
            let mut kept = keep.to_vec();
            kept.push(write_end.as_raw_fd());
            close_inherited(&kept);
            Ok(Daemonized::Daemon(Ready { pipe: write_end }))
        }
        child => {
            drop(write_end);
            drop(log_file);
            let mut status = 0;
            // SAFETY: `child` is our child and `status` a valid place to write its status.
            while unsafe { libc::waitpid(child, &mut status, 0) } == -1 {
                if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                    return Err(Error::last_os("waitpid"));
                }
            }
            // One byte when the daemon is ready; end of file if it died first.
            let mut byte = [0u8; 1];
            let read = std::io::Read::read(&mut File::from(read_end), &mut byte).unwrap_or(0);
            if read == 1 {
                Ok(Daemonized::Parent)
            } else {
                Err(Error::DiedStarting { log: log.to_path_buf() })
            }
        }
    }
}
// ANCHOR_END: daemonize

/// In the first child: a new session without a terminal, then fork again and let the session
/// leader exit. Returns only in the grandchild.
// ANCHOR: second_fork
fn become_session_leader_and_fork() {
    // SAFETY: setsid, fork and _exit have no memory-safety preconditions; the first child is not a
    // process group leader (its pid is new), so setsid succeeds.
    unsafe {
        if libc::setsid() == -1 {
            libc::_exit(1);
        }
        match libc::fork() {
            -1 => libc::_exit(1),
            0 => {}
            // _exit, not exit: the parent's atexit handlers and stdio buffers are not ours to run.
            _ => libc::_exit(0),
        }
    }
}
// ANCHOR_END: second_fork

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
    let null = File::open("/dev/null").map_err(Error::file("/dev/null"))?;
    for (from, to) in [(null.as_raw_fd(), 0), (log.as_raw_fd(), 1), (log.as_raw_fd(), 2)] {
        // SAFETY: both are open descriptors; dup2 replaces `to` atomically and clears its CLOEXEC
        // flag, so the supervised command inherits the three.
        if unsafe { libc::dup2(from, to) } == -1 {
            return Err(Error::last_os(format!("dup2({from}, {to})")));
        }
    }
    Ok(())
}

/// A pipe whose two ends close on exec: the daemon's start report, and the supervised command's
/// output (which the command gets by `dup2`).
pub(crate) fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both are new descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Closes every descriptor above 2 not in `keep`: whatever the shell, a test harness or a careless
/// parent left open without close-on-exec would otherwise live as long as the daemon.
// ANCHOR: close_inherited
fn close_inherited(keep: &[RawFd]) {
    // Collected first: the directory handle is itself a descriptor in the list.
    let open: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok()).collect(),
        Err(_) => (3..1024).collect(),
    };
    for fd in open {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: the descriptor is not owned by any live Rust object of this process except
            // those in `keep`; closing the directory's own, already closed, one fails harmlessly.
            unsafe { libc::close(fd) };
        }
    }
}
// ANCHOR_END: close_inherited
