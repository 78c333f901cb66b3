//! The signals the supervisor handles, turned into events of its main loop.
//!
//! A signal handler may run between any two instructions of the program, even in the middle of
//! `malloc`, so it may only do what is async-signal-safe. Here it sets a flag and writes one byte
//! to a pipe (the self-pipe trick); the main loop sleeps in `poll` on the pipe's other end, wakes
//! up, and does the real work outside the handler.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM};

use crate::error::Error;

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
    // ANCHOR: install
    pub fn install() -> Result<Signals, Error> {
        let (wake, write) = UnixStream::pair().map_err(Error::sys("socketpair"))?;
        wake.set_nonblocking(true).map_err(Error::sys("fcntl(O_NONBLOCK)"))?;
        write.set_nonblocking(true).map_err(Error::sys("fcntl(O_NONBLOCK)"))?;
        let signals = Signals { wake, term: Arc::default(), hup: Arc::default(), chld: Arc::default() };
        for (signal, flag) in [
            (SIGTERM, &signals.term),
            (SIGINT, &signals.term),
            (SIGHUP, &signals.hup),
            (SIGCHLD, &signals.chld),
        ] {
            // The flag first: handlers run in the order they were registered, so when the byte
            // wakes the loop the flag is already set.
            signal_hook::flag::register(signal, Arc::clone(flag)).map_err(Error::sys("sigaction"))?;
            let writer = write.try_clone().map_err(Error::sys("dup"))?;
            signal_hook::low_level::pipe::register(signal, writer).map_err(Error::sys("sigaction"))?;
        }
        Ok(signals)
    }
    // ANCHOR_END: install

    /// Sleeps until a signal arrives or `timeout` passes (`None`: no timeout), and returns what
    /// arrived (possibly nothing).
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] if `poll` fails other than by being interrupted.
    // ANCHOR: wait
    pub fn wait(&self, timeout: Option<Duration>) -> Result<Pending, Error> {
        if !self.any_pending() {
            let mut poll = libc::pollfd { fd: self.wake.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // Round up: a timeout of 0.5 ms must not become a busy loop of 0 ms polls.
            let millis = timeout.map_or(-1, |t| t.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32);
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut poll, 1, millis) } == -1
                && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
            {
                return Err(Error::last_os("poll"));
            }
        }
        let mut sink = [0u8; 64];
        while matches!((&self.wake).read(&mut sink), Ok(n) if n > 0) {}
        Ok(Pending {
            term: self.term.swap(false, Ordering::SeqCst),
            hup: self.hup.swap(false, Ordering::SeqCst),
            chld: self.chld.swap(false, Ordering::SeqCst),
        })
    }
    // ANCHOR_END: wait

    fn any_pending(&self) -> bool {
        [&self.term, &self.hup, &self.chld].iter().any(|flag| flag.load(Ordering::SeqCst))
    }
}
