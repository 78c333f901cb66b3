//! Deadlines for many calls on one timer: [`Deadlines`] keeps them in order, and an [`Alarm`] rings
//! at the earliest. Both sides of a connection use them instead of a timer per call: registering
//! and dropping a tokio timer takes a lock shared by the runtime, twice per call, while a deadline
//! here is a push onto a heap the connection owns.
//!
//! A deadline whose call has ended is not removed; it is skipped when it comes due (the owner
//! checks that its call is still waiting), and [`Deadlines::push`] sweeps such leftovers out
//! before they pile up.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::pin::Pin;

use tokio::time::{Instant, Sleep};

// TODO(stage 2): the server connection's deadlines, if you take the reference's route (one timer
// per connection); tokio::time::timeout around each handler passes the same tests.
// TODO(stage 3): the client's reader times its calls out with these too, or each call wraps its
// wait in tokio::time::timeout.

/// Leftovers held beyond twice the live deadlines before a sweep, at least: below that a pass over
/// the heap costs more than it saves.
const SWEEP_MIN: usize = 64;

/// Deadlines by call id, earliest first.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl Deadlines {
    /// Adds `id`'s deadline; `true` when it is now the earliest (the alarm must be moved). Once
    /// the heap holds more than twice the `waiting` calls (plus a margin), it first keeps only the
    /// deadlines for which `live` holds: a pass that costs O(1) per deadline pushed. The sweep
    /// comes before the new deadline joins, so `live` need not know of it yet.
    pub(crate) fn push(
        &mut self,
        at: Instant,
        id: u64,
        waiting: usize,
        live: impl FnMut(u64, Instant) -> bool,
    ) -> bool {
        todo!("stage 2: sweep out the dead deadlines once they pile up, then push this one onto the heap")
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        todo!("stage 2: the deadline at the top of the heap")
    }

    /// Takes every deadline at or before `now`, earliest first, handing each to `due`; returns
    /// the earliest deadline left, where the alarm goes next.
    pub(crate) fn pop_due(&mut self, now: Instant, due: impl FnMut(u64, Instant)) -> Option<Instant> {
        todo!("stage 2: pop the deadlines that have passed, in order, and say when the next one is")
    }
}

/// One timer, set to a deadline or to nothing.
#[derive(Debug)]
pub(crate) struct Alarm {
    sleep: Pin<Box<Sleep>>,
    at: Option<Instant>,
}

impl Alarm {
    /// An alarm set to nothing.
    pub(crate) fn new() -> Alarm {
        Alarm { sleep: Box::pin(tokio::time::sleep_until(Instant::now())), at: None }
    }

    /// Sets the alarm to ring at `at`, or never; the timer is touched only when it moves.
    pub(crate) fn set(&mut self, at: Option<Instant>) {
        todo!("stage 2: reset the sleep to `at` only when it differs from the time already set")
    }

    /// Waits until the alarm rings; never returns while it is set to nothing. Once it has rung it
    /// is set to nothing.
    pub(crate) async fn rung(&mut self) {
        todo!("stage 2: wait for ever while unset, else for the sleep; then unset the alarm")
    }
}
