//! [`Shutdown`]: one request to stop, seen by every task of a run, and whether it came from
//! Ctrl-C (exit 130) or SIGTERM (exit 0).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;

/// A request to stop, shared by whoever asks (a signal, a test) and every task that obeys.
/// Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
    interrupted: Arc<AtomicBool>,
}

impl Shutdown {
    /// A shutdown not requested yet.
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Asks everything to stop (SIGTERM, or a test).
    pub fn stop(&self) {
        self.token.cancel();
    }

    /// Asks everything to stop on Ctrl-C: the run ends with exit code 130.
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
        self.token.cancel();
    }

    /// Whether [`Shutdown::interrupt`] was called.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// The token the tasks select on.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }
}
