//! Deadlines of one loop: a min-heap of (instant, connection) entries.
//!
//! Entries are never removed early: when a connection's deadline moves, a new entry is pushed and
//! the old one, when it comes up, is checked against the connection and ignored. The loop's poll
//! timeout is the earliest entry, so an idle loop sleeps until there is something to do.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Pending deadlines, earliest first.
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, usize, u64)>>,
}

// TODO(stage 3): a BinaryHeap of Reverse((instant, token, generation)).
impl Timers {
    /// No deadlines.
    pub fn new() -> Self {
        Timers::default()
    }

    /// Remembers that connection `token` (of generation `generation`) must be looked at `at`.
    pub fn schedule(&mut self, at: Instant, token: usize, generation: u64) {
        todo!("stage 3: push (at, token, generation) on a min-heap")
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        todo!("stage 3: the earliest entry's instant")
    }

    /// Moves the entries due at `now` or before into `due`, earliest first.
    // Until it is written, `due` is only passed through, which clippy would rather see as a slice.
    #[allow(clippy::ptr_arg)]
    pub fn expire(&mut self, now: Instant, due: &mut Vec<(usize, u64)>) {
        todo!("stage 3: pop every entry due at now into due, earliest first")
    }

    /// How many entries are pending.
    pub fn len(&self) -> usize {
        todo!("stage 3: the number of entries")
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        todo!("stage 3: whether there are none")
    }
}
