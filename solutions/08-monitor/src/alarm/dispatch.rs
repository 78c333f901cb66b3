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
        DispatchSettings {
            queue: 1000,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            max_tries: 10,
        }
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
        let mut lanes = Vec::new();
        let mut threads = Vec::new();
        let done: Arc<OnceLock<DoneHook>> = Arc::default();
        for (index, notifier) in notifiers.into_iter().enumerate() {
            let lane = Arc::new(Lane { describe: notifier.describe(), ..Lane::default() });
            let wake = Arc::clone(&lane);
            shutdown.on_stop(move || {
                let _queue = wake.queue.lock().unwrap_or_else(PoisonError::into_inner);
                wake.ready.notify_all();
            });
            let worker = Arc::clone(&lane);
            let stop = shutdown.clone();
            let hook = Arc::clone(&done);
            let thread = thread::Builder::new()
                .name(format!("alarm-send-{index}"))
                .spawn(move || deliver(&worker, notifier, settings, &hook, &stop))
                .map_err(Error::sys("start an alarm sender's thread"))?;
            lanes.push(lane);
            threads.push(thread);
        }
        Ok(Dispatcher { lanes, done, queue: settings.queue.max(1), threads: Mutex::new(threads) })
    }

    /// Calls `hook` with each numbered message's number once it is delivered or given up (once: a
    /// second hook is ignored).
    pub fn on_done(&self, hook: DoneHook) {
        let _ = self.done.set(hook);
    }

    /// Queues each message for its receiver, at once: a full queue drops its oldest.
    pub fn dispatch(&self, outgoing: Vec<Outgoing>) {
        self.dispatch_numbered(outgoing.into_iter().map(|message| (UNNUMBERED, message)).collect());
    }

    /// Queues each message, with its number for the [`Dispatcher::on_done`] hook.
    pub fn dispatch_numbered(&self, outgoing: Vec<(u64, Outgoing)>) {
        for (seq, Outgoing { receiver, notification }) in outgoing {
            let Some(lane) = self.lanes.get(receiver) else { continue };
            let mut queue = lane.queue.lock().unwrap_or_else(PoisonError::into_inner);
            if queue.len() >= self.queue {
                queue.pop_front();
                lane.dropped.fetch_add(1, Ordering::Relaxed);
                warn!(receiver = %lane.describe, "queue full: oldest message dropped");
            }
            queue.push_back((seq, notification));
            lane.ready.notify_one();
        }
    }

    /// Each receiver's counters.
    pub fn stats(&self) -> Vec<DeliveryStats> {
        self.lanes
            .iter()
            .map(|lane| DeliveryStats {
                receiver: lane.describe.clone(),
                sent: lane.sent.load(Ordering::Relaxed),
                failures: lane.failures.load(Ordering::Relaxed),
                given_up: lane.given_up.load(Ordering::Relaxed),
                dropped: lane.dropped.load(Ordering::Relaxed),
                queued: lane.queue.lock().unwrap_or_else(PoisonError::into_inner).len() as u64,
            })
            .collect()
    }

    /// Waits for the threads, which end at the stop.
    pub fn join(&self) {
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for thread in threads {
            let _ = thread.join();
        }
    }
}

/// A receiver's thread: sends the oldest message waiting, again and again until it goes or its
/// tries run out, until the stop.
fn deliver(
    lane: &Lane,
    mut notifier: Box<dyn Notifier>,
    settings: DispatchSettings,
    done: &OnceLock<DoneHook>,
    stop: &Shutdown,
) {
    let mut backoff = Backoff::new(settings.backoff_min, settings.backoff_max);
    let mut tries = 0;
    loop {
        let next = {
            let mut queue = lane.queue.lock().unwrap_or_else(PoisonError::into_inner);
            while queue.is_empty() && !stop.is_stopped() {
                queue = lane.ready.wait(queue).unwrap_or_else(PoisonError::into_inner);
            }
            if stop.is_stopped() {
                return;
            }
            queue.front().cloned()
        };
        let Some((seq, notification)) = next else { continue };
        match notifier.send(&notification, now_millis()) {
            Ok(()) => {
                lane.sent.fetch_add(1, Ordering::Relaxed);
                tries = 0;
                backoff.reset();
                pop_if_first(lane, seq, &notification, done);
            }
            Err(cause) => {
                lane.failures.fetch_add(1, Ordering::Relaxed);
                tries += 1;
                if tries >= settings.max_tries {
                    error!(receiver = %lane.describe, %cause, tries, "message given up");
                    lane.given_up.fetch_add(1, Ordering::Relaxed);
                    tries = 0;
                    pop_if_first(lane, seq, &notification, done);
                    continue;
                }
                warn!(receiver = %lane.describe, %cause, tries, "send failed; trying again");
                if stop.wait_timeout(backoff.next()) {
                    return;
                }
            }
        }
    }
}

/// Takes the message `seq`, `sent`, off the front of the queue (unless a full queue dropped it
/// meanwhile), and tells the hook it is done.
fn pop_if_first(lane: &Lane, seq: u64, sent: &Notification, done: &OnceLock<DoneHook>) {
    {
        let mut queue = lane.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.front().is_some_and(|(first, message)| *first == seq && message == sent) {
            queue.pop_front();
        }
    }
    if seq != UNNUMBERED
        && let Some(hook) = done.get()
    {
        hook(seq);
    }
}
