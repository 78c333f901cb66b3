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
        mut live: impl FnMut(u64, Instant) -> bool,
    ) -> bool {
        if self.heap.len() >= 2 * waiting + SWEEP_MIN {
            self.heap.retain(|&Reverse((at, id))| live(id, at));
        }
        let earliest = self.next().is_none_or(|next| at < next);
        self.heap.push(Reverse((at, id)));
        earliest
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes every deadline at or before `now`, earliest first, handing each to `due`; returns
    /// the earliest deadline left, where the alarm goes next.
    pub(crate) fn pop_due(&mut self, now: Instant, mut due: impl FnMut(u64, Instant)) -> Option<Instant> {
        while let Some(&Reverse((at, id))) = self.heap.peek() {
            if at > now {
                break;
            }
            self.heap.pop();
            due(id, at);
        }
        self.next()
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
        if at != self.at {
            if let Some(at) = at {
                self.sleep.as_mut().reset(at);
            }
            self.at = at;
        }
    }

    /// Waits until the alarm rings; never returns while it is set to nothing. Once it has rung it
    /// is set to nothing.
    pub(crate) async fn rung(&mut self) {
        if self.at.is_none() {
            return std::future::pending().await;
        }
        self.sleep.as_mut().await;
        self.at = None;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn deadlines_come_due_in_order_and_only_when_passed() {
        let now = Instant::now();
        let mut deadlines = Deadlines::default();
        let all = |_, _| true;
        assert!(deadlines.push(now + Duration::from_secs(3), 3, 0, all));
        assert!(deadlines.push(now + Duration::from_secs(1), 1, 0, all));
        assert!(!deadlines.push(now + Duration::from_secs(2), 2, 0, all));
        let mut due = Vec::new();
        let next = deadlines.pop_due(now + Duration::from_secs(2), |id, _| due.push(id));
        assert_eq!(due, [1, 2]);
        assert_eq!(next, Some(now + Duration::from_secs(3)));
    }

    #[test]
    fn leftovers_are_swept_once_they_pile_up() {
        let now = Instant::now();
        let mut deadlines = Deadlines::default();
        let later = now + Duration::from_secs(1);
        // Only the even ids are still waiting; the odd ones are leftovers.
        for id in 0..2 * SWEEP_MIN as u64 {
            deadlines.push(later, id, SWEEP_MIN, |id, _| id % 2 == 0);
        }
        assert_eq!(deadlines.heap.len(), 2 * SWEEP_MIN, "no sweep before the margin is reached");
        deadlines.push(now, 1000, SWEEP_MIN / 2, |id, _| id % 2 == 0);
        assert_eq!(deadlines.heap.len(), SWEEP_MIN + 1, "the odd ids went, the new one came");
        assert_eq!(deadlines.next(), Some(now));
    }

    #[tokio::test]
    async fn an_alarm_rings_once_at_its_time() {
        let mut alarm = Alarm::new();
        let unset = tokio::time::timeout(Duration::from_millis(20), alarm.rung()).await;
        assert!(unset.is_err(), "an alarm set to nothing never rings");
        alarm.set(Some(Instant::now() + Duration::from_millis(5)));
        tokio::time::timeout(Duration::from_secs(5), alarm.rung()).await.expect("it rings");
        let again = tokio::time::timeout(Duration::from_millis(20), alarm.rung()).await;
        assert!(again.is_err(), "a rung alarm is set to nothing");
    }
}
