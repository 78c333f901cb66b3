//! [`PointQueue`]: the points waiting for one destination (a connection to a store shard, or the
//! remote-write endpoint), bounded in points: past the bound the oldest are dropped and counted.
//!
//! The relay's service pushes and never waits: an agent's ack must not depend on a store being up.
//! So while a store is down its points pile up here, and memory is what bounds them: at the bound,
//! each push drops as many of the oldest points as it adds. The newest data is what a dashboard
//! and an alarm want after an outage, so the oldest goes first.
//!
//! A forwarder [`take`](PointQueue::take)s a batch off the front and owns it until its destination
//! acks it, so a batch being resent is not in the queue. If points behind it are dropped while it
//! waits, the batch is older than they were: [`PointQueue::is_overtaken`] says so, and the
//! forwarder drops it too ([`PointQueue::drop_taken`]). What is delivered after an outage is
//! then always the newest points, in order.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::point::Point;

/// A bounded FIFO of points, shared by the producer (the relay's service) and one consumer (a
/// forwarder).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use monitor::relay::PointQueue;
/// use monitor::Sample;
/// let queue = PointQueue::new(3);
/// let points: Vec<_> = (0..5).map(|t| Sample::gauge("cpu.busy", 1.0).at("web-01", t)).collect();
/// assert_eq!(queue.push(points), 2, "the two oldest make room");
/// let taken = queue.take(10, Duration::ZERO).unwrap();
/// assert_eq!(taken.points.iter().map(|p| p.timestamp).collect::<Vec<_>>(), [2, 3, 4]);
/// assert_eq!(queue.dropped(), 2);
/// ```
#[derive(Debug)]
pub struct PointQueue {
    /// The most points held.
    max_points: usize,
    /// The points and counters.
    state: Mutex<State>,
    /// Signalled when points are pushed or the queue is closed.
    ready: Condvar,
}

/// What a [`PointQueue`] holds.
#[derive(Debug, Default)]
struct State {
    /// The points, oldest first, in the chunks they were pushed in.
    chunks: VecDeque<Vec<Point>>,
    /// Points in `chunks`.
    len: usize,
    /// Points dropped since the queue was made.
    dropped: u64,
    /// Whether the producer has finished.
    closed: bool,
    /// Batches delivered and handed back by the forwarder ([`PointQueue::recycle`]), freed by the
    /// next push.
    spent: Vec<Vec<Point>>,
}

/// The most delivered batches waiting to be freed by a push: past it, the forwarder frees them.
const MAX_SPENT: usize = 2;

/// A batch [`PointQueue::take`] handed out: its points, and how many points the queue had dropped
/// when it was taken.
#[derive(Debug)]
pub struct Taken {
    /// The points, oldest first.
    pub points: Vec<Point>,
    /// The queue's [`PointQueue::dropped`] at the time.
    dropped_before: u64,
}

impl PointQueue {
    /// An empty queue of at most `max_points` points (at least 1).
    pub fn new(max_points: usize) -> PointQueue {
        PointQueue { max_points: max_points.max(1), state: Mutex::default(), ready: Condvar::new() }
    }

    /// Appends `points`, then drops the oldest points until at most the bound is left; returns how
    /// many were dropped. Never waits.
    pub fn push(&self, points: Vec<Point>) -> usize {
        if points.is_empty() {
            return 0;
        }
        let mut state = self.lock();
        state.len += points.len();
        state.chunks.push_back(points);
        let mut dropped = 0;
        while state.len > self.max_points {
            let excess = state.len - self.max_points;
            let Some(front) = state.chunks.front_mut() else { break };
            let cut = if front.len() <= excess {
                state.chunks.pop_front().map_or(0, |chunk| chunk.len())
            } else {
                front.drain(..excess);
                excess
            };
            state.len -= cut;
            dropped += cut;
        }
        state.dropped += dropped as u64;
        let spent = std::mem::take(&mut state.spent);
        drop(state);
        self.ready.notify_one();
        // Freed here, on a thread that decodes and so allocates points: glibc's malloc takes their
        // blocks back into this thread's caches and hands them out again for the next batch, where
        // blocks freed by the forwarder's thread piled up for the decoding thread's arena to
        // consolidate (a third of the relay's time under load, by perf).
        drop(spent);
        dropped
    }

    /// Hands back a batch the forwarder has delivered, to be freed by the next
    /// [`PointQueue::push`] (see there); freed at once when enough are waiting already.
    pub(crate) fn recycle(&self, points: Vec<Point>) {
        let mut state = self.lock();
        if state.spent.len() < MAX_SPENT {
            state.spent.push(points);
            return;
        }
        drop(state);
        drop(points);
    }

    /// Frees the delivered batches no push has freed: the forwarder calls it when it is idle, so
    /// that a quiet queue holds no spent points.
    pub(crate) fn free_spent(&self) {
        let spent = std::mem::take(&mut self.lock().spent);
        drop(spent);
    }

    /// Takes up to `max` points off the front, waiting up to `wait` for one to come; `None` when
    /// none came (or the queue is closed and empty).
    pub fn take(&self, max: usize, wait: Duration) -> Option<Taken> {
        let deadline = Instant::now() + wait;
        let mut state = self.lock();
        while state.len == 0 {
            let now = Instant::now();
            if state.closed || now >= deadline {
                return None;
            }
            state = self.ready.wait_timeout(state, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
        let max = max.max(1);
        // One allocation for the batch, not a doubling vector (see `Router::route`); a front chunk
        // that is the whole batch is handed out as it is.
        let mut points = match state.chunks.front() {
            Some(front) if front.len() >= max.min(state.len) => Vec::new(),
            _ => Vec::with_capacity(max.min(state.len)),
        };
        while points.len() < max {
            let Some(front) = state.chunks.front_mut() else { break };
            let want = max - points.len();
            if front.len() <= want {
                let chunk = state.chunks.pop_front().unwrap_or_default();
                if points.capacity() == 0 {
                    points = chunk;
                } else {
                    points.extend(chunk);
                }
            } else {
                points.extend(front.drain(..want));
            }
        }
        state.len -= points.len();
        Some(Taken { points, dropped_before: state.dropped })
    }

    /// Whether points were dropped since `taken` was taken: they were newer than it, so it is
    /// stale too.
    pub fn is_overtaken(&self, taken: &Taken) -> bool {
        self.lock().dropped > taken.dropped_before
    }

    /// Counts `taken`'s points as dropped (a batch overtaken, or left undelivered at a stop).
    pub fn drop_taken(&self, taken: Taken) {
        self.lock().dropped += taken.points.len() as u64;
    }

    /// Points waiting (not those taken).
    pub fn len(&self) -> usize {
        self.lock().len
    }

    /// Whether no point is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bound.
    pub fn max_points(&self) -> usize {
        self.max_points
    }

    /// Points dropped since the queue was made.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Says no more points will come: [`PointQueue::take`] returns `None` at once when empty.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// Whether [`PointQueue::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// The state; every change to it is made whole under the lock, so a poisoned lock is taken
    /// back.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
