//! [`Shutdown`]: one request to stop, seen by every thread of a run, that a sleeping thread wakes
//! up for at once.
//!
//! The agent's collectors sleep until their next tick and its sender waits before reconnecting:
//! they wait on the shutdown with a deadline ([`Shutdown::wait_timeout`]) instead of sleeping, so
//! Ctrl-C stops them now, not at the end of a step. Servers that sleep in `epoll_wait` instead
//! register a callback ([`Shutdown::on_stop`]) that wakes their poll.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A request to stop, shared by whoever asks (a signal handler's thread, a test) and every thread
/// that obeys. Cloning shares it.
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    stopped: bool,
    interrupted: bool,
    callbacks: Vec<Box<dyn FnOnce() + Send>>,
}

impl Shutdown {
    /// A shutdown not requested yet.
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Asks everything to stop (SIGTERM, or a test): the run ends with exit code 0.
    pub fn stop(&self) {
        self.request(false);
    }

    /// Asks everything to stop on Ctrl-C (SIGINT): the run ends with exit code 130.
    pub fn interrupt(&self) {
        self.request(true);
    }

    fn request(&self, interrupted: bool) {
        let callbacks = {
            let mut state = self.lock();
            state.stopped = true;
            state.interrupted |= interrupted;
            std::mem::take(&mut state.callbacks)
        };
        self.inner.changed.notify_all();
        // Outside the lock: a callback may itself look at this shutdown.
        for callback in callbacks {
            callback();
        }
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.lock().stopped
    }

    /// Whether [`Shutdown::interrupt`] was called.
    pub fn is_interrupted(&self) -> bool {
        self.lock().interrupted
    }

    /// Waits until a stop is asked for or `timeout` has passed; true when stopped.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        while !state.stopped {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .inner
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Waits until a stop is asked for.
    pub fn wait(&self) {
        let mut state = self.lock();
        while !state.stopped {
            state = self.inner.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Calls `callback` once when a stop is asked for, or now if it already was: how a server
    /// asleep in its poll is woken.
    pub fn on_stop(&self, callback: impl FnOnce() + Send + 'static) {
        let mut state = self.lock();
        if state.stopped {
            drop(state);
            callback();
        } else {
            state.callbacks.push(Box::new(callback));
        }
    }

    /// The state; each field is set by one statement, so a panic elsewhere cannot have left it
    /// half-updated and a poisoned lock is taken back.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Shutdown")
            .field("stopped", &state.stopped)
            .field("interrupted", &state.interrupted)
            .finish_non_exhaustive()
    }
}
