//! The alarm running: its decisions under a lock, fed by the judges (it is their
//! [`EventSink`]) and by a clock, its messages handed to the [`Dispatcher`].

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::dispatch::{DeliveryStats, DispatchSettings, Dispatcher};
use super::engine::{Alarm, AlarmConfig, AlarmStats};
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
    /// The decisions.
    alarm: Mutex<Alarm>,
    /// The senders.
    dispatcher: Dispatcher,
}

impl AlarmCore {
    /// Runs `f` on the alarm, under its lock (to change its silences, or read its counters).
    pub fn with_alarm<T>(&self, f: impl FnOnce(&mut Alarm) -> T) -> T {
        todo!("stage 7: f on the locked alarm (a poisoned lock is taken all the same)")
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
    fn deliver(&self, events: &[Event]) {
        todo!("stage 7: receive each event at now under the lock, then dispatch the messages outside it")
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
///
/// # Errors
///
/// [`Error::BadOption`] when there are not as many notifiers as receivers; [`Error::Sys`] when
/// a thread cannot be started.
pub fn start_alarm(
    config: AlarmConfig,
    notifiers: Vec<Box<dyn Notifier>>,
    settings: DispatchSettings,
    shutdown: &Shutdown,
) -> crate::Result<AlarmServer> {
    todo!(
        "stage 7: one notifier a receiver (else a BadOption), start the Dispatcher, then a thread alarm-clock that ticks every TICK until the stop and dispatches what each tick gives"
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
