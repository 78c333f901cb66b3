//! Counters of one event loop, shared with the threads that read them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The live counters of one loop: updated by the loop, read by anyone holding the `Arc`.
#[derive(Debug, Default)]
pub struct LoopStats {
    /// Connections this loop took on (accepted or handed over).
    pub accepted: AtomicU64,
    /// Connections open now.
    pub active: AtomicU64,
    /// Connections closed.
    pub closed: AtomicU64,
    /// Requests decoded and handled.
    pub requests: AtomicU64,
    /// Bytes read from clients.
    pub bytes_read: AtomicU64,
    /// Bytes written to clients.
    pub bytes_written: AtomicU64,
    /// Returns from the poll call.
    pub wakeups: AtomicU64,
    /// Connections closed because their client did not read its responses.
    pub overflows: AtomicU64,
    /// Connections closed by the idle timeout or their deadline.
    pub timeouts: AtomicU64,
    /// Connections refused at the connection limit.
    pub refused: AtomicU64,
}

/// A copy of [`LoopStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// See [`LoopStats::accepted`].
    pub accepted: u64,
    /// See [`LoopStats::active`].
    pub active: u64,
    /// See [`LoopStats::closed`].
    pub closed: u64,
    /// See [`LoopStats::requests`].
    pub requests: u64,
    /// See [`LoopStats::bytes_read`].
    pub bytes_read: u64,
    /// See [`LoopStats::bytes_written`].
    pub bytes_written: u64,
    /// See [`LoopStats::wakeups`].
    pub wakeups: u64,
    /// See [`LoopStats::overflows`].
    pub overflows: u64,
    /// See [`LoopStats::timeouts`].
    pub timeouts: u64,
    /// See [`LoopStats::refused`].
    pub refused: u64,
}

impl LoopStats {
    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            accepted: self.accepted.load(Relaxed),
            active: self.active.load(Relaxed),
            closed: self.closed.load(Relaxed),
            requests: self.requests.load(Relaxed),
            bytes_read: self.bytes_read.load(Relaxed),
            bytes_written: self.bytes_written.load(Relaxed),
            wakeups: self.wakeups.load(Relaxed),
            overflows: self.overflows.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            refused: self.refused.load(Relaxed),
        }
    }

    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }
}
