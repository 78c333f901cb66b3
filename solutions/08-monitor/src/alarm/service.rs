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
        f(&mut self.alarm.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The alarm's counters.
    pub fn stats(&self) -> AlarmStats {
        self.with_alarm(|alarm| alarm.stats())
    }

    /// Each receiver's deliveries.
    pub fn deliveries(&self) -> Vec<DeliveryStats> {
        self.dispatcher.stats()
    }
}

impl EventSink for AlarmCore {
    fn deliver(&self, events: &[Event]) {
        let now = now_millis();
        let outgoing: Vec<_> = self
            .with_alarm(|alarm| events.iter().flat_map(|event| alarm.receive(event.clone(), now)).collect());
        self.dispatcher.dispatch(outgoing);
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
    if notifiers.len() != config.receivers.len() {
        return Err(Error::BadOption(format!(
            "{} receivers and {} senders: one sender a receiver",
            config.receivers.len(),
            notifiers.len()
        )));
    }
    let dispatcher = Dispatcher::start(notifiers, settings, shutdown)?;
    let core = Arc::new(AlarmCore { alarm: Mutex::new(Alarm::new(config)), dispatcher });
    let ticking = Arc::clone(&core);
    let stop = shutdown.clone();
    let clock = thread::Builder::new()
        .name("alarm-clock".to_owned())
        .spawn(move || {
            while !stop.wait_timeout(TICK) {
                let outgoing = ticking.with_alarm(|alarm| alarm.tick(now_millis()));
                ticking.dispatcher.dispatch(outgoing);
            }
        })
        .map_err(Error::sys("start the alarm's clock"))?;
    Ok(AlarmServer { core, clock })
}

impl AlarmServer {
    /// The alarm, to hand to judges as their [`EventSink`].
    pub fn core(&self) -> Arc<AlarmCore> {
        Arc::clone(&self.core)
    }

    /// Waits for the clock and the senders, which end at the stop.
    pub fn join(self) {
        let _ = self.clock.join();
        self.core.dispatcher.join();
    }
}
