//! The alarm running: its decisions under a lock, fed by the judges (it is their
//! [`EventSink`]) and by a clock, journaled, its messages handed to the [`Dispatcher`].

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::dispatch::{DeliveryStats, DispatchSettings, Dispatcher};
use super::engine::{Alarm, AlarmConfig, AlarmStats, Outgoing};
use super::journal::{Entry, Journal, replay};
use super::notify::Notifier;
use crate::error::Error;
use crate::judge::{Event, EventSink};
use crate::point::now_millis;
use crate::shutdown::Shutdown;

/// How often the alarm's clock ticks: digests and summaries go out at most this late.
pub const TICK: Duration = Duration::from_millis(250);

/// The alarm and its senders.
#[derive(Debug)]
pub struct AlarmCore {
    /// The decisions, their journal and the next message's number.
    state: Mutex<Decisions>,
    /// The senders.
    dispatcher: Dispatcher,
}

/// The decisions and their journal, under one lock: the journal's order is the decisions' order.
#[derive(Debug)]
struct Decisions {
    /// The decisions.
    alarm: Alarm,
    /// The journal, if the alarm keeps one.
    journal: Option<Journal>,
    /// The number of the next message.
    next: u64,
}

impl Decisions {
    /// Journals `entry` (synced), then numbers `outgoing`.
    fn record(&mut self, entries: &[Entry], outgoing: Vec<Outgoing>) -> Vec<(u64, Outgoing)> {
        todo!(
            "stage 7: append the entries to the journal, if any, synced (log a failure and go on); then number the messages from next"
        )
    }
}

impl AlarmCore {
    /// Runs `f` on the alarm, under its lock (to change its silences, or read its counters).
    pub fn with_alarm<T>(&self, f: impl FnOnce(&mut Alarm) -> T) -> T {
        todo!("stage 7: f on the locked state's alarm (a poisoned lock is taken all the same)")
    }

    /// Checks the clock at `now`: the digests and summaries due, journaled and sent.
    fn tick(&self, now: crate::point::Millis) {
        todo!(
            "stage 7: tick the alarm under the lock; when it gives messages, record a Tick entry, then dispatch_numbered outside the lock"
        )
    }

    /// The alarm's counters.
    pub fn stats(&self) -> AlarmStats {
        todo!("stage 7: the alarm's stats, under its lock")
    }

    /// Each receiver's deliveries.
    pub fn deliveries(&self) -> Vec<DeliveryStats> {
        todo!("stage 7: the dispatcher's stats")
    }
}

impl EventSink for AlarmCore {
    /// Decides, journals (synced) and queues: when it returns, the events survive a crash.
    fn deliver(&self, events: &[Event]) {
        todo!(
            "stage 7: receive each event at now under the lock, record an Event entry for each, then dispatch_numbered outside the lock"
        )
    }
}

/// A running alarm, until the [`Shutdown`] it was started with.
#[derive(Debug)]
pub struct AlarmServer {
    /// The alarm and its senders, shared with the judges that feed it.
    core: Arc<AlarmCore>,
    /// The clock's thread.
    clock: JoinHandle<()>,
}

/// Starts the alarm of `config`, receiver `i` sending through `notifiers[i]`, until `shutdown`.
/// With a `journal`, it first replays it: the state comes back, and the messages decided but not
/// delivered before a stop or a crash are sent.
///
/// # Errors
///
/// [`Error::BadOption`] when there are not as many notifiers as receivers; [`Error::File`] when
/// the journal cannot be read or opened; [`Error::Sys`] when a thread cannot be started.
pub fn start_alarm(
    config: AlarmConfig,
    notifiers: Vec<Box<dyn Notifier>>,
    settings: DispatchSettings,
    journal: Option<&Path>,
    shutdown: &Shutdown,
) -> crate::Result<AlarmServer> {
    todo!(
        "stage 7: one notifier a receiver (else a BadOption); replay the journal, if any, into a new Alarm; start the Dispatcher with an on_done hook that journals Done (through a Weak); dispatch what the replay left; then a thread alarm-clock that ticks every TICK until the stop"
    )
}

impl AlarmServer {
    /// The alarm, to hand to judges as their [`EventSink`].
    pub fn core(&self) -> Arc<AlarmCore> {
        todo!("stage 7: a clone of the Arc")
    }

    /// Waits for the clock and the senders, which end at the stop.
    pub fn join(self) {
        todo!("stage 7: join the clock, then the dispatcher")
    }
}
