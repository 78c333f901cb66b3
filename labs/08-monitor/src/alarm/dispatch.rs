//! Delivery: a bounded queue and a thread for each receiver, so that a receiver that hangs or
//! fails holds up no other. A message that fails is tried again after a jittered, doubling wait,
//! in order, up to a number of tries.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tracing::{error, warn};

use super::engine::Outgoing;
use super::notification::Notification;
use super::notify::Notifier;
use crate::error::Error;
use crate::point::now_millis;
use crate::shutdown::Shutdown;
use crate::wire::backoff::Backoff;

/// How the dispatcher delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchSettings {
    /// The most messages waiting for one receiver; past it the oldest are dropped.
    pub queue: usize,
    /// The first wait after a failed try.
    pub backoff_min: Duration,
    /// The longest wait.
    pub backoff_max: Duration,
    /// Tries of one message before it is given up.
    pub max_tries: u32,
}

impl Default for DispatchSettings {
    /// 1,000 messages a receiver, waits from 1 s to 60 s, 10 tries.
    fn default() -> DispatchSettings {
        todo!("stage 7: queue 1000, waits from 1 s to 60 s, max_tries 10")
    }
}

/// One receiver's deliveries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// What it sends to.
    pub receiver: String,
    /// Messages delivered.
    pub sent: u64,
    /// Tries that failed.
    pub failures: u64,
    /// Messages given up after their last try.
    pub given_up: u64,
    /// Messages dropped from a full queue.
    pub dropped: u64,
    /// Messages waiting.
    pub queued: u64,
}

/// A receiver's queue and counters.
#[derive(Debug, Default)]
struct Lane {
    /// What it sends to.
    describe: String,
    /// The messages waiting, oldest first.
    queue: Mutex<VecDeque<Notification>>,
    /// Signalled when a message is queued, and at the stop.
    ready: Condvar,
    /// Messages delivered.
    sent: AtomicU64,
    /// Tries that failed.
    failures: AtomicU64,
    /// Messages given up.
    given_up: AtomicU64,
    /// Messages dropped.
    dropped: AtomicU64,
}

/// The receivers' queues and threads, until the [`Shutdown`] it was started with.
#[derive(Debug)]
pub struct Dispatcher {
    /// Each receiver's lane, in the order of the notifiers.
    lanes: Vec<Arc<Lane>>,
    /// The most messages a lane holds.
    queue: usize,
    /// The threads, until joined.
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Dispatcher {
    /// Starts a thread for each of `notifiers` (receiver `i` is `notifiers[i]`), until `shutdown`.
    ///
    /// # Errors
    ///
    /// [`Error::Sys`] when a thread cannot be started.
    pub fn start(
        notifiers: Vec<Box<dyn Notifier>>,
        settings: DispatchSettings,
        shutdown: &Shutdown,
    ) -> crate::Result<Dispatcher> {
        todo!(
            "stage 7: for each notifier a Lane, a wake of its condvar at the stop (under its lock), and a thread alarm-send-<i> running deliver"
        )
    }

    /// Queues each message for its receiver, at once: a full queue drops its oldest.
    pub fn dispatch(&self, outgoing: Vec<Outgoing>) {
        todo!(
            "stage 7: push each onto its receiver's lane, dropping (and counting) the oldest when full, and wake its thread"
        )
    }

    /// Each receiver's counters.
    pub fn stats(&self) -> Vec<DeliveryStats> {
        todo!("stage 7: each lane's counters, and the length of its queue")
    }

    /// Waits for the threads, which end at the stop.
    pub fn join(&self) {
        todo!("stage 7: take the threads out, then join each")
    }
}

/// A receiver's thread: sends the oldest message waiting, again and again until it goes or its
/// tries run out, until the stop.
fn deliver(lane: &Lane, notifier: Box<dyn Notifier>, settings: DispatchSettings, stop: &Shutdown) {
    todo!(
        "stage 7: wait for a message or the stop; send a copy of the oldest; sent: count it, reset the backoff and pop_if_first; failed: count it, give it up after max_tries, else wait backoff.next() or the stop"
    )
}

/// Takes `sent` off the front of the queue, unless a full queue dropped it meanwhile.
fn pop_if_first(lane: &Lane, sent: &Notification) {
    todo!("stage 7: pop the front only if it is still the one sent")
}
