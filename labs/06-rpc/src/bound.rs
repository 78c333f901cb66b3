//! The in-flight bound of one server connection: a count of the calls running, which the reader
//! waits on when it is full. Lighter than a semaphore, whose every release takes a lock: taking and
//! returning a slot is one atomic operation, and only the return that makes room wakes the reader.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use tokio::sync::Notify;

// TODO(stage 2): the bound on calls in flight, if you take the reference's route; a
// tokio::sync::Semaphore of `max_in_flight` permits, one taken before reading on, passes the same
// tests.

/// At most `max` calls running; only the connection's reader takes slots.
#[derive(Debug)]
pub(crate) struct Bound {
    running: AtomicUsize,
    max: usize,
    room: Notify,
}

/// One running call's slot, returned when dropped.
#[derive(Debug)]
pub(crate) struct Slot(Arc<Bound>);

impl Bound {
    /// A bound of `max` calls (at least one).
    pub(crate) fn new(max: usize) -> Arc<Bound> {
        Arc::new(Bound { running: AtomicUsize::new(0), max: max.max(1), room: Notify::new() })
    }

    /// A slot if one is free. Only one task takes slots, so the count cannot rise between the
    /// check and the increment.
    pub(crate) fn try_take(self: &Arc<Bound>) -> Option<Slot> {
        todo!("stage 2: count one more call running, unless `max` already are")
    }

    /// A slot, waiting for one to be returned if none is free.
    pub(crate) async fn take(self: &Arc<Bound>) -> Slot {
        todo!("stage 2: try to take a slot; if none is free, wait on `room` and try again")
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        todo!("stage 2: count one call fewer running; wake the reader if that made room")
    }
}
