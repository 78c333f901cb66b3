//! The signals the supervisor handles, turned into events of its main loop.
//!
//! A signal handler may run between any two instructions of the program, even in the middle of
//! `malloc`, so it may only do what is async-signal-safe. Here it sets a flag and writes one byte
//! to a pipe (the self-pipe trick); the main loop sleeps in `poll` on the pipe's other end, wakes
//! up, and does the real work outside the handler.

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::Error;

// TODO(stage 3): signal_hook does the handler's part: flag::register sets a flag and
// low_level::pipe::register writes a byte to a clone of the socket's other end; register the flag
// first, so it is set when the byte wakes the loop. Make both ends non-blocking, so draining stops.

/// The signals that arrived since the last [`Signals::wait`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// SIGTERM or SIGINT: stop.
    pub term: bool,
    /// SIGHUP: reopen the log and reread the configuration.
    pub hup: bool,
    /// SIGCHLD: a child changed state; reap it.
    pub chld: bool,
}

/// The installed handlers and the reading end of their pipe.
#[derive(Debug)]
pub struct Signals {
    wake: UnixStream,
    term: Arc<AtomicBool>,
    hup: Arc<AtomicBool>,
    chld: Arc<AtomicBool>,
}

impl Signals {
    /// Installs handlers for SIGTERM, SIGINT, SIGHUP and SIGCHLD.
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] if the pipe or a handler cannot be set up.
    pub fn install() -> Result<Signals, Error> {
        todo!(
            "stage 1: the socketpair and the flags; stage 3: a flag and a pipe handler for SIGTERM, SIGINT, SIGHUP, SIGCHLD"
        )
    }

    /// Sleeps until a signal arrives or `timeout` passes (`None`: no timeout), and returns what
    /// arrived (possibly nothing).
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] if `poll` fails other than by being interrupted.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<Pending, Error> {
        todo!(
            "stage 3: unless a flag is already set, poll the socket up to `timeout`; drain it, swap the flags"
        )
    }

    fn any_pending(&self) -> bool {
        [&self.term, &self.hup, &self.chld].iter().any(|flag| flag.load(Ordering::SeqCst))
    }
}
