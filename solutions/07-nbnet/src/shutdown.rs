//! [`Shutdown`]: asking a [`Server`](crate::Server) to stop from any thread (a signal's, a test's),
//! whether it has started yet or not.

use std::sync::{Arc, Mutex, PoisonError};

use crate::server::ServerHandle;

/// A request to stop a server gracefully, shared by whoever asks and [`crate::run()`], which obeys.
///
/// A server's [`ServerHandle`] exists only once it is bound, but a signal may come before that: a
/// request made before [`Shutdown::attach`] is kept and passed on the moment the handle is attached,
/// so none is lost to a race with the start. Passing it on wakes the server's poll (its waker): the
/// server stops accepting, lets every connection finish writing and returns.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    requested: bool,
    interrupted: bool,
    server: Option<ServerHandle>,
}

impl Shutdown {
    /// A shutdown not requested yet, attached to no server.
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Asks the server to stop (SIGTERM, or a test): the run ends with exit code 0.
    pub fn stop(&self) {
        self.request(false);
    }

    /// Asks the server to stop on Ctrl-C (SIGINT): the run ends with exit code 130.
    pub fn interrupt(&self) {
        self.request(true);
    }

    /// Whether [`Shutdown::interrupt`] has been called.
    pub fn is_interrupted(&self) -> bool {
        self.lock().interrupted
    }

    /// Passes requests on to `server` from now on, and at once if one was made already.
    pub fn attach(&self, server: ServerHandle) {
        let mut state = self.lock();
        if state.requested {
            server.shutdown();
        }
        state.server = Some(server);
    }

    fn request(&self, interrupted: bool) {
        let mut state = self.lock();
        state.requested = true;
        state.interrupted |= interrupted;
        if let Some(server) = &state.server {
            server.shutdown();
        }
    }

    /// The state; a panic elsewhere while it was held cannot have left it half-updated (each field is
    /// set by one statement), so a poisoned lock is taken back.
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
