//! Everything dropping the server needs to stop it: a stop flag that wakes sleeping threads, the
//! open connections (to shut them down), and a count of live threads (to wait for them, briefly).

use std::collections::HashMap;
use std::net::{Shutdown as Direction, TcpStream};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

#[derive(Debug, Default)]
pub(super) struct Shutdown {
    state: Mutex<State>,
    /// Signalled when `stopping` turns true.
    stopped: Condvar,
    live: Mutex<usize>,
    /// Signalled when a thread leaves.
    left: Condvar,
}

#[derive(Debug, Default)]
struct State {
    stopping: bool,
    /// A clone of each open connection, by connection number.
    open: HashMap<u64, TcpStream>,
}

impl Shutdown {
    /// Adds a connection to those that [`Shutdown::stop`] closes. `false` when the server is already
    /// stopping (checked under the same lock `stop` takes, so no connection slips through).
    pub(super) fn register(&self, id: u64, stream: &TcpStream) -> bool {
        let mut state = self.lock();
        if state.stopping {
            return false;
        }
        match stream.try_clone() {
            Ok(clone) => {
                state.open.insert(id, clone);
                true
            }
            Err(_) => false,
        }
    }

    /// Forgets a connection (its thread is done with it). Dropping the clone matters: a reset only
    /// happens when the socket's last descriptor closes.
    pub(super) fn unregister(&self, id: u64) {
        let clone = self.lock().open.remove(&id);
        drop(clone);
    }

    pub(super) fn is_stopping(&self) -> bool {
        self.lock().stopping
    }

    /// Sleeps for `duration` or until the server stops; `true` when the full time passed.
    pub(super) fn pause(&self, duration: Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .stopped
            .wait_timeout_while(state, duration, |s| !s.stopping)
            .unwrap_or_else(PoisonError::into_inner);
        !state.stopping
    }

    /// Raises the stop flag, wakes every pause, and shuts every open connection down, which wakes a
    /// thread blocked reading from or writing to it.
    pub(super) fn stop(&self) {
        let mut state = self.lock();
        state.stopping = true;
        for stream in state.open.values() {
            let _ = stream.shutdown(Direction::Both);
        }
        drop(state);
        self.stopped.notify_all();
    }

    /// Counts a thread about to start; it must call [`Shutdown::leave`] (or hold a [`Live`]).
    pub(super) fn enter(&self) {
        *self.live.lock().unwrap_or_else(PoisonError::into_inner) += 1;
    }

    pub(super) fn leave(&self) {
        *self.live.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        self.left.notify_all();
    }

    /// Waits until every counted thread has left, or `deadline` passes; `true` when they all left.
    pub(super) fn wait_idle(&self, deadline: Duration) -> bool {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let (live, _) =
            self.left.wait_timeout_while(live, deadline, |n| *n > 0).unwrap_or_else(PoisonError::into_inner);
        *live == 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Calls [`Shutdown::leave`] when dropped, so a thread is uncounted even if it panics.
pub(super) struct Live<'a>(pub(super) &'a Shutdown);

impl Drop for Live<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}
