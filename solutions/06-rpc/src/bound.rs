//! The in-flight bound of one server connection: a count of the calls running, which the reader
//! waits on when it is full. Lighter than a semaphore, whose every release takes a lock: taking and
//! returning a slot is one atomic operation, and only the return that makes room wakes the reader.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

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
        if self.running.load(Ordering::Acquire) >= self.max {
            return None;
        }
        self.running.fetch_add(1, Ordering::AcqRel);
        Some(Slot(Arc::clone(self)))
    }

    /// A slot, waiting for one to be returned if none is free.
    pub(crate) async fn take(self: &Arc<Bound>) -> Slot {
        loop {
            if let Some(slot) = self.try_take() {
                return slot;
            }
            // A return between the check above and this wait leaves a stored wake-up behind, so
            // it is not missed; a wake-up with no room (an old one) just checks again.
            self.room.notified().await;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == self.0.max {
            self.0.room.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_full_bound_waits_until_a_slot_is_returned() {
        let bound = Bound::new(2);
        let (first, _second) = (bound.try_take().unwrap(), bound.try_take().unwrap());
        assert!(bound.try_take().is_none());
        let waiting = tokio::spawn({
            let bound = Arc::clone(&bound);
            async move { bound.take().await }
        });
        drop(first);
        let third = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("room was made");
        drop(third);
        assert_eq!(bound.running.load(Ordering::Acquire), 1);
    }
}
