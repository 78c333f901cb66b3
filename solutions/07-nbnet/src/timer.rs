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

impl Timers {
    /// No deadlines.
    pub fn new() -> Self {
        Timers::default()
    }

    /// Remembers that connection `token` (of generation `generation`) must be looked at `at`.
    pub fn schedule(&mut self, at: Instant, token: usize, generation: u64) {
        self.heap.push(Reverse((at, token, generation)));
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Moves the entries due at `now` or before into `due`, earliest first.
    pub fn expire(&mut self, now: Instant, due: &mut Vec<(usize, u64)>) {
        while let Some(Reverse((at, token, generation))) = self.heap.peek().copied() {
            if at > now {
                break;
            }
            self.heap.pop();
            due.push((token, generation));
        }
    }

    /// How many entries are pending.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}
