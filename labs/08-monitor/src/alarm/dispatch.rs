//! Delivery: a bounded queue and a thread for each receiver, so that a receiver that hangs or
//! fails holds up no other. A message that fails is tried again after a jittered, doubling wait,
//! in order, up to a number of tries.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
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

/// The number of a message no journal follows.
pub const UNNUMBERED: u64 = u64::MAX;

/// What is called with a message's number once it is delivered or given up.
pub type DoneHook = Box<dyn Fn(u64) + Send + Sync>;

/// A receiver's queue and counters.
#[derive(Debug, Default)]
struct Lane {
    /// What it sends to.
    describe: String,
    /// The messages waiting, oldest first, each with its number.
    queue: Mutex<VecDeque<(u64, Notification)>>,
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
pub struct Dispatcher {
    /// Each receiver's lane, in the order of the notifiers.
    lanes: Vec<Arc<Lane>>,
    /// Called with each numbered message's number once it is done.
    done: Arc<OnceLock<DoneHook>>,
    /// The most messages a lane holds.
    queue: usize,
    /// The threads, until joined.
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("lanes", &self.lanes)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
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

    /// Calls `hook` with each numbered message's number once it is delivered or given up (once: a
    /// second hook is ignored).
    pub fn on_done(&self, hook: DoneHook) {
        todo!("stage 7: set the shared OnceLock, ignoring a second hook")
    }

    /// Queues each message for its receiver, at once: a full queue drops its oldest.
    pub fn dispatch(&self, outgoing: Vec<Outgoing>) {
        todo!("stage 7: dispatch_numbered, each message UNNUMBERED")
    }

    /// Queues each message, with its number for the [`Dispatcher::on_done`] hook.
    pub fn dispatch_numbered(&self, outgoing: Vec<(u64, Outgoing)>) {
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
fn deliver(
    lane: &Lane,
    notifier: Box<dyn Notifier>,
    settings: DispatchSettings,
    done: &OnceLock<DoneHook>,
    stop: &Shutdown,
) {
    todo!(
        "stage 7: wait for a message or the stop; send a copy of the oldest; sent: count it, reset the backoff and pop_if_first; failed: count it, give it up after max_tries, else wait backoff.next() or the stop"
    )
}

/// Takes the message `seq`, `sent`, off the front of the queue (unless a full queue dropped it
/// meanwhile), and tells the hook it is done.
fn pop_if_first(lane: &Lane, seq: u64, sent: &Notification, done: &OnceLock<DoneHook>) {
    todo!("stage 7: pop the front only if it is still the one sent; then, when numbered, call the hook")
}
